package sqlstore

// The wallet's change feed and its wake-ups (docs/wallet.md "Live").
//
// Every pass write records (holder, pass, cursor) in pass_changes in its own
// transaction, the cursor taken from the holder's own counter; readers ask for the
// changes after the cursor they have. Notification only wakes readers: on
// PostgreSQL a NOTIFY sent in the same transaction reaches every node at
// commit, and a dedicated LISTEN connection turns it into wake-ups; in this
// process writers also wake local readers directly after commit. A lost
// notification delays a page until its next read; it never loses a change.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/jackc/pgx/v5/stdlib"
)

// walletChannel is the PostgreSQL NOTIFY channel; the payload is a userId.
const walletChannel = "ipass_wallet"

// walletSecretBytes is the size of the HMAC-SHA256 key of wallet links.
const walletSecretBytes = 32

var (
	_ ipass.WalletStore    = (*DB)(nil)
	_ ipass.ChangeNotifier = (*DB)(nil)
)

// recordChange enters the change of passID for each holder in userIDs (the
// pass's holder after the change, and before it if that differs) into the
// feed, inside the pass write's transaction tx.
func (db *DB) recordChange(ctx context.Context, tx *sql.Tx, passID string, userIDs ...string) error {
	q := db.q(tx, true) // prepared once on SQLite: this runs with every pass write
	// Sorted: two writes moving passes between the same holders take their
	// counters' row locks in one order, so they cannot deadlock.
	users := slices.Compact(slices.Sorted(slices.Values(userIDs)))
	for _, u := range users {
		if db.d.recordChange != "" {
			res, err := q.ExecContext(ctx, db.d.recordChange, u, passID)
			if err != nil {
				return fmt.Errorf("record change of pass %s: %w", passID, err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("record change of pass %s: %d rows entered (%v)", passID, n, err)
			}
			continue
		}
		// The holder's own counter, not a shared one: a cursor must tell a
		// holder nothing about other holders' writes. Its row lock is held
		// to commit, so one holder's cursors follow commit order on every node.
		var seq int64
		if err := q.QueryRowContext(ctx, `
			INSERT INTO holder_cursors (user_id, seq) VALUES ($1, 1)
			ON CONFLICT (user_id) DO UPDATE SET seq = holder_cursors.seq + 1
			RETURNING seq`, u).Scan(&seq); err != nil {
			return fmt.Errorf("record change of pass %s: next cursor: %w", passID, err)
		}
		if _, err := q.ExecContext(ctx, `
			INSERT INTO pass_changes (user_id, pass_id, seq) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, pass_id) DO UPDATE SET seq = excluded.seq`, u, passID, seq); err != nil {
			return fmt.Errorf("record change of pass %s: %w", passID, err)
		}
		if db.d.notify != "" {
			if _, err := q.ExecContext(ctx, db.d.notify, u); err != nil {
				return fmt.Errorf("record change of pass %s: notify: %w", passID, err)
			}
		}
	}
	return nil
}

// changed wakes this process's readers of userIDs; called after a commit.
func (db *DB) changed(userIDs ...string) {
	for _, u := range userIDs {
		db.hub.wake(u)
	}
}

// HolderChanges reads userID's change feed after since (see ipass.WalletStore).
func (db *DB) HolderChanges(ctx context.Context, userID string, since int64) (*ipass.HolderChanges, error) {
	var out *ipass.HolderChanges
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		out = &ipass.HolderChanges{}
		rows, err := tx.QueryContext(ctx, `
			SELECT pass_id, seq FROM pass_changes
			WHERE user_id = $1 AND seq > $2
			ORDER BY seq DESC`, userID, since)
		if err != nil {
			return fmt.Errorf("read change feed: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return fmt.Errorf("read change feed: %w", err)
			}
			ids = append(ids, id)
			out.Cursor = max(out.Cursor, seq)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("read change feed: %w", err)
		}
		if len(ids) == 0 {
			out.Cursor = since
			return nil
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+passColumns+` FROM passes
			WHERE id IN (SELECT pass_id FROM pass_changes WHERE user_id = $1 AND seq > $2)`, userID, since)
		if err != nil {
			return fmt.Errorf("read changed passes: %w", err)
		}
		byID := map[string]*ipass.Pass{}
		for rows.Next() {
			p, err := scanPass(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("read changed passes: %w", err)
			}
			byID[p.ID] = p
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("read changed passes: %w", err)
		}
		for _, id := range ids {
			if p := byID[id]; p != nil && p.UserID == userID {
				out.Passes = append(out.Passes, p)
			} else {
				out.Gone = append(out.Gone, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WalletSecret returns the wallet-link secret, creating it on first use.
// Concurrent first uses on several nodes agree: the INSERT does nothing when
// another one won, and everyone reads the stored row.
func (db *DB) WalletSecret(ctx context.Context) ([]byte, error) {
	secret, err := db.readWalletSecret(ctx)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return secret, err
	}
	fresh := make([]byte, walletSecretBytes)
	rand.Read(fresh)
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO wallet_secrets (id, secret, created_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO NOTHING`, fresh, now.UnixMilli())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create wallet secret: %w", err)
	}
	return db.readWalletSecret(ctx)
}

func (db *DB) readWalletSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := db.r.QueryRowContext(ctx, `SELECT secret FROM wallet_secrets WHERE id = 1`).Scan(&secret)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("read wallet secret: %w", err)
	}
	if len(secret) != walletSecretBytes {
		return nil, fmt.Errorf("read wallet secret: %d bytes stored, want %d", len(secret), walletSecretBytes)
	}
	return secret, nil
}

// RotateWalletSecret stores a new wallet-link secret; earlier links stop
// working on every node at once (each request reads the stored secret).
func (db *DB) RotateWalletSecret(ctx context.Context) error {
	fresh := make([]byte, walletSecretBytes)
	rand.Read(fresh)
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO wallet_secrets (id, secret, created_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
			fresh, now.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate wallet secret: %w", err)
	}
	return nil
}

// SubscribeHolder wakes the returned channel after changes to userID's
// passes commit (see ipass.ChangeNotifier). On PostgreSQL the first
// subscription starts the LISTEN connection.
func (db *DB) SubscribeHolder(userID string) (<-chan struct{}, func()) {
	if db.d.notify != "" {
		db.hub.listenOnce.Do(func() { go db.listen() })
	}
	return db.hub.subscribe(userID)
}

// listen holds one connection LISTENing on walletChannel until Close and
// turns notifications into wake-ups. After a lost connection it reconnects
// and wakes every reader, since notifications sent meanwhile are lost.
func (db *DB) listen() {
	db.listenLoop("wallet change", walletChannel, db.hub.wakeAll, func(payload string) { db.hub.wake(payload) })
}

// listenLoop holds one connection LISTENing on channel until Close, calling
// onNotify with each notification's payload. onListen runs each time the
// LISTEN starts, the first time and after every reconnect: notifications
// sent while not listening are lost, so whatever they would have told must
// be assumed.
func (db *DB) listenLoop(what, channel string, onListen func(), onNotify func(payload string)) {
	ctx := db.hub.ctx
	for attempt := 1; ctx.Err() == nil; attempt++ {
		err := db.listenOnce(ctx, channel, onListen, onNotify)
		if ctx.Err() != nil {
			return
		}
		db.logger.Warn(what+" listener lost its connection; reconnecting", "err", err)
		_ = sleep(ctx, backoff(attempt)+100*time.Millisecond)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, onListen func(), onNotify func(payload string)) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := unwrapConn(dc).(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+channel); err != nil {
			return errors.Join(driver.ErrBadConn, err)
		}
		onListen()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is LISTENing (or broken): never return it to the pool.
				return errors.Join(driver.ErrBadConn, err)
			}
			onNotify(n.Payload)
		}
	})
}

// changeHub is this process's table of subscribers, by holder.
type changeHub struct {
	ctx        context.Context // cancelled by DB.Close: stops the listener
	cancel     context.CancelFunc
	listenOnce sync.Once

	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newChangeHub() *changeHub {
	ctx, cancel := context.WithCancel(context.Background())
	return &changeHub{ctx: ctx, cancel: cancel, subs: map[string]map[chan struct{}]struct{}{}}
}

func (h *changeHub) subscribe(userID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[userID] == nil {
		h.subs[userID] = map[chan struct{}]struct{}{}
	}
	h.subs[userID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs[userID], ch)
			if len(h.subs[userID]) == 0 {
				delete(h.subs, userID)
			}
			h.mu.Unlock()
		})
	}
}

// wake signals every subscriber of userID without blocking: a pending
// wake-up already covers this one.
func (h *changeHub) wake(userID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[userID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (h *changeHub) wakeAll() {
	h.mu.Lock()
	users := make([]string, 0, len(h.subs))
	for u := range h.subs {
		users = append(users, u)
	}
	h.mu.Unlock()
	for _, u := range users {
		h.wake(u)
	}
}
