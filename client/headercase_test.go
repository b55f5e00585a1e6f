package client_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestHeaderCaseSettings: the SDK reads responses whichever way the server
// spells the protocol header names (lower case by default, canonical for a
// client set so), plain and encrypted.
func TestHeaderCaseSettings(t *testing.T) {
	k := mustKeys(t)
	for _, hc := range []ipass.HeaderCase{ipass.HeaderLower, ipass.HeaderCanonical} {
		for _, encrypted := range []bool{false, true} {
			name := string(hc)
			if encrypted {
				name += "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				db := sqlstoretest.OpenSQLite(t)
				h, err := ipassHandler(ctx, db, k)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Apply(ctx, &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, HeaderCase: hc,
					Omitted: []string{"name", "rateLimit"}}}}); err != nil {
					t.Fatal(err)
				}
				ts := httptest.NewServer(h)
				t.Cleanup(ts.Close)
				c := newClient(t, ts.URL, k, func(c *client.Config) {
					if encrypted {
						c.Encryption = &client.Encryption{ServerKey: &k.serverEnc.PublicKey, KeyVersion: 1}
					}
				})
				createUpdateQuery(t, c, encrypted)
			})
		}
	}
}
