package http

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTimeID is CLOCK_THREAD_CPUTIME_ID of <time.h>.
const clockThreadCPUTimeID = 3

// threadCPUTime is the CPU time the calling OS thread has used. The
// goroutine must be locked to its thread between two readings.
func threadCPUTime() (time.Duration, bool) {
	var ts syscall.Timespec
	// clock_gettime never blocks, so the raw form is safe and cheaper.
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
