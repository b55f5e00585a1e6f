package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// Seeded passes are whole passes: the store's integrity check holds, each
// has its version-1 history entry, and a real server updates and queries
// one as it would a pass made by createPass. Run on both engines, with more
// passes than one batch and than one INSERT statement.
func TestAdminSeed(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			dsn := newDSN(t)
			dir := t.TempDir()
			_, _, stop := startServe(t, dir, "--db", dsn) // provisions the demo tenant
			stop()

			r := cliRun(t, "", nil, "admin", "seed", "--db", dsn, "--passes", "1203", "--batch", "700")
			if r.code != exitOK || !strings.Contains(r.stdout, "seeded 1203 passes") {
				t.Fatalf("seed: %s", r)
			}

			ctx := context.Background()
			db := sqlstoretest.Open(t, dsn)
			ids, err := db.PassIDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 1203 {
				t.Fatalf("%d passes stored, want 1203", len(ids))
			}
			if err := db.CheckIntegrity(ctx); err != nil {
				t.Fatalf("integrity after seed: %v", err)
			}
			h, err := db.History(ctx, ids[0])
			if err != nil || len(h) != 1 || h[0].Operation != "createPass" || h[0].ClientID != "2110200000000044" {
				t.Fatalf("history of a seeded pass: %+v, %v", h, err)
			}

			// Every seeded pass is in its holder's change feed, and so in
			// the wallet: the feed's cursor counts them all.
			hc, err := db.HolderChanges(ctx, tenants.BenchUserID, 0)
			if err != nil || len(hc.Passes) != 1203 || hc.Cursor != 1203 {
				t.Fatalf("the holder's change feed after the seed: %d passes at cursor %d (%v); want 1203 at 1203", len(hc.Passes), hc.Cursor, err)
			}

			p, err := db.PassByID(ctx, ids[600])
			if err != nil {
				t.Fatal(err)
			}
			url, _, _ := startServe(t, dir, "--db", dsn)
			link := cliRun(t, "", nil, "admin", "wallet-link", "--db", dsn, "--user", tenants.BenchUserID, "--base-url", url)
			if link.code != exitOK {
				t.Fatalf("wallet-link: %s", link)
			}
			_, page := httpGet(t, strings.TrimSpace(link.stdout))
			if !strings.Contains(page, `data-count="active">1203<`) {
				t.Fatalf("the wallet page does not count the 1203 seeded passes: %.300s", page[strings.Index(page, "data-count"):])
			}
			flags := []string{"--url", url, "--client-id", "2110200000000044", "--key", filepath.Join(dir, "demo-client.pem"),
				"--server-public-key", filepath.Join(dir, "server-signing.pub.pem"), "--set", "passId=" + p.ID}
			update := append(flags, "--set", "userId="+p.UserID, "../../examples/member-card-points.json")
			if r := cliRun(t, "", nil, append([]string{"call", "updatePass"}, update...)...); r.code != exitOK {
				t.Fatalf("updatePass of a seeded pass: %s", r)
			}
			r = cliRun(t, "", nil, append([]string{"call", "queryPass", "--field", "pass"}, append(flags, "../../examples/query.json")...)...)
			if r.code != exitOK || !strings.Contains(r.stdout, `"version":2`) || !strings.Contains(r.stdout, `"$points_en_US$":19999`) {
				t.Fatalf("queryPass of a seeded pass: %s", r)
			}
			// A write after the seed takes the holder's next cursor.
			hc, err = db.HolderChanges(ctx, p.UserID, 1203)
			if err != nil || len(hc.Passes) != 1 || hc.Passes[0].ID != p.ID || hc.Cursor != 1204 {
				t.Fatalf("the feed after the update: %+v, %v; want the updated pass at cursor 1204", hc, err)
			}

			// A second seed adds to the first (fresh bizSerialIds).
			if r := cliRun(t, "", nil, "admin", "seed", "--db", dsn, "--passes", "10"); r.code != exitOK {
				t.Fatalf("second seed: %s", r)
			}
			if hc, err := db.HolderChanges(ctx, tenants.BenchUserID, 1204); err != nil || len(hc.Passes) != 10 || hc.Cursor != 1214 {
				t.Fatalf("the feed after a second seed: %d passes at cursor %d (%v); want 10 at 1214", len(hc.Passes), hc.Cursor, err)
			}
		})
	}
}

func TestAdminSeedRejects(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "ipass.db")
	_, _, stop := startServe(t, dir, "--db", dsn)
	stop()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoPasses", nil, exitUsage, "--passes"},
		{"UnknownTemplate", []string{"--passes", "5", "--template", "nope"}, exitFailure, "--template nope"},
		{"UnknownUser", []string{"--passes", "5", "--users", "2160220037090534,nobody"}, exitFailure, "--users nobody"},
		{"DataInfoNotForTemplate", []string{"--passes", "5", "--data-info", `{"$nope_en_US$":1}`}, exitFailure, "dataInfo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliRun(t, "", nil, append([]string{"admin", "seed", "--db", dsn}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("got %s; want exit %d naming %s", r, tc.code, tc.want)
			}
		})
	}
	db := sqlstoretest.Open(t, dsn)
	if ids, err := db.PassIDs(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("after rejected seeds: %d passes (%v), want none", len(ids), err)
	}
}

// BenchmarkSeed is the profile target of `ipass admin seed` (passes/s):
// go test ./cmd/ipass -run '^$' -bench Seed -benchtime 1x -cpuprofile seed.prof
func BenchmarkSeed(b *testing.B) {
	dir := b.TempDir()
	dsn := sqlstoretest.NewSQLiteDSN(b)
	t, _, err := tenants.Demo(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := sqlstoretest.Open(b, dsn).Apply(context.Background(), t); err != nil {
		b.Fatal(err)
	}
	const n = 20000
	b.ResetTimer()
	for range b.N {
		if r := cliRun(b, "", nil, "admin", "seed", "--db", dsn, "--passes", strconv.Itoa(n)); r.code != exitOK {
			b.Fatal(r)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "passes/s")
}
