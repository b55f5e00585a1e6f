package sqlstore

// This file is the only home of differences between SQLite and PostgreSQL:
// connection setup, which migrations run, row locking, transaction options and
// the classification of driver errors. Queries elsewhere are written once, in
// the subset both engines share ($n placeholders, ON CONFLICT, RETURNING).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names, as returned by [DB.Engine].
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// sqliteBusyTimeoutMS is how long a SQLite writer waits for another process's
// write lock before failing with SQLITE_BUSY. Writers in one process queue in
// database/sql (one writer connection), so this only covers other processes.
const sqliteBusyTimeoutMS = 10000

// postgresMaxConns bounds one process's PostgreSQL connections. Without a bound
// a burst of requests opens one connection each and runs into the server's
// max_connections (100 by default) shared by every process.
const postgresMaxConns = 16

// dialect describes one engine. The zero value is not valid; see sqliteDialect
// and postgresDialect.
type dialect struct {
	name  string        // EngineSQLite or EnginePostgres
	goose goose.Dialect // goose's name for the engine
	// forUpdate is appended to a SELECT that must lock the rows it reads until
	// the transaction ends. PostgreSQL locks rows; SQLite has no row locks, but
	// every write transaction there is BEGIN IMMEDIATE and so already holds the
	// database's single write lock from its first statement.
	forUpdate string
	// readTx are the options of a transaction that only reads. On PostgreSQL a
	// multi-statement read (Export, Client with its keys) needs REPEATABLE READ
	// to see one snapshot; SQLite's deferred read transaction in WAL mode is a
	// snapshot already, and ReadOnly is what makes modernc use BEGIN DEFERRED
	// instead of the DSN's _txlock=immediate.
	readTx *sql.TxOptions
	// releaseInit, when set, releases the lock that serialises opening and
	// migrating one SQLite file across processes.
	releaseInit func()
	// The change feed (changes.go): notify tells other nodes at commit
	// (empty on SQLite, a single node's database: its in-process wake-up is
	// enough).
	notify string
	// recordChange, when set, is the whole change-feed entry of one holder
	// ($1 user, $2 pass) in one statement: cursor, change row and
	// notification (one round trip instead of three).
	recordChange string
}

var (
	sqliteDialect = dialect{
		name:   EngineSQLite,
		goose:  goose.DialectSQLite3,
		readTx: &sql.TxOptions{ReadOnly: true},
	}
	postgresDialect = dialect{
		name:      EnginePostgres,
		goose:     goose.DialectPostgres,
		forUpdate: " FOR UPDATE",
		readTx:    &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
		notify:    `SELECT pg_notify('` + walletChannel + `', $1)`,
		// A data-modifying WITH runs whatever the rest reads; the SELECT of
		// pg_notify is joined in so that it runs too, once.
		recordChange: `
			WITH c AS (
				INSERT INTO holder_cursors (user_id, seq) VALUES ($1, 1)
				ON CONFLICT (user_id) DO UPDATE SET seq = holder_cursors.seq + 1
				RETURNING seq)
			INSERT INTO pass_changes (user_id, pass_id, seq)
			SELECT $1, $2, c.seq FROM c, (SELECT pg_notify('` + walletChannel + `', $1)) n
			ON CONFLICT (user_id, pass_id) DO UPDATE SET seq = excluded.seq`,
	}
)

// migrationsDir is the directory of migrationsFS holding this engine's files.
func (d dialect) migrationsDir() string { return "migrations/" + d.name }

// migrationOptions are the goose options for this engine. On PostgreSQL a
// session-level advisory lock lets several processes start at once: one
// migrates, the others wait and then find nothing pending. SQLite is a single
// node's embedded database; its migrations run in a write transaction.
func (d dialect) migrationOptions() ([]goose.ProviderOption, error) {
	if d.name != EnginePostgres {
		return nil, nil
	}
	// Poll every second rather than goose's default five: start-up of a second
	// process should not stall for long behind a short migration.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("create migration locker: %w", err)
	}
	return []goose.ProviderOption{goose.WithSessionLocker(locker)}, nil
}

// openPools opens the connection pools for dsn: r for reads, w for writes. They
// are the same pool on PostgreSQL.
//
// SQLite allows one writer at a time per database file. Giving writes their
// own pool of one connection makes writers of this process queue in Go, in
// order, instead of polling the file lock under busy_timeout (which is unfair
// and slow with hundreds of waiters); busy_timeout then only arbitrates
// between processes. Reads use a separate pool: in WAL mode they never wait
// for the writer.
func openPools(ctx context.Context, dsn string, n *atomic.Int64) (d dialect, r, w *sql.DB, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), n)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := openCounted("pgx", dsn, n)
		if err != nil {
			return dialect{}, nil, nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(postgresMaxConns)
		// Idle connections are kept up to the bound, but only for a
		// minute: many processes (or many test databases) share the
		// server's connection limit. Keeping fewer made every burst close
		// and reopen connections (a backend started, authenticated and
		// its prepared statements made again each time): 0.2 reopened
		// per queryPass at 16 clients (BenchmarkServeQueryPass).
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return dialect{}, nil, nil, fmt.Errorf("connect to postgres: %w", err)
		}
		return postgresDialect, db, db, nil
	default:
		return dialect{}, nil, nil, errors.New(`unsupported dsn: want "sqlite:PATH", "postgres://..." or "postgresql://..."`)
	}
}

func openSQLite(ctx context.Context, path string, n *atomic.Int64) (d dialect, r, w *sql.DB, err error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		// Every pooled connection would get its own empty in-memory database.
		return dialect{}, nil, nil, errors.New("sqlite dsn needs a file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return dialect{}, nil, nil, fmt.Errorf("resolve sqlite path: %w", err)
	}
	// 0700: the database holds tenants' keys and passes (STYLE habit 10).
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return dialect{}, nil, nil, fmt.Errorf("create sqlite directory: %w", err)
	}

	// Held across Open's migrations (released by DB.releaseInit).
	release, err := lockInit(ctx, abs+".init-lock")
	if err != nil {
		return dialect{}, nil, nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	d = sqliteDialect
	d.releaseInit = release
	if err := createPrivate(abs); err != nil {
		return dialect{}, nil, nil, err
	}

	// A file: URI so that '?', '#' or '%' in the path are escaped rather than
	// taken for DSN syntax.
	busy := fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMS)
	wq := url.Values{}
	wq.Add("_pragma", busy)
	// journal_mode(WAL) is not in the DSN: see setWAL.
	wq.Add("_pragma", "foreign_keys(1)")
	// FULL: with WAL, NORMAL may lose the last commits on power loss, and a
	// SUCCESS response promises the change is durable (README, "Behaviour worth knowing").
	wq.Add("_pragma", "synchronous(FULL)")
	// Every read-write transaction takes the write lock at BEGIN, so a
	// transaction that read a pass can always write it: no lock upgrade, no
	// SQLITE_BUSY half way, no deadlock between two readers-turned-writers.
	wq.Set("_txlock", "immediate")
	wURI := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: wq.Encode()}).String()

	rq := url.Values{}
	rq.Add("_pragma", busy)
	rq.Add("_pragma", "foreign_keys(1)")
	rq.Set("_query_only", "1") // reads must never write, even by mistake
	rURI := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: rq.Encode()}).String()

	w, err = openCounted("sqlite", wURI, n)
	if err != nil {
		return dialect{}, nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connect the writer first: it switches the file to WAL mode, which the
	// query-only readers cannot do.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return dialect{}, nil, nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	if err := setWAL(ctx, w); err != nil {
		w.Close()
		return dialect{}, nil, nil, fmt.Errorf("open sqlite %s: %w", abs, err)
	}
	r, err = openCounted("sqlite", rURI, n)
	if err != nil {
		w.Close()
		return dialect{}, nil, nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return d, r, w, nil
}

// createPrivate creates the database file empty and 0600 if it does not
// exist (SQLite takes an empty file for a new database). Left to the driver
// it would be 0644 less the umask, readable by every local user, and it holds
// the wallet secret and tenants' keys. SQLite gives the -wal, -shm and
// -journal files the main file's permissions, so they follow. An existing
// file keeps its mode: `ipass serve` warns about a loose one rather than
// changing the operator's file behind their back.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create sqlite file: %w", err)
	}
	return f.Close()
}

// setWAL switches the database file to WAL mode (a persistent property of
// the file). Switching a fresh file answers SQLITE_BUSY at once, without
// consulting busy_timeout, while another process is opening or switching the
// same file at that moment; as a DSN pragma that failed the whole Open of
// processes starting together. Here the switch is retried like any busy
// write, for as long as busy_timeout would have waited.
func setWAL(ctx context.Context, w *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeoutMS * time.Millisecond)
	for attempt := 1; ; attempt++ {
		var mode string
		err := w.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("journal_mode is %q, want wal", mode)
			}
			return nil
		}
		if !isRetryable(err) || time.Now().After(deadline) {
			return fmt.Errorf("set journal_mode=WAL: %w", err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// PostgreSQL SQLSTATE codes we act on (Appendix A of the PostgreSQL manual).
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// errRetry is returned inside a transaction when its work must be redone, for
// example when the optimistic version guard of an UPDATE matched no row.
var errRetry = errors.New("sqlstore: concurrent change, retry")

// isRetryable reports whether the transaction that failed with err may simply
// be run again: a serialisation failure or deadlock on PostgreSQL, a busy or
// locked database on SQLite (busy_timeout already waited), or errRetry.
// Classification uses typed error codes only, never message text.
func isRetryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgSerializationFailure || pgErr.Code == pgDeadlockDetected
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		primary := liteErr.Code() & 0xff
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	return false
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgUniqueViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a FOREIGN KEY violation.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == pgForeignKeyViolation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// engineIntegrity runs the engine's own consistency checks and returns a
// description of each problem found.
//
// SQLite can check its file format (integrity_check) and, because foreign
// keys are enforced only per connection and only when switched on,
// foreign_key_check finds rows written without them. PostgreSQL enforces
// constraints always and has no cheap whole-database file check, so it adds
// nothing here; the shared checks of [DB.CheckIntegrity] still run.
func (d dialect) engineIntegrity(ctx context.Context, tx *sql.Tx) ([]string, error) {
	if d.name != EngineSQLite {
		return nil, nil
	}
	var problems []string
	rows, err := tx.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, fmt.Errorf("integrity_check: %w", err)
	}
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return nil, fmt.Errorf("integrity_check: %w", err)
		}
		if msg != "ok" {
			problems = append(problems, "integrity_check: "+msg)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("integrity_check: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, fmt.Errorf("foreign_key_check: %w", err)
	}
	for rows.Next() {
		// table, rowid (NULL for WITHOUT ROWID tables), parent table, fk index
		var table, parent string
		var rowid sql.NullInt64
		var fkid int64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("foreign_key_check: %w", err)
		}
		problems = append(problems, fmt.Sprintf("foreign_key_check: %s row %d references a missing %s row", table, rowid.Int64, parent))
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("foreign_key_check: %w", err)
	}
	return problems, nil
}

// closeRows closes rows and returns the iteration error, if any.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// bulkPlaceholder is parameter n (from 1) of a long multi-row statement
// (seed.go). SQLite looks "$n" names up in a linear list, which is quadratic
// over thousands of parameters, so it gets the anonymous "?"; PostgreSQL
// needs "$n".
func (d dialect) bulkPlaceholder(n int) string {
	if d.name == EngineSQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}
