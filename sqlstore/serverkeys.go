package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ServerKeySet is the SHA-256 fingerprints (hex, as gateway.Fingerprint
// prints them) of the server's three public keys for one --server-key-version.
type ServerKeySet struct {
	RSASigning    string
	ECCSigning    string
	RSAEncryption string
}

// RecordedServerKeys is the key set the database holds for a version and when
// it was first recorded.
type RecordedServerKeys struct {
	ServerKeySet
	RecordedAt time.Time
}

// ServerKeys returns the key set recorded for version; found is false when no
// node has started with that version yet.
func (db *DB) ServerKeys(ctx context.Context, version int) (rec RecordedServerKeys, found bool, err error) {
	err = db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		rec, found, err = findServerKeys(ctx, tx, version)
		return err
	})
	return rec, found, err
}

// RecordServerKeys records keys for version unless a set is already recorded,
// and returns the set that is recorded now: keys itself when this call (or an
// earlier one with the same keys) recorded it, another set when a node with
// other keys got there first. The first writer wins under concurrency: the
// insert does nothing on conflict, and the read sees the winner.
func (db *DB) RecordServerKeys(ctx context.Context, version int, keys ServerKeySet) (RecordedServerKeys, error) {
	var rec RecordedServerKeys
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO server_keys (key_version, rsa_signing, ecc_signing, rsa_encryption, recorded_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (key_version) DO NOTHING`,
			version, keys.RSASigning, keys.ECCSigning, keys.RSAEncryption, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("record server keys: %w", err)
		}
		var found bool
		rec, found, err = findServerKeys(ctx, tx, version)
		if err == nil && !found {
			err = errors.New("record server keys: the recorded row is missing")
		}
		return err
	})
	return rec, err
}

func findServerKeys(ctx context.Context, q queryer, version int) (RecordedServerKeys, bool, error) {
	var rec RecordedServerKeys
	var ms int64
	err := q.QueryRowContext(ctx, `
		SELECT rsa_signing, ecc_signing, rsa_encryption, recorded_at
		FROM server_keys
		WHERE key_version = $1`, version).Scan(&rec.RSASigning, &rec.ECCSigning, &rec.RSAEncryption, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, fmt.Errorf("find server keys: %w", err)
	}
	rec.RecordedAt = time.UnixMilli(ms).UTC()
	return rec, true, nil
}
