package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRateLimitBurst checks docs/api.md, "Replay protection and rate limit": a client with rateLimit 200
// and a full bucket that bursts verified requests gets 200 accepted (up to
// 220: 100 ms of refill) and the rest HTTP 429 REQUEST_TRAFFIC_EXCEED_LIMIT
// with Retry-After, whether one process or two share the burst. The burst is
// 400, not the example's 250: the servers take a burst in over as long as its
// requests' CPU takes on a loaded machine, and the bound rate × (1 + t) tells
// a working limiter from one that lets everything through only while it is
// below the burst — for 400, while t < 1 s.
func TestRateLimitBurst(t *testing.T) {
	const (
		limit    = 200
		burst    = 400
		maxOver  = 20 // refill during a burst of up to 100 ms
		maxBurst = 100 * time.Millisecond
		attempts = 3
	)
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			// JSON logs: the test reads back when each server took each request in.
			srvs := startCluster(t, eng.newDB(t), writeTenants(t, 0, limit), 2, "--log-format", "json")
			c := newAPIClient(t, client55ID)
			create := fmt.Sprintf(`{"merchantId":"%s","userId":"%s","templateCode":"%s","bizSerialId":"rl-1","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD",
 "codeInfo":{"$codevalue$":"1"},"dataInfo":{"$points_en_US$":1}}`, merchant55, user0534, rateTmpl55)
			id := c.call(t, srvs[0].addr, "createPass", create, "SUCCESS").passID()
			query := fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, merchant55, id)

			for _, sc := range []struct {
				name  string
				addrs []string
			}{
				{"one_process", addrsOf(srvs[:1])},
				{"two_processes", addrsOf(srvs)},
			} {
				t.Run(sc.name, func(t *testing.T) {
					// The bucket's documented accuracy is a bound in the burst's
					// length: at most rate × (1 + t) accepted for a burst the
					// servers took in over t seconds (the bucket rightly refills
					// by when requests arrived). Every attempt is held to it.
					// It says something only while that bound is below the
					// burst — a limiter that let everything through must fail —
					// so a burst the servers, starved of CPU on a loaded
					// machine, took in too slowly for that is repeated, a
					// bounded number of times; a burst within 100 ms is also
					// held to the tight bound of the example above.
					for attempt := 1; ; attempt++ {
						since := time.Now()
						got, spread := burstQueries(t, c, sc.addrs, query, burst)
						seen, taken := arrivalSpread(t, srvs, since)
						t.Logf("%d requests over %d process(es): %v; all written within %v, taken in by the servers within %v",
							burst, len(sc.addrs), got, spread, taken)
						if got["SUCCESS"]+got["REQUEST_TRAFFIC_EXCEED_LIMIT"] != burst {
							t.Fatalf("results %v: want only SUCCESS and REQUEST_TRAFFIC_EXCEED_LIMIT", got)
						}
						if seen != burst {
							t.Fatalf("the servers logged %d of the %d burst requests", seen, burst)
						}
						n, most := got["SUCCESS"], limit+int(math.Ceil(limit*taken.Seconds()))
						if n < limit || n > most {
							t.Fatalf("%d accepted for a burst taken in within %v, want %d to %d", n, taken, limit, most)
						}
						if taken <= maxBurst {
							if n > limit+maxOver {
								t.Errorf("%d accepted, want %d to %d (burst taken in within %v)", n, limit, limit+maxOver, taken)
							}
							return
						}
						if most < burst {
							if attempt < attempts {
								continue
							}
							t.Logf("no burst was taken in within %v; the last was held to its own bound of %d of %d", maxBurst, most, burst)
							return
						}
						if attempt == attempts {
							t.Fatalf("in each of %d bursts the servers needed over %v (last %v, bound %d ≥ the burst of %d); cannot judge the bound",
								attempts, time.Duration(float64(time.Second)*float64(burst-limit)/limit), taken, most, burst)
						}
					}
				})
			}
			for _, s := range srvs {
				s.stop(t)
			}
		})
	}
}

// burstQueries waits for the client's bucket to be full, then sends n signed
// queries at once, request i to addrs[i % len(addrs)], each on a connection
// dialled in advance so that the burst is only writes. It returns the result
// codes and how long after the start the last request was written.
func burstQueries(t *testing.T, c *apiClient, addrs []string, query string, n int) (map[string]int, time.Duration) {
	t.Helper()
	time.Sleep(1200 * time.Millisecond) // idle: a bucket refills completely in one second
	bodies := make([]string, n)
	for i := range bodies {
		bodies[i] = query
	}
	reqs := c.signAll(t, "queryPass", bodies)
	conns := make([]net.Conn, n)
	wires := make([][]byte, n)
	for i := range conns {
		conn, err := net.DialTimeout("tcp", addrs[i%len(addrs)], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
		conns[i], wires[i] = conn, reqs[i].wire(addrs[i%len(addrs)])
	}
	resps := make([]*apiResp, n)
	errs := make([]error, n)
	written := make([]time.Time, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			<-start
			if _, err := conns[i].Write(wires[i]); err != nil {
				errs[i] = err
				return
			}
			written[i] = time.Now()
			resps[i], errs[i] = c.readOn(conns[i], reqs[i])
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	var spread time.Duration
	for _, w := range written {
		spread = max(spread, w.Sub(t0))
	}
	firstErrors(t, errs)
	return tally(resps, errs), spread
}

// arrivalSpread reads the servers' JSON request logs and returns how many
// queryPass requests arrived since t0 and the time between the first and last
// arrival — the instants the token bucket refills by (a log line's time less
// its duration).
func arrivalSpread(t *testing.T, srvs []*server, t0 time.Time) (int, time.Duration) {
	t.Helper()
	var first, last time.Time
	n := 0
	for _, s := range srvs {
		data, err := os.ReadFile(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var rec struct {
				Time       time.Time `json:"time"`
				Msg        string    `json:"msg"`
				Path       string    `json:"path"`
				DurationMS float64   `json:"duration_ms"`
			}
			if json.Unmarshal(line, &rec) != nil || rec.Msg != "request" || !strings.HasSuffix(rec.Path, "/queryPass") {
				continue
			}
			arrived := rec.Time.Add(-time.Duration(rec.DurationMS * float64(time.Millisecond)))
			if arrived.Before(t0) {
				continue
			}
			if n == 0 || arrived.Before(first) {
				first = arrived
			}
			if n == 0 || arrived.After(last) {
				last = arrived
			}
			n++
		}
	}
	return n, last.Sub(first)
}
