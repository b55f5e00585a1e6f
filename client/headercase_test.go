package client_test

import (
	"context"
	"errors"
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

// TestCertificateErrorNotRetried: an untrusted certificate fails the same
// way every time, so the SDK reports it after one attempt.
func TestCertificateErrorNotRetried(t *testing.T) {
	k := mustKeys(t)
	h, err := ipassHandler(context.Background(), sqlstoretest.OpenSQLite(t), k)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	c := newClient(t, ts.URL, k, func(c *client.Config) { c.Retries = 3 })
	_, err = c.QueryPass(context.Background(), &client.QueryPassRequest{MerchantID: merchantA, PassID: "x"})
	var pe *client.ProtocolError
	if !errors.As(err, &pe) || pe.Check != client.CheckTransport || pe.Attempts != 1 {
		t.Fatalf("err = %#v, want a transport ProtocolError after 1 attempt", err)
	}
}
