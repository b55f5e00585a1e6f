//go:build !unix

package sqlstore

import "context"

// lockInit is a no-op where flock(2) does not exist: processes opening a
// fresh SQLite file at the same moment may then fail once and succeed when
// restarted (see initlock_unix.go).
func lockInit(context.Context, string) (func(), error) { return func() {}, nil }
