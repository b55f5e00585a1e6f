//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// logRecord is one line of `serve --log-format json`.
type logRecord struct {
	Level, Msg, Path, Mode, Fix string
}

// permissionWarnings are the loose-permission warnings in a JSON log.
func permissionWarnings(t *testing.T, log string) []logRecord {
	t.Helper()
	var out []logRecord
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var r logRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Level == "WARN" && strings.HasPrefix(r.Fix, "chmod ") {
			out = append(out, r)
		}
	}
	return out
}

// umask022 runs the test under the usual umask, with which files created
// with the default 0644 are readable by everyone.
func umask022(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
}

// TestServeFreshStartPrivate: a first start on a new data dir, under umask
// 022, makes the directory 0700 and every private file in it 0600, database
// and WAL included, and warns about nothing (issue 15, break 6).
func TestServeFreshStartPrivate(t *testing.T) {
	umask022(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	_, _, stderr, stop := startServeLogs(t, "--data-dir", dataDir, "--log-format", "json")
	// The database is open: its -wal and -shm exist now.
	files, err := filepath.Glob(filepath.Join(dataDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v %v, want 0700", fi.Mode().Perm(), err)
	}
	private := 0
	for _, f := range files {
		name := filepath.Base(f)
		if strings.Contains(name, ".pub.") {
			continue // public halves are meant to be handed out
		}
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		private++
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700 // the quickstart's copy of examples/
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %04o, want %04o", name, fi.Mode().Perm(), want)
		}
	}
	for _, want := range []string{"ipass.db", "ipass.db-wal", "ipass.db-shm", "server-signing.pem", "server-ecc-signing.pem", "server-encryption.pem", "demo-client.pem"} {
		if _, err := os.Stat(filepath.Join(dataDir, want)); err != nil {
			t.Errorf("%s: %v (the test checked nothing for it)", want, err)
		}
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
	if w := permissionWarnings(t, stderr.String()); len(w) > 0 {
		t.Fatalf("a fresh start warned: %+v", w)
	}
	t.Logf("%d private files checked", private)
}

// TestServeWarnsLoosePermissions: a data dir 0755, a server key 0644 and a
// database 0644 (an older ipass made it so) each give one warning naming the
// path and the chmod that fixes it; nothing is changed behind the operator's
// back (issue 15, break 6).
func TestServeWarnsLoosePermissions(t *testing.T) {
	umask022(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	_, _, _, stop := startServeLogs(t, "--data-dir", dataDir, "--log-format", "json")
	if code := stop(); code != exitOK {
		t.Fatalf("first start exited %d", code)
	}
	key := filepath.Join(dataDir, "server-signing.pem")
	db := filepath.Join(dataDir, "ipass.db")
	for path, mode := range map[string]os.FileMode{dataDir: 0o755, key: 0o644, db: 0o644} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}

	_, _, stderr, stop := startServeLogs(t, "--data-dir", dataDir, "--log-format", "json")
	if code := stop(); code != exitOK {
		t.Fatalf("second start exited %d", code)
	}
	got := map[string]logRecord{}
	for _, w := range permissionWarnings(t, stderr.String()) {
		if _, dup := got[w.Path]; dup {
			t.Errorf("%s warned twice", w.Path)
		}
		got[w.Path] = w
	}
	for _, want := range []struct{ path, mode, fix string }{
		{dataDir, "0755", "chmod 700 " + dataDir},
		{key, "0644", "chmod 600 " + key},
		{db, "0644", "chmod 600 " + db},
	} {
		w, ok := got[want.path]
		if !ok {
			t.Errorf("no warning for %s", want.path)
			continue
		}
		if w.Mode != want.mode || !strings.HasPrefix(w.Fix, want.fix) {
			t.Errorf("%s: mode %q fix %q, want mode %q and fix %q", want.path, w.Mode, w.Fix, want.mode, want.fix)
		}
		delete(got, want.path)
	}
	for path, w := range got {
		t.Errorf("unexpected warning for %s: %+v", path, w)
	}
	if t.Failed() {
		t.Logf("log:\n%s", stderr)
	}
	// Warned about, not changed.
	for path, mode := range map[string]os.FileMode{dataDir: 0o755, key: 0o644, db: 0o644} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want it left at %04o", path, fi.Mode().Perm(), err, mode)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/ipass":     "/var/lib/ipass",
		"/srv/my data/ipass": "'/srv/my data/ipass'",
		"/srv/it's":          `'/srv/it'\''s'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
