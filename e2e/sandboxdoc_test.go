package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSandboxDoc runs docs/sandbox.md's commands against the built binary,
// as TestOperatingDoc does for docs/operating.md, and what the page says
// they do: a production database refuses, a sandbox fails as armed.
func TestSandboxDoc(t *testing.T) {
	blocks := docBlocks(t, "sandbox.md")
	for _, name := range []string{"sandbox-serve", "sandbox-arm", "sandbox-call", "sandbox-clear", "sandbox-ext", "sandbox-clock", "sandbox-certify"} {
		if _, ok := blocks[name]; !ok {
			t.Fatalf("docs/sandbox.md has no block marked %s", name)
		}
	}
	if len(blocks) != 7 {
		t.Fatalf("docs/sandbox.md has %d marked blocks; this test runs 7", len(blocks))
	}
	examples := filepath.Join(moduleRoot(t), "examples") + "/"

	t.Run("refused without --sandbox", func(t *testing.T) {
		d := newDocShell(t, t.TempDir(), "examples/", examples)
		prod := d.serve("ipass serve --data-dir ipass-data")
		prod.stop(t)
		for _, c := range commands(blocks["sandbox-arm"].text) {
			out, err := d.try(c)
			if err == nil || !strings.Contains(out, "ipass serve --sandbox") {
				t.Fatalf("%s on a production database: %v\n%s", c, err, out)
			}
		}
		// Nor can the production database be turned into a sandbox's.
		out, err := d.try(blocks["sandbox-serve"].text + " --addr 127.0.0.1:0")
		if err == nil || !strings.Contains(out, "--sandbox") {
			t.Fatalf("serve --sandbox on a production database: %v\n%s", err, out)
		}
	})

	t.Run("walkthrough", func(t *testing.T) {
		d := newDocShell(t, t.TempDir(), "examples/", examples)
		srv := d.serve(blocks["sandbox-serve"].text)
		if !strings.Contains(srv.log(), "SANDBOX:") || !strings.Contains(srv.log(), "sandbox=true") {
			t.Fatalf("no sandbox banner:\n%s", srv.log())
		}
		if _, body := httpGet(t, srv.url+"/readyz"); !strings.Contains(string(body), "sandbox") {
			t.Fatalf("/readyz: %s", body)
		}
		d.sub = strings.NewReplacer("examples/", examples, "http://127.0.0.1:8080", srv.url)
		if out := d.block(blocks["sandbox-arm"]); !strings.Contains(out, "createPass UNKNOWN_EXCEPTION times=1") ||
			!strings.Contains(out, "updatePass DROP times=1 after-execute") {
			t.Fatalf("arm and list:\n%s", out)
		}
		call := blocks["sandbox-call"].text
		if out, err := d.try(call); err == nil || !strings.Contains(out, "UNKNOWN_EXCEPTION") {
			t.Fatalf("the armed call: %v\n%s\nserver:\n%s", err, out, srv.log())
		}
		if out := d.run(call); !strings.Contains(out, "SUCCESS") {
			t.Fatalf("the call again:\n%s", out)
		}
		if out := d.block(blocks["sandbox-clear"]); !strings.Contains(out, "cleared 1 rule") {
			t.Fatalf("clear:\n%s", out)
		}
		// certify, with the call of "See it fail" (retries left on) as the
		// developer's system: it passes create-unknown.
		certifyDoc(t, d, blocks["sandbox-certify"].text, strings.Replace(call, " --retries 0", "", 1))

		ext := commands(blocks["sandbox-ext"].text)
		if out := d.run(ext[0]); !strings.Contains(out, `"rules":[{"ruleId":`) || !strings.Contains(out, `"answer":"UNSIGNED"`) {
			t.Fatalf("sandboxChaos add:\n%s", out)
		}
		if out := d.run(ext[1]); !strings.Contains(out, `"rules":[]`) {
			t.Fatalf("sandboxChaos clear:\n%s", out)
		}
		// The clock: the pass created above (endDate 2100 in the example)
		// stays ACTIVE; a card with a year left expires after 400 days.
		clock := commands(blocks["sandbox-clock"].text)
		yearLeft := time.Now().Add(365 * 24 * time.Hour).UnixMilli()
		create := strings.Replace(call, "--retries 0", fmt.Sprintf("--set endDate=%d --set bizSerialId=year-left --field passId", yearLeft), 1)
		pass := strings.TrimSpace(d.run(create))
		// The demo's query body, copied out of reach of the examples/ substitution.
		qb, err := os.ReadFile(filepath.Join(d.dir, "ipass-data", "examples", "query.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d.dir, "query.json"), qb, 0o600); err != nil {
			t.Fatal(err)
		}
		query := func() string {
			q := strings.Replace(call, "createPass --retries 0", "queryPass --set passId="+pass+" --field pass", 1)
			out := d.run(strings.Replace(q, "examples/member-card-create.json", "query.json", 1))
			for _, s := range []string{"ACTIVE", "EXPIRED"} {
				if strings.Contains(out, `"status":"`+s+`"`) {
					return s
				}
			}
			return out
		}
		if s := query(); s != "ACTIVE" {
			t.Fatalf("before: %s", s)
		}
		if out := d.run(clock[0]); !strings.Contains(out, "+400d from the real clock") {
			t.Fatalf("advance:\n%s", out)
		}
		time.Sleep(1100 * time.Millisecond) // nodes re-read the clocks once a second
		if s := query(); s != "EXPIRED" {
			t.Fatalf("after --advance 400d: %s", s)
		}
		if out := d.run(clock[1]); !strings.Contains(out, "(the real clock)") {
			t.Fatalf("reset:\n%s", out)
		}
		time.Sleep(1100 * time.Millisecond)
		if s := query(); s != "ACTIVE" {
			t.Fatalf("after --reset: %s", s)
		}
		srv.stop(t)
		// A sandbox's database never serves production.
		if out, err := d.try("ipass serve --data-dir ipass-data --addr 127.0.0.1:0"); err == nil || !strings.Contains(out, "belongs to a sandbox") {
			t.Fatalf("serve without --sandbox on a sandbox's database: %v\n%s", err, out)
		}
	})
}

// certifyDoc runs the page's `ipass certify` in the background and, once it
// asks for a createPass, makes it with system; the JSON report must say pass.
func certifyDoc(t *testing.T, d *docShell, certify, system string) {
	t.Helper()
	outPath := filepath.Join(t.TempDir(), "certify.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command("sh", "-c", d.sub.Replace(certify))
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = d.dir, d.env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	read := func() string { b, _ := os.ReadFile(outPath); return string(b) }
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(read(), "[1/1] create-unknown:"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("certify gave no instruction:\n%s", read())
		}
	}
	if out := d.run(system); !strings.Contains(out, "SUCCESS") {
		t.Fatalf("the system's createPass:\n%s", out)
	}
	select {
	case err := <-done:
		if err != nil || !strings.Contains(read(), "1 of 1 scenarios passed") {
			t.Fatalf("certify: %v\n%s", err, read())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("certify did not finish:\n%s", read())
	}
	var rep struct {
		Results []struct {
			Scenario, Verdict string
			Evidence          []struct {
				Operation, ResultCode string
				Armed                 bool
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(d.dir, "certify-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Verdict != "pass" || len(rep.Results[0].Evidence) < 2 ||
		!rep.Results[0].Evidence[0].Armed || rep.Results[0].Evidence[0].ResultCode != "UNKNOWN_EXCEPTION" {
		t.Fatalf("certify-report.json:\n%s", b)
	}
}
