package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestRepeat is issue 17 item 3: a byte-identical signed request inside
// its window is answered with the first delivery's answer, freshly signed
// (and encrypted again where it was encrypted), and never executed again,
// whichever of two server processes sharing the database it reaches.
func TestRepeat(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			dsn := newDSN(t)
			h := newHarness(t, sqlstoretest.Open(t, dsn))
			h2 := h.twin(t, sqlstoretest.Open(t, dsn))
			testRepeat(t, h, h2)
		})
	}
}

func testRepeat(t *testing.T, h, h2 *harness) {
	points := func(pass string, n int) string {
		return fmt.Sprintf(`{"merchantId":%q,"userId":%q,"passId":%q,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":%d,"$points_zh_HK$":%d}}`,
			merchantA, user1, pass, n, n)
	}
	serial := 0
	member := func(h *harness) string { // a new member card each time
		serial++
		body := strings.Replace(createBody8_1, "1111128828", fmt.Sprintf("repeat-%d", serial), 1)
		return h.must(h.op("createPass", body), ipass.CodeSuccess).passID
	}
	// same checks that a repeat got the first's answer, freshly signed
	// (h.deliver verifies every signature) at a later Response-Time.
	same := func(t *testing.T, first, again reply) {
		t.Helper()
		if !bytes.Equal(again.plain, first.plain) || again.status != first.status {
			t.Fatalf("repeat answered HTTP %d %s; want the first's HTTP %d %s", again.status, again.plain, first.status, first.plain)
		}
		if again.header.Get("Response-Time") == first.header.Get("Response-Time") {
			t.Fatalf("repeat answered with the first's Response-Time %s: not signed afresh", first.header.Get("Response-Time"))
		}
	}

	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("update encrypted=%v", encrypt), func(t *testing.T) {
			h, h2 := h.in(t), h2.in(t)
			pass := member(h)
			f := h.freeze(req{body: points(pass, 41), encrypt: encrypt})
			first := h.must(h.deliver(f), ipass.CodeSuccess)
			before := h.history(pass)
			for _, on := range []*harness{h, h2, h} {
				h.clock.Add(time.Second)
				again := on.deliver(f)
				same(t, first, again)
				if encrypt && bytes.Equal(again.raw, first.raw) {
					t.Fatal("encrypted repeat sent the first's ciphertext: not encrypted afresh")
				}
			}
			if after := h.history(pass); after != before {
				t.Fatalf("repeats changed the pass: %s, was %s", after, before)
			}
		})
	}

	t.Run("create", func(t *testing.T) {
		h, h2 := h.in(t), h2.in(t)
		body := strings.Replace(createBody8_1, "1111128828", "repeat-create", 1)
		f := h.freeze(req{path: pathOf("createPass"), body: body})
		first := h.must(h.deliver(f), ipass.CodeSuccess)
		h.clock.Add(time.Second)
		same(t, first, h2.deliver(f))
		if p, err := h.db.PassBySerial(context.Background(), merchantA, "repeat-create"); err != nil || p.ID != first.passID || p.Version != 1 {
			t.Fatalf("pass after a repeated create: %+v, %v; want %s at version 1", p, err, first.passID)
		}
		// A create answered from the pass its bizSerialId already has: its
		// answer is decided after the write, and kept then.
		g := h.freeze(req{path: pathOf("createPass"), body: body})
		again := h.must(h.deliver(g), ipass.CodeSuccess)
		h.clock.Add(time.Second)
		same(t, again, h2.deliver(g))
	})

	t.Run("refused by the business rules", func(t *testing.T) {
		h, h2 := h.in(t), h2.in(t)
		pass := member(h)
		h.must(h.send(req{body: fmt.Sprintf(`{"merchantId":%q,"userId":%q,"passId":%q,"status":"CLOSED"}`, merchantA, user1, pass)}), ipass.CodeSuccess)
		f := h.freeze(req{body: points(pass, 5)})
		first := h.must(h.deliver(f), ipass.CodePassStatusIllegal)
		h.clock.Add(time.Second)
		same(t, first, h2.deliver(f))
	})

	// An old request replayed after a newer change of the same pass is
	// answered its own first answer and rolls nothing back.
	t.Run("old update replayed after a newer one", func(t *testing.T) {
		h, h2 := h.in(t), h2.in(t)
		pass := member(h)
		a := h.freeze(req{body: points(pass, 100)})
		firstA := h.must(h.deliver(a), ipass.CodeSuccess)
		h.clock.Add(time.Second)
		h.must(h.send(req{body: points(pass, 200)}), ipass.CodeSuccess)
		before := h.history(pass)
		h.clock.Add(time.Second)
		same(t, firstA, h2.deliver(a))
		p := h.query(merchantA, pass)
		if p.Version != 3 || string(p.DataInfo["$points_en_US$"]) != "200" {
			t.Fatalf("after replaying A: version %d, points %s; want B's version 3 and points 200", p.Version, p.DataInfo["$points_en_US$"])
		}
		if after := h.history(pass); after != before {
			t.Fatalf("replaying A changed the history: %s, was %s", after, before)
		}
	})

	// Deliveries racing each other, on both processes: one executes, every
	// one is answered its answer.
	t.Run("concurrent deliveries", func(t *testing.T) {
		h, h2 := h.in(t), h2.in(t)
		pass := member(h)
		f := h.freeze(req{body: points(pass, 7)})
		const n = 8
		replies := make([]reply, n)
		var wg sync.WaitGroup
		for i := range n {
			on := []*harness{h, h2}[i%2]
			wg.Go(func() { replies[i] = on.deliver(f) })
		}
		wg.Wait()
		for i, r := range replies {
			if r.code != ipass.CodeSuccess || !bytes.Equal(r.plain, replies[0].plain) {
				t.Fatalf("delivery %d: %s; want %s", i, r.plain, replies[0].plain)
			}
		}
		if p := h.query(merchantA, pass); p.Version != 2 {
			t.Fatalf("pass at version %d after %d deliveries of one update; want 2", p.Version, n)
		}
	})

	// Answers above the cap are not kept: their repeats are refused
	// REPEAT_REQUEST, as before, and still not executed.
	t.Run("bound", func(t *testing.T) {
		h, h2 := h.in(t), h2.in(t)
		pass := member(h)
		for _, s := range []*ipasshttp.Server{h.srv, h2.srv} {
			s.MaxKeptAnswer = 300 // an update's answer fits, a pass view does not
			defer func() { s.MaxKeptAnswer = 0 }()
		}
		q := h.freeze(req{path: pathOf("queryPass"), body: fmt.Sprintf(`{"merchantId":%q,"passId":%q}`, merchantA, pass)})
		if first := h.must(h.deliver(q), ipass.CodeSuccess); len(first.plain) <= 300 {
			t.Fatalf("the query's answer is %d bytes, within the cap: the test tests nothing", len(first.plain))
		}
		r := h2.must(h2.deliver(q), ipass.CodeRepeatRequest)
		if !strings.Contains(r.message, "no answer is kept") {
			t.Fatalf("repeat of an answer above the cap: %q", r.message)
		}
		u := h.freeze(req{body: points(pass, 9)})
		first := h.must(h.deliver(u), ipass.CodeSuccess)
		h.clock.Add(time.Second)
		same(t, first, h2.deliver(u))
		if p := h.query(merchantA, pass); p.Version != 2 {
			t.Fatalf("pass at version %d; want 2", p.Version)
		}
	})
}

// twin is a second server process on db, a second handle on h's database,
// sharing h's clock and keys.
func (h *harness) twin(t testing.TB, db *sqlstore.DB) *harness {
	t.Helper()
	c := *h
	c.t, c.db = t, db
	db.Now = h.clock.Now
	c.srv = &ipasshttp.Server{
		Service:           &service.Service{Tenants: db, Passes: db, Now: h.clock.Now, Logger: h.srv.Logger},
		Tenants:           db,
		Gate:              db,
		WrappedKeys:       db,
		Pinger:            db,
		Keys:              h.srv.Keys,
		Logger:            h.srv.Logger,
		Now:               h.clock.Now,
		RequestTimeWindow: h.srv.RequestTimeWindow,
	}
	ts := httptest.NewServer(c.srv.Handler())
	t.Cleanup(ts.Close)
	c.url = ts.URL
	return &c
}

// frozen is one signed request as exact bytes, to deliver more than once.
type frozen struct {
	r      req
	header http.Header
	body   []byte
}

func (h *harness) freeze(r req) frozen {
	h.t.Helper()
	httpReq, r := h.build(r)
	body, err := io.ReadAll(httpReq.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return frozen{r: r, header: httpReq.Header, body: body}
}

// deliver sends f's bytes to h's server and verifies the answer.
func (h *harness) deliver(f frozen) reply {
	h.t.Helper()
	httpReq, err := http.NewRequest(f.r.method, h.url+f.r.path, bytes.NewReader(f.body))
	if err != nil {
		h.t.Fatal(err)
	}
	httpReq.Header = f.header.Clone()
	return h.sendRaw(f.r, httpReq)
}

// history is the pass's stored history, as text to compare.
func (h *harness) history(pass string) string {
	h.t.Helper()
	vs, err := h.db.History(context.Background(), pass)
	if err != nil {
		h.t.Fatal(err)
	}
	return fmt.Sprintf("%+v", vs)
}
