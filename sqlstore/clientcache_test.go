package sqlstore_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

// countReads counts the read transactions of a store.
type countReads struct{ n atomic.Int64 }

func (c *countReads) ObserveTx(kind string, _ time.Duration, _ int, _ error) {
	if kind == "read" {
		c.n.Add(1)
	}
}

// keyStatus is the status of (RSA256, version) among c's keys, "" if absent.
func keyStatus(c *ipass.Client, version int) ipass.KeyStatus {
	for _, k := range c.Keys {
		if k.Algorithm == ipass.AlgorithmRSA256 && k.Version == version {
			return k.Status
		}
	}
	return ""
}

// testClientCache: lookups of a client come from a cache, and a tenants
// change reaches them at once in the process that applied it and within
// sqlstore.ClientCacheTTL in another one (a second handle on the same
// database: its own pools and cache, as another `ipass serve` or an
// `ipass admin apply`), on PostgreSQL well within it (NOTIFY): a retired key
// stops working, a new key works.
func testClientCache(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	srv, admin := open(t, func(testing.TB) string { return dsn }), open(t, func(testing.TB) string { return dsn })
	seed(t, admin)
	reads := &countReads{}
	srv.SetObserver(reads)

	c, err := srv.Client(ctx(t), clientA)
	if err != nil {
		t.Fatal(err)
	}
	if keyStatus(c, 1) != ipass.KeyActive {
		t.Fatalf("RSA256 v1 %q, want active", keyStatus(c, 1))
	}
	// On PostgreSQL the first lookup starts the listener, which drops the
	// cache once it listens: give it time, so what follows sees NOTIFY's
	// effect, not that first drop.
	bound := sqlstore.ClientCacheTTL + 500*time.Millisecond
	if srv.Engine() == sqlstore.EnginePostgres {
		time.Sleep(300 * time.Millisecond)
		bound = sqlstore.ClientCacheTTL / 2 // a notification, not the TTL
	}
	if _, err := srv.Client(ctx(t), clientA); err != nil {
		t.Fatal(err)
	}
	// Served from the cache: no read transaction, and each caller its own copy.
	before := reads.n.Load()
	for range 50 {
		c2, err := srv.Client(ctx(t), clientA)
		if err != nil {
			t.Fatal(err)
		}
		c2.Keys[0].Status = "tampered"
	}
	if n := reads.n.Load() - before; n > 1 { // one if the TTL ran out meanwhile
		t.Errorf("50 lookups made %d read transactions, want them from the cache", n)
	}
	if c2, _ := srv.Client(ctx(t), clientA); c2.Keys[0].Status == "tampered" {
		t.Error("a caller's change to its client reached the cache")
	}

	// Another handle retires RSA256 v1 and adds v3.
	change := &ipass.Tenants{Clients: []ipass.Client{{ID: clientA, Omitted: []string{"name", "rateLimit", "headerCase"},
		Keys: []ipass.ClientKey{
			{Version: 1, Algorithm: ipass.AlgorithmRSA256, Status: ipass.KeyRetired},
			{Version: 3, Algorithm: ipass.AlgorithmRSA256, PublicKey: "rsa-pub-3", Status: ipass.KeyActive},
		}}}}
	if err := admin.Apply(ctx(t), change); err != nil {
		t.Fatal(err)
	}
	applied := time.Now()
	for {
		c, err := srv.Client(ctx(t), clientA)
		if err != nil {
			t.Fatal(err)
		}
		if keyStatus(c, 1) == ipass.KeyRetired && keyStatus(c, 3) == ipass.KeyActive {
			t.Logf("seen by the other handle %v after apply returned", time.Since(applied).Round(time.Millisecond))
			break
		}
		if time.Since(applied) > bound {
			t.Fatalf("%v after apply, the other handle still has RSA256 v1 %q and v3 %q; want retired and active within %v",
				time.Since(applied), keyStatus(c, 1), keyStatus(c, 3), bound)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// In the applying process the change is there when Apply returns.
	if _, err := admin.Client(ctx(t), clientA); err != nil { // cached in admin now
		t.Fatal(err)
	}
	change.Clients[0].Keys = []ipass.ClientKey{{Version: 3, Algorithm: ipass.AlgorithmRSA256, Status: ipass.KeyRetired}}
	if err := admin.Apply(ctx(t), change); err != nil {
		t.Fatal(err)
	}
	if c, err := admin.Client(ctx(t), clientA); err != nil || keyStatus(c, 3) != ipass.KeyRetired {
		t.Fatalf("right after its own apply: v3 %q (%v), want retired", keyStatus(c, 3), err)
	}
}

// testMerchantCache: a merchant (which client it belongs to, checked by
// every signed request) is served from the client cache too, and a
// tenants change moving it to another client reaches the applying process
// at once and another handle within the cache's bound.
func testMerchantCache(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	srv, admin := open(t, func(testing.TB) string { return dsn }), open(t, func(testing.TB) string { return dsn })
	seed(t, admin)
	owner := func(db *sqlstore.DB) string {
		t.Helper()
		m, err := db.Merchant(ctx(t), merchantA)
		if err != nil {
			t.Fatal(err)
		}
		return m.ClientID
	}
	if got := owner(srv); got != clientA {
		t.Fatalf("merchant %s belongs to %q, want %q", merchantA, got, clientA)
	}
	bound := sqlstore.ClientCacheTTL + 500*time.Millisecond
	time.Sleep(300 * time.Millisecond) // PostgreSQL: the listener started by the first lookup is listening
	owner(srv)                         // cached
	owner(admin)
	move := &ipass.Tenants{Merchants: []ipass.Merchant{{ID: merchantA, ClientID: clientB, Omitted: []string{"name"}}}}
	if err := admin.Apply(ctx(t), move); err != nil {
		t.Fatal(err)
	}
	if got := owner(admin); got != clientB {
		t.Fatalf("right after its own apply: merchant belongs to %q, want %q", got, clientB)
	}
	for applied := time.Now(); owner(srv) != clientB; time.Sleep(10 * time.Millisecond) {
		if time.Since(applied) > bound {
			t.Fatalf("%v after apply, the other handle still has the merchant with %q", time.Since(applied), clientA)
		}
	}
}
