// Package sqlstoretest opens fresh, migrated sqlstore databases for tests of
// any package, one per call, removed when the test ends.
//
// SQLite databases are files in tb.TempDir(). PostgreSQL databases are
// created on the server named by the environment variable
// IPASS_TEST_POSTGRES_URL (a postgres:// URL of a user allowed to create
// databases, e.g. postgres://root@127.0.0.1:5432/test?sslmode=disable) as
// clones of a template database migrated once; without that variable
// PostgreSQL tests are skipped, except under CI=true, where they fail so that
// a misconfigured pipeline cannot pass by testing nothing.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection
)

// PostgresEnv names the variable holding the PostgreSQL server URL.
const PostgresEnv = "IPASS_TEST_POSTGRES_URL"

// Engines returns an opener per engine to run a suite against: "sqlite"
// always, and "postgres" when IPASS_TEST_POSTGRES_URL is set or CI=true
// (where its opener then fails the test). Use it as
//
//	for name, open := range sqlstoretest.Engines(t) {
//		t.Run(name, func(t *testing.T) { db := open(t); ... })
//	}
func Engines(tb testing.TB) map[string]func(testing.TB) *sqlstore.DB {
	tb.Helper()
	m := map[string]func(testing.TB) *sqlstore.DB{sqlstore.EngineSQLite: OpenSQLite}
	if os.Getenv(PostgresEnv) != "" || os.Getenv("CI") == "true" {
		m[sqlstore.EnginePostgres] = OpenPostgres
	}
	return m
}

// DSNs is like [Engines] but returns functions that create a fresh database
// and return its DSN without opening it, for tests that open several *DB on
// one database (as several server processes would).
func DSNs(tb testing.TB) map[string]func(testing.TB) string {
	tb.Helper()
	m := map[string]func(testing.TB) string{sqlstore.EngineSQLite: NewSQLiteDSN}
	if os.Getenv(PostgresEnv) != "" || os.Getenv("CI") == "true" {
		m[sqlstore.EnginePostgres] = NewPostgresDSN
	}
	return m
}

// Open opens dsn and closes it when the test ends.
func Open(tb testing.TB, dsn string) *sqlstore.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqlstore.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close %s: %v", dsn, err)
		}
	})
	return db
}

// OpenSQLite returns a fresh SQLite database in a temporary directory.
func OpenSQLite(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	return Open(tb, NewSQLiteDSN(tb))
}

// NewSQLiteDSN returns the DSN of a new SQLite file in tb.TempDir(). A file,
// not ":memory:": every pooled connection would get its own memory database.
func NewSQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "ipass.db")
}

// OpenPostgres returns a fresh PostgreSQL database, dropped when the test
// ends. It skips the test when IPASS_TEST_POSTGRES_URL is unset, or fails it
// under CI=true.
func OpenPostgres(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	return Open(tb, NewPostgresDSN(tb))
}

// NewPostgresDSN creates a fresh PostgreSQL database, migrated, registers its
// removal, and returns its URL. Skips or fails like [OpenPostgres].
func NewPostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set; PostgreSQL tests must run in CI", PostgresEnv)
		}
		tb.Skipf("%s not set; skipping PostgreSQL", PostgresEnv)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL", PostgresEnv)
	}
	admin, template, err := setUp(base)
	if err != nil {
		tb.Fatalf("postgres test setup: %v", err)
	}
	// The creation time in the name lets a later run drop databases that a
	// killed test binary never cleaned up (see sweep).
	name := fmt.Sprintf("%s%d_%s", testPrefix, time.Now().Unix(), randomHex(8))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Cloning a migrated template is a file copy on the server, much faster
	// than running the migrations for each test.
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+quoteIdent(name)+` TEMPLATE `+quoteIdent(template)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	// Registered before the caller's Open registers Close, so it runs after it;
	// FORCE still ends any connection a test leaked.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(name)+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

var (
	setUpOnce     sync.Once
	setUpAdmin    *sql.DB
	setUpTemplate string
	setUpErr      error
)

// setUp connects to the server once per process and makes sure a template
// database with the current migrations exists. The template is named after
// the migrations' digest and kept between runs, so it is built once per
// schema, not once per test binary.
func setUp(base string) (*sql.DB, string, error) {
	setUpOnce.Do(func() {
		setUpAdmin, setUpTemplate, setUpErr = buildTemplate(base)
	})
	return setUpAdmin, setUpTemplate, setUpErr
}

func buildTemplate(base string) (*sql.DB, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, "", err
	}
	admin.SetMaxOpenConns(4)
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, "", err
	}
	digest := sqlstore.SchemaDigest(sqlstore.EnginePostgres)
	if digest == "" {
		admin.Close()
		return nil, "", fmt.Errorf("no postgres migrations")
	}
	template := "ipass_template_" + digest[:16]

	// Test binaries of several packages may run at once: one builds the
	// template under a session advisory lock while the others wait.
	conn, err := admin.Conn(ctx)
	if err != nil {
		admin.Close()
		return nil, "", err
	}
	defer conn.Close()
	h := fnv.New64a()
	h.Write([]byte("ipass sqlstoretest template"))
	lockID := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		admin.Close()
		return nil, "", fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)

	sweep(ctx, conn)

	var one int
	err = conn.QueryRowContext(ctx, `SELECT 1 FROM pg_database WHERE datname = $1`, template).Scan(&one)
	if err == nil {
		return admin, template, nil
	}
	if err != sql.ErrNoRows {
		admin.Close()
		return nil, "", err
	}
	// Build under a temporary name and rename when complete, so a crash half
	// way never leaves a half-migrated template under the real name.
	building := template + "_" + randomHex(4)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+quoteIdent(building)); err != nil {
		admin.Close()
		return nil, "", fmt.Errorf("create template: %w", err)
	}
	db, err := sqlstore.Open(ctx, withDatabase(base, building), nil)
	if err != nil {
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(building)+` WITH (FORCE)`)
		admin.Close()
		return nil, "", fmt.Errorf("migrate template: %w", err)
	}
	db.Close()
	// No connections from here on: CREATE DATABASE ... TEMPLATE refuses a
	// source database that has any.
	for _, stmt := range []string{
		`ALTER DATABASE ` + quoteIdent(building) + ` RENAME TO ` + quoteIdent(template),
		`ALTER DATABASE ` + quoteIdent(template) + ` WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			admin.Close()
			return nil, "", fmt.Errorf("finish template: %w", err)
		}
	}
	return admin, template, nil
}

// testPrefix starts the name of every test database; the Unix time of its
// creation follows.
const testPrefix = "ipass_test_"

// sweep drops test databases created more than a day ago: a test binary
// killed by a timeout or a signal skips its cleanups. Failures are ignored;
// sweeping is housekeeping, not part of any test.
func sweep(ctx context.Context, conn *sql.Conn) {
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, testPrefix)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		var created int64
		var rest string
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, testPrefix), "%d_%s", &created, &rest); err != nil {
			continue
		}
		if time.Since(time.Unix(created, 0)) > 24*time.Hour {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+quoteIdent(name)+` WITH (FORCE)`)
	}
}

// withDatabase returns base, a URL checked by NewPostgresDSN, with its
// database name replaced by name.
func withDatabase(base, name string) string {
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

func quoteIdent(s string) string { return `"` + s + `"` }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
