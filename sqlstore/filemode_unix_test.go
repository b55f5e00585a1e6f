//go:build unix

package sqlstore_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ipass-dev/ipass/sqlstore"
)

// TestSQLiteFilesPrivate: a fresh SQLite database, its -wal and -shm and any
// other file SQLite or the store creates beside it are 0600, even under the
// common umask 022 (issue 15, break 6). The database holds the wallet secret
// and tenants' keys; a 0644 file in a 0755 directory let any local user read
// the secret and forge wallet links.
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "ipass.db")
	db, err := sqlstore.Open(ctx(t), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seed(t, db) // writes: the WAL and its index now exist
	if _, err := db.WalletSecret(ctx(t)); err != nil {
		t.Fatal(err)
	}

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory %s: %v, %v; want 0700", dir, fi.Mode().Perm(), err)
	}
	files, err := filepath.Glob(path + "*")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		seen[strings.TrimPrefix(f, path)] = true
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %04o, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
	for _, want := range []string{"", "-wal", "-shm"} {
		if !seen[want] {
			t.Errorf("ipass.db%s was not created (found %v): the test checked nothing for it", want, files)
		}
	}
}
