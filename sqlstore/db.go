// Package sqlstore implements the storage interfaces of package ipass
// (TenantStore, PassStore, ReplayStore, RateLimiter, Pinger) on SQLite, the
// embedded default, and on PostgreSQL, where any number of server processes
// share one database and behave as one service.
//
// Both engines run the same queries; what differs lives in dialect.go.
// Schema changes are hand-written, numbered migrations per engine under
// migrations/, applied by [Open].
//
// Every exported method runs in one transaction, begun at the top and
// committed last, and passes its context to the driver. A *DB is safe for
// concurrent use.
package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// maxAttempts bounds how often a transaction is run again after a
// serialisation failure, deadlock, busy database or lost optimistic check.
// Each retry follows a randomised, growing pause, so this covers seconds of
// heavy contention on one pass before the caller sees an error.
const maxAttempts = 12

// DB is an open, migrated database.
type DB struct {
	// Now is the clock for timestamps the store sets itself (pass createdAt and
	// updatedAt, history entry times, replay expiry checks). Default time.Now;
	// tests may replace it before first use.
	Now func() time.Time

	d       dialect
	r       *sql.DB // reads
	w       *sql.DB // writes; the same pool as r on PostgreSQL
	logger  *slog.Logger
	hub     *changeHub    // wallet wake-ups (changes.go)
	clients clientCache   // clients and their keys (clientcache.go)
	stmts   *atomic.Int64 // statements sent to the database (counted.go)

	observer TxObserver // transaction timings (observe.go); nil: none
	// SQLite only (nil on PostgreSQL): prepared statements per pool, and
	// the committer that owns the writer connection (group commit).
	stmtsR, stmtsW *stmtCache
	group          *committer
}

// The interfaces *DB implements.
var (
	_ ipass.TenantStore = (*DB)(nil)
	_ ipass.PassStore   = (*DB)(nil)
	_ ipass.Gate        = (*DB)(nil)
	_ ipass.Pinger      = (*DB)(nil)
)

// Open opens and migrates the database. dsn is "sqlite:PATH" (the parent
// directory is created 0700; WAL mode, foreign keys on, and a busy timeout so
// writers wait for each other rather than fail) or "postgres://..." /
// "postgresql://..." (a pgx connection URL). logger may be nil.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	stmts := new(atomic.Int64)
	d, r, w, err := openPools(ctx, dsn, stmts)
	if err != nil {
		return nil, err
	}
	db := &DB{Now: time.Now, d: d, r: r, w: w, logger: logger, hub: newChangeHub(), stmts: stmts}
	err = db.migrate(ctx)
	if d.releaseInit != nil {
		d.releaseInit()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	if d.name == EngineSQLite {
		db.stmtsR, db.stmtsW = newStmtCache(r), newStmtCache(w)
		db.group = newCommitter(db)
	}
	if err := db.fillPriors(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close stops the committer, then closes the connection pools.
func (db *DB) Close() error {
	db.hub.cancel()
	if db.group != nil {
		db.group.close()
		db.stmtsR.close()
		db.stmtsW.close()
	}
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	// database/sql closes a connection that was still being opened (its
	// opener goroutine, asked for one by a caller that has since gone) only
	// once it is open, after Close returned. On SQLite that late connection
	// re-creates the -wal and -shm files: whoever removes the data dir right
	// after Close (a test, an operator's script) races it. Wait for it.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if db.w.Stats().OpenConnections == 0 && db.r.Stats().OpenConnections == 0 {
			break
		}
	}
	return err
}

// Engine is EngineSQLite ("sqlite") or EnginePostgres ("postgres").
func (db *DB) Engine() string { return db.d.name }

// Ping reports whether the database is reachable (readiness). It uses the
// read pool: on SQLite the single writer connection may be busy for a while
// under load, and readiness should not queue behind it.
func (db *DB) Ping(ctx context.Context) error {
	// A query rather than PingContext, which on an idle pooled connection
	// does not always reach the server.
	var one int
	if err := db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.d.name, err)
	}
	return nil
}

// migrate applies pending migrations. HasPending does not take goose's lock,
// so processes starting against an up-to-date PostgreSQL database do not
// queue behind each other.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrationsFS, db.d.migrationsDir())
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	opts, err := db.d.migrationOptions()
	if err != nil {
		return err
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithSlog(db.logger))
	p, err := goose.NewProvider(db.d.goose, db.w, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if !pending {
		return nil
	}
	// Concurrent starts are serialised before this point: by goose's session
	// lock on PostgreSQL, and by the init lock taken in openSQLite on SQLite.
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", db.d.name, err)
	}
	for _, r := range results {
		db.logger.Info("applied migration", "engine", db.d.name, "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// SchemaDigest identifies the migrations of engine (EngineSQLite or
// EnginePostgres) by content. Test helpers use it to name a migrated template
// database they can reuse for as long as the migrations do not change.
func SchemaDigest(engine string) string {
	h := sha256.New()
	entries, err := fs.ReadDir(migrationsFS, "migrations/"+engine)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrationsFS, "migrations/"+engine+"/"+e.Name())
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// txFunc is the body of a transaction; now is the one timestamp of the
// transaction, taken from DB.Now at its start.
type txFunc func(ctx context.Context, tx *sql.Tx, now time.Time) error

// write runs fn in a read-write transaction and commits it, running it again
// (up to maxAttempts) when the database reports a conflict that a retry
// resolves. fn must therefore have no effects outside the transaction.
//
// A pending admission in ctx (ipass.WithAdmission) is recorded first, in the
// same transaction; see unit. On SQLite the transaction is shared with the
// other writes waiting at that moment (group commit, see committer).
func (db *DB) write(ctx context.Context, fn txFunc) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		var err error
		if db.group != nil {
			err = db.group.run(ctx, fn)
		} else {
			err = db.writeOnce(ctx, fn)
		}
		if err == nil || !isRetryable(err) || attempt == maxAttempts {
			db.observeTx("write", start, attempt, err)
			return err
		}
		db.logger.Debug("retrying transaction", "engine", db.d.name, "attempt", attempt, "err", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func (db *DB) writeOnce(ctx context.Context, fn txFunc) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	u := db.unit(ctx, tx, fn)
	if !u.commit {
		return u.err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	u.publish()
	return u.err
}

// unitResult is what one request's work in a write transaction came to.
type unitResult struct {
	commit bool  // keep the work (an error may still be returned: see unit)
	err    error // the write's result for its caller

	a        *ipass.Admission // the admission recorded, if any
	admitted admitted
	slot     keptSlot // the answer the work kept, for which admission
}

// publish sets the admission's outcome and the answer kept, once its
// transaction committed with this unit's work kept.
func (u *unitResult) publish() {
	if !u.commit {
		return
	}
	if u.a != nil {
		u.a.Outcome, u.a.RetryAfter, u.a.Replay = u.admitted.outcome, u.admitted.retryAfter, u.admitted.replay
	}
	if u.slot.a != nil && u.slot.kept != nil {
		u.slot.a.Kept = u.slot.kept
	}
}

// unit runs one request's work in tx: its pending admission first, then fn
// only if the request is admitted. The work is kept (commit) when fn
// succeeds, and also when the request was not admitted (a rate-limited
// request's replay record stays) or decide refused it (errDecide: nothing
// but the admission was written, and a refused request has spent its
// signature). Any other error discards everything, admission included.
//
// An admission recorded by an earlier transaction of the request, its
// answer still pending, is not recorded again, but fn keeps its answer
// (keepAnswer).
func (db *DB) unit(ctx context.Context, tx *sql.Tx, fn txFunc) unitResult {
	u := unitResult{a: ipass.PendingAdmission(ctx)}
	u.slot.a = ipass.AdmittedAwaitingAnswer(ctx)
	if u.a != nil {
		u.slot.a = u.a
		u.a.Kept = nil // set again by this attempt, if it keeps an answer
		u.admitted, u.err = db.admit(ctx, tx, u.a)
		if u.err != nil {
			return u
		}
		if u.admitted.outcome != ipass.Admitted {
			u.commit, u.err = true, ipass.ErrNotAdmitted
			return u
		}
		// admit keeps an answer known before the write (a.Answer) itself.
		if u.a.Kept != nil {
			u.slot.kept = u.a.Kept
		}
	}
	u.err = fn(context.WithValue(ctx, keptKey{}, &u.slot), tx, db.Now())
	u.commit = u.err == nil || errors.Is(u.err, errDecide)
	return u
}

// read runs fn in a read-only transaction that sees one snapshot.
func (db *DB) read(ctx context.Context, fn txFunc) (err error) {
	defer func(start time.Time) { db.observeTx("read", start, 1, err) }(time.Now())
	tx, err := db.r.BeginTx(ctx, db.d.readTx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(ctx, tx, db.Now()); err != nil {
		return err
	}
	// Nothing was written; Commit just ends the snapshot, and an error here
	// (a dropped connection) is still worth reporting.
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// backoff is the pause before retry number attempt: exponential from 2 ms,
// capped at 100 ms, with full jitter so that colliding writers spread out.
func backoff(attempt int) time.Duration {
	d := 2 * time.Millisecond << min(attempt-1, 6)
	d = min(d, 100*time.Millisecond)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
