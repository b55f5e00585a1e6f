package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
)

// seedRowsPerStatement bounds one multi-row INSERT: 500 passes × 19 columns
// stays well under both engines' bound-parameter limits (SQLite 32766,
// PostgreSQL 65535).
const seedRowsPerStatement = 500

// SeedPasses inserts passes that are new, each with its first history entry
// versions[i], in one transaction with multi-row INSERTs. It is the bulk
// path of `ipass admin seed`, for filling a database to measure at scale:
// the rows are exactly what [DB.CreatePass] would write (the caller builds
// them with the same domain rules), but there is no idempotency check — a
// (merchantId, bizSerialId) or passId that exists already fails the whole
// batch. Version, CreatedAt and UpdatedAt are taken as given.
func (db *DB) SeedPasses(ctx context.Context, passes []*ipass.Pass, versions []*ipass.PassVersion) error {
	if len(passes) != len(versions) {
		return errors.New("seed passes: one history entry per pass is required")
	}
	passArgs := make([]any, 0, len(passes)*19)
	versionArgs := make([]any, 0, len(passes)*15)
	for i, p := range passes {
		dataInfo, err := encodeDataInfo(p.DataInfo)
		if err != nil {
			return fmt.Errorf("seed pass %s: %w", p.ID, err)
		}
		codeInfo, err := marshalJSON(p.CodeInfo)
		if err != nil {
			return fmt.Errorf("seed pass %s: %w", p.ID, err)
		}
		passArgs = append(passArgs, p.ID, p.MerchantID, p.BizSerialID, p.TemplateCode, string(p.Type), string(p.Product),
			p.UserID, string(p.Status), p.StartDate, p.EndDate, p.BizCreate, dataInfo, codeInfo, p.Version, p.LastBizDate,
			p.CreatedAt, p.UpdatedAt, p.CreateFingerprint, p.LastUpdateFingerprint)
		v := versions[i]
		changes, err := rawToNull("changes", v.Changes)
		if err != nil {
			return fmt.Errorf("seed pass %s: %w", p.ID, err)
		}
		metadata, err := rawToNull("metadata", v.Metadata)
		if err != nil {
			return fmt.Errorf("seed pass %s: %w", p.ID, err)
		}
		// A first version replaced nothing: its prior is {} (NULL if its
		// changes cannot be replayed, as insertVersion leaves it). The pass's
		// history state is left for its first update to build from this row.
		prior := sql.NullString{String: "{}", Valid: true}
		if _, err := ipass.HistoryEntryOf(*v, nil); err != nil {
			prior = sql.NullString{}
		}
		versionArgs = append(versionArgs, v.PassID, v.Version, v.Operation, v.ClientID, v.MerchantID, v.At, string(v.Status),
			v.RequestStatus, string(v.UpdateKind), changes, metadata, v.PassVerifyCode, v.BizDate, v.TracerID, prior)
	}
	holders := seedHolders(passes)
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		if err := insertRows(ctx, tx, db.d, `INSERT INTO passes (`+passColumns+`) VALUES `, 19, passArgs); err != nil {
			return fmt.Errorf("seed passes: %w", err)
		}
		err := insertRows(ctx, tx, db.d, `INSERT INTO pass_versions (pass_id, version, operation, client_id, merchant_id,
			changed_at, status, request_status, update_kind, changes, metadata, pass_verify_code, biz_date, tracer_id, prior) VALUES `,
			15, versionArgs)
		if err != nil {
			return fmt.Errorf("seed pass history: %w", err)
		}
		return db.seedChanges(ctx, tx, holders)
	})
	if err != nil {
		return err
	}
	users := make([]string, len(holders))
	for i, h := range holders {
		users[i] = h.userID
	}
	db.changed(users...)
	return nil
}

// seedHolder is one holder's share of a seed batch: their new passes,
// oldest change first.
type seedHolder struct {
	userID  string
	passIDs []string
}

// seedHolders groups passes by holder, holders sorted (the order in which
// recordChange takes counter locks, so a seed and a pass write cannot
// deadlock), each holder's passes in the order of their last change.
func seedHolders(passes []*ipass.Pass) []seedHolder {
	byUser := map[string][]*ipass.Pass{}
	for _, p := range passes {
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	out := make([]seedHolder, 0, len(byUser))
	for _, u := range slices.Sorted(maps.Keys(byUser)) {
		ps := byUser[u]
		slices.SortStableFunc(ps, func(a, b *ipass.Pass) int { return cmp.Compare(a.UpdatedAt, b.UpdatedAt) })
		h := seedHolder{userID: u, passIDs: make([]string, len(ps))}
		for i, p := range ps {
			h.passIDs[i] = p.ID
		}
		out = append(out, h)
	}
	return out
}

// seedChanges enters seeded passes into the change feed, as recordChange
// does for each pass write, so they reach the wallet and its feed: each
// holder's counter moves on by the number of their passes in one statement,
// and the passes take the cursors in between, in the order of their changes.
func (db *DB) seedChanges(ctx context.Context, tx *sql.Tx, holders []seedHolder) error {
	var args []any
	for _, h := range holders {
		n := int64(len(h.passIDs))
		var last int64
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO holder_cursors (user_id, seq) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET seq = holder_cursors.seq + excluded.seq
			RETURNING seq`, h.userID, n).Scan(&last); err != nil {
			return fmt.Errorf("seed change feed: cursor of holder %s: %w", h.userID, err)
		}
		for i, id := range h.passIDs {
			args = append(args, h.userID, id, last-n+1+int64(i))
		}
		if db.d.notify != "" {
			if _, err := tx.ExecContext(ctx, db.d.notify, h.userID); err != nil {
				return fmt.Errorf("seed change feed: notify: %w", err)
			}
		}
	}
	if err := insertRows(ctx, tx, db.d, `INSERT INTO pass_changes (user_id, pass_id, seq) VALUES `, 3, args); err != nil {
		return fmt.Errorf("seed change feed: %w", err)
	}
	return nil
}

// insertRows runs prefix followed by "($1, …), (…)" for args, cols to a
// row, in statements of at most seedRowsPerStatement rows.
func insertRows(ctx context.Context, tx *sql.Tx, d dialect, prefix string, cols int, args []any) error {
	var b strings.Builder
	for start := 0; start < len(args); start += cols * seedRowsPerStatement {
		chunk := args[start:min(start+cols*seedRowsPerStatement, len(args))]
		b.Reset()
		b.WriteString(prefix)
		for i := range chunk {
			switch {
			case i == 0:
				b.WriteString("(")
			case i%cols == 0:
				b.WriteString("), (")
			default:
				b.WriteString(", ")
			}
			b.WriteString(d.bulkPlaceholder(i + 1))
		}
		b.WriteString(")")
		if _, err := tx.ExecContext(ctx, b.String(), chunk...); err != nil {
			return err
		}
	}
	return nil
}
