package http_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestShutdownDoesNotWaitForUnusedConnections: a connection that never
// began a request (a client's spare keep-alive dial) holds no work, yet
// net/http's Shutdown counts it as busy until it is 5 s old. The server
// closes such connections when it shuts down, so a stop with nothing in
// flight is prompt: Shutdown returns within a 2 s deadline, and the unused
// connection sees EOF.
func TestShutdownDoesNotWaitForUnusedConnections(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	hs := h.srv.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	unused, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer unused.Close()
	// A used, idle keep-alive connection beside it, which Shutdown closes anyway.
	used, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer used.Close()
	if _, err := io.WriteString(used, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := used.Read(make([]byte, 4096)); err != nil {
		t.Fatalf("health check: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // the server has seen both connections

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with only an unused and an idle connection open: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	_ = unused.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := unused.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("unused connection after Shutdown: read %d bytes, %v; want EOF", n, err)
	}
}
