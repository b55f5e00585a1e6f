package http_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestEveryHandledRequestIsSigned: request lines that net/http passes to a
// handler but that no client library sends (OPTIONS *, CONNECT, an
// absolute-form target) still get a signed result from the production
// *http.Server (issue 8, break 5). What net/http refuses before any handler
// runs is listed in SECURITY.md as a known limit.
func TestEveryHandledRequestIsSigned(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := productionServer(h.srv, 5*time.Second)
			go func() { _ = hs.Serve(ln) }()
			t.Cleanup(func() { _ = hs.Close() })

			before := h.snapshot()
			for _, c := range []struct {
				name, method, target, path string
				want                       ipass.Code
			}{
				{"OPTIONS *", "OPTIONS", "*", "*", ipass.CodeNoInterfaceDef},
				{"OPTIONS on an endpoint", "OPTIONS", "/api/open/alipay/v1/ipass/pass/manage/queryPass", "/api/open/alipay/v1/ipass/pass/manage/queryPass", ipass.CodeMethodNotSupported},
				{"CONNECT", "CONNECT", "example.com:443", "", ipass.CodeNoInterfaceDef},
				{"absolute-form target", "POST", "http://example.com/api/open/alipay/v1/ipass/pass/manage/nope", "/api/open/alipay/v1/ipass/pass/manage/nope", ipass.CodeNoInterfaceDef},
			} {
				t.Run(c.name, func(t *testing.T) {
					h := h.in(t)
					conn, err := net.Dial("tcp", ln.Addr().String())
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
					if _, err := io.WriteString(conn, c.method+" "+c.target+" HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n"); err != nil {
						t.Fatal(err)
					}
					resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: c.method})
					if err != nil {
						t.Fatal(err)
					}
					raw, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						t.Fatal(err)
					}
					// verify fails the test unless Signature verifies over the
					// method and path as received.
					r := h.verify(req{method: c.method, path: c.path, header: http.Header{"Client-Id": nil}}, resp, raw)
					if r.code != c.want {
						t.Fatalf("got %s (%s), want %s", r.code, r.message, c.want)
					}
					if c.path != "" && !strings.Contains(r.message, c.path) && c.want == ipass.CodeNoInterfaceDef {
						t.Fatalf("message %q does not name the path", r.message)
					}
				})
			}
			if h.snapshot() != before {
				t.Fatal("hostile requests changed stored data")
			}
		})
	}
}
