package http

// The connection cap (docs/operating.md "Limits"): however many connections
// arrive, the process holds at most MaxConnections of them, below its
// descriptor limit, so it can always open its database and answer. When the
// cap is reached, connections that carry no request (idle keep-alives, and
// new ones that have sent nothing for a second) are closed to make room;
// the rest wait in the kernel's accept queue. Wallet event streams, the only
// long-lived requests, are capped well below it (Wallet.MaxStreams), so the
// merchant API and the probes always find room.

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connTable is every open connection of the server and its state, as
// net/http reports it through ConnState.
type connTable struct {
	mu    sync.Mutex
	conns map[net.Conn]connEntry
}

type connEntry struct {
	state http.ConnState
	since time.Time
}

func newConnTable() *connTable { return &connTable{conns: map[net.Conn]connEntry{}} }

func (t *connTable) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = connEntry{state, time.Now()}
	}
}

// closeUnused closes the connections that have not begun a request. Shutdown
// counts such a connection as busy until it is 5 s old (net/http, so that a
// request about to arrive is not cut off), which makes a stop with nothing in
// flight wait for a client's spare keep-alive dial. By the time Shutdown
// runs, /readyz has answered 503 for the drain delay, so they are closed at
// once: they carry no work, and a client whose request was about to arrive
// sees the connection closed before anything was executed.
func (t *connTable) closeUnused() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, e := range t.conns {
		if e.state == http.StateNew {
			_ = c.Close()
			delete(t.conns, c)
		}
	}
}

// newConnGrace is how long a new connection may stay silent before the
// cap may close it to make room: a client that just connected is about to
// send its request.
const newConnGrace = time.Second

// evictIdle closes idle keep-alive connections and new ones silent for
// newConnGrace; it returns how many it closed.
func (t *connTable) evictIdle() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	now := time.Now()
	for c, e := range t.conns {
		if e.state == http.StateIdle || (e.state == http.StateNew && now.Sub(e.since) >= newConnGrace) {
			_ = c.Close()
			delete(t.conns, c)
			n++
		}
	}
	return n
}

// limitListener accepts at most max connections at a time.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	conns  *connTable
	closed chan struct{}
	once   sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		// Full: make room from connections that carry no request, then
		// wait for one to close (a request finishing, an eviction taking
		// effect). Retrying the eviction covers connections that went idle
		// while waiting.
		for done := false; !done; {
			l.conns.evictIdle()
			select {
			case l.slots <- struct{}{}:
				done = true
			case <-l.closed:
				return nil, net.ErrClosed
			case <-time.After(newConnGrace / 4):
			}
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Listener returns ln limited to MaxConnections open connections (ln
// itself when it is 0). Serve the [Server.HTTPServer] on it: the cap makes
// room by closing that server's idle connections.
func (s *Server) Listener(ln net.Listener) net.Listener {
	if s.MaxConnections <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, s.MaxConnections), conns: s.connTable(), closed: make(chan struct{})}
}

func (s *Server) connTable() *connTable {
	s.connsOnce.Do(func() { s.conns = newConnTable() })
	return s.conns
}
