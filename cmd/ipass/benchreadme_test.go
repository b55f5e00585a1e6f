package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/tenants"
)

// readmeBlock returns the commands of the README's sh block that follows
// marker, continuation lines joined.
func readmeBlock(t *testing.T, marker string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README has no %q", marker)
	}
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// shellWords splits a command line at spaces, honouring single quotes (all
// the README's commands need).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestReadmeBench runs the README's load-testing commands, as a newcomer
// would after the quickstart (same folder, server running): the demo
// client's rate limit is lifted, so the bench measures the server (no
// REQUEST_TRAFFIC_EXCEED_LIMIT, no warning), and its passes, like those of
// `ipass admin seed`, go to the bench user, never to the quickstart
// holder's wallet. The bench runs 1 s instead of the README's 10 s.
func TestReadmeBench(t *testing.T) {
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("sed not on PATH")
	}
	cmds := readmeBlock(t, "<!-- bench-readme:") // before leaving the package directory
	t.Chdir(t.TempDir())
	url, _, _ := startServe(t, "ipass-data")
	if len(cmds) != 4 {
		t.Fatalf("README bench block: %d commands, want export, sed, apply, bench: %q", len(cmds), cmds)
	}
	for _, line := range cmds {
		words := shellWords(line)
		var out string
		if i := len(words) - 2; i > 0 && words[i] == ">" {
			out, words = words[i+1], words[:i]
		}
		var stdout string
		switch {
		case words[0] == "sed":
			b, err := exec.Command("sed", words[1:]...).Output()
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			stdout = string(b)
		case strings.Join(words[:3], " ") == "go run ./cmd/ipass":
			args := words[3:]
			if args[0] == "bench" {
				args = append(args, "--url", url, "--warmup", "0s", "--presign", "400")
				for i, a := range args {
					if a == "--duration" {
						args[i+1] = "1s"
					}
				}
			}
			r := cliRun(t, "", nil, args...)
			if r.code != exitOK {
				t.Fatalf("%s: %s", line, r)
			}
			if args[0] == "bench" && strings.Contains(r.stdout, "WARNING") && strings.Contains(r.stdout, "REQUEST_TRAFFIC_EXCEED_LIMIT") {
				t.Errorf("the README's bench measured the rate limiter:\n%s", r.stdout)
			}
			stdout = r.stdout
		default:
			t.Fatalf("README bench block: unexpected command %q", line)
		}
		if out != "" {
			if err := os.WriteFile(out, []byte(stdout), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	var rep struct {
		Requests    int            `json:"requests"`
		Results     map[string]int `json:"results"`
		RateLimited float64        `json:"rate_limited_share"`
	}
	data, err := os.ReadFile("report.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Results["SUCCESS"] != rep.Requests || rep.RateLimited != 0 {
		t.Errorf("bench after the README's apply: %d requests, results %v, rate_limited_share %g; want every one SUCCESS",
			rep.Requests, rep.Results, rep.RateLimited)
	}

	// `ipass admin seed` with its defaults, as the README's scale example.
	if r := cliRun(t, "", nil, "admin", "seed", "--passes", "5"); r.code != exitOK {
		t.Fatalf("seed: %s", r)
	}
	_, demo, err := tenants.Demo("ipass-data")
	if err != nil {
		t.Fatal(err)
	}
	count := func(user string) int {
		r := cliRun(t, "", nil, "admin", "passes", "list", "--merchant", demo.MerchantID, "--user", user, "--limit", "0")
		if r.code != exitOK {
			t.Fatalf("passes list: %s", r)
		}
		return strings.Count(r.stdout, "\n") - 1 // less the header
	}
	for _, holder := range demo.UserIDs {
		if n := count(holder); n != 0 {
			t.Errorf("quickstart holder %s has %d passes after bench and seed, want none", holder, n)
		}
	}
	// The README's bench creates the default 16 passes; seed adds 5.
	if n := count(demo.BenchUserID); n != 16+5 {
		t.Errorf("bench user %s has %d passes, want 21", demo.BenchUserID, n)
	}
}
