package sqlstore

// History pages whose cost follows the page (migration 00007): each version
// keeps beside its changes the values they replaced (prior), taken in its own
// write transaction from pass_history_state, what the history has built up
// after the pass's latest version. A page then reads only its own rows.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

// versionColumns are the columns of pass_versions that scanVersion reads.
const versionColumns = `pass_id, version, operation, client_id, merchant_id, changed_at, status,
	request_status, update_kind, changes, metadata, pass_verify_code, biz_date, tracer_id, prior`

// scanVersion reads one row of versionColumns; prior is nil when the row
// has none yet (written before migration 00007, or its changes could not
// be replayed).
func scanVersion(s interface{ Scan(...any) error }) (v ipass.PassVersion, prior json.RawMessage, err error) {
	var changes, metadata, pr sql.NullString
	err = s.Scan(&v.PassID, &v.Version, &v.Operation, &v.ClientID, &v.MerchantID, &v.At, &v.Status,
		&v.RequestStatus, &v.UpdateKind, &changes, &metadata, &v.PassVerifyCode, &v.BizDate, &v.TracerID, &pr)
	v.Changes, v.Metadata = nullToRaw(changes), nullToRaw(metadata)
	return v, nullToRaw(pr), err
}

// versionRow is one stored version with its prior.
type versionRow struct {
	v     ipass.PassVersion
	prior json.RawMessage
}

// readVersions returns the pass's versions lo … hi, oldest first.
func readVersions(ctx context.Context, q queryer, passID string, lo, hi int) ([]versionRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+versionColumns+` FROM pass_versions
		WHERE pass_id = $1 AND version >= $2 AND version <= $3 ORDER BY version`, passID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read history of pass %s: %w", passID, err)
	}
	var out []versionRow
	for rows.Next() {
		v, prior, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("read history of pass %s: %w", passID, err)
		}
		out = append(out, versionRow{v, prior})
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("read history of pass %s: %w", passID, err)
	}
	return out, nil
}

// HistoryPage returns one page of the pass's history (see ipass.PassStore),
// reading the latest version number and the page's own rows only. A page
// with a row that has no prior yet is answered by replaying the whole
// history, as before migration 00007: slower, the same answer.
func (db *DB) HistoryPage(ctx context.Context, passID string, from, size int) (*ipass.HistoryPage, error) {
	var page *ipass.HistoryPage
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		q := db.q(tx, false)
		var latest sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM pass_versions WHERE pass_id = $1`, passID).Scan(&latest); err != nil {
			return fmt.Errorf("history page of pass %s: %w", passID, err)
		}
		if !latest.Valid {
			return notFound("pass %q", passID)
		}
		last := int(latest.Int64)
		page = &ipass.HistoryPage{PassID: passID, LatestVersion: last, Versions: []ipass.HistoryEntry{}}
		if from > last {
			return nil
		}
		end := min(from-1+size, last)
		rows, err := readVersions(ctx, q, passID, from, end)
		if err != nil {
			return err
		}
		if page.Versions, err = entriesOf(rows, from); errors.Is(err, errNoPrior) {
			all, err := readVersions(ctx, q, passID, 1, last)
			if err != nil {
				return err
			}
			page, err = replayPage(passID, all, from, size)
			return err
		} else if err != nil {
			return err
		}
		if end < last {
			page.NextFromVersion = end + 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// errNoPrior: a page needs a row whose prior is not stored.
var errNoPrior = errors.New("sqlstore: version without prior")

// entriesOf builds the entries of consecutive rows starting at version from
// from their priors; errNoPrior if a row lacks one or a version is missing.
func entriesOf(rows []versionRow, from int) ([]ipass.HistoryEntry, error) {
	out := make([]ipass.HistoryEntry, 0, len(rows))
	for i, r := range rows {
		if r.prior == nil || r.v.Version != from+i {
			return nil, errNoPrior
		}
		var prior map[string]json.RawMessage
		if err := json.Unmarshal(r.prior, &prior); err != nil {
			return nil, fmt.Errorf("history of pass %s version %d: prior: %w", r.v.PassID, r.v.Version, err)
		}
		e, err := ipass.HistoryEntryOf(r.v, prior)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// replayPage is the page cut out of the whole history, replayed.
func replayPage(passID string, all []versionRow, from, size int) (*ipass.HistoryPage, error) {
	vs := make([]ipass.PassVersion, len(all))
	for i, r := range all {
		vs[i] = r.v
	}
	entries, err := ipass.ReplayHistory(vs)
	if err != nil {
		return nil, err
	}
	return ipass.PageHistory(passID, entries, from, size), nil
}

// priorOf returns v's prior as stored text (NULL when its changes cannot be
// replayed) and the pass's history state after v (nil then), taking the
// state before v in tx, the transaction that inserts v.
func priorOf(ctx context.Context, q queryer, v *ipass.PassVersion, stored *storedState) (sql.NullString, ipass.HistoryState, error) {
	state, err := historyState(ctx, q, v.PassID, v.Version-1, stored)
	if err != nil || state == nil {
		return sql.NullString{}, nil, err
	}
	e, err := state.Apply(*v)
	if err != nil {
		// Stored as it is; its pages are read by replay, which reports the
		// problem as it always did.
		return sql.NullString{}, nil, nil
	}
	prior, err := encodeObject(e.Prior(), false)
	if err != nil {
		return sql.NullString{}, nil, fmt.Errorf("pass %s version %d: prior: %w", v.PassID, v.Version, err)
	}
	return sql.NullString{String: prior, Valid: true}, state, nil
}

// historyState returns what the pass's history built up after version
// (empty for 0), from pass_history_state, or by replaying versions 1 …
// version when the stored state is missing or not at that version (a pass
// written before migration 00007, or by a node running older code). nil
// when the history cannot be replayed. stored, when not nil, is the stored
// state already read with the locked pass (UpdatePass), saving a statement.
func historyState(ctx context.Context, q queryer, passID string, version int, stored *storedState) (ipass.HistoryState, error) {
	if version == 0 {
		return ipass.HistoryState{}, nil
	}
	if stored == nil {
		stored = &storedState{}
		err := q.QueryRowContext(ctx, `SELECT version, state FROM pass_history_state WHERE pass_id = $1`, passID).Scan(&stored.version, &stored.state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("pass %s: read history state: %w", passID, err)
		}
	}
	at, text := stored.version.Int64, stored.state.String
	if stored.version.Valid && stored.state.Valid && at == int64(version) {
		state := ipass.HistoryState{}
		if err := json.Unmarshal([]byte(text), &state); err != nil {
			return nil, fmt.Errorf("pass %s: decode history state: %w", passID, err)
		}
		return state, nil
	}
	return rebuildState(ctx, q, passID, version)
}

// storedState is a pass's row of pass_history_state; NULLs when it has none.
type storedState struct {
	version sql.NullInt64
	state   sql.NullString
}

// rebuildState replays versions 1 … version of the pass, storing the prior
// of each row that lacks one, and returns the state after version; nil (and
// nothing stored) when the history cannot be replayed.
func rebuildState(ctx context.Context, q queryer, passID string, version int) (ipass.HistoryState, error) {
	rows, err := readVersions(ctx, q, passID, 1, version)
	if err != nil {
		return nil, err
	}
	state := ipass.HistoryState{}
	var fill []versionRow
	for i, r := range rows {
		if r.v.Version != i+1 {
			return nil, nil
		}
		e, err := state.Apply(r.v)
		if err != nil {
			return nil, nil
		}
		if r.prior == nil {
			prior, err := encodeObject(e.Prior(), false)
			if err != nil {
				return nil, fmt.Errorf("pass %s version %d: prior: %w", passID, r.v.Version, err)
			}
			fill = append(fill, versionRow{v: r.v, prior: json.RawMessage(prior)})
		}
	}
	if len(rows) != version {
		return nil, nil
	}
	for _, r := range fill {
		if _, err := q.ExecContext(ctx, `UPDATE pass_versions SET prior = $1 WHERE pass_id = $2 AND version = $3`,
			string(r.prior), passID, r.v.Version); err != nil {
			return nil, fmt.Errorf("pass %s version %d: store prior: %w", passID, r.v.Version, err)
		}
	}
	return state, nil
}

// saveState stores state as the pass's history state after version; a nil
// state drops the stored one (the next write replays the history).
func saveState(ctx context.Context, q queryer, passID string, version int, state ipass.HistoryState) error {
	if state == nil {
		if _, err := q.ExecContext(ctx, `DELETE FROM pass_history_state WHERE pass_id = $1`, passID); err != nil {
			return fmt.Errorf("pass %s: drop history state: %w", passID, err)
		}
		return nil
	}
	text, err := encodeObject(state, false)
	if err != nil {
		return fmt.Errorf("pass %s: history state: %w", passID, err)
	}
	if _, err := q.ExecContext(ctx, `
		INSERT INTO pass_history_state (pass_id, version, state) VALUES ($1, $2, $3)
		ON CONFLICT (pass_id) DO UPDATE SET version = excluded.version, state = excluded.state`,
		passID, version, text); err != nil {
		return fmt.Errorf("pass %s: store history state: %w", passID, err)
	}
	return nil
}

// fillPriors gives every version written before migration 00007 its prior,
// pass by pass, each in a transaction that locks the pass as UpdatePass
// does. It runs when the database is opened; the partial index
// pass_versions_without_prior makes it one empty index read once done.
// Several nodes opening at once each fill what is left (a filled row is
// skipped). A pass whose history cannot be replayed is left as it is.
func (db *DB) fillPriors(ctx context.Context) error {
	after, filled := "", 0
	for {
		var ids []string
		rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT pass_id FROM pass_versions
			WHERE prior IS NULL AND pass_id > $1 ORDER BY pass_id LIMIT 100`, after)
		if err != nil {
			return fmt.Errorf("fill history priors: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("fill history priors: %w", err)
			}
			ids = append(ids, id)
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("fill history priors: %w", err)
		}
		if len(ids) == 0 {
			if filled > 0 {
				db.logger.Info("filled history priors", "engine", db.d.name, "passes", filled)
			}
			return nil
		}
		for _, id := range ids {
			err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
				q := db.q(tx, true)
				var version int
				err := q.QueryRowContext(ctx, `SELECT version FROM passes WHERE id = $1`+db.d.forUpdate, id).Scan(&version)
				if errors.Is(err, sql.ErrNoRows) {
					return nil
				}
				if err != nil {
					return err
				}
				state, err := rebuildState(ctx, q, id, version)
				if err != nil || state == nil {
					if state == nil && err == nil {
						db.logger.Warn("history of pass cannot be replayed; its pages are read by replay", "pass", id)
					}
					return err
				}
				return saveState(ctx, q, id, version, state)
			})
			if err != nil {
				return fmt.Errorf("fill history priors of pass %s: %w", id, err)
			}
			filled++
		}
		after = ids[len(ids)-1]
	}
}
