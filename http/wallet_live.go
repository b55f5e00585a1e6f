package http

// Live wallet: the change feed API and the Server-Sent Events stream.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/wallet"
)

// feed is the JSON of the change feed and of every event: the holder's
// changed passes that the wallet shows (queryPass view format), the passes
// that left the wallet (not shown, or no longer the holder's) and the cursor
// to ask from next time.
type feed struct {
	Passes  []*ipass.PassView `json:"passes"`
	Removed []string          `json:"removed"`
	Cursor  string            `json:"cursor"`
}

func newFeed(hc *ipass.HolderChanges, now time.Time) *feed {
	f := &feed{Passes: []*ipass.PassView{}, Removed: append([]string{}, hc.Gone...), Cursor: strconv.FormatInt(hc.Cursor, 10)}
	for _, p := range hc.Passes {
		if _, shown := wallet.Place(p, now); shown {
			f.Passes = append(f.Passes, ipass.NewPassView(p, "", now))
		} else {
			f.Removed = append(f.Removed, p.ID)
		}
	}
	return f
}

// parseCursor reads a cursor ("" = from the start).
func parseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a cursor (a non-negative integer from an earlier answer)", s)
	}
	return n, nil
}

func (wl *Wallet) serveFeed(w http.ResponseWriter, r *http.Request) {
	user, ok := wl.holder(w, r)
	if !ok {
		return
	}
	since, err := parseCursor(r.URL.Query().Get("since"))
	if err != nil {
		writeWalletJSON(w, http.StatusBadRequest, map[string]string{"error": "since: " + err.Error()})
		return
	}
	hc, err := wl.changes(r.Context(), user, since)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	writeWalletJSON(w, http.StatusOK, newFeed(hc, wl.now()))
}

func writeWalletJSON(w http.ResponseWriter, status int, v any) {
	b, err := ipass.MarshalJSON(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// serveEvents streams the holder's changes. The stream starts after the
// Last-Event-ID header (a reconnect) or the since parameter (the cursor the
// page was rendered at), and first replays whatever committed after it; then
// it sends an event per change as the change feed shows it, and one when an
// ACTIVE pass reaches its endDate (expiry needs no write). Each event's id is
// the holder's cursor.
//
// A stream is bounded (wallet_limits.go): it is admitted only under the
// caps, it ends when its link expires or the wallet secret is rotated (by
// any process), and nothing is sent after either; what it keeps between
// events does not grow with the wallet (a cursor and the next expiry time).
func (wl *Wallet) serveEvents(w http.ResponseWriter, r *http.Request) {
	wl.once.Do(wl.init)
	ip := peerIP(r)
	if !wl.gate.roomFor(ip) {
		wl.tooManyStreams(w)
		return
	}
	claims, ok := wl.claims(w, r)
	if !ok {
		return
	}
	release, ok := wl.gate.admit(ip, claims.UserID)
	if !ok {
		wl.tooManyStreams(w)
		return
	}
	defer release()
	wl.watchStart.Do(func() { go wl.watchSecret() })
	user, token := claims.UserID, r.PathValue("token")
	// valid: the link still opens this wallet under secret (nil: the
	// revocation check has not read one yet, nothing to compare).
	valid := func(secret []byte) bool {
		if secret == nil {
			return true
		}
		c, err := wallet.ParseTokenClaims(secret, token, wl.now())
		return err == nil && c.UserID == user
	}

	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		from = r.URL.Query().Get("since")
	}
	since, err := parseCursor(from)
	if err != nil {
		http.Error(w, "Last-Event-ID / since: "+err.Error(), http.StatusBadRequest)
		return
	}
	// A stream outlives the server's read and write timeouts, which exist for
	// ordinary requests; each write below gets a deadline of its own.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	write := func(format string, args ...any) error {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}

	var wake <-chan struct{}
	if wl.Notifier != nil {
		var stop func()
		// Subscribe before the first read: a change committed in between
		// then wakes us instead of being missed.
		wake, stop = wl.Notifier.SubscribeHolder(user)
		defer stop()
	}
	_, revoked := wl.secrets.current()
	ctx := r.Context()
	all, err := wl.read(ctx, user, 0)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	if !valid(all.secret) {
		wl.notFound(w, r)
		return
	}
	// Only the next expiry is kept, not the passes: a stream's memory must
	// not grow with the wallet. A change can only bring it forward; a
	// passed expiry re-reads the wallet (shared with the holder's other
	// streams) and computes it again.
	checked := wl.now()
	next, hasNext := wallet.NextChange(all.hc.Passes, checked)
	cursor := all.hc.Cursor
	all = nil

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := write("retry: %d\n\n", sseRetry.Milliseconds()); err != nil {
		return
	}
	errRevoked := errors.New("the link was revoked or expired")
	send := func(hc *ipass.HolderChanges) error {
		b, err := ipass.MarshalJSON(newFeed(hc, wl.now()))
		if err != nil {
			return err
		}
		return write("id: %d\ndata: %s\n\n", hc.Cursor, b)
	}
	catchUp := func() error {
		res, err := wl.read(ctx, user, cursor)
		if err != nil {
			return err
		}
		// The secret was read after the changes: a change committed after
		// a rotation is never sent on a link the rotation revoked.
		if !valid(res.secret) {
			return errRevoked
		}
		hc := res.hc
		if hc.Cursor == cursor {
			return nil
		}
		if hc.Cursor < cursor {
			// A cursor from the future (another database, or one handed out
			// before the per-holder cursors): start over.
			if res, err = wl.read(ctx, user, 0); err != nil {
				return err
			}
			if !valid(res.secret) {
				return errRevoked
			}
			hc = res.hc
		}
		if n, ok := wallet.NextChange(hc.Passes, wl.now()); ok && (!hasNext || n.Before(next)) {
			next, hasNext = n, true
		}
		cursor = hc.Cursor
		return send(hc)
	}
	expired := func() error {
		res, err := wl.read(ctx, user, 0)
		if err != nil {
			return err
		}
		if !valid(res.secret) {
			return errRevoked
		}
		// Nothing was written: tell the page its passes moved, with the
		// passes that expired since the last look, under the unchanged cursor.
		at := wl.now()
		hc := &ipass.HolderChanges{Cursor: cursor}
		for _, p := range res.hc.Passes {
			if p.Status == ipass.StatusActive && p.EffectiveStatus(at) == ipass.StatusExpired && p.EndDate >= checked.UnixMilli() {
				hc.Passes = append(hc.Passes, p)
			}
		}
		checked = at
		next, hasNext = wallet.NextChange(res.hc.Passes, at)
		if len(hc.Passes) == 0 {
			return nil
		}
		return send(hc)
	}
	if since != 0 || r.Header.Get("Last-Event-ID") != "" {
		cursor = since
		if err := catchUp(); err != nil {
			wl.streamEnded(ctx, err)
			return
		}
	}

	keepalive := time.NewTicker(wl.keepAlive())
	defer keepalive.Stop()
	linkExpires := time.NewTimer(time.Until(claims.Expires))
	defer linkExpires.Stop()
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	for {
		var expiryC <-chan time.Time
		if hasNext {
			expiry.Reset(max(time.Until(next), 0))
			expiryC = expiry.C
		}
		select {
		case <-ctx.Done():
			return
		case <-wl.done:
			return
		case <-linkExpires.C:
			return
		case <-revoked:
			var secret []byte
			secret, revoked = wl.secrets.current()
			if !valid(secret) {
				err = errRevoked
			}
		case <-wake:
			err = catchUp()
		case <-keepalive.C:
			if err = write(": keepalive\n\n"); err == nil {
				err = catchUp()
			}
		case <-expiryC:
			err = expired()
		}
		if err != nil {
			wl.streamEnded(ctx, err)
			return
		}
	}
}

func (wl *Wallet) streamEnded(ctx context.Context, err error) {
	if ctx.Err() == nil {
		wl.logger().Debug("wallet stream ended", "err", err)
	}
}

// changes reads the change feed, sharing reads among concurrent callers
// asking the same question: a change wakes every open page of a holder at
// once, and they would otherwise each run the same query. A caller only ever
// shares a read that starts after it asked (a read already running may
// predate the change that woke it), so at most two reads per key run for a
// wave of callers. Results are shared: callers must not modify them.
func (wl *Wallet) changes(ctx context.Context, user string, since int64) (*ipass.HolderChanges, error) {
	res, err := wl.read(ctx, user, since)
	if err != nil {
		return nil, err
	}
	return res.hc, nil
}

// feedRead is one shared read: the change feed, then the wallet secret (read
// after it, so a stream can tell whether its link was revoked before the
// changes it is about to send).
type feedRead struct {
	hc     *ipass.HolderChanges
	secret []byte
}

// read is [Wallet.changes] with the secret read after the feed.
func (wl *Wallet) read(ctx context.Context, user string, since int64) (*feedRead, error) {
	wl.once.Do(wl.init)
	k := flightKey{user, since}
	wl.flightMu.Lock()
	g := wl.flights[k]
	if g == nil {
		g = &flightGroup{}
		wl.flights[k] = g
	}
	var f *flight
	lead := false
	switch {
	case g.running == nil:
		f, lead = &flight{done: make(chan struct{})}, true
		g.running = f
	case g.next == nil:
		f = &flight{done: make(chan struct{})}
		g.next = f // run by the current read when it finishes
	default:
		f = g.next
	}
	wl.flightMu.Unlock()
	if lead {
		wl.runFlight(k, g, f)
	}
	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runFlight runs f, then the read queued behind it, if any.
func (wl *Wallet) runFlight(k flightKey, g *flightGroup, f *flight) {
	// Detached from any one caller's context: others wait on this read.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	hc, err := wl.Store.HolderChanges(ctx, k.user, k.since)
	var secret []byte
	if err == nil {
		secret, err = wl.Store.WalletSecret(ctx)
	}
	cancel()
	if err == nil {
		f.res = &feedRead{hc: hc, secret: secret}
	}
	f.err = err
	wl.flightMu.Lock()
	next := g.next
	g.running, g.next = next, nil
	if next == nil {
		delete(wl.flights, k)
	}
	wl.flightMu.Unlock()
	close(f.done)
	if next != nil {
		go wl.runFlight(k, g, next)
	}
}

type flightKey struct {
	user  string
	since int64
}

// flightGroup is the read running for a key and the one queued behind it.
type flightGroup struct{ running, next *flight }

type flight struct {
	done chan struct{}
	res  *feedRead
	err  error
}
