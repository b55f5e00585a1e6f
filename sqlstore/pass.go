package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/ipass-dev/ipass"
)

// passColumns are the columns of passes that scanPass reads and insertPass
// writes, in order.
const passColumns = `id, merchant_id, biz_serial_id, template_code, type, product, user_id, status,
	start_date, end_date, biz_create, data_info, code_info, version, last_biz_date,
	created_at, updated_at, create_fingerprint, last_update_fingerprint`

// lockPassWithState reads a pass ($1) and its row of pass_history_state
// (NULLs if none), for UpdatePass; the dialect's locking suffix follows.
// Scalar subqueries rather than a join: PostgreSQL locks only the passes
// row, and the columns need no qualifying.
const lockPassWithState = `SELECT ` + passColumns + `,
	(SELECT version FROM pass_history_state WHERE pass_id = $1),
	(SELECT state FROM pass_history_state WHERE pass_id = $1)
	FROM passes WHERE id = $1`

// scanPass scans a row of passColumns, then into extra the columns after them.
func scanPass(s interface{ Scan(...any) error }, extra ...any) (*ipass.Pass, error) {
	p := &ipass.Pass{}
	var dataInfo, codeInfo string
	err := s.Scan(append([]any{&p.ID, &p.MerchantID, &p.BizSerialID, &p.TemplateCode, &p.Type, &p.Product, &p.UserID, &p.Status,
		&p.StartDate, &p.EndDate, &p.BizCreate, &dataInfo, &codeInfo, &p.Version, &p.LastBizDate,
		&p.CreatedAt, &p.UpdatedAt, &p.CreateFingerprint, &p.LastUpdateFingerprint}, extra...)...)
	if err != nil {
		return nil, err
	}
	if p.DataInfo, err = decodeDataInfo(dataInfo); err != nil {
		return nil, fmt.Errorf("pass %s: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(codeInfo), &p.CodeInfo); err != nil {
		return nil, fmt.Errorf("pass %s: decode codeInfo: %w", p.ID, err)
	}
	return p, nil
}

// findPass returns the pass matched by where (a WHERE clause, plus a locking
// suffix if wanted), or an error wrapping ipass.ErrNotFound naming what.
func findPass(ctx context.Context, q queryer, what, where string, args ...any) (*ipass.Pass, error) {
	p, err := scanPass(q.QueryRowContext(ctx, `SELECT `+passColumns+` FROM passes `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("%s", what)
	}
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", what, err)
	}
	return p, nil
}

// PassByID returns the pass; ErrNotFound if it does not exist.
func (db *DB) PassByID(ctx context.Context, passID string) (*ipass.Pass, error) {
	return findPass(ctx, db.rq(), fmt.Sprintf("pass %q", passID), `WHERE id = $1`, passID)
}

// MerchantPass returns the pass with passID if it belongs to merchantID;
// ErrNotFound otherwise. One indexed query either way, so another
// merchant's pass costs what a missing one does.
func (db *DB) MerchantPass(ctx context.Context, merchantID, passID string) (*ipass.Pass, error) {
	return findPass(ctx, db.r, fmt.Sprintf("pass %q of merchant %q", passID, merchantID),
		`WHERE id = $1 AND merchant_id = $2`, passID, merchantID)
}

// HolderPass returns the pass with passID if it belongs to userID;
// ErrNotFound otherwise. One indexed query either way, and its filter reads
// no column of the pass's content, so another holder's pass costs what a
// missing one does.
func (db *DB) HolderPass(ctx context.Context, userID, passID string) (*ipass.Pass, error) {
	return findPass(ctx, db.rq(), fmt.Sprintf("pass %q of user %q", passID, userID),
		`WHERE id = $1 AND user_id = $2`, passID, userID)
}

// PassBySerial returns the pass of merchantID with bizSerialID; ErrNotFound if none.
func (db *DB) PassBySerial(ctx context.Context, merchantID, bizSerialID string) (*ipass.Pass, error) {
	return findPass(ctx, db.rq(), fmt.Sprintf("pass of merchant %q with bizSerialId %q", merchantID, bizSerialID),
		`WHERE merchant_id = $1 AND biz_serial_id = $2`, merchantID, bizSerialID)
}

// CreatePass inserts p as version 1 with its first history entry v. The
// store sets Version to 1, CreatedAt and UpdatedAt to DB.Now, and in the
// history entry PassID, Version, At and Status; p and v are not modified.
//
// The (merchantId, bizSerialId) uniqueness is the database's: the INSERT does
// nothing on a conflict, and then the existing pass is read and returned with
// an error wrapping ipass.ErrConflict. Concurrent creates of one bizSerialId,
// from any number of processes, therefore make exactly one pass.
func (db *DB) CreatePass(ctx context.Context, p *ipass.Pass, v *ipass.PassVersion) (*ipass.Pass, error) {
	if p.ID == "" || p.MerchantID == "" || p.BizSerialID == "" {
		return nil, errors.New("create pass: id, merchantId and bizSerialId are required")
	}
	dataInfo, err := encodeDataInfo(p.DataInfo)
	if err != nil {
		return nil, fmt.Errorf("create pass: %w", err)
	}
	codeInfo, err := marshalJSON(p.CodeInfo)
	if err != nil {
		return nil, fmt.Errorf("create pass: %w", err)
	}

	var created, existing *ipass.Pass
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		created, existing = nil, nil
		np := clonePass(p)
		np.Version = 1
		np.CreatedAt = now.UnixMilli()
		np.UpdatedAt = np.CreatedAt

		q := db.q(tx, true)
		res, err := q.ExecContext(ctx, `
			INSERT INTO passes (`+passColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			ON CONFLICT (merchant_id, biz_serial_id) DO NOTHING`,
			np.ID, np.MerchantID, np.BizSerialID, np.TemplateCode, string(np.Type), string(np.Product), np.UserID, string(np.Status),
			np.StartDate, np.EndDate, np.BizCreate, dataInfo, codeInfo, np.Version, np.LastBizDate,
			np.CreatedAt, np.UpdatedAt, np.CreateFingerprint, np.LastUpdateFingerprint)
		if isUniqueViolation(err) {
			// Only the primary key is left to conflict: a passId collision is a
			// server bug or a one-in-10^31 accident, not a retried create.
			return fmt.Errorf("create pass: passId %s is already taken: %w", np.ID, err)
		}
		if isForeignKeyViolation(err) {
			// The service looks these up before creating; tenants are never
			// deleted, so this is a caller bug, reported as such.
			return fmt.Errorf("create pass: merchant %q, template %q or user %q does not exist: %w",
				np.MerchantID, np.TemplateCode, np.UserID, err)
		}
		if err != nil {
			return fmt.Errorf("create pass: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("create pass: %w", err)
		}
		if n == 0 {
			// Read in the same transaction: on PostgreSQL the INSERT waited for
			// the conflicting transaction to commit, and this statement's
			// snapshot includes it.
			existing, err = findPass(ctx, q, "existing pass", `WHERE merchant_id = $1 AND biz_serial_id = $2`, np.MerchantID, np.BizSerialID)
			return err
		}
		nv := *v
		nv.PassID, nv.Version, nv.At, nv.Status = np.ID, np.Version, np.CreatedAt, np.Status
		if err := db.insertVersion(ctx, q, &nv, nil); err != nil {
			return err
		}
		if err := db.keepAnswer(ctx, q, np.ID, nil); err != nil {
			return err
		}
		created = np
		return db.recordChange(ctx, tx, np.ID, np.UserID)
	})
	if err != nil {
		return nil, err
	}
	if created != nil {
		db.changed(created.UserID)
	}
	if existing != nil {
		return existing, fmt.Errorf("create pass: merchant %q already has bizSerialId %q (pass %s): %w",
			p.MerchantID, p.BizSerialID, existing.ID, ipass.ErrConflict)
	}
	return created, nil
}

// errDecide marks a transaction whose decide returned an error; UpdatePass
// returns decide's error itself. The transaction still commits (see
// DB.unit): decide runs before anything of the pass is written, so only the
// request's admission is kept.
var errDecide = errors.New("sqlstore: decide failed")

// UpdatePass serialises changes to one pass (see ipass.PassStore). The row
// is locked for the whole transaction: SELECT ... FOR UPDATE on PostgreSQL;
// on SQLite the transaction holds the database's write lock from BEGIN
// IMMEDIATE. The UPDATE is also guarded by the version read, so a lost lock
// would show up as a retry, never as a lost update. The store sets Version,
// UpdatedAt (DB.Now) and, in the history entry, PassID, Version, At and
// Status. decide must not change the fields fixed for life (id, merchantId,
// bizSerialId, templateCode, type, product, createdAt, createFingerprint).
// decide runs while the lock is held, so it must be quick and must not call
// the store's write methods: on SQLite that would wait forever for the one
// writer connection it is itself holding.
func (db *DB) UpdatePass(ctx context.Context, passID string, decide func(next *ipass.Pass) (*ipass.PassVersion, error)) (*ipass.Pass, error) {
	var out *ipass.Pass
	var decideErr error
	var holders []string // whose wallets changed
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		out, decideErr, holders = nil, nil, nil
		q := db.q(tx, true)
		// The pass and its stored history state in one statement: the
		// state is what the new version's prior is built from.
		var stored storedState
		cur, err := scanPass(q.QueryRowContext(ctx, lockPassWithState+db.d.forUpdate, passID), &stored.version, &stored.state)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("pass %q", passID)
		}
		if err != nil {
			return fmt.Errorf("find pass %q: %w", passID, err)
		}
		next := clonePass(cur)
		v, err := decide(next)
		if err != nil {
			if kerr := db.keepAnswer(ctx, q, "", err); kerr != nil {
				return kerr
			}
			decideErr = err
			return errDecide
		}
		if v == nil {
			out = cur
			return db.keepAnswer(ctx, q, "", nil)
		}
		if err := checkFixed(cur, next); err != nil {
			return fmt.Errorf("update pass %s: %w", passID, err)
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = now.UnixMilli()
		dataInfo, err := encodeDataInfo(next.DataInfo)
		if err != nil {
			return fmt.Errorf("update pass %s: %w", passID, err)
		}
		codeInfo, err := marshalJSON(next.CodeInfo)
		if err != nil {
			return fmt.Errorf("update pass %s: %w", passID, err)
		}
		nv := *v
		nv.PassID, nv.Version, nv.At, nv.Status = passID, next.Version, next.UpdatedAt, next.Status
		updateArgs := []any{next.UserID, string(next.Status), next.StartDate, next.EndDate, next.BizCreate,
			dataInfo, codeInfo, next.Version, next.LastBizDate, next.UpdatedAt, next.LastUpdateFingerprint,
			passID, cur.Version}
		if err := db.updateWithVersion(ctx, q, updateArgs, &nv, &stored); err != nil {
			return err
		}
		if err := db.keepAnswer(ctx, q, "", nil); err != nil {
			return err
		}
		out, holders = next, []string{next.UserID, cur.UserID}
		return db.recordChange(ctx, tx, passID, holders...)
	})
	if decideErr != nil {
		return nil, decideErr
	}
	if err != nil {
		return nil, err
	}
	db.changed(holders...)
	return out, nil
}

// clonePass returns a copy of p that shares no memory with it, so decide may
// change the copy freely and a retry starts from the stored state.
func clonePass(p *ipass.Pass) *ipass.Pass {
	c := *p
	if p.DataInfo != nil {
		c.DataInfo = make(ipass.DataInfo, len(p.DataInfo))
		for k, v := range p.DataInfo {
			c.DataInfo[k] = bytes.Clone(v)
		}
	}
	return &c
}

// checkFixed returns an error naming the first field fixed for life that
// next changed. Silently keeping the old value would hide a bug in decide.
func checkFixed(cur, next *ipass.Pass) error {
	// Compared field by field, not through a table of any values: boxing
	// them cost an allocation each on every update.
	name := ""
	switch {
	case cur.ID != next.ID:
		name = "id"
	case cur.MerchantID != next.MerchantID:
		name = "merchantId"
	case cur.BizSerialID != next.BizSerialID:
		name = "bizSerialId"
	case cur.TemplateCode != next.TemplateCode:
		name = "templateCode"
	case cur.Type != next.Type:
		name = "type"
	case cur.Product != next.Product:
		name = "product"
	case cur.CreatedAt != next.CreatedAt:
		name = "createdAt"
	case cur.CreateFingerprint != next.CreateFingerprint:
		name = "createFingerprint"
	default:
		return nil
	}
	return fmt.Errorf("decide changed %s, which is fixed for life", name)
}

// insertVersionSQL appends a row to pass_versions ($1 … $15).
const insertVersionSQL = `
	INSERT INTO pass_versions (pass_id, version, operation, client_id, merchant_id, changed_at, status,
		request_status, update_kind, changes, metadata, pass_verify_code, biz_date, tracer_id, prior)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// insertVersionWithStateSQL is insertVersionSQL and saveState's upsert ($16
// the state) in one statement, where the engine runs a data-modifying WITH
// (PostgreSQL): one round trip instead of two.
const insertVersionWithStateSQL = `
	WITH v AS (` + insertVersionSQL + `)
	INSERT INTO pass_history_state (pass_id, version, state) VALUES ($1, $2, $16)
	ON CONFLICT (pass_id) DO UPDATE SET version = excluded.version, state = excluded.state`

// updatePassSQL writes a pass's new state ($1 … $11) if it is still at
// the version read ($12 id, $13 version).
const updatePassSQL = `
	UPDATE passes SET
		user_id = $1,
		status = $2,
		start_date = $3,
		end_date = $4,
		biz_create = $5,
		data_info = $6,
		code_info = $7,
		version = $8,
		last_biz_date = $9,
		updated_at = $10,
		last_update_fingerprint = $11
	WHERE id = $12 AND version = $13`

// updateWithVersionSQL is updatePassSQL, insertVersionSQL ($14 … $28) and
// saveState's upsert ($29 the state) in one statement (PostgreSQL), which
// returns how many passes the UPDATE changed.
var updateWithVersionSQL = `
	WITH u AS (` + updatePassSQL + ` RETURNING 1),
	v AS (` + renumber(insertVersionSQL, 13) + `),
	s AS (INSERT INTO pass_history_state (pass_id, version, state) VALUES ($14, $15, $29)
		ON CONFLICT (pass_id) DO UPDATE SET version = excluded.version, state = excluded.state)
	SELECT count(*) FROM u`

// renumber shifts every placeholder $n of query by by.
func renumber(query string, by int) string {
	return placeholder.ReplaceAllStringFunc(query, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+by)
	})
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// updateWithVersion runs updatePassSQL with args, then appends v to the
// pass's history (insertVersion); errRetry if the pass is no longer at the
// version read. On PostgreSQL all of it is one statement.
func (db *DB) updateWithVersion(ctx context.Context, q queryer, args []any, v *ipass.PassVersion, stored *storedState) error {
	vargs, state, err := versionArgs(ctx, q, v, stored)
	if err != nil {
		return err
	}
	if db.d.name == EnginePostgres && state != nil {
		text, err := encodeObject(state, false)
		if err != nil {
			return fmt.Errorf("pass %s: history state: %w", v.PassID, err)
		}
		var n int
		err = q.QueryRowContext(ctx, updateWithVersionSQL, append(append(args, vargs...), text)...).Scan(&n)
		if isUniqueViolation(err) {
			// The version already exists: another write got there, which
			// the row lock rules out; the version guard's answer.
			return errRetry
		}
		if err != nil {
			return fmt.Errorf("update pass %s: %w", v.PassID, err)
		}
		if n == 0 {
			return errRetry // the transaction is rolled back, inserts included
		}
		return nil
	}
	res, err := q.ExecContext(ctx, updatePassSQL, args...)
	if err != nil {
		return fmt.Errorf("update pass %s: %w", v.PassID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update pass %s: %w", v.PassID, err)
	} else if n == 0 {
		return errRetry
	}
	return db.execVersion(ctx, q, v, vargs, state)
}

// versionArgs are insertVersionSQL's arguments for v, with the history
// state after it (nil if the history cannot be replayed).
func versionArgs(ctx context.Context, q queryer, v *ipass.PassVersion, stored *storedState) ([]any, ipass.HistoryState, error) {
	changes, err := rawToNull("changes", v.Changes)
	if err != nil {
		return nil, nil, fmt.Errorf("insert pass version: %w", err)
	}
	metadata, err := rawToNull("metadata", v.Metadata)
	if err != nil {
		return nil, nil, fmt.Errorf("insert pass version: %w", err)
	}
	prior, state, err := priorOf(ctx, q, v, stored)
	if err != nil {
		return nil, nil, err
	}
	return []any{v.PassID, v.Version, v.Operation, v.ClientID, v.MerchantID, v.At, string(v.Status),
		v.RequestStatus, string(v.UpdateKind), changes, metadata, v.PassVerifyCode, v.BizDate, v.TracerID, prior}, state, nil
}

// insertVersion appends v to the pass's history with its prior (see
// historypage.go), in tx. stored is the pass's stored history state if
// already read (see historyState).
func (db *DB) insertVersion(ctx context.Context, tx queryer, v *ipass.PassVersion, stored *storedState) error {
	args, state, err := versionArgs(ctx, tx, v, stored)
	if err != nil {
		return err
	}
	return db.execVersion(ctx, tx, v, args, state)
}

// execVersion inserts the version row (args) and stores state.
func (db *DB) execVersion(ctx context.Context, tx queryer, v *ipass.PassVersion, args []any, state ipass.HistoryState) error {
	if db.d.name == EnginePostgres && state != nil {
		text, err := encodeObject(state, false)
		if err != nil {
			return fmt.Errorf("pass %s: history state: %w", v.PassID, err)
		}
		if _, err := tx.ExecContext(ctx, insertVersionWithStateSQL, append(args, text)...); err != nil {
			return fmt.Errorf("insert pass %s version %d: %w", v.PassID, v.Version, err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, insertVersionSQL, args...); err != nil {
		return fmt.Errorf("insert pass %s version %d: %w", v.PassID, v.Version, err)
	}
	return saveState(ctx, tx, v.PassID, v.Version, state)
}

// History returns every version entry of the pass, oldest first;
// ErrNotFound if the pass does not exist (every pass has version 1).
func (db *DB) History(ctx context.Context, passID string) ([]ipass.PassVersion, error) {
	rows, err := readVersions(ctx, db.rq(), passID, 1, 1<<31-1)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("pass %q", passID)
	}
	out := make([]ipass.PassVersion, len(rows))
	for i, r := range rows {
		out[i] = r.v
	}
	return out, nil
}
