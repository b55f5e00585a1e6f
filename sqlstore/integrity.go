package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxProblems bounds how many findings of one check CheckIntegrity reports.
const maxProblems = 20

// CheckIntegrity checks the database and returns an error listing what is
// wrong, or nil. On SQLite it runs PRAGMA integrity_check and
// foreign_key_check. On both engines it checks the invariants the store
// maintains: every pass has history entries exactly 1..version, and the last
// entry's status is the pass's status.
func (db *DB) CheckIntegrity(ctx context.Context) error {
	var problems []string
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		p, err := db.d.engineIntegrity(ctx, tx)
		if err != nil {
			return err
		}
		problems = append(problems, p...)

		// With (pass_id, version) the primary key, entries are distinct, so
		// count = version, min = 1 and max = version mean exactly 1..version.
		rows, err := tx.QueryContext(ctx, `
			SELECT p.id, p.version, COUNT(v.version), COALESCE(MIN(v.version), 0), COALESCE(MAX(v.version), 0)
			FROM passes p
			LEFT JOIN pass_versions v ON v.pass_id = p.id
			GROUP BY p.id, p.version
			HAVING COUNT(v.version) <> p.version
				OR COALESCE(MIN(v.version), 0) <> 1
				OR COALESCE(MAX(v.version), 0) <> p.version
			ORDER BY p.id
			LIMIT $1`, maxProblems)
		if err != nil {
			return fmt.Errorf("check pass history: %w", err)
		}
		for rows.Next() {
			var id string
			var version, count, lo, hi int64
			if err := rows.Scan(&id, &version, &count, &lo, &hi); err != nil {
				rows.Close()
				return fmt.Errorf("check pass history: %w", err)
			}
			problems = append(problems, fmt.Sprintf("pass %s is at version %d but has %d history entries (%d..%d)", id, version, count, lo, hi))
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("check pass history: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `
			SELECT p.id, p.status, v.status
			FROM passes p
			JOIN pass_versions v ON v.pass_id = p.id AND v.version = p.version
			WHERE v.status <> p.status
			ORDER BY p.id
			LIMIT $1`, maxProblems)
		if err != nil {
			return fmt.Errorf("check pass status: %w", err)
		}
		for rows.Next() {
			var id, status, last string
			if err := rows.Scan(&id, &status, &last); err != nil {
				rows.Close()
				return fmt.Errorf("check pass status: %w", err)
			}
			problems = append(problems, fmt.Sprintf("pass %s has status %s but its last history entry says %s", id, status, last))
		}
		if err := closeRows(rows); err != nil {
			return fmt.Errorf("check pass status: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check integrity: %w", err)
	}
	if len(problems) > 0 {
		return errors.New("integrity check failed:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}
