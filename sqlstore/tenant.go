package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

// Per-request lookups of the tenants: clients and their keys (through the
// cache in clientcache.go), merchants, templates, users.

// queryer is what *sql.DB and *sql.Tx have in common, so a helper can run
// inside a caller's transaction or, for a single statement, on the pool.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// notFound wraps ipass.ErrNotFound with what was looked up.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ipass.ErrNotFound)
}

// readClient reads the client with all its keys from the database (Client
// serves it from a cache, clientcache.go).
func (db *DB) readClient(ctx context.Context, clientID string) (*ipass.Client, error) {
	var c *ipass.Client
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		var err error
		q := db.q(tx, false)
		c, err = findClient(ctx, q, clientID)
		if err != nil {
			return err
		}
		keys, err := findClientKeys(ctx, q, clientID)
		if err != nil {
			return err
		}
		c.Keys = keys[clientID]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func findClient(ctx context.Context, q queryer, clientID string) (*ipass.Client, error) {
	c := &ipass.Client{}
	err := q.QueryRowContext(ctx, `
		SELECT id, name, rate_limit, header_case, encryption_key
		FROM clients
		WHERE id = $1`, clientID).Scan(&c.ID, &c.Name, &c.RateLimit, &c.HeaderCase, &c.EncryptionKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("client %q", clientID)
	}
	if err != nil {
		return nil, fmt.Errorf("find client: %w", err)
	}
	return c, nil
}

// findClientKeys returns the keys of clientID, or of every client when
// clientID is "", grouped by client and ordered by (algorithm, keyVersion).
func findClientKeys(ctx context.Context, q queryer, clientID string) (map[string][]ipass.ClientKey, error) {
	query := `
		SELECT client_id, algorithm, key_version, public_key, status
		FROM client_keys
		ORDER BY client_id, algorithm, key_version`
	var args []any
	if clientID != "" {
		query = `
		SELECT client_id, algorithm, key_version, public_key, status
		FROM client_keys
		WHERE client_id = $1
		ORDER BY algorithm, key_version`
		args = append(args, clientID)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find client keys: %w", err)
	}
	keys := map[string][]ipass.ClientKey{}
	for rows.Next() {
		var id string
		var k ipass.ClientKey
		if err := rows.Scan(&id, &k.Algorithm, &k.Version, &k.PublicKey, &k.Status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find client keys: %w", err)
		}
		keys[id] = append(keys[id], k)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("find client keys: %w", err)
	}
	return keys, nil
}

// readMerchant reads the merchant from the database (Merchant caches it).
func (db *DB) readMerchant(ctx context.Context, merchantID string) (ipass.Merchant, error) {
	var m ipass.Merchant
	err := db.rq().QueryRowContext(ctx, `
		SELECT id, client_id, name
		FROM merchants
		WHERE id = $1`, merchantID).Scan(&m.ID, &m.ClientID, &m.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("merchant %q", merchantID)
	}
	if err != nil {
		return m, fmt.Errorf("find merchant: %w", err)
	}
	return m, nil
}

// templateColumns are the columns scanTemplate reads, in order.
const templateColumns = `merchant_id, template_code, type, product, title, locales, placeholders, code_display, style, labels, fields`

func scanTemplate(s interface{ Scan(...any) error }) (*ipass.Template, error) {
	t := &ipass.Template{}
	var title, locales, placeholders, style, labels, fields string
	if err := s.Scan(&t.MerchantID, &t.Code, &t.Type, &t.Product, &title, &locales, &placeholders, &t.CodeDisplay, &style, &labels, &fields); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		text string
		dst  any
	}{
		{"title", title, &t.Title},
		{"locales", locales, &t.Locales},
		{"placeholders", placeholders, &t.Placeholders},
		{"style", style, &t.Style},
		{"labels", labels, &t.Labels},
		{"fields", fields, &t.Fields},
	} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("decode template %s %s: %w", t.Code, f.name, err)
		}
	}
	if len(t.Labels) == 0 {
		t.Labels = nil // rows from before labels existed hold {}
	}
	if len(t.Fields) == 0 {
		t.Fields = nil // rows from before field types existed hold {}
	}
	return t, nil
}

// Template returns merchantID's template with that code; a template of
// another merchant is ErrNotFound.
func (db *DB) Template(ctx context.Context, merchantID, templateCode string) (*ipass.Template, error) {
	row := db.rq().QueryRowContext(ctx, `
		SELECT `+templateColumns+`
		FROM templates
		WHERE merchant_id = $1 AND template_code = $2`, merchantID, templateCode)
	t, err := scanTemplate(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("template %q of merchant %q", templateCode, merchantID)
	}
	if err != nil {
		return nil, fmt.Errorf("find template: %w", err)
	}
	return t, nil
}

// User returns the user with its openIds. OpenIDs is never nil.
func (db *DB) User(ctx context.Context, userID string) (*ipass.User, error) {
	return findUser(ctx, db.rq(), fmt.Sprintf("user %q", userID), `u.id = $1`, userID)
}

// UserByOpenID returns the user whose openId at merchantID is openID.
func (db *DB) UserByOpenID(ctx context.Context, merchantID, openID string) (*ipass.User, error) {
	return findUser(ctx, db.rq(), fmt.Sprintf("openId %q at merchant %q", openID, merchantID),
		`u.id = (SELECT user_id FROM user_open_ids WHERE merchant_id = $1 AND open_id = $2)`, merchantID, openID)
}

// findUser returns the user matched by where (on users u) with its openIds,
// or an error wrapping ipass.ErrNotFound naming what. One statement, so one
// snapshot without a transaction: every signed request with a userId runs
// it.
func findUser(ctx context.Context, q queryer, what, where string, args ...any) (*ipass.User, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT u.id, o.merchant_id, o.open_id
		FROM users u LEFT JOIN user_open_ids o ON o.user_id = u.id
		WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	defer rows.Close()
	var u *ipass.User
	for rows.Next() {
		var id string
		var merchantID, openID sql.NullString
		if err := rows.Scan(&id, &merchantID, &openID); err != nil {
			return nil, fmt.Errorf("find user: %w", err)
		}
		if u == nil {
			u = &ipass.User{ID: id, OpenIDs: map[string]string{}}
		}
		if merchantID.Valid {
			u.OpenIDs[merchantID.String] = openID.String
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	if u == nil {
		return nil, notFound("%s", what)
	}
	return u, nil
}

// findOpenIDs returns userID's openIds by merchant, or every user's when
// userID is "".
func findOpenIDs(ctx context.Context, q queryer, userID string) (map[string]map[string]string, error) {
	query := `
		SELECT user_id, merchant_id, open_id
		FROM user_open_ids`
	var args []any
	if userID != "" {
		query += `
		WHERE user_id = $1`
		args = append(args, userID)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find openIds: %w", err)
	}
	out := map[string]map[string]string{}
	for rows.Next() {
		var user, merchant, openID string
		if err := rows.Scan(&user, &merchant, &openID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find openIds: %w", err)
		}
		if out[user] == nil {
			out[user] = map[string]string{}
		}
		out[user][merchant] = openID
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("find openIds: %w", err)
	}
	return out, nil
}

// HasClients reports whether any client is registered.
func (db *DB) HasClients(ctx context.Context) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, `SELECT 1 FROM clients LIMIT 1`).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count clients: %w", err)
	}
	return true, nil
}
