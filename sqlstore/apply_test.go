package sqlstore_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

// testApplySemantics: provisioning never weakens a client by accident
// (issue: retired keys came back, rate limits vanished by omission).
func testApplySemantics(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	rsa1 := fixture().Clients[0].Keys[1]
	retire := &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Omitted: []string{"name", "rateLimit", "headerCase"},
		Keys: []ipass.ClientKey{{Version: 1, Algorithm: ipass.AlgorithmRSA256, Status: ipass.KeyRetired}}}}}
	changes, err := db.ApplyChanges(ctx(t), retire, sqlstore.ApplyOptions{})
	if err != nil {
		t.Fatalf("retire without the public key: %v", err)
	}
	wantChanges := []sqlstore.Change{
		{Entry: `clients[0] (clientId "2110200000000044")`, What: "unchanged"},
		{Entry: `clients[0] (clientId "2110200000000044").keys[0] (RSA256 keyVersion 1)`, What: "retired"},
	}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("changes = %q, want %q", changes, wantChanges)
	}

	refused := []struct {
		name, msg string
		t         ipass.Tenants
	}{
		{"ReactivateRetired", "retirement is final", ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Name: "Demo back end", RateLimit: 200,
			Keys: []ipass.ClientKey{{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: rsa1.PublicKey, Status: ipass.KeyActive}}}}}},
		{"ChangeKeyMaterial", "clients[0] (clientId \"2110200000000044\").keys[0] (ECC224 keyVersion 1).publicKey: differs from the key registered", ipass.Tenants{Clients: []ipass.Client{{ID: clientA,
			Keys: []ipass.ClientKey{{Version: 1, Algorithm: ipass.AlgorithmECC224, PublicKey: "another-key"}}}}}},
		{"NewKeyWithoutMaterial", "publicKey: is missing", ipass.Tenants{Clients: []ipass.Client{{ID: clientA,
			Keys: []ipass.ClientKey{{Version: 9, Algorithm: ipass.AlgorithmRSA256, Status: ipass.KeyRetired}}}}}},
	}
	for _, r := range refused {
		t.Run(r.name, func(t *testing.T) {
			before, err := db.Export(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.ApplyChanges(ctx(t), &r.t, sqlstore.ApplyOptions{})
			if ipass.ErrorCode(err) != ipass.CodeParamIllegal || !strings.Contains(ipass.ErrorMessage(err), r.msg) {
				t.Fatalf("err = %v, want PARAM_ILLEGAL containing %q", err, r.msg)
			}
			after, err := db.Export(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused apply changed the database")
			}
		})
	}

	// Fields left out keep their values; an explicit 0 still means unlimited.
	// The retired key listed again without a status (a file written before
	// it was retired) stays retired.
	if err := db.Apply(ctx(t), &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Omitted: []string{"name", "rateLimit", "headerCase"},
		Keys: []ipass.ClientKey{
			{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: rsa1.PublicKey},
			{Version: 3, Algorithm: ipass.AlgorithmRSA256, PublicKey: "rsa-pub-3"},
		}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := db.Client(ctx(t), clientA)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Demo back end" || c.RateLimit != 200 || c.HeaderCase != ipass.HeaderLower {
		t.Fatalf("omitted fields did not keep their values: %+v", c)
	}
	if k, ok := c.ActiveKey(ipass.AlgorithmRSA256, 3); !ok || k.Status != ipass.KeyActive {
		t.Fatalf("new key without status: %+v, %v; want active", k, ok)
	}
	if _, ok := c.ActiveKey(ipass.AlgorithmRSA256, 1); ok {
		t.Fatal("the retired key is active again")
	}
	if err := db.Apply(ctx(t), &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Name: "Demo back end", RateLimit: 0, HeaderCase: ipass.HeaderCanonical}}}); err != nil {
		t.Fatal(err)
	}
	if c, err = db.Client(ctx(t), clientA); err != nil || c.RateLimit != 0 || c.HeaderCase != ipass.HeaderCanonical {
		t.Fatalf("explicit rateLimit 0 / headerCase canonical: %+v, %v", c, err)
	}

	// encryptionKey: a new client gets the dedicated key; a change is
	// reported by --dry-run without being written, then applied, exported,
	// and kept by an entry that leaves the field out.
	if c.EncryptionKey != ipass.EncryptionKeyDedicated {
		t.Fatalf("encryptionKey of a client that never set it: %q, want %q", c.EncryptionKey, ipass.EncryptionKeyDedicated)
	}
	toSigning := &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Omitted: []string{"name", "rateLimit", "headerCase"}, EncryptionKey: ipass.EncryptionKeySigning}}}
	wantChanges = []sqlstore.Change{{Entry: `clients[0] (clientId "2110200000000044")`, What: "encryptionKey encryption → signing"}}
	for _, dry := range []bool{true, false} {
		changes, err = db.ApplyChanges(ctx(t), toSigning, sqlstore.ApplyOptions{DryRun: dry})
		if err != nil || !reflect.DeepEqual(changes, wantChanges) {
			t.Fatalf("encryptionKey change (dry run %v): %q, %v; want %q", dry, changes, err, wantChanges)
		}
		if c, err = db.Client(ctx(t), clientA); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]ipass.EncryptionKey{true: ipass.EncryptionKeyDedicated, false: ipass.EncryptionKeySigning}[dry]; c.EncryptionKey != want {
			t.Fatalf("after apply (dry run %v): encryptionKey %q, want %q", dry, c.EncryptionKey, want)
		}
	}
	if err := db.Apply(ctx(t), &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Omitted: []string{"name", "rateLimit", "headerCase", "encryptionKey"}}}}); err != nil {
		t.Fatal(err)
	}
	exported, err := db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if exported.Clients[0].ID != clientA || exported.Clients[0].EncryptionKey != ipass.EncryptionKeySigning {
		t.Fatalf("export after an entry without encryptionKey: %+v, want clientA with encryptionKey signing", exported.Clients[0])
	}

	// --dry-run reports and writes nothing.
	before, err := db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	changes, err = db.ApplyChanges(ctx(t), &ipass.Tenants{
		Clients: []ipass.Client{{ID: "new-client", Name: "n", RateLimit: 7}, {ID: clientB, Name: "Renamed", Omitted: []string{"rateLimit", "headerCase"}}},
	}, sqlstore.ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	wantChanges = []sqlstore.Change{
		{Entry: `clients[0] (clientId "new-client")`, What: "created"},
		{Entry: `clients[1] (clientId "2110200000000055")`, What: `name "Other" → "Renamed"`},
	}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("dry-run changes = %q, want %q", changes, wantChanges)
	}
	after, err := db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatal("--dry-run wrote to the database")
	}

	// The shape of a template that passes use changes only when forced.
	p, v := newPass(passID(1), "serial-1")
	if _, err := db.CreatePass(ctx(t), p, v); err != nil {
		t.Fatal(err)
	}
	tmpl := fixture().Templates[0]
	tmpl.Placeholders = []string{"points"}
	tmpl.Omitted = []string{"title", "style"}
	_, err = db.ApplyChanges(ctx(t), &ipass.Tenants{Templates: []ipass.Template{tmpl}}, sqlstore.ApplyOptions{})
	if msg := ipass.ErrorMessage(err); ipass.ErrorCode(err) != ipass.CodeParamIllegal || !strings.Contains(msg, "1 passes use this template") || !strings.Contains(msg, "--force") {
		t.Fatalf("changing a used template: %v", err)
	}
	changes, err = db.ApplyChanges(ctx(t), &ipass.Tenants{Templates: []ipass.Template{tmpl}}, sqlstore.ApplyOptions{Force: true})
	if err != nil || len(changes) != 1 || !strings.HasPrefix(changes[0].What, "placeholders [points level balance] → [points]") {
		t.Fatalf("forced template change: %q, %v", changes, err)
	}
	got, err := db.Template(ctx(t), merchantA, template1)
	if err != nil || !reflect.DeepEqual(got.Title, fixture().Templates[0].Title) || !reflect.DeepEqual(got.Placeholders, []string{"points"}) {
		t.Fatalf("template after forced change (title left out must stay): %+v, %v", got, err)
	}
}
