package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestEncodeDataInfo(t *testing.T) {
	tests := []struct {
		name string
		in   ipass.DataInfo
		want string
	}{
		{"Nil", nil, `{}`},
		{"SortedVerbatim", ipass.DataInfo{
			"$b_en_US$": json.RawMessage(`{"cent":800,"currency":"HKD"}`),
			"$a_zh_HK$": json.RawMessage(`"銀卡"`),
		}, `{"$a_zh_HK$":"銀卡","$b_en_US$":{"cent":800,"currency":"HKD"}}`},
		{"NoHTMLEscaping", ipass.DataInfo{"<&>": json.RawMessage(`"<&>"`)}, `{"<&>":"<&>"}`},
		{"InnerWhitespaceKept", ipass.DataInfo{"k": json.RawMessage(" [1, 2] ")}, `{"k":[1, 2]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeDataInfo(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("encodeDataInfo = %s, %v; want %s", got, err, tc.want)
			}
			back, err := decodeDataInfo(got)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.in {
				if string(back[k]) != strings.TrimSpace(string(v)) {
					t.Fatalf("round trip of %s: %s, want %s", k, back[k], v)
				}
			}
		})
	}
	for _, bad := range []string{``, `{`, `"a" "b"`, "\"\xff\""} {
		if _, err := encodeDataInfo(ipass.DataInfo{"k": json.RawMessage(bad)}); err == nil {
			t.Errorf("encodeDataInfo accepted %q", bad)
		}
	}
}

func TestClassifyPostgres(t *testing.T) {
	tests := []struct {
		code                  string
		retry, unique, forKey bool
	}{
		{pgSerializationFailure, true, false, false},
		{pgDeadlockDetected, true, false, false},
		{pgUniqueViolation, false, true, false},
		{pgForeignKeyViolation, false, false, true},
		{"23514", false, false, false}, // check_violation
		{"53300", false, false, false}, // too_many_connections: not ours to retry blindly
	}
	for _, tc := range tests {
		// Wrapped, as errors reach the classifier through fmt.Errorf.
		err := fmt.Errorf("update: %w", &pgconn.PgError{Code: tc.code, Message: "whatever the text says"})
		if isRetryable(err) != tc.retry || isUniqueViolation(err) != tc.unique || isForeignKeyViolation(err) != tc.forKey {
			t.Errorf("SQLSTATE %s: retry %v unique %v fk %v; want %v %v %v", tc.code,
				isRetryable(err), isUniqueViolation(err), isForeignKeyViolation(err), tc.retry, tc.unique, tc.forKey)
		}
	}
	if !isRetryable(fmt.Errorf("x: %w", errRetry)) {
		t.Error("errRetry is not retryable")
	}
	if isRetryable(errors.New("database is locked")) || isUniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Error("an untyped error was classified by its text")
	}
}

// TestClassifySQLite provokes real driver errors, since modernc's error
// type cannot be built by hand.
func TestClassifySQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, "sqlite:"+filepath.Join(dir, "x.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) error {
		_, err := db.w.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec(`INSERT INTO clients (id, name, rate_limit) VALUES ('c', '', 0)`); err != nil {
		t.Fatal(err)
	}
	err = exec(`INSERT INTO clients (id, name, rate_limit) VALUES ('c', '', 0)`)
	if !isUniqueViolation(err) || isRetryable(err) || isForeignKeyViolation(err) {
		t.Errorf("duplicate primary key: %v not classified as unique violation", err)
	}
	err = exec(`INSERT INTO merchants (id, client_id, name) VALUES ('m', 'nobody', '')`)
	if !isForeignKeyViolation(err) || isUniqueViolation(err) {
		t.Errorf("missing client: %v not classified as foreign key violation", err)
	}

	// A second connection holding the write lock makes BEGIN IMMEDIATE wait
	// out busy_timeout and fail with SQLITE_BUSY, which is retryable.
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "x.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := db.w.Conn(short)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(short, `PRAGMA busy_timeout = 10`); err != nil {
		t.Fatal(err)
	}
	_, err = conn.BeginTx(short, nil)
	if !isRetryable(err) {
		t.Errorf("BEGIN IMMEDIATE against a held write lock: %v not retryable", err)
	}
	// Restore the pooled connection's setting before it is reused.
	if _, err := conn.ExecContext(short, fmt.Sprintf(`PRAGMA busy_timeout = %d`, sqliteBusyTimeoutMS)); err != nil {
		t.Fatal(err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		for range 100 {
			if d := backoff(attempt); d <= 0 || d > 100*time.Millisecond {
				t.Fatalf("backoff(%d) = %v", attempt, d)
			}
		}
	}
}
