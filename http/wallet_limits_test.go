package http_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/ssetest"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/wallet"
)

// watchStream reads resp's event stream in the background.
func watchStream(t testing.TB, resp *http.Response) *ssetest.Watch {
	t.Helper()
	return ssetest.Start(resp.Body)
}

// waitEnd waits up to limit for the stream to end and returns when it did.
func waitEnd(t testing.TB, sw *ssetest.Watch, limit time.Duration) time.Time {
	t.Helper()
	select {
	case <-sw.Ended():
	case <-time.After(limit):
		t.Fatalf("the stream was still open %s later", limit)
	}
	return sw.EndedAt()
}

// TestWalletStreamRevocation: an open stream ends within 2 s of a rotation
// of the wallet secret made through another handle on the same database (on
// SQLite another process shares the file and cannot signal this one; on
// PostgreSQL another node), and at its link's expiry; nothing is sent on it
// after either, even for a change made right after the rotation.
func TestWalletStreamRevocation(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			dsn := newDSN(t)
			s := newWalletSite(t, sqlstoretest.Open(t, dsn))
			other := sqlstoretest.Open(t, dsn) // the operator's `ipass admin`, elsewhere
			holder := s.demo.UserIDs[0]
			card := s.card(t, holder, 100, "C-1")

			t.Run("Rotation", func(t *testing.T) {
				resp := openStream(t, s.link(t, holder)+"/events", "")
				defer resp.Body.Close()
				sw := watchStream(t, resp)
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
					DataInfo: client.DataInfo{"$points_en_US$": 200, "$points_zh_HK$": 200}})
				if !ssetest.WaitFor(5*time.Second, func() bool { return sw.EventsAfter(time.Time{}) > 0 }) {
					t.Fatal("no event for an update before the rotation")
				}
				rotated := time.Now()
				if err := other.RotateWalletSecret(context.Background()); err != nil {
					t.Fatal(err)
				}
				// A change right after the rotation wakes the stream before the
				// revocation check runs: it must not be sent.
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
					DataInfo: client.DataInfo{"$points_en_US$": 300, "$points_zh_HK$": 300}})
				ended := waitEnd(t, sw, 5*time.Second)
				if d := ended.Sub(rotated); d > 2*time.Second {
					t.Errorf("the stream ended %s after the rotation, want within 2s", d)
				}
				if n := sw.EventsAfter(rotated); n != 0 {
					t.Errorf("%d events sent after the rotation", n)
				}
			})

			t.Run("LinkExpiry", func(t *testing.T) {
				secret, err := s.db.WalletSecret(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				// Token expiry is kept to the second: this one works for 2–3 s.
				expires := time.Now().Add(3 * time.Second).Truncate(time.Second)
				tok, err := wallet.NewToken(secret, holder, expires)
				if err != nil {
					t.Fatal(err)
				}
				resp := openStream(t, s.url+"/wallet/"+tok+"/events", "")
				defer resp.Body.Close()
				sw := watchStream(t, resp)
				ended := waitEnd(t, sw, 6*time.Second)
				if ended.Before(expires) || ended.Sub(expires) > time.Second {
					t.Errorf("the stream of a link expiring at %s ended at %s", expires.Format(time.StampMilli), ended.Format(time.StampMilli))
				}
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
					DataInfo: client.DataInfo{"$points_en_US$": 400, "$points_zh_HK$": 400}})
				if r, _ := get(t, s.url+"/wallet/"+tok+"/api/passes"); r.StatusCode != http.StatusNotFound {
					t.Errorf("change feed of the expired link: %d, want 404", r.StatusCode)
				}
			})
		})
	}
}

// TestWalletStreamKeepAlive: an idle stream receives each keep-alive comment
// when it is written (flushed), not later with the next event.
func TestWalletStreamKeepAlive(t *testing.T) {
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t), func(wl *ipasshttp.Wallet) { wl.KeepAlive = 200 * time.Millisecond })
	resp := openStream(t, s.link(t, s.demo.UserIDs[0])+"/events", "")
	defer resp.Body.Close()
	sw := watchStream(t, resp)
	if !ssetest.WaitFor(3*time.Second, func() bool { return sw.Has(": keepalive") }) {
		t.Fatal("no keep-alive comment reached an idle stream within 3s (200ms interval)")
	}
}

// TestWalletStreamCaps: streams over a cap are refused at once with 429 and
// Retry-After, and a refused stream holds nothing: once the admitted ones
// close, as many can open again.
func TestWalletStreamCaps(t *testing.T) {
	try := func(t *testing.T, url string) *http.Response {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	refused := func(t *testing.T, resp *http.Response, what string) {
		t.Helper()
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d Retry-After %q, want 429 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	admitted := func(t *testing.T, resp *http.Response, what string) {
		t.Helper()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d, want an open stream", what, resp.StatusCode)
		}
	}
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			s := newWalletSite(t, open(t), func(wl *ipasshttp.Wallet) {
				wl.MaxStreamsPerHolder, wl.MaxStreamsPerIP, wl.MaxStreams = 2, 3, 100
			})
			t.Run("PerHolderAndPerIP", func(t *testing.T) {
				// Two links of one holder count together.
				a1, a2 := s.link(t, "holder-a"), s.link(t, "holder-a")
				var open []*http.Response
				for i, l := range []string{a1, a2} {
					r := try(t, l+"/events")
					admitted(t, r, "holder A's stream "+string(rune('1'+i)))
					open = append(open, r)
				}
				for range 3 {
					refused(t, try(t, a1+"/events"), "a third stream of holder A")
				}
				r := try(t, s.link(t, "holder-b")+"/events")
				admitted(t, r, "holder B's first stream")
				open = append(open, r)
				refused(t, try(t, s.link(t, "holder-c")+"/events"), "a fourth stream from one address")
				for _, r := range open {
					r.Body.Close()
				}
				// Closed streams give their places back (the server notices at
				// its next write; the refusals above took none).
				deadline := time.Now().Add(5 * time.Second)
				for {
					r := try(t, s.link(t, "holder-c")+"/events")
					if r.StatusCode == http.StatusOK {
						r.Body.Close()
						break
					}
					r.Body.Close()
					if time.Now().After(deadline) {
						t.Fatal("places of closed streams were not given back within 5s")
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
		})
	}
	t.Run("Total", func(t *testing.T) {
		s := newWalletSite(t, sqlstoretest.OpenSQLite(t), func(wl *ipasshttp.Wallet) {
			wl.MaxStreamsPerHolder, wl.MaxStreamsPerIP, wl.MaxStreams = 5, 50, 3
		})
		for i := range 3 {
			r := try(t, s.link(t, "holder-"+string(rune('a'+i)))+"/events")
			admitted(t, r, "stream")
			defer r.Body.Close()
		}
		refused(t, try(t, s.link(t, "holder-z")+"/events"), "a stream over the total cap")
	})
}

// TestWalletStreamMemoryIndependentOfWallet: what an open stream keeps does
// not grow with the holder's wallet. The heap held by 100 open streams on a
// wallet of 200 large passes is compared with 100 on a wallet of one (the
// streams opened one after another, so none shares another's first read).
func TestWalletStreamMemoryIndependentOfWallet(t *testing.T) {
	const streams = 100
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t), func(wl *ipasshttp.Wallet) {
		wl.MaxStreams, wl.MaxStreamsPerIP, wl.MaxStreamsPerHolder = 1000, 1000, 1000
	})
	small, big := s.demo.UserIDs[0], s.demo.UserIDs[1]
	s.card(t, small, 1, "C-small")
	for i := range 200 {
		s.create(t, big, s.demo.CardTemplate, fmt.Sprintf("C-%d-%s", i, strings.Repeat("x", 400)), client.DataInfo{
			"$points_en_US$": i, "$points_zh_HK$": i, "$level_en_US$": strings.Repeat("Gold ", 200), "$level_zh_HK$": strings.Repeat("金", 300),
		}, time.Now().Add(365*24*time.Hour))
	}
	held := func(user string) uint64 {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		link := s.link(t, user)
		var open []*http.Response
		for range streams {
			resp := openStream(t, link+"/events", "")
			sw := watchStream(t, resp)
			ssetest.WaitFor(5*time.Second, func() bool { return sw.Has("retry: 1000") })
			open = append(open, resp)
		}
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
		runtime.ReadMemStats(&after)
		for _, r := range open {
			r.Body.Close()
		}
		return (after.HeapInuse + after.StackInuse - min(after.HeapInuse+after.StackInuse, before.HeapInuse+before.StackInuse)) / streams
	}
	perSmall := held(small)
	time.Sleep(200 * time.Millisecond) // the first streams' places are given back
	perBig := held(big)
	t.Logf("memory held per open stream: %d B on a 1-pass wallet, %d B on a 200-pass wallet", perSmall, perBig)
	if perBig > perSmall+8<<10 {
		t.Errorf("a stream on a 200-pass wallet holds %d B, on a 1-pass wallet %d B: it keeps the wallet", perBig, perSmall)
	}
}

// TestWalletFollowsMerchantClock: on a sandbox whose merchant clock moved
// 400 days ahead, a member card with a year left is expired on the holder's
// page, and an open stream tells the page at once (no write happened); the
// reset brings it back to Active the same way.
func TestWalletFollowsMerchantClock(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			db := open(t)
			s := newWalletSite(t, db, func(wl *ipasshttp.Wallet) { wl.Clocks = db })
			holder := s.demo.UserIDs[0]
			link := s.link(t, holder)
			card := s.card(t, holder, 100, "C-1")
			statusOn := func(tab string) bool {
				t.Helper()
				_, body := get(t, link+"?lang=en_US")
				i := strings.Index(body, `data-tab="`+tab+`"`)
				return i >= 0 && strings.Contains(body[i:], `data-pass-id="`+card+`"`) &&
					(tab == "inactive" || !strings.Contains(body[strings.Index(body, `data-tab="inactive"`):], `data-pass-id="`+card+`"`))
			}
			if !statusOn("active") {
				t.Fatal("the card is not on the Active tab at first")
			}
			resp := openStream(t, link+"/events", "")
			defer resp.Body.Close()
			for _, c := range []struct {
				offset time.Duration
				status string
				tab    string
			}{{400 * 24 * time.Hour, "EXPIRED", "inactive"}, {0, "ACTIVE", "active"}} {
				if err := db.SetClockOffset(context.Background(), s.demo.MerchantID, c.offset); err != nil {
					t.Fatal(err)
				}
				ev := nextEvent(t, resp)
				passes, _, _ := feedOf(t, ev.data)
				if len(passes) != 1 || passes[0].PassID != card || string(passes[0].Status) != c.status {
					t.Fatalf("clock moved by %s: event %s, want the card %s", c.offset, ev.data, c.status)
				}
				if !statusOn(c.tab) {
					t.Fatalf("clock moved by %s: the card is not on the %s tab", c.offset, c.tab)
				}
			}
		})
	}
}
