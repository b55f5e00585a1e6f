package http_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestSlowloris: 50 connections dribbling their headers do not keep a
// normal client waiting, and the server closes them at ReadHeaderTimeout.
func TestSlowloris(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { testSlowloris(t, open) })
	}
}

// productionServer is the *http.Server `ipass serve` runs, with
// ReadHeaderTimeout shortened so the test need not wait 10 s.
func productionServer(srv *ipasshttp.Server, readHeaderTimeout time.Duration) *http.Server {
	hs := srv.HTTPServer()
	hs.ReadHeaderTimeout = readHeaderTimeout
	hs.ErrorLog = log.New(io.Discard, "", 0)
	return hs
}

func testSlowloris(t *testing.T, open opener) {
	const (
		slowConns         = 50
		dribbleEvery      = 200 * time.Millisecond
		readHeaderTimeout = 3 * time.Second
		normalRequests    = 25
		answerWithin      = time.Second
	)
	h := newHarness(t, open(t))
	member := createMember(t, h)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := productionServer(h.srv, readHeaderTimeout)
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	h.url = "http://" + ln.Addr().String()

	// Everything below is bounded by this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), readHeaderTimeout+10*time.Second)
	defer cancel()

	type result struct {
		lived time.Duration // from connect until the server closed it
		err   error
	}
	results := make(chan result, slowConns)
	var connected sync.WaitGroup
	connected.Add(slowConns)
	closedAt := make(chan time.Time, slowConns)
	for range slowConns {
		go func() {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
			connected.Done()
			if err != nil {
				results <- result{err: err}
				return
			}
			defer conn.Close()
			start := time.Now()
			closed := make(chan struct{})
			go func() { // the server closing the connection ends this read
				_, _ = io.Copy(io.Discard, conn)
				close(closed)
			}()
			if _, err := io.WriteString(conn, "POST "+ipasshttp.PathQueryPass+" HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				results <- result{err: err}
				return
			}
			tick := time.NewTicker(dribbleEvery)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					closedAt <- time.Now()
					results <- result{lived: time.Since(start)}
					return
				case <-ctx.Done():
					results <- result{err: errors.New("still open at the test deadline")}
					return
				case <-tick.C:
					_, _ = conn.Write([]byte("a")) // fails once closed; the read reports that
				}
			}
		}()
	}
	connected.Wait()
	// Let every slow connection get its request line in.
	time.Sleep(dribbleEvery)

	query := `{"merchantId":"2160120036095023","passId":"` + member + `"}`
	began := time.Now()
	for i := range normalRequests {
		if ctx.Err() != nil {
			t.Fatal("test deadline reached")
		}
		start := time.Now()
		r := h.send(req{path: pathOf("queryPass"), body: query})
		if took := time.Since(start); took > answerWithin {
			t.Errorf("request %d took %v with %d slow connections open", i, took, slowConns)
		}
		h.must(r, ipass.CodeSuccess)
		time.Sleep(20 * time.Millisecond)
	}
	normalDone := time.Now()

	var lived []time.Duration
	for range slowConns {
		select {
		case r := <-results:
			if r.err != nil {
				t.Errorf("slow connection: %v", r.err)
				continue
			}
			lived = append(lived, r.lived)
		case <-ctx.Done():
			t.Fatal("slow connections not all done by the deadline")
		}
	}
	close(closedAt)
	first := time.Time{}
	for at := range closedAt {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	// The normal client was served while the slow ones were all still open.
	if !first.IsZero() && first.Before(normalDone) {
		t.Errorf("a slow connection closed %v after the normal requests began, before they were done (%v)", first.Sub(began), normalDone.Sub(began))
	}
	for _, d := range lived {
		// Closed by ReadHeaderTimeout: not before it, and not much after.
		if d < readHeaderTimeout-100*time.Millisecond || d > readHeaderTimeout+2*time.Second {
			t.Errorf("slow connection lived %v; want about ReadHeaderTimeout %v", d, readHeaderTimeout)
		}
	}
	t.Logf("%d normal requests in %v; %d slow connections closed by the server", normalRequests, normalDone.Sub(began), len(lived))
}
