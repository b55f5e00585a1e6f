package sqlstore_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestWalletContract: the wallet's part of the store, on every engine.
func TestWalletContract(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []contractTest{
				{"ChangeFeed", testChangeFeed},
				{"ChangeFeedInCommitOrder", testChangeFeedCommitOrder},
				{"CursorIsTheHolders", testCursorIsTheHolders},
				{"WalletSecret", testWalletSecret},
				{"WakeUps", testWakeUps},
				{"TemplateLabels", testTemplateLabels},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDSN) })
			}
		})
	}
}

func addPoints(n int) func(next *ipass.Pass) (*ipass.PassVersion, error) {
	return func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.DataInfo["$points_en_US$"] = []byte(fmt.Sprint(n))
		return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA, TracerID: "t"}, nil
	}
}

func ids(ps []*ipass.Pass) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func testChangeFeed(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	hc, err := db.HolderChanges(ctx(t), userA, 0)
	if err != nil || len(hc.Passes) != 0 || hc.Cursor != 0 {
		t.Fatalf("empty feed: %+v, %v", hc, err)
	}
	p1, p2 := createPass(t, db, 1), createPass(t, db, 2)
	all, err := db.HolderChanges(ctx(t), userA, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(all.Passes); !slices.Equal(got, []string{p2.ID, p1.ID}) {
		t.Fatalf("feed %v, want newest change first [%s %s]", got, p2.ID, p1.ID)
	}
	if _, err := db.UpdatePass(ctx(t), p1.ID, addPoints(7)); err != nil {
		t.Fatal(err)
	}
	since, err := db.HolderChanges(ctx(t), userA, all.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(since.Passes); !slices.Equal(got, []string{p1.ID}) || since.Cursor <= all.Cursor || since.Passes[0].Version != 2 {
		t.Fatalf("after one update: %v cursor %d (was %d), want only %s at version 2 and a larger cursor", got, since.Cursor, all.Cursor, p1.ID)
	}
	if again, _ := db.HolderChanges(ctx(t), userA, since.Cursor); len(again.Passes)+len(again.Gone) != 0 || again.Cursor != since.Cursor {
		t.Fatalf("nothing changed, but the feed says %+v", again)
	}
	if other, _ := db.HolderChanges(ctx(t), userB, 0); len(other.Passes) != 0 {
		t.Fatalf("another holder's feed lists %v", ids(other.Passes))
	}
	// A pass that moves to another holder leaves the first holder's feed.
	if _, err := db.UpdatePass(ctx(t), p2.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		next.UserID = userB
		return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA}, nil
	}); err != nil {
		t.Fatal(err)
	}
	moved, _ := db.HolderChanges(ctx(t), userA, since.Cursor)
	if len(moved.Passes) != 0 || !slices.Equal(moved.Gone, []string{p2.ID}) {
		t.Fatalf("after moving %s away: passes %v gone %v", p2.ID, ids(moved.Passes), moved.Gone)
	}
	if b, _ := db.HolderChanges(ctx(t), userB, 0); !slices.Equal(ids(b.Passes), []string{p2.ID}) {
		t.Fatalf("new holder's feed %v, want [%s]", ids(b.Passes), p2.ID)
	}
}

// testCursorIsTheHolders: a holder's cursor counts that holder's changes
// only; other holders' writes, however many, do not show in it.
func testCursorIsTheHolders(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	seed(t, db)
	mine := createPass(t, db, 1)
	first, err := db.HolderChanges(ctx(t), userA, 0)
	if err != nil {
		t.Fatal(err)
	}
	for n := 2; n <= 40; n++ {
		p, v := newPass(passID(n), fmt.Sprintf("serial-%d", n))
		p.UserID = userB
		if _, err := db.CreatePass(ctx(t), p, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.UpdatePass(ctx(t), mine.ID, addPoints(9)); err != nil {
		t.Fatal(err)
	}
	next, err := db.HolderChanges(ctx(t), userA, first.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cursor != 1 || next.Cursor != 2 {
		t.Fatalf("holder A's cursor went %d → %d over one change of theirs amid 39 of another holder's, want 1 → 2",
			first.Cursor, next.Cursor)
	}
	if b, _ := db.HolderChanges(ctx(t), userB, 0); b.Cursor != 39 {
		t.Fatalf("holder B's cursor after 39 creates: %d, want 39", b.Cursor)
	}
}

// testChangeFeedCommitOrder: with writers on two handles (two nodes) and a
// reader following the feed by cursor, the reader ends up with every pass's
// last version. A cursor handed out out of commit order would let the reader
// step over a change it can never see again.
func testChangeFeedCommitOrder(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	a, b := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	seed(t, a)
	const passes, writers, updates = 12, 8, 25
	for i := range passes {
		createPass(t, a, 100+i)
	}
	seen := map[string]int{}
	var cursor int64
	follow := func() {
		hc, err := a.HolderChanges(ctx(t), userA, cursor)
		if err != nil {
			t.Error(err)
			return
		}
		for _, p := range hc.Passes {
			seen[p.ID] = max(seen[p.ID], p.Version)
		}
		if hc.Cursor < cursor {
			t.Errorf("cursor went back from %d to %d", cursor, hc.Cursor)
		}
		cursor = hc.Cursor
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			db := []*sqlstore.DB{a, b}[w%2]
			for u := range updates {
				if _, err := db.UpdatePass(ctx(t), passID(100+(w*updates+u)%passes), addPoints(u)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			follow()
		}
	}
	follow()
	for i := range passes {
		p, err := a.PassByID(ctx(t), passID(100+i))
		if err != nil {
			t.Fatal(err)
		}
		if seen[p.ID] != p.Version {
			t.Errorf("pass %s: the reader following the feed saw version %d, the pass is at %d", p.ID, seen[p.ID], p.Version)
		}
	}
}

func testWalletSecret(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	a, b := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	s1, err := a.WalletSecret(ctx(t))
	if err != nil || len(s1) != 32 {
		t.Fatalf("secret %x, %v; want 32 bytes", s1, err)
	}
	if s2, err := b.WalletSecret(ctx(t)); err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("the other node reads %x, %v; want the same secret", s2, err)
	}
	if err := b.RotateWalletSecret(ctx(t)); err != nil {
		t.Fatal(err)
	}
	s3, err := a.WalletSecret(ctx(t))
	if err != nil || bytes.Equal(s3, s1) || len(s3) != 32 {
		t.Fatalf("after rotation: %x, %v; want a new 32-byte secret", s3, err)
	}
}

// testWakeUps: a commit wakes subscribers of its holder, in this process on
// every engine and, on PostgreSQL, on another node (LISTEN/NOTIFY).
func testWakeUps(t *testing.T, newDSN func(testing.TB) string) {
	dsn := newDSN(t)
	a, b := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	seed(t, a)
	writers := map[string]*sqlstore.DB{"SameNode": a}
	if a.Engine() == sqlstore.EnginePostgres {
		writers["OtherNode"] = b
	}
	n := 200
	for name, w := range writers {
		t.Run(name, func(t *testing.T) {
			wake, stop := a.SubscribeHolder(userA)
			defer stop()
			time.Sleep(200 * time.Millisecond) // the LISTEN connection starts on first subscription
			drain(wake)
			n++
			createPass(t, w, n)
			select {
			case <-wake:
			case <-time.After(10 * time.Second):
				t.Fatal("no wake-up after a commit")
			}
		})
	}
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func testTemplateLabels(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	fx := fixture()
	fx.Templates[0].Labels = map[string]map[string]string{"points": {"zh_HK": "積分", "en_US": "Points"}}
	if err := db.Apply(ctx(t), fx); err != nil {
		t.Fatal(err)
	}
	tm, err := db.Template(ctx(t), merchantA, template1)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(tm.Labels["points"], fx.Templates[0].Labels["points"]) || len(tm.Labels) != 1 {
		t.Fatalf("labels read back %v, want %v", tm.Labels, fx.Templates[0].Labels)
	}
	other, _ := db.Template(ctx(t), merchantB, template1)
	if other.Labels != nil {
		t.Fatalf("a template without labels reads back %v, want nil", other.Labels)
	}
}
