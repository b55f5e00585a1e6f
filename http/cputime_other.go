//go:build !linux

package http

import "time"

// threadCPUTime is unavailable here; crypto timings fall back to wall-clock time.
func threadCPUTime() (time.Duration, bool) { return 0, false }
