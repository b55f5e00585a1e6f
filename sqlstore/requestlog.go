package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
)

var _ ipass.RequestLogStore = (*DB)(nil)

// requestLogColumns are written by AppendRequestLog, in this order.
const requestLogColumns = `at, client_id, operation, merchant_id, pass_id, result_code, result_message,
	http_status, duration_us, tracer_id, content_sha256, node`

// requestLogChunk is the most rows one INSERT carries: 12 parameters a row
// stays far below either engine's parameter limit.
const requestLogChunk = 500

// AppendRequestLog writes entries in one transaction, a few multi-row
// INSERTs: the batch writer calls it a few times a second, off the request
// path.
func (db *DB) AppendRequestLog(ctx context.Context, entries []ipass.RequestLogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		for start := 0; start < len(entries); start += requestLogChunk {
			chunk := entries[start:min(start+requestLogChunk, len(entries))]
			var b strings.Builder
			b.WriteString(`INSERT INTO request_log (` + requestLogColumns + `) VALUES `)
			args := make([]any, 0, len(chunk)*12)
			for i, e := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('(')
				for j := range 12 {
					if j > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "$%d", len(args)+j+1)
				}
				b.WriteByte(')')
				args = append(args, e.At, e.ClientID, e.Operation, e.MerchantID, e.PassID, e.ResultCode, e.Message,
					e.HTTPStatus, int64(math.Round(e.DurationMS*1000)), e.TracerID, e.ContentSHA256, e.Node)
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("append request log: %w", err)
			}
		}
		return nil
	})
}

// RequestLog returns the entries q selects, highest ID first.
func (db *DB) RequestLog(ctx context.Context, q ipass.RequestLogQuery) ([]ipass.RequestLogEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.ClientID != "" {
		add("client_id = $%d", q.ClientID)
	}
	if q.ResultCode != "" {
		add("result_code = $%d", q.ResultCode)
	}
	if q.PassID != "" {
		add("pass_id = $%d", q.PassID)
	}
	if !q.Since.IsZero() {
		add("at >= $%d", q.Since.UnixMilli())
	}
	if q.FromID > 0 {
		add("id <= $%d", q.FromID)
	}
	query := `SELECT id, ` + requestLogColumns + ` FROM request_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC`
	if q.Limit > 0 {
		args = append(args, q.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	var out []ipass.RequestLogEntry
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("read request log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e ipass.RequestLogEntry
			var us int64
			if err := rows.Scan(&e.ID, &e.At, &e.ClientID, &e.Operation, &e.MerchantID, &e.PassID, &e.ResultCode, &e.Message,
				&e.HTTPStatus, &us, &e.TracerID, &e.ContentSHA256, &e.Node); err != nil {
				return fmt.Errorf("read request log: %w", err)
			}
			e.DurationMS = float64(us) / 1000
			out = append(out, e)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read request log: %w", err)
		}
		return nil
	})
	return out, err
}

// PruneRequestLog deletes what is older than cutoff, then, for each client
// over maxPerClient rows, its oldest rows down to that bound.
func (db *DB) PruneRequestLog(ctx context.Context, cutoff time.Time, maxPerClient int) (int64, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		n = 0
		res, err := tx.ExecContext(ctx, `DELETE FROM request_log WHERE at < $1`, cutoff.UnixMilli())
		if err != nil {
			return fmt.Errorf("prune request log: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("prune request log: %w", err)
		}
		if maxPerClient <= 0 {
			return nil
		}
		over, err := clientsOver(ctx, tx, maxPerClient)
		if err != nil {
			return err
		}
		for _, client := range over {
			// The newest maxPerClient rows have IDs above the one at that
			// offset; everything up to it goes.
			res, err := tx.ExecContext(ctx, `
				DELETE FROM request_log WHERE client_id = $1 AND id <= (
					SELECT id FROM request_log WHERE client_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
				client, maxPerClient)
			if err != nil {
				return fmt.Errorf("prune request log of %s: %w", client, err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("prune request log of %s: %w", client, err)
			}
			n += k
		}
		return nil
	})
	return n, err
}

// clientsOver lists the clients with more than max rows.
func clientsOver(ctx context.Context, tx *sql.Tx, max int) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT client_id FROM request_log GROUP BY client_id HAVING COUNT(*) > $1`, max)
	if err != nil {
		return nil, fmt.Errorf("prune request log: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("prune request log: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
