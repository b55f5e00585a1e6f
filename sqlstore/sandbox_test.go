package sqlstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

// The sandbox's part of the store contract (TestContract runs it on every engine).
func init() {
	contract = append(contract,
		contractTest{"SandboxMode", testSandboxMode},
		contractTest{"ChaosRules", testChaosRules},
		contractTest{"MerchantClocks", testMerchantClocks},
	)
}

// testSandboxMode: the first server's mode sticks; the other mode refuses.
func testSandboxMode(t *testing.T, newDSN func(testing.TB) string) {
	prod, sandbox := open(t, newDSN), open(t, newDSN)
	if err := prod.RequireSandbox(ctx(t)); !errors.Is(err, sqlstore.ErrNotSandbox) {
		t.Fatalf("a new database: %v, want ErrNotSandbox", err)
	}
	if err := prod.ClaimMode(ctx(t), false); err != nil {
		t.Fatal(err)
	}
	if err := prod.ClaimMode(ctx(t), false); err != nil {
		t.Fatalf("a second production start: %v", err)
	}
	if err := prod.ClaimMode(ctx(t), true); err == nil {
		t.Fatal("a production database accepted a sandbox")
	}
	if err := prod.RequireSandbox(ctx(t)); !errors.Is(err, sqlstore.ErrNotSandbox) {
		t.Fatalf("a production database: %v, want ErrNotSandbox", err)
	}
	if err := sandbox.ClaimMode(ctx(t), true); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.RequireSandbox(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.ClaimMode(ctx(t), false); err == nil {
		t.Fatal("a sandbox's database accepted a production server")
	}
}

// testChaosRules: rules per client, taken oldest first and matching the
// operation, each request of a rule taken once by racing takers.
func testChaosRules(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	c := ctx(t)
	add := func(r ipass.ChaosRule) ipass.ChaosRule {
		t.Helper()
		r, err := db.AddChaosRule(c, r)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := db.AddChaosRule(c, ipass.ChaosRule{ClientID: clientA, Operation: "deletePass", Answer: ipass.ChaosDrop, Remaining: 1}); ipass.ErrorCode(err) != ipass.CodeParamIllegal {
		t.Fatalf("an invalid rule: %v", err)
	}
	first := add(ipass.ChaosRule{ClientID: clientA, Operation: "updatePass", Answer: ipass.ChaosUnsigned, Remaining: 2, AfterExecute: true, Delay: 1500 * time.Millisecond})
	add(ipass.ChaosRule{ClientID: clientA, Operation: "*", Answer: ipass.ChaosDrop, Remaining: 1})
	add(ipass.ChaosRule{ClientID: clientB, Operation: "*", Answer: ipass.ChaosSystemError, Remaining: 50})

	rules, err := db.ChaosRules(c, clientA)
	if err != nil || len(rules) != 2 || rules[0] != first {
		t.Fatalf("rules of clientA: %+v, %v; want %+v first", rules, err, first)
	}
	ids, err := db.ChaosClients(c)
	if err != nil || len(ids) != 2 {
		t.Fatalf("clients with rules: %v, %v", ids, err)
	}
	// queryPass skips the updatePass rule and takes the "*" one.
	if r, ok, err := db.TakeChaosRule(c, clientA, "queryPass"); err != nil || !ok || r.Answer != ipass.ChaosDrop || r.Remaining != 0 {
		t.Fatalf("take queryPass: %+v %v %v", r, ok, err)
	}
	for want := 1; want >= 0; want-- {
		r, ok, err := db.TakeChaosRule(c, clientA, "updatePass")
		if err != nil || !ok || r.ID != first.ID || r.Remaining != want || !r.AfterExecute || r.Delay != first.Delay {
			t.Fatalf("take updatePass: %+v %v %v", r, ok, err)
		}
	}
	if _, ok, err := db.TakeChaosRule(c, clientA, "updatePass"); ok || err != nil {
		t.Fatalf("a used-up rule was taken: %v %v", ok, err)
	}
	// 50 requests of clientB's rule, 80 racing takers: exactly 50 win.
	var mu sync.Mutex
	var wg sync.WaitGroup
	won := 0
	for range 80 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := db.TakeChaosRule(c, clientB, "createPass")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if ok {
				won++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if won != 50 {
		t.Fatalf("%d takes of a 50-request rule", won)
	}
	add(ipass.ChaosRule{ClientID: clientA, Operation: "*", Answer: ipass.ChaosDrop, Remaining: 3})
	if n, err := db.ClearChaosRules(c, clientA); n != 1 || err != nil {
		t.Fatalf("clear: %d %v", n, err)
	}
	if ids, err := db.ChaosClients(c); err != nil || len(ids) != 0 {
		t.Fatalf("clients with rules after all were used or cleared: %v, %v", ids, err)
	}
}

// testMerchantClocks: offsets set, read back, listed and reset.
func testMerchantClocks(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	c := ctx(t)
	year := 400 * 24 * time.Hour
	if err := db.SetClockOffset(c, merchantA, year); err != nil {
		t.Fatal(err)
	}
	if err := db.SetClockOffset(c, merchantA, year+time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.SetClockOffset(c, merchantB, -time.Minute); err != nil {
		t.Fatal(err)
	}
	if off, err := db.ClockOffset(c, merchantA); err != nil || off != year+time.Hour {
		t.Fatalf("merchantA: %s %v", off, err)
	}
	all, err := db.ClockOffsets(c)
	if err != nil || len(all) != 2 || all[merchantB] != -time.Minute {
		t.Fatalf("offsets %v %v", all, err)
	}
	if err := db.SetClockOffset(c, merchantA, 0); err != nil {
		t.Fatal(err)
	}
	if all, err := db.ClockOffsets(c); err != nil || len(all) != 1 {
		t.Fatalf("after reset: %v %v", all, err)
	}
	if off, err := db.ClockOffset(c, merchantA); err != nil || off != 0 {
		t.Fatalf("merchantA after reset: %s %v", off, err)
	}
}
