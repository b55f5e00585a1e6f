package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/tenants"
)

// TestBannerNamesKeysInUse: after a server key rotation the first-start
// banner names the version and the public key files actually in use, and
// hands merchants the signing key that verifies today's responses.
func TestBannerNamesKeysInUse(t *testing.T) {
	keys := &serverKeySet{
		keys:    ipasshttp.ServerKeys{KeyVersion: 2},
		rsaSign: serverKeyFile{pubPEM: "/keys/v2-signing.pub.pem"},
		eccSign: serverKeyFile{pubPEM: "/keys/v2-ecc.pub.pem"},
		encrypt: serverKeyFile{pubPEM: "/keys/v2-encryption.pub.pem"},
	}
	demo := &tenants.DemoInfo{ClientID: "2110200000000044", PrivateKeyFile: "ipass-data/demo-client.pem",
		MerchantID: "2160120036095023", UserIDs: []string{"2160220037090534"}}
	var b strings.Builder
	printQuickstart(&b, demo, keys, "http://127.0.0.1:8080", "/usr/local/bin/ipass", "ipass-data/examples")
	for _, want := range []string{
		"server keys (version 2): RSA256 /keys/v2-signing.pub.pem, ECC224 /keys/v2-ecc.pub.pem, encryption /keys/v2-encryption.pub.pem",
		"IPASS_SERVER_PUBLIC_KEY=/keys/v2-signing.pub.pem",
		"--encrypt --server-encryption-key /keys/v2-encryption.pub.pem",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, b.String())
		}
	}
}

// The banner's commands run this binary by its own path, or `go run
// ./cmd/ipass` when it was started that way (from the go command's cache).
func TestSelfCommand(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		err  error
		want string
	}{
		{"/usr/local/bin/ipass", nil, "/usr/local/bin/ipass"},
		{"/home/me/ipass/ipass", nil, "/home/me/ipass/ipass"},
		{"/tmp/go-build1234/b001/exe/ipass", nil, "go run ./cmd/ipass"},
		{"", errors.New("no /proc"), "go run ./cmd/ipass"},
	} {
		if got := selfCommandOf(tc.exe, tc.err); got != tc.want {
			t.Errorf("selfCommandOf(%q, %v) = %q, want %q", tc.exe, tc.err, got, tc.want)
		}
	}
}

// TestBannerCommandsRunInShell: the banner's commands, pasted into a shell
// in the folder the server runs in, work — with a data dir given as a
// relative path with a space in it, in a folder without the repository's
// examples/, in sh (dash where it is /bin/sh) and bash. The commands run the
// built binary by its path, as the banner prints it.
func TestBannerCommandsRunInShell(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin dir", "ipass")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work dir")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(dir, "addr")
	var stdout, stderr syncBuffer
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--addr-file", addrFile, "--data-dir", "my data")
	serve.Dir, serve.Stdout, serve.Stderr = work, &stdout, &stderr
	serve.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	banner := stdout.String()
	_, rest, ok := strings.Cut(banner, "Try it from another terminal, in this folder:\n")
	if !ok {
		t.Fatalf("no commands in the banner:\n%s", banner)
	}
	var script []string
	for _, line := range strings.Split(rest, "\n") {
		if strings.HasPrefix(line, "  ") {
			script = append(script, strings.TrimSpace(line))
		}
		if line == "" {
			break
		}
	}
	if len(script) < 4 {
		t.Fatalf("want the connection settings and at least three calls, got %d lines:\n%s", len(script), banner)
	}
	for _, sh := range []string{"sh", "bash"} {
		t.Run(sh, func(t *testing.T) {
			if _, err := exec.LookPath(sh); err != nil {
				t.Skipf("%s is not installed", sh)
			}
			// -e: every command must succeed; PASS is printed to check it is set.
			cmd := exec.Command(sh, "-e", "-c", strings.Join(append(script, `echo "PASS=$PASS"`), "\n"))
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir} // no IPASS_* from outside
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the banner's commands in %s: %v\n%s\nscript:\n%s", sh, err, out, strings.Join(script, "\n"))
			}
			if !strings.Contains(string(out), `"$points_en_US$":`) || !regexp.MustCompile(`PASS=[0-9]{31}\n`).Match(out) {
				t.Fatalf("the calls did not create, update and query a pass:\n%s", out)
			}
		})
	}
}
