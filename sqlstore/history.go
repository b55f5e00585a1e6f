package sqlstore

import (
	"context"
	"fmt"

	"github.com/ipass-dev/ipass"
)

// ListPasses returns the passes of merchantID, of userID only when it is not
// empty, ordered by passId, at most limit of them (limit ≤ 0: all). It is
// an operator's view (`ipass admin passes list`), not part of the API.
func (db *DB) ListPasses(ctx context.Context, merchantID, userID string, limit int) ([]*ipass.Pass, error) {
	q := `SELECT ` + passColumns + ` FROM passes WHERE merchant_id = $1`
	args := []any{merchantID}
	if userID != "" {
		q += ` AND user_id = $2`
		args = append(args, userID)
	}
	q += ` ORDER BY id`
	if limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list passes: %w", err)
	}
	var out []*ipass.Pass
	for rows.Next() {
		p, err := scanPass(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list passes: %w", err)
		}
		out = append(out, p)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list passes: %w", err)
	}
	return out, nil
}
