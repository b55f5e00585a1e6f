package sqlstore_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// historyChanges are the changes of versions 2, 3, …: values with inner
// spaces, HTML characters and escapes (kept byte for byte), removals, keys
// set again after a removal, status, code and date changes, and a version
// that changed nothing.
var historyChanges = []string{
	`{"dataInfo":{"$points_en_US$": 121 ,"$level_en_US$":"<Gold> & \"more\""}}`,
	`{"status":"USED","dataInfo":{"$balance_en_US$":{"cent": 900, "currency":"HKD"}}}`,
	`{"dataInfo":{"$points_en_US$":null,"$level_zh_HK$":"\u91d1\u5361"}}`,
	`null`,
	`{"codeInfo":{"$codemsg$":"new","$codevalue$":"C-2"},"endDate":1950000000000}`,
	`{"dataInfo":{"$points_en_US$":[1, 2, {"a": "b"}]}}`,
	`{"dataInfo":{}}`,
	`{"status":"CLOSED","dataInfo":{"$points_en_US$":7,"$level_en_US$":null}}`,
}

// testHistoryPage: a page read from the stored priors is exactly the page
// cut out of the replayed whole history, for every (from, size); also for a
// database whose rows have no prior yet (written before migration 00007):
// read by replay until the next write of the pass or the next open fills them.
func testHistoryPage(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	db := sqlstoretest.Open(t, dsn)
	seed(t, db)
	p, v := newPass(passID(1), "serial-1")
	v.Changes = json.RawMessage(`{"status":"ACTIVE","startDate":1700000000000,"endDate":1900000000000,"bizCreate":1700000000123,` +
		`"dataInfo":{"$points_en_US$":  120,"$level_zh_HK$":"銀卡","$balance_en_US$":{"cent":800,"currency":"HKD"}},` +
		`"codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"}}`)
	if _, err := db.CreatePass(ctx(t), p, v); err != nil {
		t.Fatal(err)
	}
	createPass(t, db, 2) // another pass's history must not mix in
	update := func(changes string) {
		t.Helper()
		if _, err := db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
			return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA,
				RequestStatus: "UPDATE", Changes: json.RawMessage(changes), TracerID: "t"}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // 25 versions
		for _, c := range historyChanges {
			update(c)
		}
	}
	checkPages(t, db, p.ID)
	// Concurrent writers, through two handles (two processes on
	// PostgreSQL): each version's prior is taken under the pass's lock.
	db2 := sqlstoretest.Open(t, dsn)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := range 4 {
				store := []*sqlstore.DB{db, db2}[w%2]
				c := historyChanges[(w+i)%len(historyChanges)]
				if _, err := store.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
					return &ipass.PassVersion{Operation: "updatePass", Changes: json.RawMessage(c), TracerID: "c"}, nil
				}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	checkPages(t, db, p.ID)

	raw := rawDB(t, dsn)
	forget := func(where string) {
		t.Helper()
		if _, err := raw.Exec(`UPDATE pass_versions SET prior = NULL WHERE ` + where); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`DELETE FROM pass_history_state`); err != nil {
			t.Fatal(err)
		}
	}
	missing := func() (n int) {
		t.Helper()
		if err := raw.QueryRow(`SELECT COUNT(*) FROM pass_versions WHERE prior IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Some rows without a prior, as after an upgrade: read by replay.
	forget(`version % 3 = 0`)
	checkPages(t, db, p.ID)
	// The next write of the pass replays it once and fills them.
	update(historyChanges[0])
	if n := missing(); n != 0 {
		t.Fatalf("after a write, %d rows still lack a prior", n)
	}
	checkPages(t, db, p.ID)
	// Opening the database fills every pass's.
	forget(`1 = 1`)
	db.Close()
	db = sqlstoretest.Open(t, dsn)
	if n := missing(); n != 0 {
		t.Fatalf("after open, %d rows still lack a prior", n)
	}
	checkPages(t, db, p.ID)
	update(historyChanges[1]) // and the stored state carries on from there
	checkPages(t, db, p.ID)

	// Seeded passes (ipass admin seed) leave nothing for the next open to fill.
	sp, sv := newPass(passID(3), "serial-3")
	sp.Version, sv.PassID, sv.Version, sv.Status = 1, sp.ID, 1, sp.Status
	if err := db.SeedPasses(ctx(t), []*ipass.Pass{sp}, []*ipass.PassVersion{sv}); err != nil {
		t.Fatal(err)
	}
	if n := missing(); n != 0 {
		t.Fatalf("after a seed, %d rows lack a prior", n)
	}
	if _, err := db.UpdatePass(ctx(t), sp.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		return &ipass.PassVersion{Operation: "updatePass", Changes: json.RawMessage(historyChanges[0])}, nil
	}); err != nil {
		t.Fatal(err)
	}
	checkPages(t, db, sp.ID)

	if _, err := db.HistoryPage(ctx(t), "nope", 1, 1); !errors.Is(err, ipass.ErrNotFound) {
		t.Fatalf("HistoryPage of a missing pass: %v, want ErrNotFound", err)
	}
}

// checkPages compares every page of the pass with the replayed history.
func checkPages(t *testing.T, db *sqlstore.DB, passID string) {
	t.Helper()
	versions, err := db.History(ctx(t), passID)
	if err != nil {
		t.Fatal(err)
	}
	all, err := ipass.ReplayHistory(versions)
	if err != nil {
		t.Fatal(err)
	}
	for from := 1; from <= len(all)+2; from++ {
		for _, size := range []int{1, 2, 7, 100} {
			got, err := db.HistoryPage(ctx(t), passID, from, size)
			if err != nil {
				t.Fatalf("HistoryPage(%d, %d): %v", from, size, err)
			}
			if want := ipass.PageHistory(passID, all, from, size); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Fatalf("HistoryPage(%d, %d) =\n%s\nwant\n%s", from, size, g, w)
			}
		}
	}
}
