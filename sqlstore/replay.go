package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// RecordRequest stores (clientID, digest) until expiresAt and reports whether
// it was fresh. One upsert decides: it inserts a new record, or takes over a
// record that has expired by DB.Now; an unexpired record makes it change
// nothing, and then the request is a replay. Being one statement on a unique
// key, it gives the same answer to racing processes: exactly one is fresh.
func (db *DB) RecordRequest(ctx context.Context, clientID string, digest []byte, expiresAt time.Time) (fresh bool, err error) {
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO replay_records (client_id, digest, expires_at)
			VALUES ($1, $2, $3)
			ON CONFLICT (client_id, digest) DO UPDATE SET
				expires_at = excluded.expires_at
			WHERE replay_records.expires_at <= $4`,
			clientID, digest, expiresAt.UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("record request: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record request: %w", err)
		}
		fresh = n == 1
		return nil
	})
	return fresh, err
}

// PruneRequests deletes records that expired before t and returns how many.
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

// Allow takes one token from clientID's bucket at instant now. The bucket
// holds at most ratePerSecond tokens and refills at ratePerSecond per second;
// it starts full. It lives in the database, locked for the transaction
// (FOR UPDATE on PostgreSQL, the write lock on SQLite), so every process
// sharing the database spends one budget. ratePerSecond <= 0 means unlimited
// and does not touch the database.
//
// A now earlier than the bucket's last update (another process's clock
// running ahead) refills nothing and does not move the bucket back in time.
func (db *DB) Allow(ctx context.Context, clientID string, ratePerSecond int, now time.Time) (ok bool, retryAfter time.Duration, err error) {
	if ratePerSecond <= 0 {
		return true, 0, nil
	}
	rate := float64(ratePerSecond)
	nowUS := now.UnixMicro()
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		ok, retryAfter = false, 0
		tokens, updatedUS, err := lockBucket(ctx, tx, db.d, clientID, rate, nowUS)
		if err != nil {
			return err
		}
		if elapsed := nowUS - updatedUS; elapsed > 0 {
			tokens = min(rate, tokens+float64(elapsed)*rate/1e6)
			updatedUS = nowUS
		}
		tokens = min(rate, tokens) // the rate may have been lowered since
		if tokens+tokenEpsilon < 1 {
			// Nothing to write: refilling later from the stored state gives
			// the same result as storing the refill now.
			retryAfter = time.Duration(math.Ceil((1 - tokens) / rate * float64(time.Second)))
			return nil
		}
		ok = true
		_, err = tx.ExecContext(ctx, `
			UPDATE rate_buckets SET tokens = $1, updated_us = $2
			WHERE client_id = $3`, max(0, tokens-1), updatedUS, clientID)
		if err != nil {
			return fmt.Errorf("take token: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, 0, err
	}
	return ok, retryAfter, nil
}

// lockBucket returns clientID's bucket, locked until tx ends, creating a
// full one at nowUS on first use.
func lockBucket(ctx context.Context, tx *sql.Tx, d dialect, clientID string, capacity float64, nowUS int64) (tokens float64, updatedUS int64, err error) {
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
