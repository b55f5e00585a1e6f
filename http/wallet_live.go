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

func newFeed(hc *ipass.HolderChanges, v wallet.View) *feed {
	f := &feed{Passes: []*ipass.PassView{}, Removed: append([]string{}, hc.Gone...), Cursor: strconv.FormatInt(hc.Cursor, 10)}
	for _, p := range hc.Passes {
		if _, shown := wallet.Place(p, v.At(p)); shown {
			f.Passes = append(f.Passes, ipass.NewPassView(p, "", v.At(p)))
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
	writeWalletJSON(w, http.StatusOK, newFeed(hc, wl.view(r.Context(), "")))
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
	// A link whose holder has all their streams is refused without a
	// database read when the last secret seen still opens it: a flood on one
	// link costs an HMAC per attempt, not a query.
	if secret, _ := wl.secrets.current(); secret != nil {
		if c, err := wallet.ParseTokenClaims(secret, r.PathValue("token"), wl.now()); err == nil && wl.gate.holderFull(c.UserID) {
			wl.tooManyStreams(w)
			return
		}
	}
	claims, ok := wl.claims(w, r)
	if !ok {
		return
	}
	from := r.Header.Get("Last-Event-ID")
	replay := from != ""
	if from == "" {
		from = r.URL.Query().Get("since")
	}
	since, err := parseCursor(from)
	if err != nil {
		http.Error(w, "Last-Event-ID / since: "+err.Error(), http.StatusBadRequest)
		return
	}
	release, ok := wl.gate.admit(ip, claims.UserID)
	if !ok {
		wl.tooManyStreams(w)
		return
	}
	wl.watchStart.Do(func() { go wl.watchSecret() })
	st := &stream{wl: wl, user: claims.UserID, token: r.PathValue("token"), linkExpires: claims.Expires, release: release}
	if wl.Notifier != nil {
		// Subscribe before the first read: a change committed in between
		// then wakes us instead of being missed.
		st.wake, st.stopWake = wl.Notifier.SubscribeHolder(st.user)
	}
	_, st.revoked = wl.secrets.current()
	all, err := wl.read(r.Context(), st.user, 0)
	if err == nil && !st.valid(all.secret) {
		st.end()
		wl.notFound(w, r)
		return
	}
	if err != nil {
		st.end()
		wl.internal(w, r, err)
		return
	}
	// Only the next expiry is kept, not the passes: a stream's memory must
	// not grow with the wallet. A change can only bring it forward; a
	// passed expiry re-reads the wallet (shared with the holder's other
	// streams) and computes it again.
	st.clockMoved = wl.clockChanged()
	st.checked = wl.now()
	st.next, st.hasNext = wallet.NextChangeOffset(all.hc.Passes, st.checked, wl.clockOffsets(r.Context()))
	st.cursor = all.hc.Cursor
	if since != 0 || replay {
		st.cursor, st.catchUpFirst = since, true
	}
	all = nil

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	out, ctx, detached := openSink(w, r)
	st.out = out
	if detached {
		// The connection is the stream's now: the handler returns, and
		// net/http lets go of its buffers for this connection.
		go st.run(ctx)
		return
	}
	st.run(ctx)
}

// stream is one open event stream: what it keeps between events.
type stream struct {
	wl          *Wallet
	user, token string
	linkExpires time.Time
	release     func()
	out         *sink

	wake         <-chan struct{}
	stopWake     func()
	revoked      <-chan struct{}
	clockMoved   <-chan struct{} // a sandbox's merchant clocks moved
	cursor       int64
	catchUpFirst bool
	next         time.Time // the next expiry among the holder's passes
	hasNext      bool
	checked      time.Time // expiries before this were sent already
}

var errRevoked = errors.New("the link was revoked or expired")

// valid: the link still opens this wallet under secret (nil: the revocation
// check has not read one yet, nothing to compare).
func (st *stream) valid(secret []byte) bool {
	if secret == nil {
		return true
	}
	c, err := wallet.ParseTokenClaims(secret, st.token, st.wl.now())
	return err == nil && c.UserID == st.user
}

// end gives back what the stream holds.
func (st *stream) end() {
	if st.stopWake != nil {
		st.stopWake()
	}
	if st.out != nil {
		st.out.close()
	}
	st.release()
}

func (st *stream) write(format string, args ...any) error {
	return st.out.write(fmt.Appendf(nil, format, args...))
}

func (st *stream) send(hc *ipass.HolderChanges) error {
	b, err := ipass.MarshalJSON(newFeed(hc, st.wl.view(context.Background(), "")))
	if err != nil {
		return err
	}
	return st.write("id: %d\ndata: %s\n\n", hc.Cursor, b)
}

// catchUp sends what changed after the stream's cursor.
func (st *stream) catchUp(ctx context.Context) error {
	res, err := st.wl.read(ctx, st.user, st.cursor)
	if err != nil {
		return err
	}
	// The secret was read after the changes: a change committed after a
	// rotation is never sent on a link the rotation revoked.
	if !st.valid(res.secret) {
		return errRevoked
	}
	hc := res.hc
	if hc.Cursor == st.cursor {
		return nil
	}
	if hc.Cursor < st.cursor {
		// A cursor from the future (another database, or one handed out
		// before the per-holder cursors): start over.
		if res, err = st.wl.read(ctx, st.user, 0); err != nil {
			return err
		}
		if !st.valid(res.secret) {
			return errRevoked
		}
		hc = res.hc
	}
	if n, ok := wallet.NextChangeOffset(hc.Passes, st.wl.now(), st.wl.clockOffsets(ctx)); ok && (!st.hasNext || n.Before(st.next)) {
		st.next, st.hasNext = n, true
	}
	st.cursor = hc.Cursor
	return st.send(hc)
}

// expired tells the page which passes expired since the last look. Nothing
// was written, so they go out under the unchanged cursor. A sandbox's moved
// clock (resync) sends every pass again, since any of them may have moved.
func (st *stream) expired(ctx context.Context, resync bool) error {
	res, err := st.wl.read(ctx, st.user, 0)
	if err != nil {
		return err
	}
	if !st.valid(res.secret) {
		return errRevoked
	}
	v := st.wl.view(ctx, "")
	hc := &ipass.HolderChanges{Cursor: st.cursor}
	for _, p := range res.hc.Passes {
		off := v.Offsets[p.MerchantID]
		if resync || p.Status == ipass.StatusActive && p.EffectiveStatus(v.At(p)) == ipass.StatusExpired && p.EndDate >= st.checked.Add(off).UnixMilli() {
			hc.Passes = append(hc.Passes, p)
		}
	}
	st.checked = v.Now
	st.next, st.hasNext = wallet.NextChangeOffset(res.hc.Passes, v.Now, v.Offsets)
	if len(hc.Passes) == 0 {
		return nil
	}
	return st.send(hc)
}

// run writes the stream until the client leaves, the server stops, the
// link expires or is revoked, or a write fails.
func (st *stream) run(ctx context.Context) {
	defer st.end()
	wl := st.wl
	if err := st.write("retry: %d\n\n", sseRetry.Milliseconds()); err != nil {
		return
	}
	if st.catchUpFirst {
		if err := st.catchUp(ctx); err != nil {
			wl.streamEnded(ctx, err)
			return
		}
	}
	keepalive := time.NewTicker(wl.keepAlive())
	defer keepalive.Stop()
	linkExpires := time.NewTimer(time.Until(st.linkExpires))
	defer linkExpires.Stop()
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	for {
		var expiryC <-chan time.Time
		if st.hasNext {
			expiry.Reset(max(time.Until(st.next), 0))
			expiryC = expiry.C
		}
		var err error
		select {
		case <-ctx.Done():
			return
		case <-wl.done:
			return
		case <-linkExpires.C:
			return
		case <-st.revoked:
			var secret []byte
			secret, st.revoked = wl.secrets.current()
			if !st.valid(secret) {
				err = errRevoked
			}
		case <-st.wake:
			err = st.catchUp(ctx)
		case <-keepalive.C:
			if err = st.write(": keepalive\n\n"); err == nil {
				err = st.catchUp(ctx)
			}
		case <-expiryC:
			err = st.expired(ctx, false)
		case <-st.clockMoved:
			st.clockMoved = wl.clockChanged()
			err = st.expired(ctx, true)
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
		// In a goroutine of its own: the database driver's deep stack then
		// never grows the stack of a long-lived stream's goroutine.
		go wl.runFlight(k, g, f)
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
