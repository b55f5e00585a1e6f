package http_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestReplayAtWindowEnd is issue 8 break 1: a signed request resent just
// before its window closes, with its last body byte held back until after
// the window closed, must still be a replay: answered with the first
// delivery's answer, never executed (issue 17: it used to be refused
// REPEAT_REQUEST; either way R2 must stand). The server runs on the real
// clock with a 2 s window; the body is sent over a raw TCP connection so
// the test controls when each byte arrives.
func TestReplayAtWindowEnd(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { testReplayAtWindowEnd(t, open) })
	}
}

func testReplayAtWindowEnd(t *testing.T, open opener) {
	const (
		window = 2 * time.Second
		// holdBack keeps the last body byte until the window has closed by
		// this margin at the server's write (arrival is at window − 1 s).
		holdBack = 2 * time.Second
	)
	h := newHarness(t, open(t))
	pass := createMember(t, h) // on the harness's 2025 clock

	// From here on everything runs on the real clock.
	h.srv.Now = nil
	h.srv.Service.(*service.Service).Now = nil
	h.db.Now = time.Now
	h.srv.RequestTimeWindow = window

	points := func(n int) string {
		return fmt.Sprintf(`{"merchantId":%q,"userId":%q,"passId":%q,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":%d,"$points_zh_HK$":%d}}`,
			merchantA, user1, pass, n, n)
	}
	t0 := time.Now()
	r1 := h.signedRaw(ipasshttp.PathUpdatePass, points(100), t0)
	r2 := h.signedRaw(ipasshttp.PathUpdatePass, points(200), t0.Add(time.Millisecond))

	first := h.must(h.rawExchange(r1, 0), ipass.CodeSuccess)
	h.must(h.rawExchange(r2, 0), ipass.CodeSuccess)
	if again := h.rawExchange(r1, 0); !bytes.Equal(again.plain, first.plain) {
		t.Fatalf("R1 again: %s; want R1's first answer %s", again.plain, first.plain)
	}

	// Arrive one second before the window closes; finish the body after it closed.
	time.Sleep(time.Until(t0.Add(window - time.Second)))
	got := h.rawExchange(r1, holdBack)
	if elapsed := time.Since(t0); elapsed < window {
		t.Fatalf("the slow replay finished %s after Request-Time, inside the %s window: the test did not test the edge", elapsed, window)
	}
	if !bytes.Equal(got.plain, first.plain) {
		t.Errorf("replay at the window's end with a slow body: got %s, want R1's first answer %s", got.plain, first.plain)
	}
	h.clock.Set(time.Now())
	p := h.query(merchantA, pass)
	if p.Version != 3 || string(p.DataInfo["$points_en_US$"]) != "200" {
		t.Fatalf("pass after the replay: version %d, points %s; want version 3 and points 200 (R2 must stand)", p.Version, p.DataInfo["$points_en_US$"])
	}
}

// rawRequest is one signed request as exact bytes: headers and body.
type rawRequest struct {
	r    req
	head string
	body []byte
}

// signedRaw signs body for path as clientA (RSA256) at requestTime.
func (h *harness) signedRaw(path, body string, requestTime time.Time) rawRequest {
	h.t.Helper()
	rt := requestTime.In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
	sig, err := gateway.Sign(h.keys[clientA+"/RSA256"], gateway.RSA256, gateway.Content(http.MethodPost, path, clientA, rt, []byte(body)))
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: ipass.test\r\n", path)
	fmt.Fprintf(&b, "Client-Id: %s\r\nRequest-Time: %s\r\nSignature: %s\r\n", clientA, rt, gateway.FormatSignatureHeader(gateway.RSA256, 1, sig))
	fmt.Fprintf(&b, "Content-Type: application/json; charset=UTF-8\r\nContent-Length: %d\r\n\r\n", len(body))
	return rawRequest{r: req{method: http.MethodPost, path: path, clientID: clientA}, head: b.String(), body: []byte(body)}
}

// rawExchange sends rr on a fresh connection — all but the last body byte
// at once, the last one after holdBack — and returns the verified reply.
func (h *harness) rawExchange(rr rawRequest, holdBack time.Duration) reply {
	h.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(holdBack + 30*time.Second))
	last := len(rr.body) - 1
	if _, err := conn.Write(append([]byte(rr.head), rr.body[:last]...)); err != nil {
		h.t.Fatal(err)
	}
	time.Sleep(holdBack)
	if _, err := conn.Write(rr.body[last:]); err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		h.t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	var raw strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&raw); err != nil {
		h.t.Fatal(err)
	}
	return h.verify(rr.r, resp, []byte(raw.String()))
}
