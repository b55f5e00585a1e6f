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
// The record carries the answer when it is already known (a.Answer), or is
// marked pending for the write to fill in (a.AnswerOf, see keepAnswer). A
// replay reads the first delivery's answer in the same transaction: on
// PostgreSQL the INSERT waited for that delivery's transaction, so it is
// committed, answer included.
func (db *DB) admit(ctx context.Context, tx *sql.Tx, a *ipass.Admission) (admitted, error) {
	q := db.q(tx, true)
	kept := ipass.AnswerNone // the state the record was written with
	if a.Digest != nil {
		ans := a.Answer
		if ans == nil && a.AnswerOf != nil {
			ans = &ipass.Answer{State: ipass.AnswerPending}
		}
		if ans == nil {
			ans = &ipass.Answer{State: ipass.AnswerNone}
		}
		res, err := q.ExecContext(ctx, `
			INSERT INTO replay_records (client_id, digest, expires_at, answer_state, answer_code, answer, answer_envelope, answer_key_len)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (client_id, digest) DO NOTHING`,
			append([]any{a.ClientID, a.Digest, a.KeepUntil.UnixMilli()}, answerArgs(ans)...)...)
		if err != nil {
			return admitted{}, fmt.Errorf("record request: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return admitted{}, fmt.Errorf("record request: %w", err)
		}
		if n == 0 {
			replay, err := repeatAnswer(ctx, q, a.ClientID, a.Digest)
			if err != nil {
				return admitted{}, err
			}
			return admitted{outcome: ipass.Replayed, replay: replay}, nil
		}
		// Checked after the INSERT decided: had the record been pruned
		// before it, this clock is past the deadline (KeepUntil allows for
		// the deadline and the skew), and the fresh record is discarded.
		if !a.Deadline.IsZero() {
			if now := db.Now(); now.After(a.Deadline) {
				return admitted{}, fmt.Errorf("record request: %s is past the request's deadline %s; nothing was executed",
					now.UTC().Format(time.RFC3339Nano), a.Deadline.UTC().Format(time.RFC3339Nano))
			}
		}
		if kept = ans.State; kept != ipass.AnswerPending {
			a.Kept = ans
		}
	}
	if a.RateLimit > 0 {
		ok, retryAfter, err := takeToken(ctx, q, db.d, a.ClientID, a.RateLimit, a.Arrived)
		if err != nil {
			return admitted{}, err
		}
		if !ok {
			// The operation does not run: no answer of it is kept, and a
			// repeat is answered REPEAT_REQUEST (the rate limit's answer
			// would tell it to retry what never succeeds).
			if kept != ipass.AnswerNone {
				none := &ipass.Answer{State: ipass.AnswerNone}
				if err := updateAnswer(ctx, q, a.ClientID, a.Digest, none); err != nil {
					return admitted{}, err
				}
			}
			a.Kept = nil
			return admitted{outcome: ipass.RateLimited, retryAfter: retryAfter}, nil
		}
	}
	return admitted{outcome: ipass.Admitted}, nil
}

// admitted is what admit decided, published once its transaction commits.
type admitted struct {
	outcome    ipass.AdmissionOutcome
	retryAfter time.Duration
	replay     *ipass.Answer
}

// answerArgs are the answer columns' values, in the order admit and
// KeepAnswer write them.
func answerArgs(ans *ipass.Answer) []any {
	var body, envelope any // NULL unless set
	if ans.Body != nil {
		body = ans.Body
	}
	if ans.Envelope != nil {
		envelope = ans.Envelope
	}
	return []any{int(ans.State), string(ans.Code), body, envelope, ans.KeyLen}
}

func repeatAnswer(ctx context.Context, q queryer, clientID string, digest []byte) (*ipass.Answer, error) {
	ans := &ipass.Answer{}
	var state int
	var code string
	err := q.QueryRowContext(ctx, `
		SELECT answer_state, answer_code, answer, answer_envelope, answer_key_len
		FROM replay_records WHERE client_id = $1 AND digest = $2`, clientID, digest).
		Scan(&state, &code, &ans.Body, &ans.Envelope, &ans.KeyLen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("replay record of client %q", clientID)
	}
	if err != nil {
		return nil, fmt.Errorf("read repeat answer: %w", err)
	}
	ans.State, ans.Code = ipass.AnswerState(state), ipass.Code(code)
	return ans, nil
}

// keepAnswer is the answer's part of a write transaction that recorded an
// admission with AnswerOf, or that runs after an earlier transaction of the
// request recorded it with the answer pending (see
// ipass.AdmittedAwaitingAnswer): called once the write has decided, with the
// created pass's id and decide's error, it keeps the answer in the same
// transaction (one statement, no commit of its own). The admission's Kept is
// set only once that transaction commits (see unit).
func (db *DB) keepAnswer(ctx context.Context, q queryer, passID string, refused error) error {
	slot, _ := ctx.Value(keptKey{}).(*keptSlot)
	if slot == nil {
		return nil
	}
	a := slot.a
	if a == nil || a.AnswerOf == nil || a.Digest == nil {
		return nil
	}
	ans := a.AnswerOf(passID, refused)
	if ans == nil {
		return nil
	}
	if err := updateAnswer(ctx, q, a.ClientID, a.Digest, ans); err != nil {
		return err
	}
	slot.kept = ans
	return nil
}

// keptSlot carries, through one attempt of a write, the admission whose
// answer the write keeps and the answer kept, until the commit publishes it.
type keptSlot struct {
	a    *ipass.Admission
	kept *ipass.Answer
}

type keptKey struct{}

func updateAnswer(ctx context.Context, q queryer, clientID string, digest []byte, ans *ipass.Answer) error {
	_, err := q.ExecContext(ctx, `
		UPDATE replay_records SET answer_state = $1, answer_code = $2, answer = $3, answer_envelope = $4, answer_key_len = $5
		WHERE client_id = $6 AND digest = $7`,
		append(answerArgs(ans), clientID, digest)...)
	if err != nil {
		return fmt.Errorf("keep answer: %w", err)
	}
	return nil
}

// KeepAnswer keeps ans with the replay record of (clientID, digest), in a
// transaction of its own (see ipass.Gate).
func (db *DB) KeepAnswer(ctx context.Context, clientID string, digest []byte, ans *ipass.Answer) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		return updateAnswer(ctx, db.q(tx, true), clientID, digest, ans)
	})
}

// RepeatAnswer returns what is kept with the replay record of (clientID,
// digest) (see ipass.Gate).
func (db *DB) RepeatAnswer(ctx context.Context, clientID string, digest []byte) (*ipass.Answer, error) {
	return repeatAnswer(ctx, db.rq(), clientID, digest)
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
