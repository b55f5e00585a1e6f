//go:build unix

package sqlstore

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockInit takes an exclusive advisory lock on path (created 0600 if
// missing), waiting for other processes that hold it, and returns its
// release. SQLite has no migration lock of its own (goose locks only on
// PostgreSQL): without this, processes opening a fresh file together each
// start applying the same migrations, and all but one fail on "table already
// exists" in whichever migration they collide.
func lockInit(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for attempt := 1; ; attempt++ {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// Polled rather than blocking, so ctx can end the wait.
		if err := sleep(ctx, min(time.Duration(attempt)*5*time.Millisecond, 100*time.Millisecond)); err != nil {
			f.Close()
			return nil, err
		}
	}
}
