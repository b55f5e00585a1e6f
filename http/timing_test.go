package http_test

import (
	"context"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// Timing oracles (issue 8): two kinds of refused request that must read
// alike must also take alike. Each comparison sends timingSamples requests
// of each kind, interleaved in random order within each pair so that load
// from other processes falls on both alike, and compares the medians, which
// one slow outlier cannot move. A loaded machine can still skew one run, so
// a comparison is measured up to timingAttempts times; the bound itself is
// never widened.
const (
	timingSamples  = 200
	timingBound    = 200 * time.Microsecond
	timingAttempts = 3
	timingWarmup   = 20
)

// sameTiming fails t unless a and b, each timing one refused request and
// returning its code, answer want with medians at most timingBound apart.
func sameTiming(t *testing.T, want ipass.Code, a, b func() (time.Duration, ipass.Code)) {
	t.Helper()
	run := func(m func() (time.Duration, ipass.Code)) func() time.Duration {
		return func() time.Duration {
			d, code := m()
			if code != want {
				t.Fatalf("got %s, want %s", code, want)
			}
			return d
		}
	}
	sameMedians(t, timingBound, run(a), run(b))
}

// sameMedians fails t unless the medians of a and b, each timing one
// request, are at most bound apart.
func sameMedians(t *testing.T, bound time.Duration, a, b func() time.Duration) {
	t.Helper()
	for range timingWarmup {
		a()
		b()
	}
	for attempt := 1; ; attempt++ {
		var da, db []time.Duration
		for range timingSamples {
			if mrand.IntN(2) == 0 {
				da = append(da, a())
				db = append(db, b())
			} else {
				db = append(db, b())
				da = append(da, a())
			}
		}
		ma, mb := median(da), median(db)
		gap := ma - mb
		if gap < 0 {
			gap = -gap
		}
		t.Logf("attempt %d: medians %v and %v over %d samples each: gap %v (bound %v)", attempt, ma, mb, timingSamples, gap, bound)
		if gap <= bound {
			return
		}
		if attempt == timingAttempts {
			t.Fatalf("median answer times differ by %v (%v vs %v) in each of %d measurements; more than %v tells the two apart",
				gap, ma, mb, timingAttempts, bound)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestNoExistenceTimingOracle: client A naming client B's real passId is
// answered as fast as naming one that does not exist (issue 8, break 4).
//
// Both requests take the same gateway path byte for byte (signature, replay
// record, rate limit); they part only once the body names the pass. So the
// comparison times that part, the operation on the real store, where a
// database commit's jitter (milliseconds on a shared machine) does not
// drown a sub-millisecond difference. The same requests are also sent over
// HTTP and must get identical answers there (TestTenancy's queryByBoth).
func TestNoExistenceTimingOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("timing comparison: hundreds of requests")
	}
	if raceDetector {
		t.Skip("timing comparison: the race detector's instrumentation, not the code, would be timed; .ci/run runs this test without -race")
	}
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			bPass := h.must(h.send(req{clientID: clientB, path: pathOf("createPass"), body: `{"merchantId":"2160400000000022","userId":"2160220037090534","templateCode":"tmpl-other-card","bizSerialId":"B-TIMING-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"B-CODE-1"},"dataInfo":{"$points_en_US$":7}}`}), ipass.CodeSuccess).passID
			svc := h.srv.Service
			caller := ipass.Caller{ClientID: clientA, TracerID: "timing"}
			cases := []struct {
				name string
				body func(passID string) string
				call func(body []byte) error
			}{
				{"queryPass by passId and an unknown bizSerialId", func(id string) string {
					return `{"merchantId":"` + merchantA + `","passId":"` + id + `","bizSerialId":"A-UNKNOWN-SERIAL"}`
				}, func(b []byte) error { _, err := svc.QueryPass(context.Background(), caller, b); return err }},
				{"queryPass by passId", func(id string) string {
					return `{"merchantId":"` + merchantA + `","passId":"` + id + `"}`
				}, func(b []byte) error { _, err := svc.QueryPass(context.Background(), caller, b); return err }},
				{"updatePass", func(id string) string {
					return `{"merchantId":"` + merchantA + `","userId":"` + user1 + `","passId":"` + id + `","status":"CLOSED"}`
				}, func(b []byte) error { return svc.UpdatePass(context.Background(), caller, b) }},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					h := h.in(t)
					// Over HTTP first: one answer for both, word for word.
					ra := h.send(req{path: pathOfCall(c.name), body: c.body(bPass)})
					rb := h.send(req{path: pathOfCall(c.name), body: c.body(ghostPass)})
					if ra.code != ipass.CodePassHasNotExist || normalise(ra.message, c.body(bPass)) != normalise(rb.message, c.body(ghostPass)) {
						t.Fatalf("B's pass: %s %q; a missing pass: %s %q", ra.code, ra.message, rb.code, rb.message)
					}
					before := h.snapshot()
					timed := func(id string) func() (time.Duration, ipass.Code) {
						body := []byte(c.body(id))
						return func() (time.Duration, ipass.Code) {
							start := time.Now()
							err := c.call(body)
							return time.Since(start), ipass.ErrorCode(err)
						}
					}
					sameTiming(t, ipass.CodePassHasNotExist, timed(bPass), timed(ghostPass))
					if h.snapshot() != before {
						t.Fatal("refused requests changed stored data")
					}
				})
			}
		})
	}
}

func pathOfCall(name string) string {
	if strings.HasPrefix(name, "updatePass") {
		return pathOf("updatePass")
	}
	return pathOf("queryPass")
}
