package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/internal/cpuset"
)

// A server on this machine that may run on the bench's CPUs gets a warning
// at the top of the report, naming the shared CPUs; one on other CPUs does
// not. The stub server is in this process, so its real affinity is the
// bench's: its /metrics label says what the test wants the server to have.
func TestWarnsWhenSharingCPUs(t *testing.T) {
	own, ok := cpuset.Allowed()
	if !ok {
		t.Skip("no scheduler affinity on this system")
	}
	for _, tc := range []struct {
		name, serverCPUs, wantShared string
	}{
		{"same CPUs", cpuset.Format(own), cpuset.Format(own)},
		{"one CPU in common", cpuset.Format(own[:1]) + ",4000", cpuset.Format(own[:1])},
		{"disjoint", "4000-4001", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			s.affinity = tc.serverCPUs
			cfg := s.config(t)
			cfg.Requests = 20
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.ServerCPUs != tc.serverCPUs || rep.BenchCPUs != cpuset.Format(own) || rep.SharedCPUs != tc.wantShared {
				t.Errorf("server_cpus %q, bench_cpus %q, shared_cpus %q; want %q, %q, %q",
					rep.ServerCPUs, rep.BenchCPUs, rep.SharedCPUs, tc.serverCPUs, cpuset.Format(own), tc.wantShared)
			}
			if rep.ServerCores == nil || *rep.ServerCores != stubCores {
				t.Errorf("server_cores = %v, want ipass_process_cpus' %d", deref(rep.ServerCores), stubCores)
			}
			var out strings.Builder
			rep.Print(&out)
			warned := strings.Contains(out.String(), "WARNING      the bench shares CPUs "+tc.wantShared+" with the server")
			if warned != (tc.wantShared != "") {
				t.Errorf("warning printed: %v, want %v:\n%s", warned, tc.wantShared != "", out.String())
			}
		})
	}
}

// Only a server on this machine can share its CPUs.
func TestIsLocal(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/metrics":  true,
		"http://localhost:8080/metrics":  true,
		"http://[::1]:9090/metrics":      true,
		"http://192.0.2.10:8080/metrics": false, // TEST-NET-1: never an interface here
		"http://example.com/metrics":     false,
	} {
		if got := isLocal(u); got != want {
			t.Errorf("isLocal(%s) = %v, want %v", u, got, want)
		}
	}
}
