package sqlstore

// Export: every tenant record as a tenants file would hold it (`ipass admin
// export`), from one snapshot.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

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
	rows, err := tx.QueryContext(ctx, `SELECT id, name, rate_limit, header_case, encryption_key FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("export clients: %w", err)
	}
	var out []ipass.Client
	for rows.Next() {
		var c ipass.Client
		if err := rows.Scan(&c.ID, &c.Name, &c.RateLimit, &c.HeaderCase, &c.EncryptionKey); err != nil {
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
