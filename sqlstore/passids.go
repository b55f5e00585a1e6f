package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PassIDs lists every pass id, ordered. It serves operators' tooling and the
// tests that snapshot the whole database before and after hostile requests.
func (db *DB) PassIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM passes ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list passes: %w", err)
	}
	return ids, nil
}
