package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ipass-dev/ipass"
)

// Admit records a in a write transaction of its own (see ipass.Gate).
func (db *DB) Admit(ctx context.Context, a *ipass.Admission) error {
	err := db.write(ipass.WithAdmission(ctx, a), func(context.Context, *sql.Tx, time.Time) error { return nil })
	if errors.Is(err, ipass.ErrNotAdmitted) {
		return nil // the outcome says why
	}
	return err
}

// admit is the admission's part of a write transaction: the replay record,
// then the rate-limit token. It returns the outcome to publish once tx
// commits; an error means tx must be rolled back.
//
// The replay record is one INSERT on the unique (client_id, digest) that
// does nothing on a conflict, whatever the existing record's age: a record
// is never taken over, only pruned after its KeepUntil. Being one statement
// on a unique key, it gives racing processes one answer: exactly one wins.
func (db *DB) admit(ctx context.Context, tx *sql.Tx, a *ipass.Admission) (ipass.AdmissionOutcome, time.Duration, error) {
	q := db.q(tx, true)
	if a.Digest != nil {
		res, err := q.ExecContext(ctx, `
			INSERT INTO replay_records (client_id, digest, expires_at)
			VALUES ($1, $2, $3)
			ON CONFLICT (client_id, digest) DO NOTHING`,
			a.ClientID, a.Digest, a.KeepUntil.UnixMilli())
		if err != nil {
			return 0, 0, fmt.Errorf("record request: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, 0, fmt.Errorf("record request: %w", err)
		}
		if n == 0 {
			return ipass.Replayed, 0, nil
		}
		// Checked after the INSERT decided: had the record been pruned
		// before it, this clock is past the deadline (KeepUntil allows for
		// the deadline and the skew), and the fresh record is discarded.
		if !a.Deadline.IsZero() {
			if now := db.Now(); now.After(a.Deadline) {
				return 0, 0, fmt.Errorf("record request: %s is past the request's deadline %s; nothing was executed",
					now.UTC().Format(time.RFC3339Nano), a.Deadline.UTC().Format(time.RFC3339Nano))
			}
		}
	}
	if a.RateLimit > 0 {
		ok, retryAfter, err := takeToken(ctx, q, db.d, a.ClientID, a.RateLimit, a.Arrived)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			return ipass.RateLimited, retryAfter, nil
		}
	}
	return ipass.Admitted, 0, nil
}

// RecordRequest records (clientID, digest), to be kept until keepUntil, in
// a transaction of its own, and reports whether it was new. (The server
// records requests through Admit; this is the replay half alone.)
func (db *DB) RecordRequest(ctx context.Context, clientID string, digest []byte, keepUntil time.Time) (fresh bool, err error) {
	a := &ipass.Admission{ClientID: clientID, Digest: digest, KeepUntil: keepUntil}
	if err := db.Admit(ctx, a); err != nil {
		return false, err
	}
	return a.Outcome == ipass.Admitted, nil
}

// PruneRequests deletes replay records whose KeepUntil is before t and
// returns how many.
func (db *DB) PruneRequests(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM replay_records WHERE expires_at < $1`, t.UnixMilli())
		if err != nil {
			return fmt.Errorf("prune requests: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("prune requests: %w", err)
		}
		return nil
	})
	return n, err
}

// tokenEpsilon absorbs floating-point error in the refill: 5 ms at 200/s
// must count as one whole token even if the arithmetic gives 0.9999999999.
const tokenEpsilon = 1e-9

// Allow takes one token from clientID's bucket at instant now, in a
// transaction of its own (the server takes tokens through Admit). See
// takeToken; ratePerSecond <= 0 means unlimited and does not touch the
// database.
func (db *DB) Allow(ctx context.Context, clientID string, ratePerSecond int, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	if ratePerSecond <= 0 {
		return true, 0, nil
	}
	a := &ipass.Admission{ClientID: clientID, RateLimit: ratePerSecond, Arrived: now}
	if err := db.Admit(ctx, a); err != nil {
		return false, 0, err
	}
	return a.Outcome == ipass.Admitted, a.RetryAfter, nil
}

// takeToken takes one token from clientID's bucket at instant now. The
// bucket holds at most ratePerSecond tokens and refills at ratePerSecond per
// second; it starts full. It lives in the database, locked for the
// transaction (FOR UPDATE on PostgreSQL, the write lock on SQLite), so every
// process sharing the database spends one budget.
//
// A now earlier than the bucket's last update (another process's clock
// running ahead) refills nothing and does not move the bucket back in time.
func takeToken(ctx context.Context, q queryer, d dialect, clientID string, ratePerSecond int, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	rate := float64(ratePerSecond)
	nowUS := now.UnixMicro()
	tokens, updatedUS, err := lockBucket(ctx, q, d, clientID, rate, nowUS)
	if err != nil {
		return false, 0, err
	}
	if elapsed := nowUS - updatedUS; elapsed > 0 {
		tokens = min(rate, tokens+float64(elapsed)*rate/1e6)
		updatedUS = nowUS
	}
	tokens = min(rate, tokens) // the rate may have been lowered since
	if tokens+tokenEpsilon < 1 {
		// Nothing to write: refilling later from the stored state gives
		// the same result as storing the refill now.
		return false, time.Duration(math.Ceil((1 - tokens) / rate * float64(time.Second))), nil
	}
	_, err = q.ExecContext(ctx, `
		UPDATE rate_buckets SET tokens = $1, updated_us = $2
		WHERE client_id = $3`, max(0, tokens-1), updatedUS, clientID)
	if err != nil {
		return false, 0, fmt.Errorf("take token: %w", err)
	}
	return true, 0, nil
}

// lockBucket returns clientID's bucket, locked until tx ends, creating a
// full one at nowUS on first use.
func lockBucket(ctx context.Context, tx queryer, d dialect, clientID string, capacity float64, nowUS int64) (tokens float64, updatedUS int64, err error) {
	query := `SELECT tokens, updated_us FROM rate_buckets WHERE client_id = $1` + d.forUpdate
	err = tx.QueryRowContext(ctx, query, clientID).Scan(&tokens, &updatedUS)
	if err == sql.ErrNoRows {
		// Two processes may both get here; DO NOTHING lets the second
		// insert wait for and then keep the first one's bucket.
		_, err = tx.ExecContext(ctx, `
			INSERT INTO rate_buckets (client_id, tokens, updated_us)
			VALUES ($1, $2, $3)
			ON CONFLICT (client_id) DO NOTHING`, clientID, capacity, nowUS)
		if err != nil {
			return 0, 0, fmt.Errorf("create rate bucket: %w", err)
		}
		err = tx.QueryRowContext(ctx, query, clientID).Scan(&tokens, &updatedUS)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("lock rate bucket: %w", err)
	}
	return tokens, updatedUS, nil
}
