package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ipass-dev/ipass/internal/cpuset"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// startOn starts cmd; with cpus set, on those CPUs only and without a
// GOMAXPROCS of the test's environment, as `taskset` would in a container
// given that many CPUs. A child inherits the scheduler affinity of the
// thread that forks it, so the mask is set on this goroutine's locked
// thread around Start and put back after.
func startOn(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return err
	}
	defer unix.SchedSetaffinity(0, &old)
	return cmd.Start()
}

// TestOneCPUTailLatency is issue 19's stall: `ipass serve` on one CPU (the
// Go runtime then picks GOMAXPROCS=1) under 16 clients in closed loop,
// the load generated on the other CPUs. With a single P, about one request
// in fifty waited half a second to three seconds (the committer's fsync
// held the only P, and connections starved in the scheduler's global run
// queue; see cmd/ipass/procs.go). The bound here is loose enough for a busy
// shared machine and far below what the stall produced: p99 ≤ 300 ms and no
// request over 2 s, where the stalled server gave p99 0.6–1.2 s and a max of
// 1.1–2.9 s.
func TestOneCPUTailLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of load")
	}
	own, ok := cpuset.Allowed()
	if !ok || len(own) < 2 {
		t.Skip("needs Linux and at least 2 CPUs: one for the server, the rest for the load")
	}
	s := newServerOn(t, sqlstoretest.NewSQLiteDSN(t), writeTenants(t, 0, 0), sharedServerKeyArgs(t)...)
	s.cpus = own[:1]
	s.start(t)
	defer s.stop(t)

	// The server tells /metrics how many CPUs it has and which.
	if got, want := scrapeLine(t, s.addr, "ipass_process_cpus"), fmt.Sprintf(`ipass_process_cpus{affinity="%d"} 1`, own[0]); got != want {
		t.Errorf("metrics: %q, want %q", got, want)
	}

	c := newAPIClient(t, client44ID)
	var cards []string
	for i := range benchCards {
		cards = append(cards, c.call(t, s.addr, "createPass", memberCreate(fmt.Sprintf("onecpu-%d", i)), "SUCCESS").passID())
	}
	const total, clients = 3000, 16
	bodies := make([]string, total)
	for i := range bodies {
		bodies[i] = pointsUpdate(cards[i%benchCards], i)
	}
	reqs := c.signAll(t, "updatePass", bodies)

	lat := make([]time.Duration, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || t.Failed() {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				start := time.Now()
				resp, err := c.send(ctx, s.addr, reqs[i])
				lat[i] = time.Since(start)
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				if resp.code != "SUCCESS" {
					t.Errorf("update %d: %v", i, resp)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	elapsed := time.Since(begin)
	slices.Sort(lat)
	p50, p99, worst := lat[total/2], lat[total*99/100], lat[total-1]
	t.Logf("%d updates in %v (%.0f req/s): p50 %v, p99 %v, max %v",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), p50, p99, worst)
	if p99 > 300*time.Millisecond || worst > 2*time.Second {
		t.Errorf("one-CPU server stalls: p99 %v (want ≤ 300ms), max %v (want ≤ 2s)", p99, worst)
	}
}

// scrapeLine is the first sample line of metric name on the server's
// /metrics.
func scrapeLine(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}
