package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

var _ ipass.ChaosStore = (*DB)(nil)

// ErrNotSandbox is returned by [DB.RequireSandbox] for a database that no
// `ipass serve --sandbox` has claimed.
var ErrNotSandbox = errors.New("this database does not belong to a sandbox: start `ipass serve --sandbox` on it first (a database a server without --sandbox has used never becomes one)")

// ClaimMode records, on a database's first start, whether it belongs to a
// sandbox, and refuses a start of the other kind afterwards: a production
// database can never be made to fail on purpose, nor a sandbox's data be
// served as production.
func (db *DB) ClaimMode(ctx context.Context, sandbox bool) error {
	var recorded int
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO server_mode (id, sandbox, recorded_at) VALUES (1, $1, $2)
			ON CONFLICT (id) DO NOTHING`, boolInt(sandbox), now.UnixMilli()); err != nil {
			return fmt.Errorf("record server mode: %w", err)
		}
		return tx.QueryRowContext(ctx, `SELECT sandbox FROM server_mode WHERE id = 1`).Scan(&recorded)
	})
	if err != nil {
		return err
	}
	switch {
	case sandbox && recorded == 0:
		return errors.New("--sandbox: this database was used by a server without --sandbox; a sandbox needs a database of its own")
	case !sandbox && recorded == 1:
		return errors.New("this database belongs to a sandbox (its first server ran with --sandbox): start with --sandbox, or use another database for production")
	}
	return nil
}

// RequireSandbox returns ErrNotSandbox unless a sandbox claimed the database.
func (db *DB) RequireSandbox(ctx context.Context) error {
	var sandbox int
	err := db.r.QueryRowContext(ctx, `SELECT sandbox FROM server_mode WHERE id = 1`).Scan(&sandbox)
	if errors.Is(err, sql.ErrNoRows) || err == nil && sandbox == 0 {
		return ErrNotSandbox
	}
	if err != nil {
		return fmt.Errorf("read server mode: %w", err)
	}
	return nil
}

// AddChaosRule implements [ipass.ChaosStore].
func (db *DB) AddChaosRule(ctx context.Context, r ipass.ChaosRule) (ipass.ChaosRule, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		return tx.QueryRowContext(ctx, `
			INSERT INTO chaos_rules (client_id, operation, answer, remaining, after_execute, delay_ms)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			r.ClientID, r.Operation, string(r.Answer), r.Remaining, boolInt(r.AfterExecute), r.Delay.Milliseconds()).Scan(&r.ID)
	})
	if err != nil {
		return r, fmt.Errorf("add chaos rule: %w", err)
	}
	return r, nil
}

const chaosColumns = `id, client_id, operation, answer, remaining, after_execute, delay_ms`

func scanChaosRule(row interface{ Scan(...any) error }) (ipass.ChaosRule, error) {
	var r ipass.ChaosRule
	var answer string
	var after int
	var delayMS int64
	err := row.Scan(&r.ID, &r.ClientID, &r.Operation, &answer, &r.Remaining, &after, &delayMS)
	r.Answer, r.AfterExecute, r.Delay = ipass.ChaosAnswer(answer), after == 1, time.Duration(delayMS)*time.Millisecond
	return r, err
}

// ChaosRules implements [ipass.ChaosStore].
func (db *DB) ChaosRules(ctx context.Context, clientID string) ([]ipass.ChaosRule, error) {
	var rules []ipass.ChaosRule
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+chaosColumns+` FROM chaos_rules WHERE client_id = $1 ORDER BY id`, clientID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanChaosRule(rows)
			if err != nil {
				return err
			}
			rules = append(rules, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list chaos rules: %w", err)
	}
	return rules, nil
}

// ClearChaosRules implements [ipass.ChaosStore].
func (db *DB) ClearChaosRules(ctx context.Context, clientID string) (int, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM chaos_rules WHERE client_id = $1`, clientID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("clear chaos rules: %w", err)
	}
	return int(n), nil
}

// TakeChaosRule implements [ipass.ChaosStore]. The oldest matching rule is
// locked (PostgreSQL) or read under the write lock (SQLite) before one of
// its requests is used, so racing nodes each take a different one.
func (db *DB) TakeChaosRule(ctx context.Context, clientID, operation string) (r ipass.ChaosRule, ok bool, err error) {
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		ok = false
		r, err = scanChaosRule(tx.QueryRowContext(ctx, `
			SELECT `+chaosColumns+` FROM chaos_rules
			WHERE client_id = $1 AND (operation = $2 OR operation = '*')
			ORDER BY id LIMIT 1`+db.d.forUpdate, clientID, operation))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		q := `UPDATE chaos_rules SET remaining = remaining - 1 WHERE id = $1`
		if r.Remaining <= 1 {
			q = `DELETE FROM chaos_rules WHERE id = $1`
		}
		if _, err := tx.ExecContext(ctx, q, r.ID); err != nil {
			return err
		}
		r.Remaining--
		ok = true
		return nil
	})
	if err != nil {
		return r, false, fmt.Errorf("take chaos rule: %w", err)
	}
	return r, ok, nil
}

// ChaosClients implements [ipass.ChaosStore].
func (db *DB) ChaosClients(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT client_id FROM chaos_rules`)
	if err != nil {
		return nil, fmt.Errorf("chaos clients: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("chaos clients: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var _ ipass.MerchantClocks = (*DB)(nil)

// ClockOffset is merchantID's clock offset (0: the real clock).
func (db *DB) ClockOffset(ctx context.Context, merchantID string) (time.Duration, error) {
	var ms int64
	err := db.r.QueryRowContext(ctx, `SELECT offset_ms FROM merchant_clocks WHERE merchant_id = $1`, merchantID).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read merchant clock: %w", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// SetClockOffset moves merchantID's clock to the real one plus offset; 0
// gives it the real clock back.
func (db *DB) SetClockOffset(ctx context.Context, merchantID string, offset time.Duration) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		if offset == 0 {
			_, err := tx.ExecContext(ctx, `DELETE FROM merchant_clocks WHERE merchant_id = $1`, merchantID)
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO merchant_clocks (merchant_id, offset_ms) VALUES ($1, $2)
			ON CONFLICT (merchant_id) DO UPDATE SET offset_ms = excluded.offset_ms`, merchantID, offset.Milliseconds())
		return err
	})
	if err != nil {
		return fmt.Errorf("set merchant clock: %w", err)
	}
	return nil
}

// ClockOffsets implements [ipass.MerchantClocks].
func (db *DB) ClockOffsets(ctx context.Context) (map[string]time.Duration, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT merchant_id, offset_ms FROM merchant_clocks`)
	if err != nil {
		return nil, fmt.Errorf("merchant clocks: %w", err)
	}
	defer rows.Close()
	m := map[string]time.Duration{}
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, fmt.Errorf("merchant clocks: %w", err)
		}
		m[id] = time.Duration(ms) * time.Millisecond
	}
	return m, rows.Err()
}
