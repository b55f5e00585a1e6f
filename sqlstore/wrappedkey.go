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
// whether it was new, or who used it first. One insert on the primary key
// decides, so racing processes agree: exactly one of them gets KeyFresh.
func (db *DB) RecordWrappedKey(ctx context.Context, clientID string, digest []byte, at time.Time) (use ipass.KeyUse, err error) {
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
		if n == 1 {
			use = ipass.KeyFresh
			return nil
		}
		// Only on a reuse: who used the key first.
		var first string
		if err := tx.QueryRowContext(ctx, `SELECT client_id FROM wrapped_keys WHERE digest = $1`, digest).Scan(&first); err != nil {
			return fmt.Errorf("record wrapped key: %w", err)
		}
		use = ipass.KeyUsedByOther
		if first == clientID {
			use = ipass.KeyUsedBySame
		}
		return nil
	})
	return use, err
}
