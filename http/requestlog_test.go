package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/reqlog"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestQueryRequestLog: the [ext] request log on every engine.
func TestQueryRequestLog(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("TenancyAndFailures", func(t *testing.T) { testRequestLogTenancy(t, open) })
			t.Run("Paging", func(t *testing.T) { testRequestLogPaging(t, open) })
		})
	}
}

// withRequestLog serves h again with a started request log writer whose
// batches are short, so tests wait little.
func withRequestLog(h *harness) *reqlog.Writer {
	h.t.Helper()
	w := &reqlog.Writer{Store: h.db, Interval: 5 * time.Millisecond}
	w.Start()
	h.t.Cleanup(func() { w.Close(context.Background()) })
	serveAgain(h, w)
	return w
}

// serveAgain restarts h's HTTP server with w as the request log: the
// fields are set before the server's goroutines start.
func serveAgain(h *harness, w *reqlog.Writer) {
	h.srv.RequestLog, h.srv.NodeName = w, "test-node"
	ts := httptest.NewServer(h.srv.Handler())
	h.t.Cleanup(ts.Close)
	h.url = ts.URL
}

// waitLogged waits until the writer has stored n entries in all.
func waitLogged(h *harness, w *reqlog.Writer, n int64) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Written() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("request log: %d entries written, %d dropped; want %d written", w.Written(), w.Dropped(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// requestLogOf sends queryRequestLog as client with body and decodes the page.
func requestLogOf(h *harness, client, body string) (reply, *ipass.RequestLogPage) {
	h.t.Helper()
	rep := h.send(req{path: pathOf("queryRequestLog"), clientID: client, body: body})
	if rep.code != ipass.CodeSuccess {
		return rep, nil
	}
	var page ipass.RequestLogPage
	if err := json.Unmarshal(rep.plain, &page); err != nil {
		h.t.Fatalf("request log page: %v: %s", err, rep.plain)
	}
	return rep, &page
}

var quotedSHA256 = regexp.MustCompile(`SHA-256 ([0-9a-f]{64})`)

// testRequestLogTenancy: each client reads its own requests, failures
// included (an INVALID_SIGNATURE entry carries the hash its message
// quotes), and nothing of another client's, whatever it asks.
func testRequestLogTenancy(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	w := withRequestLog(h)

	tracers := map[string][]string{} // client → Tracer-Ids of its requests, oldest first
	sent := func(client string, r reply) reply {
		tracers[client] = append(tracers[client], r.header.Get("Tracer-Id"))
		return r
	}
	created := sent(clientA, h.must(h.op("createPass", fmt.Sprintf(historyTicketCreate, "LOG-1")), ipass.CodeSuccess))
	query := `{"merchantId":"` + merchantA + `","userId":"` + user2 + `","passId":"` + created.passID + `"}`
	badSig := sent(clientA, h.must(h.send(req{path: pathOf("queryPass"), signAs: clientB + "/RSA256", body: query}), ipass.CodeInvalidSignature))
	sent(clientA, h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true}), ipass.CodeSuccess))
	encFail := sent(clientA, h.must(h.send(req{path: pathOf("queryPass"), encrypt: true,
		body: `{"merchantId":"` + merchantB + `","passId":"` + created.passID + `"}`}), ipass.CodeAccessDenied))
	sent(clientB, h.must(h.send(req{path: pathOf("queryPass"), clientID: clientB,
		body: `{"merchantId":"` + merchantB + `","passId":"` + created.passID + `"}`}), ipass.CodePassHasNotExist))
	// An unknown client is no merchant's: not kept.
	h.must(h.send(req{path: pathOf("queryPass"), clientID: "2110200000009999", signAs: clientA + "/RSA256", body: query}), ipass.CodeInvalidClient)
	waitLogged(h, w, 5)

	_, page := requestLogOf(h, clientA, `{}`)
	tracers[clientA] = append(tracers[clientA], "") // this very call is logged after it answers
	var got []string
	byTracer := map[string]ipass.RequestLogEntry{}
	for _, e := range page.Entries {
		got = append(got, e.TracerID)
		byTracer[e.TracerID] = e
	}
	want := slices.Clone(tracers[clientA][:4])
	slices.Reverse(want) // newest first
	if !slices.Equal(got, want) {
		t.Fatalf("client A's log: tracers %v, want %v", got, want)
	}

	e := byTracer[created.header.Get("Tracer-Id")]
	if e.Operation != "createPass" || e.MerchantID != merchantA || e.PassID != created.passID || e.ResultCode != "SUCCESS" ||
		e.HTTPStatus != 200 || e.Node != "test-node" || len(e.ContentSHA256) != 64 || e.DurationMS <= 0 || e.At != defaultNow.UnixMilli()+1 {
		t.Fatalf("createPass entry %+v", e)
	}
	e = byTracer[badSig.header.Get("Tracer-Id")]
	m := quotedSHA256.FindStringSubmatch(badSig.message)
	if m == nil || e.ResultCode != "INVALID_SIGNATURE" || e.Message != badSig.message || e.ContentSHA256 != m[1] || e.PassID != "" {
		t.Fatalf("INVALID_SIGNATURE entry %+v; message %q", e, badSig.message)
	}
	// An encrypted failure names nothing of its plaintext.
	e = byTracer[encFail.header.Get("Tracer-Id")]
	if e.ResultCode != "ACCESS_DENIED" || e.MerchantID != "" || e.PassID != "" {
		t.Fatalf("encrypted failure entry %+v", e)
	}

	// Client B: its own failure only, whatever filter names A's pass.
	_, page = requestLogOf(h, clientB, `{}`)
	if len(page.Entries) != 1 || page.Entries[0].TracerID != tracers[clientB][0] || page.Entries[0].ResultCode != "PASS_HAS_NOT_EXIST" {
		t.Fatalf("client B's log: %+v", page.Entries)
	}
	waitLogged(h, w, 7) // both queryRequestLog calls
	for _, body := range []string{`{"passId":"` + created.passID + `","resultCode":"SUCCESS"}`, `{"resultCode":"INVALID_SIGNATURE"}`,
		fmt.Sprintf(`{"fromId":%d}`, byTracer[created.header.Get("Tracer-Id")].ID)} {
		_, page = requestLogOf(h, clientB, body)
		for _, e := range page.Entries {
			if slices.Contains(tracers[clientA], e.TracerID) {
				t.Fatalf("client B read client A's entry with %s: %+v", body, e)
			}
		}
	}
	// A's filters select within A's own entries.
	_, page = requestLogOf(h, clientA, `{"resultCode":"INVALID_SIGNATURE"}`)
	if len(page.Entries) != 1 || page.Entries[0].TracerID != badSig.header.Get("Tracer-Id") {
		t.Fatalf("client A, INVALID_SIGNATURE only: %+v", page.Entries)
	}
	h.must(h.send(req{path: pathOf("queryRequestLog"), body: `{"pageSize":101}`}), ipass.CodeParamIllegal)
}

// testRequestLogPaging: pages of pageSize follow nextFromId, newest first,
// without gap or repeat, and end without nextFromId.
func testRequestLogPaging(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	w := withRequestLog(h)
	var want []string
	var code ipass.Code
	for i := range 7 {
		r := h.send(req{path: pathOf("queryPass"), body: fmt.Sprintf(`{"merchantId":"%s","passId":"NOPASS%d"}`, merchantA, i)})
		want, code = append(want, r.header.Get("Tracer-Id")), r.code
	}
	waitLogged(h, w, 7)
	slices.Reverse(want)
	var got []string
	from := 0
	for pages := 0; ; pages++ {
		body := fmt.Sprintf(`{"pageSize":3,"resultCode":"%s"}`, code)
		if from > 0 { // a digit string, as pageSize may be too
			body = fmt.Sprintf(`{"pageSize":"3","resultCode":"%s","fromId":"%d"}`, code, from)
		}
		_, page := requestLogOf(h, clientA, body)
		if len(page.Entries) > 3 || pages > 3 {
			t.Fatalf("page %d: %d entries", pages, len(page.Entries))
		}
		for _, e := range page.Entries {
			got = append(got, e.TracerID)
		}
		if page.NextFromID == 0 {
			break
		}
		from = int(page.NextFromID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged tracers %v\nwant %v", got, want)
	}
}

// TestRequestLogNeverBlocks: with the writer's buffer full, requests are
// answered at once and their entries dropped and counted; what was queued
// is written when the writer starts and closes.
func TestRequestLogNeverBlocks(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	w := &reqlog.Writer{Store: h.db, Buffer: 2} // not started: nothing drains the buffer
	serveAgain(h, w)
	for i := range 5 {
		done := make(chan reply, 1)
		go func() { done <- h.send(req{path: pathOf("queryPass"), body: `{"merchantId":"` + merchantA + `"}`}) }()
		select {
		case r := <-done:
			h.must(r, ipass.CodeParamIllegal)
		case <-time.After(10 * time.Second):
			w.Start() // unblock it, so that the server can close
			t.Fatalf("request %d blocked on the request log", i)
		}
	}
	if w.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", w.Dropped())
	}
	w.Start()
	w.Close(context.Background())
	entries, err := h.db.RequestLog(context.Background(), ipass.RequestLogQuery{})
	if err != nil || len(entries) != 2 || w.Written() != 2 {
		t.Fatalf("after close: %d entries stored (%v), %d written; want the 2 queued", len(entries), err, w.Written())
	}
}

// TestQueryRequestLogOff: a server that keeps no request log does not
// offer queryRequestLog, and says so in a signed answer.
func TestQueryRequestLogOff(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	r := h.must(h.send(req{path: pathOf("queryRequestLog"), body: `{}`}), ipass.CodeNoInterfaceDef)
	if r.status != 404 || r.message != "queryRequestLog: this server keeps no request log" {
		t.Fatalf("HTTP %d %q", r.status, r.message)
	}
}
