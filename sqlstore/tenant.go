package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ipass-dev/ipass"
)

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

// Client returns the client with all its keys, retired ones included, ordered
// by (algorithm, keyVersion).
func (db *DB) Client(ctx context.Context, clientID string) (*ipass.Client, error) {
	var c *ipass.Client
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		var err error
		c, err = findClient(ctx, tx, clientID)
		if err != nil {
			return err
		}
		keys, err := findClientKeys(ctx, tx, clientID)
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
		SELECT id, name, rate_limit
		FROM clients
		WHERE id = $1`, clientID).Scan(&c.ID, &c.Name, &c.RateLimit)
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

// Merchant returns the merchant.
func (db *DB) Merchant(ctx context.Context, merchantID string) (*ipass.Merchant, error) {
	m := &ipass.Merchant{}
	err := db.r.QueryRowContext(ctx, `
		SELECT id, client_id, name
		FROM merchants
		WHERE id = $1`, merchantID).Scan(&m.ID, &m.ClientID, &m.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("merchant %q", merchantID)
	}
	if err != nil {
		return nil, fmt.Errorf("find merchant: %w", err)
	}
	return m, nil
}

// templateColumns are the columns scanTemplate reads, in order.
const templateColumns = `merchant_id, template_code, type, product, title, locales, placeholders, code_display, style, labels`

func scanTemplate(s interface{ Scan(...any) error }) (*ipass.Template, error) {
	t := &ipass.Template{}
	var title, locales, placeholders, style, labels string
	if err := s.Scan(&t.MerchantID, &t.Code, &t.Type, &t.Product, &title, &locales, &placeholders, &t.CodeDisplay, &style, &labels); err != nil {
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
	} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("decode template %s %s: %w", t.Code, f.name, err)
		}
	}
	if len(t.Labels) == 0 {
		t.Labels = nil // rows from before labels existed hold {}
	}
	return t, nil
}

// Template returns merchantID's template with that code; a template of
// another merchant is ErrNotFound.
func (db *DB) Template(ctx context.Context, merchantID, templateCode string) (*ipass.Template, error) {
	row := db.r.QueryRowContext(ctx, `
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
	var u *ipass.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		var err error
		u, err = findUser(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UserByOpenID returns the user whose openId at merchantID is openID.
func (db *DB) UserByOpenID(ctx context.Context, merchantID, openID string) (*ipass.User, error) {
	var u *ipass.User
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		var userID string
		err := tx.QueryRowContext(ctx, `
			SELECT user_id
			FROM user_open_ids
			WHERE merchant_id = $1 AND open_id = $2`, merchantID, openID).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("openId %q at merchant %q", openID, merchantID)
		}
		if err != nil {
			return fmt.Errorf("find user by openId: %w", err)
		}
		u, err = findUser(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func findUser(ctx context.Context, q queryer, userID string) (*ipass.User, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user %q", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	openIDs, err := findOpenIDs(ctx, q, userID)
	if err != nil {
		return nil, err
	}
	u := &ipass.User{ID: id, OpenIDs: openIDs[id]}
	if u.OpenIDs == nil {
		u.OpenIDs = map[string]string{}
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

// paramIllegal is the *ipass.Error for a bad tenants entry.
func paramIllegal(format string, args ...any) error {
	return ipass.Errorf(ipass.CodeParamIllegal, format, args...)
}

// Apply upserts everything in t by id in one transaction: all or nothing, and
// nothing is ever deleted. Clients (with their keys) are applied first, then
// merchants, templates and users, so an entry may reference one applied in
// the same call. A reference to a record that exists neither in the database
// nor in t is *ipass.Error PARAM_ILLEGAL naming the entry, as is an openId
// another user already has at that merchant.
func (db *DB) Apply(ctx context.Context, t *ipass.Tenants) error {
	if err := validateTenants(t); err != nil {
		return err
	}
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		for i := range t.Clients {
			if err := applyClient(ctx, tx, i, &t.Clients[i]); err != nil {
				return err
			}
		}
		for i, m := range t.Merchants {
			if err := applyMerchant(ctx, tx, i, &m); err != nil {
				return err
			}
		}
		for i := range t.Templates {
			if err := applyTemplate(ctx, tx, i, &t.Templates[i]); err != nil {
				return err
			}
		}
		for i := range t.Users {
			if err := applyUser(ctx, tx, i, &t.Users[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// validateTenants checks what the schema would otherwise reject with a less
// helpful message, before any statement runs.
func validateTenants(t *ipass.Tenants) error {
	for i, c := range t.Clients {
		if c.ID == "" {
			return paramIllegal("clients[%d]: clientId is empty", i)
		}
		if c.RateLimit < 0 {
			return paramIllegal("clients[%d] (clientId %q): rateLimit %d is negative", i, c.ID, c.RateLimit)
		}
		for j, k := range c.Keys {
			if k.Algorithm == "" {
				return paramIllegal("clients[%d] (clientId %q).keys[%d]: algorithm is empty", i, c.ID, j)
			}
			if k.Version < 0 {
				return paramIllegal("clients[%d] (clientId %q).keys[%d]: keyVersion %d is negative", i, c.ID, j, k.Version)
			}
			if k.Status != ipass.KeyActive && k.Status != ipass.KeyRetired {
				return paramIllegal("clients[%d] (clientId %q).keys[%d]: status %q is not active or retired", i, c.ID, j, k.Status)
			}
		}
	}
	for i, m := range t.Merchants {
		if m.ID == "" {
			return paramIllegal("merchants[%d]: merchantId is empty", i)
		}
	}
	for i, tp := range t.Templates {
		if tp.Code == "" {
			return paramIllegal("templates[%d]: templateCode is empty", i)
		}
	}
	for i, u := range t.Users {
		if u.ID == "" {
			return paramIllegal("users[%d]: userId is empty", i)
		}
	}
	return nil
}

func applyClient(ctx context.Context, tx *sql.Tx, i int, c *ipass.Client) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO clients (id, name, rate_limit)
		VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET
			name = excluded.name,
			rate_limit = excluded.rate_limit`,
		c.ID, c.Name, c.RateLimit)
	if err != nil {
		return fmt.Errorf("apply clients[%d]: %w", i, err)
	}
	for j, k := range c.Keys {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO client_keys (client_id, algorithm, key_version, public_key, status)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (client_id, algorithm, key_version) DO UPDATE SET
				public_key = excluded.public_key,
				status = excluded.status`,
			c.ID, k.Algorithm, k.Version, k.PublicKey, string(k.Status))
		if err != nil {
			return fmt.Errorf("apply clients[%d].keys[%d]: %w", i, j, err)
		}
	}
	return nil
}

// exists reports whether query (a SELECT of one row by key) finds a row.
func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// The reference checks below read before they write. That is safe here
// because tenants records are never deleted: a row found stays found. The
// foreign keys remain as the backstop.

func applyMerchant(ctx context.Context, tx *sql.Tx, i int, m *ipass.Merchant) error {
	ok, err := exists(ctx, tx, `SELECT 1 FROM clients WHERE id = $1`, m.ClientID)
	if err != nil {
		return fmt.Errorf("apply merchants[%d]: %w", i, err)
	}
	if !ok {
		return paramIllegal("merchants[%d] (merchantId %q): clientId %q is not a registered client", i, m.ID, m.ClientID)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO merchants (id, client_id, name)
		VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET
			client_id = excluded.client_id,
			name = excluded.name`,
		m.ID, m.ClientID, m.Name)
	if err != nil {
		return fmt.Errorf("apply merchants[%d]: %w", i, err)
	}
	return nil
}

func applyTemplate(ctx context.Context, tx *sql.Tx, i int, t *ipass.Template) error {
	ok, err := exists(ctx, tx, `SELECT 1 FROM merchants WHERE id = $1`, t.MerchantID)
	if err != nil {
		return fmt.Errorf("apply templates[%d]: %w", i, err)
	}
	if !ok {
		return paramIllegal("templates[%d] (templateCode %q): merchantId %q is not a registered merchant", i, t.Code, t.MerchantID)
	}
	var enc [5]string
	for j, v := range []any{t.Title, t.Locales, t.Placeholders, t.Style, t.Labels} {
		if enc[j], err = marshalJSON(v); err != nil {
			return fmt.Errorf("apply templates[%d]: %w", i, err)
		}
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO templates (`+templateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (merchant_id, template_code) DO UPDATE SET
			type = excluded.type,
			product = excluded.product,
			title = excluded.title,
			locales = excluded.locales,
			placeholders = excluded.placeholders,
			code_display = excluded.code_display,
			style = excluded.style,
			labels = excluded.labels`,
		t.MerchantID, t.Code, string(t.Type), string(t.Product), enc[0], enc[1], enc[2], string(t.CodeDisplay), enc[3], enc[4])
	if err != nil {
		return fmt.Errorf("apply templates[%d]: %w", i, err)
	}
	return nil
}

func applyUser(ctx context.Context, tx *sql.Tx, i int, u *ipass.User) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO users (id) VALUES ($1)
		ON CONFLICT (id) DO NOTHING`, u.ID)
	if err != nil {
		return fmt.Errorf("apply users[%d]: %w", i, err)
	}
	// Sorted so that the first problem reported is the same on every run.
	for _, merchantID := range slices.Sorted(maps.Keys(u.OpenIDs)) {
		openID := u.OpenIDs[merchantID]
		entry := fmt.Sprintf("users[%d] (userId %q).openIds[%q]", i, u.ID, merchantID)
		if openID == "" {
			return paramIllegal("%s: openId is empty", entry)
		}
		ok, err := exists(ctx, tx, `SELECT 1 FROM merchants WHERE id = $1`, merchantID)
		if err != nil {
			return fmt.Errorf("apply %s: %w", entry, err)
		}
		if !ok {
			return paramIllegal("%s: merchantId %q is not a registered merchant", entry, merchantID)
		}
		// Looked up only to name the other user in the message; the UNIQUE
		// (merchant_id, open_id) constraint is what enforces it.
		var holder string
		err = tx.QueryRowContext(ctx, `
			SELECT user_id FROM user_open_ids
			WHERE merchant_id = $1 AND open_id = $2`, merchantID, openID).Scan(&holder)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("apply %s: %w", entry, err)
		}
		if err == nil && holder != u.ID {
			return paramIllegal("%s: openId %q is already used by user %q", entry, openID, holder)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO user_open_ids (user_id, merchant_id, open_id)
			VALUES ($1, $2, $3)
			ON CONFLICT (user_id, merchant_id) DO UPDATE SET
				open_id = excluded.open_id`,
			u.ID, merchantID, openID)
		if isUniqueViolation(err) {
			return paramIllegal("%s: openId %q is already used by another user", entry, openID)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", entry, err)
		}
	}
	return nil
}

// Export returns every tenant record: clients by id with keys by (algorithm,
// keyVersion), merchants by id, templates by (merchantId, templateCode),
// users by id. It reads one snapshot.
func (db *DB) Export(ctx context.Context) (*ipass.Tenants, error) {
	t := &ipass.Tenants{}
	err := db.read(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		var err error
		if t.Clients, err = exportClients(ctx, tx); err != nil {
			return err
		}
		if t.Merchants, err = exportMerchants(ctx, tx); err != nil {
			return err
		}
		if t.Templates, err = exportTemplates(ctx, tx); err != nil {
			return err
		}
		t.Users, err = exportUsers(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func exportClients(ctx context.Context, tx *sql.Tx) ([]ipass.Client, error) {
	keys, err := findClientKeys(ctx, tx, "")
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, rate_limit FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("export clients: %w", err)
	}
	var out []ipass.Client
	for rows.Next() {
		var c ipass.Client
		if err := rows.Scan(&c.ID, &c.Name, &c.RateLimit); err != nil {
			rows.Close()
			return nil, fmt.Errorf("export clients: %w", err)
		}
		c.Keys = keys[c.ID]
		out = append(out, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("export clients: %w", err)
	}
	return out, nil
}

func exportMerchants(ctx context.Context, tx *sql.Tx) ([]ipass.Merchant, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, client_id, name FROM merchants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("export merchants: %w", err)
	}
	var out []ipass.Merchant
	for rows.Next() {
		var m ipass.Merchant
		if err := rows.Scan(&m.ID, &m.ClientID, &m.Name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("export merchants: %w", err)
		}
		out = append(out, m)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("export merchants: %w", err)
	}
	return out, nil
}

func exportTemplates(ctx context.Context, tx *sql.Tx) ([]ipass.Template, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT `+templateColumns+`
		FROM templates
		ORDER BY merchant_id, template_code`)
	if err != nil {
		return nil, fmt.Errorf("export templates: %w", err)
	}
	var out []ipass.Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("export templates: %w", err)
		}
		out = append(out, *t)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("export templates: %w", err)
	}
	return out, nil
}

func exportUsers(ctx context.Context, tx *sql.Tx) ([]ipass.User, error) {
	openIDs, err := findOpenIDs(ctx, tx, "")
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("export users: %w", err)
	}
	var out []ipass.User
	for rows.Next() {
		var u ipass.User
		if err := rows.Scan(&u.ID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("export users: %w", err)
		}
		u.OpenIDs = openIDs[u.ID]
		if u.OpenIDs == nil {
			u.OpenIDs = map[string]string{}
		}
		out = append(out, u)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("export users: %w", err)
	}
	return out, nil
}
