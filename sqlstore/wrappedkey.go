package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

var _ ipass.WrappedKeyStore = (*DB)(nil)

// RecordWrappedKey stores digest for clientID at instant at and reports
// whether it was new. One insert on the primary key decides, so racing
// processes agree: exactly one of them gets fresh.
func (db *DB) RecordWrappedKey(ctx context.Context, clientID string, digest []byte, at time.Time) (fresh bool, err error) {
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO wrapped_keys (digest, client_id, used_at)
			VALUES ($1, $2, $3)
			ON CONFLICT (digest) DO NOTHING`,
			digest, clientID, at.UnixMilli())
		if err != nil {
			return fmt.Errorf("record wrapped key: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record wrapped key: %w", err)
		}
		fresh = n == 1
		return nil
	})
	return fresh, err
}
