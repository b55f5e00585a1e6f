package sqlstore

// Provisioning: applying a tenants file with its merge policy (what may
// change, what is refused, what --dry-run reports). Lookups are in
// tenant.go, export in export.go.

import (
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// paramIllegal is the *ipass.Error for a bad tenants entry.
func paramIllegal(format string, args ...any) error {
	return ipass.Errorf(ipass.CodeParamIllegal, format, args...)
}

// Apply is ApplyChanges without options: it refuses to change the shape of
// a template that passes use.
func (db *DB) Apply(ctx context.Context, t *ipass.Tenants) error {
	_, err := db.ApplyChanges(ctx, t, ApplyOptions{})
	return err
}

// ApplyOptions tune ApplyChanges.
type ApplyOptions struct {
	// DryRun runs every check and computes the changes, then rolls back.
	DryRun bool
	// Force allows changing the type, product, locales or placeholders of a
	// template that passes already use.
	Force bool
}

// Change is what applying one entry of a tenants file did.
type Change struct {
	Entry string // e.g. clients[0] (clientId "2110200000000044")
	What  string // "created", "unchanged", "retired", or "field a → b, ..."
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("sqlstore: dry run")

// ApplyChanges upserts everything in t by id in one transaction: all or
// nothing, and nothing is ever deleted. Clients (with their keys) are applied
// first, then merchants, templates and users, so an entry may reference one
// applied in the same call. It returns what changed, entry by entry.
//
// Provisioning never weakens a client by accident:
//   - a field an entry leaves out (listed in its Omitted) keeps its stored
//     value; a key without status keeps its stored status;
//   - a retired (client, algorithm, keyVersion) never becomes active again,
//     and the key material registered there never changes;
//   - a retired key may be listed without its public key;
//   - the type, product, locales and placeholders of a template that passes
//     use change only with opts.Force.
//
// Violations, and references to records that exist neither in the database
// nor in t, are *ipass.Error PARAM_ILLEGAL naming the entry and field.
func (db *DB) ApplyChanges(ctx context.Context, t *ipass.Tenants, opts ApplyOptions) ([]Change, error) {
	if err := validateTenants(t); err != nil {
		return nil, err
	}
	var changes []Change
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx, _ time.Time) error {
		changes = changes[:0]
		add := func(entry, what string) { changes = append(changes, Change{entry, what}) }
		for i := range t.Clients {
			if err := applyClient(ctx, tx, i, &t.Clients[i], add); err != nil {
				return err
			}
		}
		for i := range t.Merchants {
			if err := applyMerchant(ctx, tx, i, &t.Merchants[i], add); err != nil {
				return err
			}
		}
		for i := range t.Templates {
			if err := applyTemplate(ctx, tx, i, &t.Templates[i], opts.Force, add); err != nil {
				return err
			}
		}
		for i := range t.Users {
			if err := applyUser(ctx, tx, i, &t.Users[i], add); err != nil {
				return err
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return db.notifyTenants(ctx, tx)
	})
	if errors.Is(err, errDryRun) {
		return changes, nil
	}
	if err != nil {
		return nil, err
	}
	db.invalidateClients() // committed: this process sees it before Apply returns
	return changes, nil
}

// describe turns a list of field changes into a Change's What.
func describe(created bool, diffs []string) string {
	switch {
	case created:
		return "created"
	case len(diffs) == 0:
		return "unchanged"
	}
	return strings.Join(diffs, ", ")
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
			if k.Status != "" && k.Status != ipass.KeyActive && k.Status != ipass.KeyRetired {
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

func applyClient(ctx context.Context, tx *sql.Tx, i int, c *ipass.Client, add func(entry, what string)) error {
	e := fmt.Sprintf("clients[%d] (clientId %q)", i, c.ID)
	stored, err := findClient(ctx, tx, c.ID)
	created := errors.Is(err, ipass.ErrNotFound)
	if created {
		stored = &ipass.Client{ID: c.ID, HeaderCase: ipass.HeaderLower, EncryptionKey: ipass.EncryptionKeyDedicated}
	} else if err != nil {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	next := *stored
	var diffs []string
	if !slices.Contains(c.Omitted, "name") && c.Name != stored.Name {
		diffs = append(diffs, fmt.Sprintf("name %q → %q", stored.Name, c.Name))
		next.Name = c.Name
	}
	if !slices.Contains(c.Omitted, "rateLimit") && c.RateLimit != stored.RateLimit {
		diffs = append(diffs, fmt.Sprintf("rateLimit %d → %d", stored.RateLimit, c.RateLimit))
		next.RateLimit = c.RateLimit
	}
	if c.HeaderCase != "" && !slices.Contains(c.Omitted, "headerCase") && c.HeaderCase != stored.HeaderCase {
		diffs = append(diffs, fmt.Sprintf("headerCase %s → %s", stored.HeaderCase, c.HeaderCase))
		next.HeaderCase = c.HeaderCase
	}
	if c.EncryptionKey != "" && !slices.Contains(c.Omitted, "encryptionKey") && c.EncryptionKey != stored.EncryptionKey {
		diffs = append(diffs, fmt.Sprintf("encryptionKey %s → %s", stored.EncryptionKey, c.EncryptionKey))
		next.EncryptionKey = c.EncryptionKey
	}
	if created || len(diffs) > 0 {
		_, err = tx.ExecContext(ctx, `
			INSERT INTO clients (id, name, rate_limit, header_case, encryption_key)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET
				name = excluded.name,
				rate_limit = excluded.rate_limit,
				header_case = excluded.header_case,
				encryption_key = excluded.encryption_key`,
			next.ID, next.Name, next.RateLimit, string(next.HeaderCase), string(next.EncryptionKey))
		if err != nil {
			return fmt.Errorf("apply %s: %w", e, err)
		}
	}
	add(e, describe(created, diffs))

	keys, err := findClientKeys(ctx, tx, c.ID)
	if err != nil {
		return err
	}
	for j, k := range c.Keys {
		if err := applyClientKey(ctx, tx, fmt.Sprintf("%s.keys[%d]", e, j), c.ID, k, keys[c.ID], add); err != nil {
			return err
		}
	}
	return nil
}

// applyClientKey registers a new key or changes a stored key's status.
// Retirement is final and key material never changes: a key that was
// compromised must not come back by an edit of a file, and a signature made
// under (algorithm, keyVersion) must always mean the same key.
func applyClientKey(ctx context.Context, tx *sql.Tx, e, clientID string, k ipass.ClientKey, stored []ipass.ClientKey, add func(entry, what string)) error {
	e = fmt.Sprintf("%s (%s keyVersion %d)", e, k.Algorithm, k.Version)
	i := slices.IndexFunc(stored, func(s ipass.ClientKey) bool { return s.Algorithm == k.Algorithm && s.Version == k.Version })
	if i < 0 {
		if strings.TrimSpace(k.PublicKey) == "" {
			return paramIllegal("%s.publicKey: is missing; a new key needs its public key (only a registered key can be retired without it)", e)
		}
		status := k.Status
		if status == "" {
			status = ipass.KeyActive
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO client_keys (client_id, algorithm, key_version, public_key, status)
			VALUES ($1, $2, $3, $4, $5)`,
			clientID, k.Algorithm, k.Version, k.PublicKey, string(status))
		if err != nil {
			return fmt.Errorf("apply %s: %w", e, err)
		}
		add(e, "created ("+string(status)+")")
		return nil
	}
	old := stored[i]
	if strings.TrimSpace(k.PublicKey) != "" && !sameKeyText(old.PublicKey, k.PublicKey) {
		return paramIllegal("%s.publicKey: differs from the key registered under this version (%s); key material never changes: register the new key under a new keyVersion",
			e, keyFingerprint(old.PublicKey))
	}
	status := k.Status
	if status == "" || status == old.Status {
		add(e, "unchanged")
		return nil
	}
	if old.Status == ipass.KeyRetired {
		return paramIllegal("%s.status: the key is retired, and retirement is final; to use the key again, register it under a new keyVersion", e)
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE client_keys SET status = $4
		WHERE client_id = $1 AND algorithm = $2 AND key_version = $3`,
		clientID, k.Algorithm, k.Version, string(status))
	if err != nil {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	add(e, string(status))
	return nil
}

// sameKeyText reports whether two provisioned key texts (PEM or base64 DER)
// hold the same public key.
func sameKeyText(a, b string) bool {
	ka, errA := gateway.ParsePublicKey([]byte(a))
	kb, errB := gateway.ParsePublicKey([]byte(b))
	if errA != nil || errB != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	eq, ok := ka.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(kb)
}

func keyFingerprint(text string) string {
	if k, err := gateway.ParsePublicKey([]byte(text)); err == nil {
		return gateway.Fingerprint(k)
	}
	return "unparsable"
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

func applyMerchant(ctx context.Context, tx *sql.Tx, i int, m *ipass.Merchant, add func(entry, what string)) error {
	e := fmt.Sprintf("merchants[%d] (merchantId %q)", i, m.ID)
	ok, err := exists(ctx, tx, `SELECT 1 FROM clients WHERE id = $1`, m.ClientID)
	if err != nil {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	if !ok {
		return paramIllegal("%s: clientId %q is not a registered client", e, m.ClientID)
	}
	var stored ipass.Merchant
	err = tx.QueryRowContext(ctx, `SELECT id, client_id, name FROM merchants WHERE id = $1`, m.ID).Scan(&stored.ID, &stored.ClientID, &stored.Name)
	created := errors.Is(err, sql.ErrNoRows)
	if err != nil && !created {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	next := stored
	next.ID = m.ID
	var diffs []string
	if m.ClientID != stored.ClientID {
		if !created {
			diffs = append(diffs, fmt.Sprintf("clientId %q → %q", stored.ClientID, m.ClientID))
		}
		next.ClientID = m.ClientID
	}
	if !slices.Contains(m.Omitted, "name") && m.Name != stored.Name {
		if !created {
			diffs = append(diffs, fmt.Sprintf("name %q → %q", stored.Name, m.Name))
		}
		next.Name = m.Name
	}
	if created || len(diffs) > 0 {
		_, err = tx.ExecContext(ctx, `
			INSERT INTO merchants (id, client_id, name)
			VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET
				client_id = excluded.client_id,
				name = excluded.name`,
			next.ID, next.ClientID, next.Name)
		if err != nil {
			return fmt.Errorf("apply %s: %w", e, err)
		}
	}
	add(e, describe(created, diffs))
	return nil
}

// fieldsDiff describes the field types and places that differ between
// stored and next, in placeholder order ("fields points text → integer,
// level untyped → text"); "" when none do.
func fieldsDiff(stored, next *ipass.Template) string {
	word := func(t *ipass.Template, name string) string {
		spec, ok := t.Fields[name]
		if !ok {
			return "untyped"
		}
		if spec.Place != "" {
			return string(spec.Type) + " (" + string(spec.Place) + ")"
		}
		return string(spec.Type)
	}
	var out []string
	for _, name := range next.Placeholders {
		if from, to := word(stored, name), word(next, name); from != to {
			out = append(out, name+" "+from+" → "+to)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "fields " + strings.Join(out, ", ")
}

func applyTemplate(ctx context.Context, tx *sql.Tx, i int, t *ipass.Template, force bool, add func(entry, what string)) error {
	e := fmt.Sprintf("templates[%d] (templateCode %q)", i, t.Code)
	ok, err := exists(ctx, tx, `SELECT 1 FROM merchants WHERE id = $1`, t.MerchantID)
	if err != nil {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	if !ok {
		return paramIllegal("%s: merchantId %q is not a registered merchant", e, t.MerchantID)
	}
	stored, err := scanTemplate(tx.QueryRowContext(ctx, `
		SELECT `+templateColumns+`
		FROM templates
		WHERE merchant_id = $1 AND template_code = $2`, t.MerchantID, t.Code))
	created := errors.Is(err, sql.ErrNoRows)
	if err != nil && !created {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	next := *t
	next.Omitted = nil
	var diffs []string
	if !created {
		// Left out: keep what is stored.
		if slices.Contains(t.Omitted, "title") {
			next.Title = stored.Title
		}
		if slices.Contains(t.Omitted, "code") {
			next.CodeDisplay = stored.CodeDisplay
		}
		if slices.Contains(t.Omitted, "style") {
			next.Style = stored.Style
		}
		if t.Labels == nil || slices.Contains(t.Omitted, "labels") {
			next.Labels = stored.Labels
		}
		var shape []string
		if next.Type != stored.Type {
			shape = append(shape, fmt.Sprintf("type %s → %s", stored.Type, next.Type))
		}
		if next.Product != stored.Product {
			shape = append(shape, fmt.Sprintf("product %s → %s", stored.Product, next.Product))
		}
		if !sameSet(next.Locales, stored.Locales) {
			shape = append(shape, fmt.Sprintf("locales %v → %v", stored.Locales, next.Locales))
		}
		if !sameSet(next.Placeholders, stored.Placeholders) {
			shape = append(shape, fmt.Sprintf("placeholders %v → %v", stored.Placeholders, next.Placeholders))
		}
		if len(shape) > 0 && !force {
			var passes int
			if err := tx.QueryRowContext(ctx, `
				SELECT count(*) FROM passes
				WHERE merchant_id = $1 AND template_code = $2`, t.MerchantID, t.Code).Scan(&passes); err != nil {
				return fmt.Errorf("apply %s: %w", e, err)
			}
			if passes > 0 {
				return paramIllegal("%s: %s: refused, %d passes use this template and were made for its current shape; apply with --force to change it anyway",
					e, strings.Join(shape, ", "), passes)
			}
		}
		diffs = shape
		if !maps.Equal(next.Title, stored.Title) {
			diffs = append(diffs, fmt.Sprintf("title %v → %v", stored.Title, next.Title))
		}
		if next.CodeDisplay != stored.CodeDisplay {
			diffs = append(diffs, fmt.Sprintf("code %s → %s", stored.CodeDisplay, next.CodeDisplay))
		}
		if !maps.Equal(next.Style, stored.Style) {
			diffs = append(diffs, fmt.Sprintf("style %v → %v", stored.Style, next.Style))
		}
		if !reflect.DeepEqual(next.Labels, stored.Labels) {
			diffs = append(diffs, fmt.Sprintf("labels %v → %v", stored.Labels, next.Labels))
		}
		// A type change is no shape change: stored values that do not fit
		// the new type are still shown, as written.
		if d := fieldsDiff(stored, &next); d != "" {
			diffs = append(diffs, d)
		}
		if len(diffs) == 0 && slices.Equal(next.Locales, stored.Locales) && slices.Equal(next.Placeholders, stored.Placeholders) {
			add(e, "unchanged")
			return nil
		}
	}
	var enc [6]string
	for j, v := range []any{next.Title, next.Locales, next.Placeholders, next.Style, next.Labels, next.Fields} {
		if enc[j], err = marshalJSON(v); err != nil {
			return fmt.Errorf("apply %s: %w", e, err)
		}
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO templates (`+templateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (merchant_id, template_code) DO UPDATE SET
			type = excluded.type,
			product = excluded.product,
			title = excluded.title,
			locales = excluded.locales,
			placeholders = excluded.placeholders,
			code_display = excluded.code_display,
			style = excluded.style,
			labels = excluded.labels,
			fields = excluded.fields`,
		next.MerchantID, next.Code, string(next.Type), string(next.Product), enc[0], enc[1], enc[2], string(next.CodeDisplay), enc[3], enc[4], enc[5])
	if err != nil {
		return fmt.Errorf("apply %s: %w", e, err)
	}
	if len(diffs) == 0 && !created {
		diffs = []string{"order of locales or placeholders"}
	}
	add(e, describe(created, diffs))
	return nil
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func applyUser(ctx context.Context, tx *sql.Tx, i int, u *ipass.User, add func(entry, what string)) error {
	res, err := tx.ExecContext(ctx, `
		INSERT INTO users (id) VALUES ($1)
		ON CONFLICT (id) DO NOTHING`, u.ID)
	if err != nil {
		return fmt.Errorf("apply users[%d]: %w", i, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("apply users[%d]: %w", i, err)
	}
	before, err := findOpenIDs(ctx, tx, u.ID)
	if err != nil {
		return err
	}
	var diffs []string
	for _, m := range slices.Sorted(maps.Keys(u.OpenIDs)) {
		if old, ok := before[u.ID][m]; !ok {
			diffs = append(diffs, fmt.Sprintf("openIds[%q] %q added", m, u.OpenIDs[m]))
		} else if old != u.OpenIDs[m] {
			diffs = append(diffs, fmt.Sprintf("openIds[%q] %q → %q", m, old, u.OpenIDs[m]))
		}
	}
	add(fmt.Sprintf("users[%d] (userId %q)", i, u.ID), describe(n == 1, diffs))
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
