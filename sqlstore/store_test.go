package sqlstore_test

// The contract suite: every test here runs once per engine (SQLite always,
// PostgreSQL when IPASS_TEST_POSTGRES_URL is set, and must under CI=true).
// Tests take a function that creates a fresh database and returns its DSN,
// so the multi-process tests can open several *sqlstore.DB on one database.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

type contractTest struct {
	name string
	fn   func(t *testing.T, newDSN func(testing.TB) string)
}

var contract = []contractTest{
	{"Open", testOpen},
	{"ApplyExportRoundTrip", testApplyExport},
	{"ApplyAllOrNothing", testApplyAllOrNothing},
	{"KeyRetire", testKeyRetire},
	{"ApplySemantics", testApplySemantics},
	{"FieldTypes", testFieldTypes},
	{"Lookups", testLookups},
	{"CreatePass", testCreatePass},
	{"CreatePassConflict", testCreatePassConflict},
	{"CreatePassConcurrent", testCreatePassConcurrent},
	{"UpdatePass", testUpdatePass},
	{"UpdatePassConcurrentMerge", testUpdatePassConcurrentMerge},
	{"UpdatePassConcurrentUse", testUpdatePassConcurrentUse},
	{"History", testHistory},
	{"HistoryPage", testHistoryPage},
	{"SeedChangeFeed", testSeedChangeFeed},
	{"SeededFeedBackfill", testSeededFeedBackfill},
	{"DataInfoVerbatim", testDataInfoVerbatim},
	{"RecordRequest", testRecordRequest},
	{"RecordWrappedKey", testRecordWrappedKey},
	{"AdmissionInWrite", testAdmissionInWrite},
	{"RepeatAnswer", testRepeatAnswer},
	{"Allow", testAllow},
	{"AllowConcurrent", testAllowConcurrent},
	{"TwoProcesses", testTwoProcesses},
	{"CheckIntegrity", testCheckIntegrity},
	{"ClientCache", testClientCache},
	{"RequestLog", testRequestLog},
	{"MerchantCache", testMerchantCache},
}

func TestContract(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			// The engines share nothing, so they run side by side: SQLite
			// mostly waits for fsync, PostgreSQL for the server.
			t.Parallel()
			for _, tc := range contract {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDSN) })
			}
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func open(t *testing.T, newDSN func(testing.TB) string) *sqlstore.DB {
	t.Helper()
	return sqlstoretest.Open(t, newDSN(t))
}

// Fixture ids.
const (
	clientA   = "2110200000000044"
	clientB   = "2110200000000055"
	merchantA = "2160120036095023"
	merchantB = "2160120036095099"
	template1 = "temlate111001"
	userA     = "2160220037090534"
	userB     = "2160220037090999"
)

func fixture() *ipass.Tenants {
	return &ipass.Tenants{
		Clients: []ipass.Client{
			{ID: clientA, Name: "Demo back end", RateLimit: 200, Keys: []ipass.ClientKey{
				{Version: 1, Algorithm: ipass.AlgorithmECC224, PublicKey: "ecc-pub-1", Status: ipass.KeyActive},
				{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n", Status: ipass.KeyActive},
				{Version: 2, Algorithm: ipass.AlgorithmRSA256, PublicKey: "rsa-pub-2", Status: ipass.KeyActive},
			}},
			{ID: clientB, Name: "Other", RateLimit: 0},
		},
		Merchants: []ipass.Merchant{
			{ID: merchantA, ClientID: clientA, Name: "Demo Coffee"},
			{ID: merchantB, ClientID: clientB, Name: "Other & <Sons>"},
		},
		Templates: []ipass.Template{
			{
				Code: template1, MerchantID: merchantA, Type: ipass.TypeCard, Product: ipass.ProductMemberCard,
				Title:        map[string]string{"zh_HK": "會員卡", "en_US": "Member card"},
				Locales:      []string{"zh_HK", "en_US"},
				Placeholders: []string{"points", "level", "balance"},
				CodeDisplay:  ipass.CodeQR,
				Style:        map[string]string{"backgroundColor": "#1677FF"},
			},
			{
				Code: template1, MerchantID: merchantB, Type: ipass.TypeCoupon, Product: ipass.ProductCoupon,
				Title: map[string]string{"en_US": "Coupon"}, Locales: []string{"en_US"}, Placeholders: []string{},
				CodeDisplay: ipass.CodeNone, Style: map[string]string{},
			},
		},
		Users: []ipass.User{
			{ID: userA, OpenIDs: map[string]string{merchantA: "fj398457jd8iue98d8w7w93j", merchantB: "other-open-id"}},
			{ID: userB, OpenIDs: map[string]string{}},
		},
	}
}

func seed(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	if err := db.Apply(ctx(t), fixture()); err != nil {
		t.Fatalf("Apply fixture: %v", err)
	}
}

func newPass(id, serial string) (*ipass.Pass, *ipass.PassVersion) {
	p := &ipass.Pass{
		ID: id, MerchantID: merchantA, BizSerialID: serial, TemplateCode: template1,
		Type: ipass.TypeCard, Product: ipass.ProductMemberCard, UserID: userA, Status: ipass.StatusActive,
		StartDate: 1700000000000, EndDate: 1900000000000, BizCreate: 1700000000123,
		DataInfo: ipass.DataInfo{
			"$points_en_US$":  json.RawMessage(`120`),
			"$level_zh_HK$":   json.RawMessage(`"銀卡"`),
			"$balance_en_US$": json.RawMessage(`{"cent":800,"currency":"HKD"}`),
		},
		CodeInfo:          ipass.CodeInfo{Msg: "81399940", Value: "81399940"},
		CreateFingerprint: `{"bizSerialId":"` + serial + `"}`,
	}
	v := &ipass.PassVersion{
		Operation: "createPass", ClientID: clientA, MerchantID: merchantA,
		Changes: json.RawMessage(`{"status":"ACTIVE"}`), TracerID: "tracer-" + id,
	}
	return p, v
}

func passID(n int) string { return fmt.Sprintf("29952284804025648900%011d", n) }

func createPass(t *testing.T, db *sqlstore.DB, n int) *ipass.Pass {
	t.Helper()
	p, v := newPass(passID(n), fmt.Sprintf("serial-%d", n))
	got, err := db.CreatePass(ctx(t), p, v)
	if err != nil {
		t.Fatalf("CreatePass: %v", err)
	}
	return got
}

func wantCode(t *testing.T, err error, code ipass.Code, msgPart string) {
	t.Helper()
	if got := ipass.ErrorCode(err); got != code {
		t.Fatalf("error code = %s (%v), want %s", got, err, code)
	}
	if !strings.Contains(ipass.ErrorMessage(err), msgPart) {
		t.Fatalf("message %q does not mention %q", ipass.ErrorMessage(err), msgPart)
	}
}

func testOpen(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	db := sqlstoretest.Open(t, dsn)
	if err := db.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	want := sqlstore.EngineSQLite
	if strings.HasPrefix(dsn, "postgres") {
		want = sqlstore.EnginePostgres
	}
	if db.Engine() != want {
		t.Fatalf("Engine() = %q, want %q", db.Engine(), want)
	}
	// Opening an up-to-date database again migrates nothing and works.
	seed(t, db)
	again := sqlstoretest.Open(t, dsn)
	if ok, err := again.HasClients(ctx(t)); err != nil || !ok {
		t.Fatalf("HasClients on reopened db = %v, %v", ok, err)
	}
	if db.Engine() == sqlstore.EngineSQLite {
		// The parent directory is created, private.
		dir := filepath.Join(t.TempDir(), "a", "b")
		d2 := sqlstoretest.Open(t, "sqlite:"+filepath.Join(dir, "x.db"))
		if err := d2.Ping(ctx(t)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Fatalf("directory mode = %v, want 0700", fi.Mode().Perm())
		}
		// Processes starting at once on a new file all come up migrated.
		fresh := "sqlite:" + filepath.Join(t.TempDir(), "fresh.db")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				db, err := sqlstore.Open(ctx(t), fresh, nil)
				if err != nil {
					t.Errorf("concurrent Open: %v", err)
					return
				}
				defer db.Close()
				if _, err := db.HasClients(ctx(t)); err != nil {
					t.Errorf("after concurrent Open: %v", err)
				}
			})
		}
		wg.Wait()
	}
	if _, err := sqlstore.Open(ctx(t), "mysql://x", nil); err == nil {
		t.Fatal("Open(mysql://x) succeeded")
	}
}

func testApplyExport(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	if ok, err := db.HasClients(ctx(t)); err != nil || ok {
		t.Fatalf("HasClients on empty db = %v, %v", ok, err)
	}
	in := fixture()
	if err := db.Apply(ctx(t), in); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got, err := db.Export(ctx(t))
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	// Expected: the fixture in Export's order. Keys by (algorithm, version):
	// ECC224 sorts before RSA256, as in the fixture; templates by
	// (merchantId, code).
	want := fixture()
	for i := range want.Clients {
		want.Clients[i].HeaderCase = ipass.HeaderLower               // the default
		want.Clients[i].EncryptionKey = ipass.EncryptionKeyDedicated // the default
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Export mismatch\n got: %+v\nwant: %+v", got, want)
	}

	// Applying again changes nothing; a partial apply upserts and deletes nothing.
	if err := db.Apply(ctx(t), in); err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if err := db.Apply(ctx(t), &ipass.Tenants{
		Clients: []ipass.Client{{ID: clientB, Name: "Renamed", RateLimit: 5, Keys: []ipass.ClientKey{
			{Version: 0, Algorithm: ipass.AlgorithmRSA256, PublicKey: "k0", Status: ipass.KeyActive},
		}}},
		Users: []ipass.User{{ID: userB, OpenIDs: map[string]string{merchantA: "b-at-a"}}},
	}); err != nil {
		t.Fatalf("partial Apply: %v", err)
	}
	got, err = db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want.Clients[1] = ipass.Client{ID: clientB, Name: "Renamed", RateLimit: 5, HeaderCase: ipass.HeaderLower, EncryptionKey: ipass.EncryptionKeyDedicated, Keys: []ipass.ClientKey{
		{Version: 0, Algorithm: ipass.AlgorithmRSA256, PublicKey: "k0", Status: ipass.KeyActive},
	}}
	want.Users[1].OpenIDs = map[string]string{merchantA: "b-at-a"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Export after partial apply\n got: %+v\nwant: %+v", got, want)
	}
}

func testApplyAllOrNothing(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	before, err := db.Export(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	// Each bad batch starts with a valid new client, which must not survive.
	newClient := ipass.Client{ID: "new-client", Name: "n", Keys: []ipass.ClientKey{
		{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: "p", Status: ipass.KeyActive},
	}}
	tests := []struct {
		name string
		t    ipass.Tenants
		msg  string
	}{
		{"MerchantOfUnknownClient", ipass.Tenants{
			Clients:   []ipass.Client{newClient},
			Merchants: []ipass.Merchant{{ID: "m-ok", ClientID: "new-client"}, {ID: "m-bad", ClientID: "nobody"}},
		}, `merchants[1] (merchantId "m-bad"): clientId "nobody"`},
		{"TemplateOfUnknownMerchant", ipass.Tenants{
			Clients:   []ipass.Client{newClient},
			Templates: []ipass.Template{{Code: "t-bad", MerchantID: "nobody"}},
		}, `templates[0] (templateCode "t-bad"): merchantId "nobody"`},
		{"OpenIDAtUnknownMerchant", ipass.Tenants{
			Clients: []ipass.Client{newClient},
			Users:   []ipass.User{{ID: "u-new", OpenIDs: map[string]string{"nobody": "o"}}},
		}, `users[0] (userId "u-new").openIds["nobody"]`},
		{"OpenIDTakenByAnotherUser", ipass.Tenants{
			Clients: []ipass.Client{newClient},
			Users:   []ipass.User{{ID: userB, OpenIDs: map[string]string{merchantA: "fj398457jd8iue98d8w7w93j"}}},
		}, `already used by user "` + userA + `"`},
		{"BadKeyStatus", ipass.Tenants{
			Clients: []ipass.Client{newClient, {ID: "c2", Keys: []ipass.ClientKey{{Version: 1, Algorithm: "RSA256", Status: "revoked"}}}},
		}, `clients[1] (clientId "c2").keys[0]: status "revoked"`},
		{"EmptyID", ipass.Tenants{
			Clients: []ipass.Client{newClient}, Merchants: []ipass.Merchant{{ClientID: clientA}},
		}, `merchants[0]: merchantId is empty`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Apply(ctx(t), &tc.t)
			wantCode(t, err, ipass.CodeParamIllegal, tc.msg)
			after, err := db.Export(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(after, before) {
				t.Fatalf("a failed Apply changed the database\n got: %+v\nwant: %+v", after, before)
			}
		})
	}
}

func testKeyRetire(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	c, err := db.Client(ctx(t), clientA)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := c.ActiveKey(ipass.AlgorithmRSA256, -1); !ok || k.Version != 2 {
		t.Fatalf("newest active RSA key = %+v, %v; want version 2", k, ok)
	}
	err = db.Apply(ctx(t), &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Name: "Demo back end", RateLimit: 200,
		Keys: []ipass.ClientKey{{Version: 2, Algorithm: ipass.AlgorithmRSA256, PublicKey: "rsa-pub-2", Status: ipass.KeyRetired}}}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err = db.Client(ctx(t), clientA)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys) != 3 {
		t.Fatalf("keys = %+v, want all 3 kept", c.Keys)
	}
	if _, ok := c.ActiveKey(ipass.AlgorithmRSA256, 2); ok {
		t.Fatal("retired key 2 is still active")
	}
	if k, ok := c.ActiveKey(ipass.AlgorithmRSA256, -1); !ok || k.Version != 1 {
		t.Fatalf("newest active RSA key = %+v, %v; want version 1", k, ok)
	}
	if c.Keys[2].Status != ipass.KeyRetired || c.Keys[2].Version != 2 {
		t.Fatalf("key 2 = %+v, want retired", c.Keys[2])
	}
}

func testLookups(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	c := ctx(t)
	notFound := []struct {
		name string
		err  error
	}{}
	check := func(name string, err error) {
		notFound = append(notFound, struct {
			name string
			err  error
		}{name, err})
	}

	_, err := db.Client(c, "nobody")
	check("Client", err)
	_, err = db.Merchant(c, "nobody")
	check("Merchant", err)
	_, err = db.Template(c, merchantA, "nope")
	check("Template", err)
	_, err = db.User(c, "nobody")
	check("User", err)
	_, err = db.UserByOpenID(c, merchantB, "fj398457jd8iue98d8w7w93j") // userA's openId at merchantA
	check("UserByOpenID other merchant", err)
	_, err = db.PassByID(c, "nope")
	check("PassByID", err)
	_, err = db.PassBySerial(c, merchantA, "nope")
	check("PassBySerial", err)
	_, err = db.History(c, "nope")
	check("History", err)
	_, err = db.UpdatePass(c, "nope", func(*ipass.Pass) (*ipass.PassVersion, error) { return nil, nil })
	check("UpdatePass", err)
	for _, nf := range notFound {
		if !errors.Is(nf.err, ipass.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", nf.name, nf.err)
		}
	}

	m, err := db.Merchant(c, merchantB)
	if err != nil || !reflect.DeepEqual(*m, ipass.Merchant{ID: merchantB, ClientID: clientB, Name: "Other & <Sons>"}) {
		t.Fatalf("Merchant = %+v, %v", m, err)
	}
	tp, err := db.Template(c, merchantB, template1)
	if err != nil || tp.MerchantID != merchantB || tp.Type != ipass.TypeCoupon {
		t.Fatalf("Template of merchant B = %+v, %v", tp, err)
	}
	u, err := db.UserByOpenID(c, merchantA, "fj398457jd8iue98d8w7w93j")
	if err != nil || u.ID != userA || u.OpenIDs[merchantB] != "other-open-id" {
		t.Fatalf("UserByOpenID = %+v, %v", u, err)
	}
	u, err = db.User(c, userB)
	if err != nil || u.ID != userB || u.OpenIDs == nil || len(u.OpenIDs) != 0 {
		t.Fatalf("User(userB) = %+v, %v; want no openIds, non-nil map", u, err)
	}
	cl, err := db.Client(c, clientB)
	if err != nil || cl.Name != "Other" || len(cl.Keys) != 0 {
		t.Fatalf("Client(clientB) = %+v, %v", cl, err)
	}
}

func testCreatePass(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	db.Now = func() time.Time { return time.UnixMilli(1750000000000) }
	p, v := newPass(passID(1), "serial-1")
	orig := *p
	got, err := db.CreatePass(ctx(t), p, v)
	if err != nil {
		t.Fatalf("CreatePass: %v", err)
	}
	if !reflect.DeepEqual(*p, orig) {
		t.Fatal("CreatePass modified its argument")
	}
	want := orig
	want.Version, want.CreatedAt, want.UpdatedAt = 1, 1750000000000, 1750000000000
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("CreatePass returned\n%+v\nwant\n%+v", got, &want)
	}
	byID, err := db.PassByID(ctx(t), p.ID)
	if err != nil || !reflect.DeepEqual(byID, &want) {
		t.Fatalf("PassByID = %+v, %v\nwant %+v", byID, err, &want)
	}
	bySerial, err := db.PassBySerial(ctx(t), merchantA, "serial-1")
	if err != nil || !reflect.DeepEqual(bySerial, &want) {
		t.Fatalf("PassBySerial = %+v, %v", bySerial, err)
	}
	if got, err := db.MerchantPass(ctx(t), merchantA, p.ID); err != nil || !reflect.DeepEqual(got, &want) {
		t.Fatalf("MerchantPass = %+v, %v\nwant %+v", got, err, &want)
	}
	// Another merchant's pass is not found, exactly like a missing one.
	if _, err := db.MerchantPass(ctx(t), merchantB, p.ID); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("MerchantPass at another merchant: %v, want ErrNotFound", err)
	}
	if _, err := db.MerchantPass(ctx(t), merchantA, passID(999)); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("MerchantPass of a missing pass: %v, want ErrNotFound", err)
	}
	if _, err := db.PassBySerial(ctx(t), merchantB, "serial-1"); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("PassBySerial at another merchant: %v, want ErrNotFound", err)
	}
	h, err := db.History(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantV := *v
	wantV.PassID, wantV.Version, wantV.At, wantV.Status = p.ID, 1, 1750000000000, ipass.StatusActive
	if len(h) != 1 || !reflect.DeepEqual(h[0], wantV) {
		t.Fatalf("History = %+v\nwant [%+v]", h, wantV)
	}
	if err := db.CheckIntegrity(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func testCreatePassConflict(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	first := createPass(t, db, 1)
	p, v := newPass(passID(2), "serial-1")
	p.EndDate++
	existing, err := db.CreatePass(ctx(t), p, v)
	if !errors.Is(err, ipass.ErrConflict) {
		t.Fatalf("second CreatePass: err = %v, want ErrConflict", err)
	}
	if existing == nil || !reflect.DeepEqual(existing, first) {
		t.Fatalf("existing = %+v, want %+v", existing, first)
	}
	if _, err := db.PassByID(ctx(t), passID(2)); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("the losing pass was stored: %v", err)
	}
	// The same bizSerialId at another merchant is another pass.
	p, v = newPass(passID(3), "serial-1")
	p.MerchantID = merchantB
	p.Type, p.Product = ipass.TypeCoupon, ipass.ProductCoupon
	if _, err := db.CreatePass(ctx(t), p, v); err != nil {
		t.Fatalf("same serial at merchant B: %v", err)
	}
	// A passId collision is not a bizSerialId conflict.
	p, v = newPass(passID(1), "serial-other")
	if _, err := db.CreatePass(ctx(t), p, v); err == nil || errors.Is(err, ipass.ErrConflict) {
		t.Fatalf("passId collision: err = %v, want a non-conflict error", err)
	}
}

func testCreatePassConcurrent(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	const n = 50
	var wg sync.WaitGroup
	var created atomic.Int32
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			p, v := newPass(passID(100+i), "contended")
			got, err := db.CreatePass(ctx(t), p, v)
			if err == nil {
				created.Add(1)
			}
			if got != nil {
				ids[i] = got.ID
			}
			if err != nil && !errors.Is(err, ipass.ErrConflict) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("unexpected errors: %v", err)
	}
	if created.Load() != 1 {
		t.Fatalf("%d creates succeeded, want 1", created.Load())
	}
	winner, err := db.PassBySerial(ctx(t), merchantA, "contended")
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if id != winner.ID {
			t.Fatalf("create %d returned pass %q, want the winner %q", i, id, winner.ID)
		}
	}
	if ids, err := db.PassIDs(ctx(t)); err != nil || len(ids) != 1 || ids[0] != winner.ID {
		t.Fatalf("PassIDs = %v, %v; want just %s", ids, err, winner.ID)
	}
	if err := db.CheckIntegrity(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func testUpdatePass(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	created := createPass(t, db, 1)
	db.Now = func() time.Time { return time.UnixMilli(1760000000000) }

	got, err := db.UpdatePass(ctx(t), created.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		if !reflect.DeepEqual(next, created) {
			return nil, fmt.Errorf("decide got %+v, want the stored pass", next)
		}
		next.Status = ipass.StatusClosed
		next.DataInfo["$points_en_US$"] = json.RawMessage(`130`)
		delete(next.DataInfo, "$level_zh_HK$")
		next.EndDate = 1950000000000
		next.LastBizDate = 1760000000000
		next.LastUpdateFingerprint = "fp-1"
		return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA,
			RequestStatus: "CLOSED", Metadata: json.RawMessage(`{"billNo":"b1"}`), PassVerifyCode: "v1",
			BizDate: 1760000000000, TracerID: "t2", Version: 99, At: 1}, nil
	})
	if err != nil {
		t.Fatalf("UpdatePass: %v", err)
	}
	if got.Version != 2 || got.UpdatedAt != 1760000000000 || got.CreatedAt != created.CreatedAt || got.Status != ipass.StatusClosed {
		t.Fatalf("updated pass = %+v", got)
	}
	stored, err := db.PassByID(ctx(t), created.ID)
	if err != nil || !reflect.DeepEqual(stored, got) {
		t.Fatalf("stored = %+v, %v\nwant %+v", stored, err, got)
	}
	if _, ok := stored.DataInfo["$level_zh_HK$"]; ok || string(stored.DataInfo["$points_en_US$"]) != "130" {
		t.Fatalf("dataInfo = %s", stored.DataInfo)
	}

	// (nil, nil): no change, no version.
	same, err := db.UpdatePass(ctx(t), created.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.Status = ipass.StatusActive // ignored: nothing is stored
		return nil, nil
	})
	if err != nil || !reflect.DeepEqual(same, stored) {
		t.Fatalf("no-change UpdatePass = %+v, %v", same, err)
	}

	// decide's error comes back unchanged and nothing is stored.
	sentinel := ipass.Errorf(ipass.CodePassStatusIllegal, "pass is closed")
	_, err = db.UpdatePass(ctx(t), created.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.Status = ipass.StatusActive
		return &ipass.PassVersion{}, sentinel
	})
	if err != error(sentinel) {
		t.Fatalf("err = %v, want decide's error itself", err)
	}

	// Fields fixed for life may not change.
	_, err = db.UpdatePass(ctx(t), created.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.MerchantID = merchantB
		return &ipass.PassVersion{Operation: "updatePass"}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "merchantId") {
		t.Fatalf("changing merchantId: err = %v", err)
	}

	after, _ := db.PassByID(ctx(t), created.ID)
	if !reflect.DeepEqual(after, stored) {
		t.Fatalf("failed updates changed the pass: %+v", after)
	}
	h, err := db.History(ctx(t), created.ID)
	if err != nil || len(h) != 2 {
		t.Fatalf("History = %+v, %v", h, err)
	}
	if h[1].Version != 2 || h[1].At != 1760000000000 || h[1].Status != ipass.StatusClosed || h[1].PassID != created.ID ||
		string(h[1].Metadata) != `{"billNo":"b1"}` || h[1].Changes != nil || h[1].PassVerifyCode != "v1" {
		t.Fatalf("history entry 2 = %+v", h[1])
	}
}

func testUpdatePassConcurrentMerge(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	p := createPass(t, db, 1)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
				next.DataInfo[fmt.Sprintf("$k%d_en_US$", i)] = json.RawMessage(fmt.Sprint(i))
				return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA,
					UpdateKind: ipass.UpdateDataInfo, Changes: json.RawMessage(fmt.Sprintf(`{"k":%d}`, i))}, nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("UpdatePass errors: %v", err)
	}
	got, err := db.PassByID(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != n+1 {
		t.Fatalf("version = %d, want %d", got.Version, n+1)
	}
	for i := range n {
		if v := string(got.DataInfo[fmt.Sprintf("$k%d_en_US$", i)]); v != fmt.Sprint(i) {
			t.Fatalf("dataInfo key %d = %q: a merge was lost", i, v)
		}
	}
	h, err := db.History(ctx(t), p.ID)
	if err != nil || len(h) != n+1 {
		t.Fatalf("History: %d entries, %v", len(h), err)
	}
	if err := db.CheckIntegrity(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

var errUsed = ipass.Errorf(ipass.CodePassUsedOccupied, "pass is used")

// markUsed is the decide of a "USED" request: only an ACTIVE pass may become USED.
func markUsed(tracer string) func(next *ipass.Pass) (*ipass.PassVersion, error) {
	return func(next *ipass.Pass) (*ipass.PassVersion, error) {
		if next.Status == ipass.StatusUsed {
			return nil, errUsed
		}
		next.Status = ipass.StatusUsed
		return &ipass.PassVersion{Operation: "updatePass", RequestStatus: "USED", TracerID: tracer}, nil
	}
}

func testUpdatePassConcurrentUse(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	p := createPass(t, db, 1)
	const n = 200
	var wg sync.WaitGroup
	var ok, used atomic.Int32
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, err := db.UpdatePass(ctx(t), p.ID, markUsed(fmt.Sprint(i)))
			switch {
			case err == nil:
				ok.Add(1)
			case err == error(errUsed):
				used.Add(1)
			default:
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("unexpected errors: %v", err)
	}
	if ok.Load() != 1 || used.Load() != n-1 {
		t.Fatalf("%d succeeded and %d were refused, want 1 and %d", ok.Load(), used.Load(), n-1)
	}
	got, err := db.PassByID(ctx(t), p.ID)
	if err != nil || got.Version != 2 || got.Status != ipass.StatusUsed {
		t.Fatalf("pass = %+v, %v; want version 2, USED", got, err)
	}
}

func testHistory(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	clock := int64(1760000000000)
	db.Now = func() time.Time { clock += 1000; return time.UnixMilli(clock) }
	p := createPass(t, db, 1)
	createPass(t, db, 2) // another pass's history must not mix in
	for i := range 12 {  // more than 9, so text ordering of versions would show
		if _, err := db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
			next.DataInfo["$points_en_US$"] = json.RawMessage(fmt.Sprint(i))
			return &ipass.PassVersion{Operation: "updatePass", TracerID: fmt.Sprint("t", i)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := db.History(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 13 {
		t.Fatalf("%d entries, want 13", len(h))
	}
	for i, v := range h {
		if v.Version != i+1 || v.PassID != p.ID {
			t.Fatalf("entry %d = version %d of %s", i, v.Version, v.PassID)
		}
		if i > 0 && (v.TracerID != fmt.Sprint("t", i-1) || v.At <= h[i-1].At) {
			t.Fatalf("entry %d = %+v: out of order", i, v)
		}
	}
}

func testDataInfoVerbatim(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	values := map[string]string{
		"$a_en_US$":    `{"cent":800,"currency":"HKD"}`,
		"$b_zh_HK$":    `"銀卡"`,
		"$c_en_US$":    `"a<b>&c"`,
		"$d_en_US$":    `1.50`,
		"$e_en_US$":    `1e2`,
		"$f_en_US$":    `[1, 2,  {"z": 1, "a": "\u00e9"}]`,
		"$g_en_US$":    `true`,
		"$h_en_US$":    `null`,
		"$i_en_US$":    `"\u003cscript\u003e"`,
		"$j_en_US$":    `-0.000`,
		"$k<&>_en_US$": `"key with html characters"`,
		"$l_en_US$":    `{ "nested" : { "deep" : [ ] } }`,
	}
	p, v := newPass(passID(1), "serial-1")
	p.DataInfo = ipass.DataInfo{}
	for k, val := range values {
		p.DataInfo[k] = json.RawMessage(val)
	}
	check := func(step string, d ipass.DataInfo) {
		t.Helper()
		if len(d) != len(values) {
			t.Fatalf("%s: %d keys, want %d", step, len(d), len(values))
		}
		for k, want := range values {
			if got := string(d[k]); got != want {
				t.Errorf("%s: %s = %s, want %s byte for byte", step, k, got, want)
			}
		}
	}
	if _, err := db.CreatePass(ctx(t), p, v); err != nil {
		t.Fatal(err)
	}
	got, err := db.PassByID(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("after create", got.DataInfo)
	_, err = db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		check("in decide", next.DataInfo)
		next.CodeInfo.Msg = "<&>"
		return &ipass.PassVersion{Operation: "updatePass"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = db.PassByID(ctx(t), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("after update", got.DataInfo)
	if got.CodeInfo.Msg != "<&>" {
		t.Fatalf("codeInfo = %+v", got.CodeInfo)
	}
	// Invalid JSON is refused rather than stored.
	p2, v2 := newPass(passID(2), "serial-2")
	p2.DataInfo["$x_en_US$"] = json.RawMessage(`{`)
	if _, err := db.CreatePass(ctx(t), p2, v2); err == nil {
		t.Fatal("CreatePass stored invalid JSON")
	}
	// So is invalid UTF-8, which encoding/json leaves in a RawMessage: the
	// engines would otherwise differ (PostgreSQL refuses it, SQLite stores it).
	p2.DataInfo["$x_en_US$"] = json.RawMessage("\"\xff\"")
	if _, err := db.CreatePass(ctx(t), p2, v2); err == nil {
		t.Fatal("CreatePass stored invalid UTF-8")
	}
}

// testRecordWrappedKey: a wrapped key is fresh once, server-wide (another
// client, another process, any later time), and racing processes agree.
func testRecordWrappedKey(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	dbs := []*sqlstore.DB{sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)}
	at := time.UnixMilli(1760000000000)
	digest := []byte{0x00, 0xff, 0x10, 0x20}
	use := func(db *sqlstore.DB, client string, d []byte, at time.Time) ipass.KeyUse {
		t.Helper()
		u, err := db.RecordWrappedKey(ctx(t), client, d, at)
		if err != nil {
			t.Fatalf("RecordWrappedKey: %v", err)
		}
		return u
	}
	record := func(db *sqlstore.DB, client string, d []byte, at time.Time) bool {
		t.Helper()
		return use(db, client, d, at) == ipass.KeyFresh
	}
	if !record(dbs[0], clientA, digest, at) {
		t.Fatal("first use is not fresh")
	}
	for _, c := range []struct {
		name   string
		db     *sqlstore.DB
		client string
		at     time.Time
	}{
		{"again", dbs[0], clientA, at},
		{"by another client", dbs[0], clientB, at},
		{"on another process", dbs[1], clientB, at},
		{"a year later", dbs[1], clientA, at.AddDate(1, 0, 0)},
	} {
		if record(c.db, c.client, digest, c.at) {
			t.Fatalf("used %s: fresh", c.name)
		}
	}
	// A reuse tells who used the key first (a repeat waits for its first
	// delivery only when that was the same client).
	if u := use(dbs[1], clientA, digest, at); u != ipass.KeyUsedBySame {
		t.Fatalf("reused by the first user: %d, want KeyUsedBySame", u)
	}
	if u := use(dbs[0], clientB, digest, at); u != ipass.KeyUsedByOther {
		t.Fatalf("reused by another client: %d, want KeyUsedByOther", u)
	}
	if !record(dbs[1], clientA, []byte{0x00, 0xff, 0x10, 0x21}, at) {
		t.Fatal("another digest is not fresh")
	}
	var wg sync.WaitGroup
	var fresh atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			if u, err := dbs[i%2].RecordWrappedKey(ctx(t), clientB, []byte("contended"), at); err != nil {
				t.Error(err)
			} else if u == ipass.KeyFresh {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Fatalf("%d racing uses were fresh, want 1", fresh.Load())
	}
}

func testRecordRequest(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	now := time.UnixMilli(1760000000000)
	db.Now = func() time.Time { return now }
	digest := []byte{0x00, 0xff, 0x10, 0x20}
	exp := now.Add(5 * time.Minute)
	fresh := func(client string, d []byte, exp time.Time) bool {
		t.Helper()
		ok, err := db.RecordRequest(ctx(t), client, d, exp)
		if err != nil {
			t.Fatalf("RecordRequest: %v", err)
		}
		return ok
	}
	if !fresh(clientA, digest, exp) {
		t.Fatal("first request is not fresh")
	}
	if fresh(clientA, digest, exp.Add(time.Hour)) {
		t.Fatal("replay inside the window is fresh")
	}
	if !fresh(clientB, digest, exp) {
		t.Fatal("same digest from another client is not fresh")
	}
	if !fresh(clientA, []byte{0x00, 0xff, 0x10, 0x21}, exp) {
		t.Fatal("another digest is not fresh")
	}
	// A record is never taken over, however old: past its keep-until, by
	// the store's clock, a resent request is still a replay (issue 8: the
	// expiry must not decide at write time, after a slow body).
	now = exp.Add(time.Hour)
	if fresh(clientA, digest, now.Add(5*time.Minute)) {
		t.Fatal("replay after the record's keep-until is fresh")
	}

	// Prune removes what is kept until before t, nothing else: clientB's and
	// the second digest's records (exp) go; a record kept longer stays.
	if !fresh(clientA, []byte("long"), exp.Add(time.Hour)) {
		t.Fatal("a new digest is not fresh")
	}
	n, err := db.PruneRequests(ctx(t), exp.Add(time.Second))
	if err != nil || n != 3 {
		t.Fatalf("PruneRequests = %d, %v; want 3", n, err)
	}
	if n, err := db.PruneRequests(ctx(t), exp.Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("second PruneRequests = %d, %v; want 0", n, err)
	}
	if fresh(clientA, []byte("long"), exp.Add(time.Hour)) {
		t.Fatal("prune removed a record kept until later")
	}
	// Once pruned, the digest is new again (the server prunes only when no
	// copy of the request can pass its window any more).
	if !fresh(clientA, digest, now.Add(5*time.Minute)) {
		t.Fatal("a pruned record still counts")
	}

	// A fresh record written after the request's deadline is discarded, and
	// the request fails: its write came later than the keep-until allows for.
	late := &ipass.Admission{ClientID: clientA, Digest: []byte("late"), KeepUntil: now.Add(time.Hour), Deadline: now.Add(-time.Millisecond)}
	if err := db.Admit(ctx(t), late); err == nil || late.Outcome != ipass.AdmissionPending {
		t.Fatalf("Admit after the deadline = %v, outcome %d; want an error and no outcome", err, late.Outcome)
	}
	if !fresh(clientA, []byte("late"), now.Add(time.Hour)) {
		t.Fatal("the late admission left a record")
	}

	// Racing identical requests: exactly one is fresh.
	var wg sync.WaitGroup
	var fresher atomic.Int32
	for range 20 {
		wg.Go(func() {
			ok, err := db.RecordRequest(ctx(t), clientA, []byte("race"), now.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresher.Add(1)
			}
		})
	}
	wg.Wait()
	if fresher.Load() != 1 {
		t.Fatalf("%d racing requests were fresh, want 1", fresher.Load())
	}
}

func testAllow(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	now := time.Unix(1760000000, 0)
	allow := func(client string, rate int, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := db.Allow(ctx(t), client, rate, at)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return ok, wait
	}
	for range 1000 {
		if ok, _ := allow(clientB, 0, now); !ok {
			t.Fatal("rate 0 refused a request")
		}
	}
	// A burst within one instant: the full bucket, then nothing.
	allowed := 0
	var lastWait time.Duration
	for range 250 {
		ok, wait := allow(clientA, 200, now)
		if ok {
			allowed++
		} else {
			lastWait = wait
		}
	}
	if allowed != 200 {
		t.Fatalf("%d of 250 allowed at rate 200, want 200", allowed)
	}
	if lastWait != 5*time.Millisecond {
		t.Fatalf("retryAfter = %v, want 5ms", lastWait)
	}
	// Refill at the rate: 10 ms later, two tokens.
	now = now.Add(10 * time.Millisecond)
	if a, _ := allow(clientA, 200, now); !a {
		t.Fatal("no token after 10ms")
	}
	if a, _ := allow(clientA, 200, now); !a {
		t.Fatal("no second token after 10ms")
	}
	if a, _ := allow(clientA, 200, now); a {
		t.Fatal("third token after 10ms")
	}
	// A clock behind the bucket refills nothing.
	if a, _ := allow(clientA, 200, now.Add(-time.Second)); a {
		t.Fatal("an earlier instant refilled the bucket")
	}
	// Capacity is the rate: a long pause gives 200, not more.
	now = now.Add(time.Hour)
	allowed = 0
	for range 210 {
		if a, _ := allow(clientA, 200, now); a {
			allowed++
		}
	}
	if allowed != 200 {
		t.Fatalf("%d allowed after a long pause, want 200", allowed)
	}
	// Buckets are per client.
	if a, _ := allow(clientB, 5, now); !a {
		t.Fatal("client B shares client A's bucket")
	}
	// A lowered rate caps the bucket at once.
	now = now.Add(time.Hour)
	allowed = 0
	for range 20 {
		if a, _ := allow(clientA, 10, now); a {
			allowed++
		}
	}
	if allowed != 10 {
		t.Fatalf("%d allowed after lowering the rate to 10, want 10", allowed)
	}
}

func testAllowConcurrent(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	now := time.Unix(1760000000, 0)
	var wg sync.WaitGroup
	var allowed atomic.Int32
	for range 250 {
		wg.Go(func() {
			ok, _, err := db.Allow(ctx(t), clientA, 200, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 200 {
		t.Fatalf("%d of 250 concurrent requests allowed, want 200", allowed.Load())
	}
}

// testTwoProcesses opens two *DB on one database, as two server processes
// would, and checks the guarantees hold across them.
func testTwoProcesses(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	dbs := []*sqlstore.DB{sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)}
	seed(t, dbs[0])
	p := createPass(t, dbs[1], 1)

	var wg sync.WaitGroup
	var created, allowed, fresh atomic.Int32
	errs := make(chan error, 1000)
	now := time.Unix(1760000000, 0)
	for i := range 100 {
		db := dbs[i%2]
		wg.Go(func() { // one bizSerialId from both
			q, v := newPass(passID(1000+i), "both")
			if _, err := db.CreatePass(ctx(t), q, v); err == nil {
				created.Add(1)
			} else if !errors.Is(err, ipass.ErrConflict) {
				errs <- err
			}
		})
		wg.Go(func() { // merges from both
			_, err := db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
				next.DataInfo[fmt.Sprintf("$k%d_en_US$", i)] = json.RawMessage(`1`)
				return &ipass.PassVersion{Operation: "updatePass"}, nil
			})
			if err != nil {
				errs <- err
			}
		})
		wg.Go(func() { // one budget for both
			ok, _, err := db.Allow(ctx(t), clientA, 30, now)
			if err != nil {
				errs <- err
			}
			if ok {
				allowed.Add(1)
			}
		})
		wg.Go(func() { // one replay record for both
			ok, err := db.RecordRequest(ctx(t), clientA, []byte("same"), time.Now().Add(time.Hour))
			if err != nil {
				errs <- err
			}
			if ok {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if created.Load() != 1 || allowed.Load() != 30 || fresh.Load() != 1 {
		t.Fatalf("created %d passes (want 1), allowed %d (want 30), %d fresh (want 1)",
			created.Load(), allowed.Load(), fresh.Load())
	}
	got, err := dbs[0].PassByID(ctx(t), p.ID)
	if err != nil || got.Version != 101 || len(got.DataInfo) != 103 {
		t.Fatalf("pass version %d with %d dataInfo keys (%v), want 101 and 103", got.Version, len(got.DataInfo), err)
	}

	// Conflicting transitions from both: one wins.
	var okCount atomic.Int32
	for i := range 40 {
		wg.Go(func() {
			_, err := dbs[i%2].UpdatePass(ctx(t), p.ID, markUsed(fmt.Sprint(i)))
			if err == nil {
				okCount.Add(1)
			} else if err != error(errUsed) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if okCount.Load() != 1 {
		t.Fatalf("%d USED transitions won, want 1", okCount.Load())
	}
	if err := dbs[1].CheckIntegrity(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func testCheckIntegrity(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	db := sqlstoretest.Open(t, dsn)
	if err := db.CheckIntegrity(ctx(t)); err != nil {
		t.Fatalf("empty database: %v", err)
	}
	seed(t, db)
	p := createPass(t, db, 1)
	if err := db.CheckIntegrity(ctx(t)); err != nil {
		t.Fatalf("healthy database: %v", err)
	}
	// Break the invariant behind the store's back: a version without history.
	raw := rawDB(t, dsn)
	if _, err := raw.ExecContext(ctx(t), `UPDATE passes SET version = 3 WHERE id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	err := db.CheckIntegrity(ctx(t))
	if err == nil || !strings.Contains(err.Error(), p.ID) {
		t.Fatalf("CheckIntegrity = %v, want a problem naming pass %s", err, p.ID)
	}
}

// rawDB opens dsn with the plain driver, bypassing the store.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "pgx", dsn
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		// Waits for a lock rather than failing: the store's own handle may
		// still be finishing a write it started in the background.
		driver, name = "sqlite", "file:"+path+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
