package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeConfigPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantWin  time.Duration
		wantDemo bool
		wantErr  bool
	}{
		{name: "defaults", wantAddr: "127.0.0.1:8080", wantWin: 5 * time.Minute, wantDemo: true},
		{name: "env", env: map[string]string{"IPASS_ADDR": ":0", "IPASS_REQUEST_TIME_WINDOW": "1m", "IPASS_DEMO": "false"}, wantAddr: ":0", wantWin: time.Minute},
		{name: "flag wins over env", args: []string{"--addr", "127.0.0.1:9"}, env: map[string]string{"IPASS_ADDR": ":0"}, wantAddr: "127.0.0.1:9", wantWin: 5 * time.Minute, wantDemo: true},
		{name: "bad env value", env: map[string]string{"IPASS_REQUEST_TIME_WINDOW": "soon"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg serveConfig
			fs := cfg.flagSet(io.Discard)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := applyEnv(fs, func(k string) string { return tt.env[k] })
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "IPASS_REQUEST_TIME_WINDOW") {
					t.Fatalf("err = %v, want one naming the variable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.addr != tt.wantAddr || cfg.requestTimeWindow != tt.wantWin || cfg.demo != tt.wantDemo {
				t.Fatalf("got addr %q window %s demo %v", cfg.addr, cfg.requestTimeWindow, cfg.demo)
			}
		})
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--request-time-window", "-1s"},
		{"--tls-cert", "x.pem"},
		{"extra-argument"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), &env{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }}, append([]string{"serve"}, args...))
		if code != exitUsage || stderr.Len() == 0 {
			t.Errorf("serve %v: exit %d, stderr %q; want %d with a message", args, code, stderr.String(), exitUsage)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs `ipass serve` in-process on a free port and returns its URL
// and a stop function that cancels it (as SIGTERM would) and waits.
func startServe(t *testing.T, dataDir string, extra ...string) (url string, stdout *syncBuffer, stop func() int) {
	t.Helper()
	return startServeArgs(t, append([]string{"--data-dir", dataDir, "--db", "sqlite:" + filepath.Join(dataDir, "ipass.db")}, extra...)...)
}

// startServeArgs is startServe with only the listening flags added to args.
func startServeArgs(t *testing.T, extra ...string) (url string, stdout *syncBuffer, stop func() int) {
	t.Helper()
	url, stdout, _, stop = startServeLogs(t, extra...)
	return url, stdout, stop
}

// startServeLogs is startServeArgs that also returns what serve logged.
func startServeLogs(t *testing.T, extra ...string) (url string, stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--addr-file", addrFile}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: stdout, stderr: stderr, getenv: func(string) string { return "" }}, args)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			url = "http://" + string(b)
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("serve did not stop: %s", stderr.String())
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return url, stdout, stderr, stop
}

func TestServeFirstStartAndRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	url, stdout, stop := startServe(t, dataDir)

	for _, probe := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(url + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", probe, resp.StatusCode)
		}
	}
	out := stdout.String()
	for _, want := range []string{"2110200000000044", "demo-client.pem", "call createPass", `--set passId="$PASS"`, url} {
		if !strings.Contains(out, want) {
			t.Fatalf("quickstart lacks %q:\n%s", want, out)
		}
	}
	keyFiles := []string{"server-signing.pem", "server-signing.pub.pem", "server-signing.pub.b64",
		"server-ecc-signing.pem", "server-ecc-signing.pub.pem", "server-ecc-signing.pub.b64",
		"server-encryption.pem", "server-encryption.pub.pem", "server-encryption.pub.b64", "demo-client.pem"}
	first := map[string][]byte{}
	for _, f := range keyFiles {
		path := filepath.Join(dataDir, f)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first[f] = b
		if strings.HasSuffix(f, ".pem") && !strings.Contains(f, ".pub") {
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Fatalf("%s has mode %v, want 0600", f, st.Mode().Perm())
			}
		}
	}
	if bytes.Equal(first["server-encryption.pub.pem"], first["server-signing.pub.pem"]) {
		t.Fatal("the encryption key is the signing key; want a separate key by default")
	}
	if want := "--encrypt --server-encryption-key " + filepath.Join(dataDir, "server-encryption.pub.pem"); !strings.Contains(out, want) {
		t.Fatalf("quickstart lacks %q:\n%s", want, out)
	}
	if st, _ := os.Stat(dataDir); st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, want 0700", st.Mode().Perm())
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exit %d after graceful stop", code)
	}

	// Second start: same keys, demo not provisioned twice, quickstart still shown.
	_, stdout2, stop2 := startServe(t, dataDir)
	for _, f := range keyFiles {
		b, err := os.ReadFile(filepath.Join(dataDir, f))
		if err != nil || !bytes.Equal(b, first[f]) {
			t.Fatalf("%s changed across restart (err %v)", f, err)
		}
	}
	if !strings.Contains(stdout2.String(), "call createPass") {
		t.Fatalf("no quickstart on restart:\n%s", stdout2.String())
	}
	stop2()
}

// TestServeDrainDelay: after SIGTERM (context cancel) the server keeps
// answering for --drain-delay with /readyz at 503, so a load balancer sees
// it leave before connections are refused.
func TestServeDrainDelay(t *testing.T) {
	url, _, stop := startServe(t, filepath.Join(t.TempDir(), "data"), "--demo=false", "--drain-delay", "1500ms")
	ready := func() int {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz before shutdown: %d", got)
	}
	done := make(chan int, 1)
	go func() { done <- stop() }()
	deadline := time.Now().Add(time.Second)
	for ready() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not turn 503 while draining")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if got := ready(); got != -1 {
		t.Fatalf("/readyz after shutdown answered %d; want connection refused", got)
	}
}

// TestServeJSONLogsKeepStdoutClean: in JSON mode the banner is a log record,
// not text on stdout.
func TestServeJSONLogsKeepStdoutClean(t *testing.T) {
	_, stdout, stop := startServe(t, filepath.Join(t.TempDir(), "data"), "--log-format", "json", "--log-level", "warn")
	stop()
	if out := stdout.String(); out != "" {
		t.Fatalf("stdout in JSON mode: %q", out)
	}
}
