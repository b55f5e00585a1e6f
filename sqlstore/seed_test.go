package sqlstore_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// seedBatch builds n passes of user for SeedPasses, numbered from first,
// each changed one millisecond after the one before.
func seedBatch(user string, first, n int) ([]*ipass.Pass, []*ipass.PassVersion) {
	var ps []*ipass.Pass
	var vs []*ipass.PassVersion
	for i := range n {
		p, v := newPass(passID(first+i), fmt.Sprintf("seed-%d", first+i))
		p.UserID, p.Version = user, 1
		p.CreatedAt, p.UpdatedAt = int64(1000+first+i), int64(1000+first+i)
		v.PassID, v.Version, v.Status, v.At = p.ID, 1, p.Status, p.UpdatedAt
		ps, vs = append(ps, p), append(vs, v)
	}
	// Given out of order: the feed orders them by their change, not the slice.
	slices.Reverse(ps)
	slices.Reverse(vs)
	return ps, vs
}

// testSeedChangeFeed: passes made by SeedPasses (ipass admin seed) are in
// their holders' change feeds like passes made one by one, with cursors
// from the same per-holder counters: after a write, a seed continues the
// holder's cursors, and a write after a seed gets a larger one.
func testSeedChangeFeed(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	created := createPass(t, db, 1) // userA's cursor 1
	ps, vs := seedBatch(userA, 10, 5)
	psB, vsB := seedBatch(userB, 20, 2)
	if err := db.SeedPasses(ctx(t), append(ps, psB...), append(vs, vsB...)); err != nil {
		t.Fatal(err)
	}
	ids := func(hc *ipass.HolderChanges) []string {
		var out []string
		for _, p := range hc.Passes {
			out = append(out, p.ID)
		}
		return out
	}
	changes := func(user string, since int64) *ipass.HolderChanges {
		t.Helper()
		hc, err := db.HolderChanges(ctx(t), user, since)
		if err != nil {
			t.Fatal(err)
		}
		return hc
	}
	// Newest change first: the seeded passes by their updatedAt, then the
	// pass created before the seed.
	want := []string{passID(14), passID(13), passID(12), passID(11), passID(10), created.ID}
	if hc := changes(userA, 0); !slices.Equal(ids(hc), want) || hc.Cursor != 6 {
		t.Fatalf("userA's feed: %v at cursor %d; want %v at cursor 6", ids(hc), hc.Cursor, want)
	}
	if hc := changes(userA, 1); !slices.Equal(ids(hc), want[:5]) || hc.Cursor != 6 {
		t.Fatalf("userA's feed after cursor 1: %v at %d; want the seeded passes only", ids(hc), hc.Cursor)
	}
	if hc := changes(userA, 3); !slices.Equal(ids(hc), want[:3]) {
		t.Fatalf("userA's feed after cursor 3: %v; want the three newest seeded passes", ids(hc))
	}
	if hc := changes(userB, 0); !slices.Equal(ids(hc), []string{passID(21), passID(20)}) || hc.Cursor != 2 {
		t.Fatalf("userB's feed: %v at %d; want both seeded passes at cursor 2", ids(hc), hc.Cursor)
	}
	// A write after the seed takes the next cursor of the holder's counter.
	if _, err := db.UpdatePass(ctx(t), passID(10), func(next *ipass.Pass) (*ipass.PassVersion, error) {
		return &ipass.PassVersion{Operation: "updatePass", Status: ipass.StatusActive, Changes: json.RawMessage(`{"endDate":1900000000001}`)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if hc := changes(userA, 6); !slices.Equal(ids(hc), []string{passID(10)}) || hc.Cursor != 7 {
		t.Fatalf("after an update: %v at %d; want the updated pass at cursor 7", ids(hc), hc.Cursor)
	}
	// A second seed carries on from there.
	ps2, vs2 := seedBatch(userA, 30, 2)
	if err := db.SeedPasses(ctx(t), ps2, vs2); err != nil {
		t.Fatal(err)
	}
	if hc := changes(userA, 7); !slices.Equal(ids(hc), []string{passID(31), passID(30)}) || hc.Cursor != 9 {
		t.Fatalf("second seed: %v at %d; want its two passes at cursors 8–9", ids(hc), hc.Cursor)
	}
	if hc := changes(userA, 0); len(hc.Passes) != 8 {
		t.Fatalf("userA's whole feed has %d passes, want 8", len(hc.Passes))
	}
	// A refused seed (a passId that exists) leaves the counters as they were.
	dup, dupV := seedBatch(userA, 30, 1)
	if err := db.SeedPasses(ctx(t), dup, dupV); err == nil {
		t.Fatal("seeding an existing passId succeeded")
	}
	createPass(t, db, 40)
	if hc := changes(userA, 9); !slices.Equal(ids(hc), []string{passID(40)}) || hc.Cursor != 10 {
		t.Fatalf("after a refused seed: %v at %d; want the next create at cursor 10", ids(hc), hc.Cursor)
	}
}

// testSeededFeedBackfill: migration 00009 enters the passes that an older
// `ipass admin seed` left out of the change feed, with cursors that
// continue each holder's counter, and leaves recorded passes as they were.
func testSeededFeedBackfill(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	db := sqlstoretest.Open(t, dsn)
	seed(t, db)
	created := createPass(t, db, 1) // userA's cursor 1
	ps, vs := seedBatch(userA, 10, 3)
	psB, vsB := seedBatch(userB, 20, 1)
	if err := db.SeedPasses(ctx(t), append(ps, psB...), append(vs, vsB...)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Make the database an old seed left: the seeded passes are not in the
	// feed, the counters never moved for them; then run the migration's Up
	// statements again, as they ran on such a database. (Goose itself will
	// not re-run migration 9 under the later ones: it refuses a migration
	// missing below applied ones, rightly.)
	raw := rawDB(t, dsn)
	for _, q := range append([]string{
		`DELETE FROM pass_changes WHERE pass_id <> '` + created.ID + `'`,
		`UPDATE holder_cursors SET seq = 1 WHERE user_id = '` + userA + `'`,
		`DELETE FROM holder_cursors WHERE user_id = '` + userB + `'`,
	}, migrationUp(t, dsn, "00009_seeded_changes.sql")...) {
		if _, err := raw.ExecContext(ctx(t), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db = sqlstoretest.Open(t, dsn)
	feed := func(user string, since int64) ([]string, int64) {
		t.Helper()
		hc, err := db.HolderChanges(ctx(t), user, since)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range hc.Passes {
			ids = append(ids, p.ID)
		}
		return ids, hc.Cursor
	}
	if ids, cur := feed(userA, 1); !slices.Equal(ids, []string{passID(12), passID(11), passID(10)}) || cur != 4 {
		t.Fatalf("userA after the backfill: %v at %d; want the seeded passes, newest first, at cursors 2–4", ids, cur)
	}
	if ids, cur := feed(userA, 0); len(ids) != 4 || ids[3] != created.ID || cur != 4 {
		t.Fatalf("userA's whole feed: %v at %d", ids, cur)
	}
	if ids, cur := feed(userB, 0); !slices.Equal(ids, []string{passID(20)}) || cur != 1 {
		t.Fatalf("userB after the backfill: %v at %d; want the seeded pass at cursor 1", ids, cur)
	}
	createPass(t, db, 2)
	if ids, cur := feed(userA, 4); !slices.Equal(ids, []string{passID(2)}) || cur != 5 {
		t.Fatalf("a create after the backfill: %v at %d; want cursor 5", ids, cur)
	}
}

// migrationUp returns the statements of a migration's Up section for the
// engine of dsn, read from the file goose applies.
func migrationUp(t *testing.T, dsn, name string) []string {
	t.Helper()
	engine := "postgres"
	if strings.HasPrefix(dsn, "sqlite:") {
		engine = "sqlite"
	}
	b, err := os.ReadFile(filepath.Join("migrations", engine, name))
	if err != nil {
		t.Fatal(err)
	}
	_, up, ok := strings.Cut(string(b), "-- +goose Up")
	if !ok {
		t.Fatalf("%s: no Up section", name)
	}
	up, _, _ = strings.Cut(up, "-- +goose Down")
	var stmts []string
	for _, st := range strings.Split(up, ";") {
		if st = strings.TrimSpace(st); st != "" {
			stmts = append(stmts, st)
		}
	}
	return stmts
}
