package http

// Live wallet: the change feed API and the Server-Sent Events stream.

import (
	"context"
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
func (wl *Wallet) serveEvents(w http.ResponseWriter, r *http.Request) {
	user, ok := wl.holder(w, r)
	if !ok {
		return
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
	// ordinary requests.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	var wake <-chan struct{}
	if wl.Notifier != nil {
		var stop func()
		// Subscribe before the first read: a change committed in between
		// then wakes us instead of being missed.
		wake, stop = wl.Notifier.SubscribeHolder(user)
		defer stop()
	}
	ctx := r.Context()
	all, err := wl.changes(ctx, user, 0)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	passes := map[string]*ipass.Pass{} // the holder's passes, for the expiry timer
	for _, p := range all.Passes {
		passes[p.ID] = p
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", sseRetry.Milliseconds()); err != nil {
		return
	}
	cursor := since
	send := func(hc *ipass.HolderChanges) error {
		b, err := ipass.MarshalJSON(newFeed(hc, wl.now()))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", hc.Cursor, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	catchUp := func() error {
		hc, err := wl.changes(ctx, user, cursor)
		if err != nil {
			return err
		}
		if hc.Cursor == cursor {
			return nil
		}
		if hc.Cursor < cursor {
			// A cursor from the future (another database?): start over.
			if hc, err = wl.changes(ctx, user, 0); err != nil {
				return err
			}
		}
		for _, p := range hc.Passes {
			passes[p.ID] = p
		}
		for _, id := range hc.Gone {
			delete(passes, id)
		}
		cursor = hc.Cursor
		return send(hc)
	}
	if since != 0 || r.Header.Get("Last-Event-ID") != "" {
		if err := catchUp(); err != nil {
			wl.logger().Warn("wallet stream", "err", err)
			return
		}
	} else {
		cursor = all.Cursor
	}
	if err := rc.Flush(); err != nil {
		return
	}

	keepalive := time.NewTicker(sseKeepalive)
	defer keepalive.Stop()
	expiry := time.NewTimer(time.Hour)
	defer expiry.Stop()
	for {
		list := make([]*ipass.Pass, 0, len(passes))
		for _, p := range passes {
			list = append(list, p)
		}
		now := wl.now()
		next, ok := wallet.NextChange(list, now)
		var expiryC <-chan time.Time
		if ok {
			expiry.Reset(max(next.Sub(now), 0))
			expiryC = expiry.C
		}
		select {
		case <-ctx.Done():
			return
		case <-wl.done:
			return
		case <-wake:
			err = catchUp()
		case <-keepalive.C:
			if _, err = fmt.Fprint(w, ": keepalive\n\n"); err == nil {
				err = catchUp()
			}
		case <-expiryC:
			// Nothing was written: tell the page its passes moved, with
			// the passes that expired, under the unchanged cursor.
			hc := &ipass.HolderChanges{Cursor: cursor}
			at := wl.now()
			for _, p := range list {
				if p.Status == ipass.StatusActive && p.EffectiveStatus(at) == ipass.StatusExpired && p.EndDate < next.UnixMilli()+1000 {
					hc.Passes = append(hc.Passes, p)
				}
			}
			err = send(hc)
		}
		if err != nil {
			if ctx.Err() == nil {
				wl.logger().Debug("wallet stream ended", "err", err)
			}
			return
		}
	}
}

// changes reads the change feed, sharing reads among concurrent callers
// asking the same question: a change wakes every open page of a holder at
// once, and they would otherwise each run the same query. A caller only ever
// shares a read that starts after it asked (a read already running may
// predate the change that woke it), so at most two reads per key run for a
// wave of callers. Results are shared: callers must not modify them.
func (wl *Wallet) changes(ctx context.Context, user string, since int64) (*ipass.HolderChanges, error) {
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
	f.res, f.err = wl.Store.HolderChanges(ctx, k.user, k.since)
	cancel()
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
	res  *ipass.HolderChanges
	err  error
}
