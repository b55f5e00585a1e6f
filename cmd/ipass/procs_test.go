package main

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"testing"
)

// On one P, serve raises GOMAXPROCS to 2 and reports the one CPU; an
// operator's explicit GOMAXPROCS is obeyed, with a warning when below 2.
func TestEnsureProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, tc := range []struct {
		name, env string
		procs     int
		wantProcs int
		wantCPUs  int
		wantLog   string
	}{
		{"one CPU", "", 1, 2, 1, "GOMAXPROCS raised for a single-CPU process"},
		{"several CPUs", "", 3, 3, 3, ""},
		{"operator's GOMAXPROCS=1", "1", 1, 1, runtime.NumCPU(), "GOMAXPROCS is below 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(tc.procs)
			var log bytes.Buffer
			cpus := ensureProcs(func(k string) string {
				if k == "GOMAXPROCS" {
					return tc.env
				}
				return ""
			}, slog.New(slog.NewTextHandler(&log, nil)))
			if got := runtime.GOMAXPROCS(0); got != tc.wantProcs || cpus != tc.wantCPUs {
				t.Errorf("GOMAXPROCS %d, cpus %d; want %d, %d", got, cpus, tc.wantProcs, tc.wantCPUs)
			}
			if tc.wantLog == "" && log.Len() > 0 || !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q, want %q", log.String(), tc.wantLog)
			}
		})
	}
}
