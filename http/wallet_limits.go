package http

// What a leaked wallet link can hold (docs/wallet.md "Limits"): the number of
// open event streams, per holder, per client address and in all, and how
// long a revoked or expired link keeps one open.

import (
	"bytes"
	"context"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of the stream limits; a Wallet field left at 0 takes these.
const (
	// DefaultMaxStreams bounds the open event streams of the whole process.
	// [Server.Listener] lowers it further to a share of the connection cap.
	DefaultMaxStreams = 1000
	// DefaultMaxStreamsPerIP bounds the streams from one client address: a
	// household or an office behind one address opens a few pages each.
	DefaultMaxStreamsPerIP = 50
	// DefaultMaxStreamsPerHolder bounds one holder's streams, over every link
	// of theirs: a phone and a laptop with a few tabs each.
	DefaultMaxStreamsPerHolder = 10
	// DefaultStreamKeepAlive is how often an idle stream gets a comment, so
	// proxies with an idle timeout keep it open.
	DefaultStreamKeepAlive = 15 * time.Second
	// DefaultRevocationCheck is how often open streams look for a rotated
	// wallet secret: a rotation by any process ends them within about this.
	DefaultRevocationCheck = time.Second
	// streamRetryAfter is what a refused stream is told to wait, in seconds.
	streamRetryAfter = 30
	// streamWriteTimeout bounds one write to a stream: a client that stops
	// reading loses its stream instead of holding it forever.
	streamWriteTimeout = 10 * time.Second
)

// streamGate counts open streams and refuses one over a cap. A refused
// stream has taken nothing: the count is only raised for an admitted one.
type streamGate struct {
	maxTotal, maxPerIP, maxPerHolder int

	mu       sync.Mutex
	total    int
	byIP     map[string]int
	byHolder map[string]int
}

// roomFor reports whether a stream from ip could be admitted now, before
// the link is read: a flood over the cap costs no database read.
func (g *streamGate) roomFor(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total < g.maxTotal && g.byIP[ip] < g.maxPerIP
}

// holderFull reports whether holder has every stream it may have.
func (g *streamGate) holderFull(holder string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byHolder[holder] >= g.maxPerHolder
}

// admit takes a place for a stream of holder from ip, or reports false.
func (g *streamGate) admit(ip, holder string) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.total >= g.maxTotal || g.byIP[ip] >= g.maxPerIP || g.byHolder[holder] >= g.maxPerHolder {
		return nil, false
	}
	g.total++
	g.byIP[ip]++
	g.byHolder[holder]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.total--
			decr(g.byIP, ip)
			decr(g.byHolder, holder)
		})
	}, true
}

func (g *streamGate) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// decr lowers m[k], dropping the key at zero so the maps stay as large as
// the set of open streams.
func decr(m map[string]int, k string) {
	if m[k] <= 1 {
		delete(m, k)
	} else {
		m[k]--
	}
}

// peerIP is the client address of r: the connection's peer (a proxy in
// front of ipass shows as one address; see docs/wallet.md).
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// tooManyStreams refuses a stream. The connection closes with the answer: a
// refused stream keeps nothing open, not even an idle keep-alive.
func (wl *Wallet) tooManyStreams(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", strconv.Itoa(streamRetryAfter))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte("too many open wallet streams; try again later\n"))
}

// secretWatch is the wallet secret as last read by the revocation check,
// and a channel closed when a different one is read. Streams wait on the
// channel; each then checks its own link against the new secret.
type secretWatch struct {
	mu      sync.Mutex
	secret  []byte
	changed chan struct{}
}

// current returns the secret last read (nil before the first check) and the
// channel that is closed when it changes.
func (sw *secretWatch) current() ([]byte, <-chan struct{}) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.secret, sw.changed
}

func (sw *secretWatch) set(secret []byte) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !bytes.Equal(secret, sw.secret) {
		sw.secret = secret
		close(sw.changed)
		sw.changed = make(chan struct{})
	}
}

// watchSecret reads the stored secret every RevocationCheck while streams
// are open, until Shutdown. A rotation is a database write, so this finds it
// whichever process or node made it; the store's own notification channel
// is not needed.
func (wl *Wallet) watchSecret() {
	t := time.NewTicker(wl.revocationCheck())
	defer t.Stop()
	for {
		select {
		case <-wl.done:
			return
		case <-t.C:
		}
		if wl.gate.open() == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), wl.revocationCheck()+5*time.Second)
		secret, err := wl.Store.WalletSecret(ctx)
		cancel()
		if err != nil {
			wl.logger().Warn("wallet: revocation check could not read the secret", "err", err)
			continue
		}
		wl.secrets.set(secret)
		// A sandbox's moved merchant clocks reach open streams the same way.
		wl.clockOffsets(context.Background())
	}
}

func (wl *Wallet) revocationCheck() time.Duration {
	return orDefault(wl.RevocationCheck, DefaultRevocationCheck)
}

func (wl *Wallet) keepAlive() time.Duration {
	return orDefault(wl.KeepAlive, DefaultStreamKeepAlive)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// sink is where a stream's bytes go: each write is sent at once, with a
// deadline of its own (a stream outlives the server's read and write
// timeouts, which exist for ordinary requests).
type sink struct {
	write func([]byte) error
	close func()
}

// openSink sends the stream's status and headers (those set on w) and
// returns its sink and a context that ends when the client goes away;
// detached says the stream may (and should) outlive the handler.
//
// On HTTP/1 the connection is taken over from net/http: a stream then holds
// one goroutine, a small read goroutine and no buffers, instead of net/http's
// per-connection reader and writer buffers, its background reader and the
// chunked encoder (about three times the memory per stream). The body ends
// when the connection closes, as HTTP/1 allows. Elsewhere (HTTP/2) the
// ResponseWriter serves.
func openSink(w http.ResponseWriter, r *http.Request) (out *sink, ctx context.Context, detached bool) {
	rc := http.NewResponseController(w)
	if r.ProtoMajor == 1 {
		if conn, _, err := rc.Hijack(); err == nil {
			out, ctx = hijackedSink(r.Context(), w.Header(), conn)
			return out, ctx, true
		}
	}
	_ = rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	return &sink{
		write: func(b []byte) error {
			_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err := w.Write(b); err != nil {
				return err
			}
			return rc.Flush()
		},
		close: func() {},
	}, r.Context(), false
}

func hijackedSink(parent context.Context, h http.Header, conn net.Conn) (*sink, context.Context) {
	// net/http cancels the request's context when the handler returns.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	_ = conn.SetDeadline(time.Time{})
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	_ = h.Write(&head)
	head.WriteString("\r\n")
	out := &sink{
		write: func(b []byte) error {
			_ = conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			_, err := conn.Write(b)
			return err
		},
		close: func() {
			cancel()
			_ = conn.Close()
		},
	}
	if err := out.write(head.Bytes()); err != nil {
		cancel()
	}
	// A client says nothing on a stream: its end, or anything it sends (a
	// request pipelined behind this one would never be answered), ends it.
	go func() {
		var b [1]byte
		_, _ = conn.Read(b[:])
		cancel()
	}()
	return out, ctx
}

// clockWatch is a sandbox's merchant clocks as last read (at most once per
// clockRefresh), and a channel closed when they change: a moved clock moves
// passes between tabs without any write, so open streams must hear of it.
type clockWatch struct {
	mu      sync.Mutex
	offsets map[string]time.Duration
	readAt  time.Time
	changed chan struct{}
}

// clockRefresh is how long merchant clock offsets read are trusted.
const clockRefresh = time.Second

// clockOffsets returns the merchants' clock offsets (nil without Clocks).
func (wl *Wallet) clockOffsets(ctx context.Context) map[string]time.Duration {
	wl.once.Do(wl.init)
	if wl.Clocks == nil {
		return nil
	}
	cw := &wl.clocks
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if !cw.readAt.IsZero() && time.Since(cw.readAt) < clockRefresh {
		return cw.offsets
	}
	offsets, err := wl.Clocks.ClockOffsets(ctx)
	if err != nil {
		wl.logger().Warn("wallet: could not read the merchants' clocks", "err", err)
		return cw.offsets
	}
	if !cw.readAt.IsZero() && !maps.Equal(offsets, cw.offsets) {
		close(cw.changed)
		cw.changed = make(chan struct{})
	}
	cw.offsets, cw.readAt = offsets, time.Now()
	return offsets
}

// clockChanged is closed when a later read finds the clocks moved.
func (wl *Wallet) clockChanged() <-chan struct{} {
	wl.once.Do(wl.init)
	wl.clocks.mu.Lock()
	defer wl.clocks.mu.Unlock()
	return wl.clocks.changed
}
