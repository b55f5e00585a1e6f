package e2e

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// TestRateLimitBurst checks ipass-api.md 2.9: a client with rateLimit 200
// and a full bucket that bursts 250 verified requests gets 200 accepted (up
// to 220: 100 ms of refill) and the rest HTTP 429 REQUEST_TRAFFIC_EXCEED_LIMIT
// with Retry-After, whether one process or two share the burst.
func TestRateLimitBurst(t *testing.T) {
	const (
		limit   = 200
		burst   = 250
		maxOver = 20 // refill during a burst of up to 100 ms
	)
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			srvs := startCluster(t, eng.newDB(t), writeTenants(t, 0, limit), 2)
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
					// Idle: a bucket refills completely in one second.
					time.Sleep(1200 * time.Millisecond)
					bodies := make([]string, burst)
					for i := range bodies {
						bodies[i] = query
					}
					reqs := c.signAll(t, "queryPass", bodies)
					// Dial every connection first, so that the burst is
					// only writes: its spread is then microseconds of
					// goroutine start-up, not TCP handshakes.
					conns := make([]net.Conn, burst)
					for i := range conns {
						conn, err := net.DialTimeout("tcp", sc.addrs[i%len(sc.addrs)], 5*time.Second)
						if err != nil {
							t.Fatal(err)
						}
						defer conn.Close()
						_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
						conns[i] = conn
					}
					resps := make([]*apiResp, burst)
					errs := make([]error, burst)
					written := make([]time.Time, burst)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range reqs {
						wire := reqs[i].wire(sc.addrs[i%len(sc.addrs)])
						wg.Go(func() {
							<-start
							if _, err := conns[i].Write(wire); err != nil {
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
					var spread, total time.Duration
					for i := range written {
						spread = max(spread, written[i].Sub(t0))
						if resps[i] != nil {
							total = max(total, resps[i].at.Sub(t0))
						}
					}
					firstErrors(t, errs)
					got := tally(resps, errs)
					t.Logf("%d requests over %d process(es): %v; all written within %v, last answer after %v",
						burst, len(sc.addrs), got, spread, total)
					if got["SUCCESS"]+got["REQUEST_TRAFFIC_EXCEED_LIMIT"] != burst {
						t.Errorf("results %v: want only SUCCESS and REQUEST_TRAFFIC_EXCEED_LIMIT", got)
					}
					if n := got["SUCCESS"]; n < limit || n > limit+maxOver {
						t.Errorf("%d accepted, want %d to %d (writes spread over %v)", n, limit, limit+maxOver, spread)
					}
				})
			}
			for _, s := range srvs {
				s.stop(t)
			}
		})
	}
}
