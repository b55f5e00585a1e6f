package e2e

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// benchCards is how many member cards the parallel clients update: enough
// that clients rarely queue on one pass's lock, as with real traffic.
const benchCards = 32

// BenchmarkUpdatePassSQLite measures updatePass throughput of one running
// `ipass serve` on its embedded SQLite database.
func BenchmarkUpdatePassSQLite(b *testing.B) {
	benchUpdatePass(b, sqlstoretest.NewSQLiteDSN(b), 1)
}

// BenchmarkUpdatePassPostgres measures the same on PostgreSQL, with one and
// with two processes sharing the database (IPASS_TEST_POSTGRES_URL).
func BenchmarkUpdatePassPostgres(b *testing.B) {
	for _, procs := range []int{1, 2} {
		b.Run(fmt.Sprintf("procs=%d", procs), func(b *testing.B) {
			benchUpdatePass(b, sqlstoretest.NewPostgresDSN(b), procs)
		})
	}
}

// benchUpdatePass drives UPDATEs from parallel clients over keep-alive
// connections and reports requests per second. Requests are signed before
// the timer starts, so the figure is the server's (on a shared machine the
// client's response verification still competes for the CPU); every
// response is verified and must be SUCCESS.
func benchUpdatePass(b *testing.B, dsn string, procs int) {
	srvs := startCluster(b, dsn, writeTenants(b, 0, 0), procs)
	addrs := addrsOf(srvs)
	c := newAPIClient(b, client44ID)
	var cards []string
	for i := range benchCards {
		cards = append(cards, c.call(b, addrs[0], "createPass", memberCreate(fmt.Sprintf("bench-%d", i)), "SUCCESS").passID())
	}
	var round atomic.Int64 // keeps bodies distinct across b.Run rounds
	const parallelism = 8
	b.Run(fmt.Sprintf("clients=%d", parallelism*runtime.GOMAXPROCS(0)), func(b *testing.B) {
		base := int(round.Add(1)) * 10_000_000
		bodies := make([]string, b.N)
		for i := range bodies {
			bodies[i] = pointsUpdate(cards[i%benchCards], base+i)
		}
		reqs := c.signAll(b, "updatePass", bodies)
		var next atomic.Int64
		b.SetParallelism(parallelism)
		cpu0, cpuOK := serversCPU(srvs)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1) - 1)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				resp, err := c.send(ctx, addrs[i%len(addrs)], reqs[i])
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
				if resp.code != "SUCCESS" {
					b.Errorf("update %d: %v", i, resp)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		// The servers' own CPU per request tells a CPU-bound server from
		// one waiting on the disk or on other processes of the machine.
		if cpu1, ok := serversCPU(srvs); ok && cpuOK {
			b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(b.N), "server-cpu-ms/op")
		}
	})
	for _, s := range srvs {
		s.stop(b)
	}
}

// serversCPU is the user+system CPU time the server processes have used so
// far, from /proc (Linux; ok is false elsewhere).
func serversCPU(srvs []*server) (total time.Duration, ok bool) {
	for _, s := range srvs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
		if err != nil {
			return 0, false
		}
		// Fields after the parenthesised command name; utime and stime are
		// fields 14 and 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
		_, rest, _ := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			return 0, false
		}
		for _, v := range f[11:13] {
			ticks, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, false
			}
			total += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return total, true
}
