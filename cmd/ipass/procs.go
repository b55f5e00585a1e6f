package main

import (
	"log/slog"
	"runtime"
)

// minServeProcs is the fewest Ps (GOMAXPROCS) `ipass serve` runs with.
//
// In a container limited to one CPU the Go runtime picks GOMAXPROCS=1, and
// with a single P the server's latency falls apart (p99 about 1 s, single
// requests waiting 2–3 s, at a third of the throughput), for two reasons
// in the runtime's scheduler:
//   - A goroutine in a blocking system call keeps its P until sysmon, which
//     sleeps up to 10 ms between looks, hands it on. The SQLite committer's
//     fsync of every group commit therefore stops the whole process,
//     signatures and HTTP included, for the length of the flush.
//   - Goroutines that wake each other (a handler and the committer, a
//     connection and its background reader) hand the P on through the
//     run-next slot with the remaining time slice, so the scheduler's tick
//     barely advances, and the global run queue, where the network poller
//     parks connections whose next request arrived, is looked at only every
//     61st tick: a connection can wait there for seconds.
//
// With two Ps the kernel time-slices two threads on the one CPU: a P whose
// thread blocks in fsync leaves the other P running, and an idle P takes
// work from the global queue at once. The CPU time used stays the same.
const minServeProcs = 2

// ensureProcs raises GOMAXPROCS to minServeProcs unless the operator set
// GOMAXPROCS, and returns the CPUs the runtime found for the process (its
// default GOMAXPROCS: the affinity mask, capped by a cgroup CPU limit), for
// the metrics that report the server's cores.
func ensureProcs(getenv func(string) string, logger *slog.Logger) (cpus int) {
	n := runtime.GOMAXPROCS(0)
	if getenv("GOMAXPROCS") != "" {
		if n < minServeProcs {
			logger.Warn("GOMAXPROCS is below 2: latency suffers on a single P (a blocking fsync stops every request); unset it to let ipass use 2",
				"gomaxprocs", n)
		}
		return runtime.NumCPU()
	}
	if n < minServeProcs {
		runtime.GOMAXPROCS(minServeProcs)
		logger.Info("GOMAXPROCS raised for a single-CPU process", "cpus", n, "gomaxprocs", minServeProcs)
	}
	return n
}
