package http_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestConnectionCap: the server never holds more than MaxConnections
// connections; when full, idle keep-alive connections are closed to make
// room for a new client, while connections carrying a request are not.
func TestConnectionCap(t *testing.T) {
	const capacity = 4
	db := sqlstoretest.OpenSQLite(t)
	signer := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-rsa-sign.key.pem"))
	srv := &ipasshttp.Server{
		Service: &service.Service{Tenants: db, Passes: db}, Tenants: db, Pinger: db,
		Keys: ipasshttp.ServerKeys{RSASigner: signer, KeyVersion: 1}, MaxConnections: capacity,
	}
	hs := srv.HTTPServer()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := ln.Addr().String()

	// Fill the cap with idle keep-alive connections.
	var idle []net.Conn
	for range capacity {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		idle = append(idle, c)
	}
	// A new client still gets its answer: an idle one makes room.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	start := time.Now()
	resp, err := probe.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("a new client with the cap full of idle connections: %v", err)
	}
	resp.Body.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("the new client waited %s", d)
	}
	closed := 0
	for _, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed == 0 {
		t.Error("no idle connection was closed to make room")
	}

	// Connections whose request is being handled are not closed: with the
	// cap full of them, a new client waits until one finishes. (A request
	// whose headers are still arriving counts as not begun: under pressure
	// it is closed after a second, as a slow-loris client should be.)
	var busy []net.Conn
	for range capacity {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// The handler is reading a body that has not all arrived.
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{", ipasshttp.PathQueryPass)
		busy = append(busy, c)
	}
	time.Sleep(200 * time.Millisecond)
	waited := make(chan error, 1)
	go func() {
		resp, err := probe.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("a fifth connection was served while four requests were in progress (%v)", err)
	case <-time.After(1500 * time.Millisecond):
	}
	fmt.Fprintf(busy[0], "}        ") // one request completes; its connection goes idle
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("the waiting client: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the waiting client was not served after a request finished")
	}
	for _, c := range busy[1:] {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			t.Error("a connection in the middle of a request was closed")
		}
	}
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.most > capacity {
		t.Errorf("up to %d connections open at once, cap %d", ln.most, capacity)
	}
}

// countingListener counts the connections it accepted that are not closed
// yet, and the most at once.
type countingListener struct {
	net.Listener
	mu         sync.Mutex
	open, most int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.most = max(l.most, l.open)
	l.mu.Unlock()
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
