package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// BenchmarkServeUpdatePass drives signed updatePass requests through the
// in-process server over loopback HTTP (16 parallel keep-alive clients on 32
// cards), on each engine. Requests are signed before the timer starts and
// responses are not verified, so a CPU profile of it is the server's:
//
//	go test ./http/ -run '^$' -bench ServeUpdatePass/sqlite -benchtime 2000x -cpuprofile /tmp/cpu.out
//	go tool pprof -top -nodecount 40 /tmp/cpu.out
//
// Each engine runs without and with the request log (requestlog=on: every
// request's entry queued and written in batches), to show what it costs.
func BenchmarkServeUpdatePass(b *testing.B) {
	benchServe(b, ipasshttp.PathUpdatePass, func(i int, card string) []byte {
		return fmt.Appendf(nil, `{"merchantId":%q,"userId":%q,"passId":%q,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":%d,"$points_zh_HK$":%d}}`,
			merchantA, user1, card, i, i)
	})
}

// BenchmarkServeQueryPass is BenchmarkServeUpdatePass with signed
// queryPass requests: the admission's write and the reads, no pass write.
func BenchmarkServeQueryPass(b *testing.B) {
	benchServe(b, ipasshttp.PathQueryPass, func(_ int, card string) []byte {
		return fmt.Appendf(nil, `{"merchantId":%q,"userId":%q,"passId":%q}`, merchantA, user1, card)
	})
}

// benchServe sends b.N signed requests to path, bodyFor(i, one of 32 cards)
// each, from parallel keep-alive clients, on each engine.
func benchServe(b *testing.B, path string, bodyFor func(i int, card string) []byte) {
	for name, open := range requestLogVariants(sqlstoretest.Engines(b)) {
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, open(b))
			if strings.HasSuffix(name, "/requestlog=on") {
				w := withRequestLog(h)
				defer func() { b.ReportMetric(float64(w.Dropped()), "dropped") }()
			}
			sandboxBench(b, h)
			// Rate limit off, as in the e2e benchmark: the harness clock
			// stands still, so the bucket would never refill.
			fx, err := tenants.Load(fixturesFile)
			if err != nil {
				b.Fatal(err)
			}
			for i := range fx.Clients {
				fx.Clients[i].RateLimit = 0
			}
			if err := h.db.Apply(context.Background(), fx); err != nil {
				b.Fatal(err)
			}
			var cards []string
			for i := range 32 {
				body := fmt.Sprintf(`{"merchantId":%q,"userId":%q,"templateCode":"temlate111001","bizSerialId":"bench-%d","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"C%d"},"dataInfo":{"$points_en_US$":1,"$points_zh_HK$":1}}`,
					merchantA, user1, i, i)
				cards = append(cards, h.must(h.op("createPass", body), "SUCCESS").passID)
			}
			key := h.keys[clientA+"/RSA256"]
			t0 := h.clock.Now()
			type signed struct {
				body       []byte
				rt, header string
			}
			reqs := make([]signed, b.N)
			for i := range reqs {
				body := bodyFor(i, cards[i%len(cards)])
				rt := t0.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
				sig, err := gateway.Sign(key, gateway.RSA256, gateway.Content(http.MethodPost, path, clientA, rt, body))
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = signed{body, rt, gateway.FormatSignatureHeader(gateway.RSA256, 1, sig)}
			}
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			var next atomic.Int64
			b.SetParallelism(8)
			stmts0, closed0 := h.db.Statements(), idleClosed(h.db)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := reqs[next.Add(1)-1]
					req, _ := http.NewRequest(http.MethodPost, h.url+path, bytes.NewReader(r.body))
					req.Header["Client-Id"] = []string{clientA}
					req.Header["Request-Time"] = []string{r.rt}
					req.Header["Signature"] = []string{r.header}
					req.Header["Content-Type"] = []string{"application/json; charset=UTF-8"}
					resp, err := c.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !bytes.Contains(raw, []byte(`"SUCCESS"`)) {
						b.Errorf("response: %s", raw)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			// The database's share: statements sent (round trips on
			// PostgreSQL), and connections the pool closed and had to open
			// again, per request.
			b.ReportMetric(float64(h.db.Statements()-stmts0)/float64(b.N), "stmts/op")
			b.ReportMetric(float64(idleClosed(h.db)-closed0)/float64(b.N), "reconnects/op")
		})
	}
}

// requestLogVariants names each engine twice: ENGINE/requestlog=off and
// ENGINE/requestlog=on.
func requestLogVariants(engines map[string]func(testing.TB) *sqlstore.DB) map[string]func(testing.TB) *sqlstore.DB {
	out := map[string]func(testing.TB) *sqlstore.DB{}
	for name, open := range engines {
		out[name+"/requestlog=off"], out[name+"/requestlog=on"] = open, open
	}
	return out
}

// idleClosed is how many connections the store's pools closed because too
// many were idle: each is opened again on the next burst.
func idleClosed(db *sqlstore.DB) int64 {
	var n int64
	for _, st := range db.PoolStats() {
		n += st.MaxIdleClosed
	}
	return n
}
