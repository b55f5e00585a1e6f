package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// passKinds lists, for each of the ten type/product pairs, the example
// files under examples/: a create and the typical updates, in order, and
// what queryPass must show afterwards.
var passKinds = []struct {
	typ        ipass.PassType
	product    ipass.Product
	create     string
	updates    []string
	wantStatus ipass.Status
	check      map[string]string // dataInfo key → compact JSON after the updates
}{
	{ipass.TypeCard, ipass.ProductMemberCard, "member-card-create.json",
		[]string{"member-card-points.json", "member-card-points-more.json", "member-card-level.json", "member-card-validity.json"}, ipass.StatusActive,
		map[string]string{"$points_en_US$": "20500", "$level_zh_HK$": `"鑽石卡"`}},
	{ipass.TypeCard, ipass.ProductGiftCard, "stored-value-card-create.json",
		[]string{"stored-value-card-balance.json", "stored-value-card-close.json"}, ipass.StatusClosed,
		map[string]string{"$balance_en_US$": `{"cent":46250,"currency":"HKD"}`}},
	{ipass.TypeCoupon, ipass.ProductGiftCard, "gift-card-create.json",
		[]string{"gift-card-balance.json", "gift-card-used.json"}, ipass.StatusUsed,
		map[string]string{"$balance_zh_HK$": `"HKD 320"`, "$shopname_zh_HK$": `"示範咖啡"`}},
	{ipass.TypeCoupon, ipass.ProductCoupon, "coupon-create.json",
		[]string{"coupon-extend.json", "coupon-used.json"}, ipass.StatusUsed,
		map[string]string{"$discount_en_US$": `"20% off"`}},
	{ipass.TypeTicket, ipass.ProductPass, "ticket-create.json",
		[]string{"ticket-times.json", "ticket-used.json"}, ipass.StatusUsed,
		map[string]string{"$availableTimes_en_US$": "1"}},
	{ipass.TypeTicket, ipass.ProductMovie, "movie-create.json",
		[]string{"movie-seats.json", "movie-used.json"}, ipass.StatusUsed,
		map[string]string{"$seats_en_US$": `["G9","G10"]`, "$cinemaHouse_zh_HK$": `"5號影院"`}},
	{ipass.TypeTicket, ipass.ProductAirTicket, "air-create.json",
		[]string{"air-delay.json", "air-used.json"}, ipass.StatusUsed,
		map[string]string{"$startTime_en_US$": `"1893411000000"`, "$flightNo_en_US$": `"CX 888"`}},
	{ipass.TypeTicket, ipass.ProductTrainTicket, "train-create.json",
		[]string{"train-gate.json", "train-used.json"}, ipass.StatusUsed,
		map[string]string{"$checkPoint_en_US$": `["Level B1 Gate 5"]`}},
	{ipass.TypeTicket, ipass.ProductBusTicket, "bus-create.json",
		[]string{"bus-seat.json", "bus-refund.json"}, ipass.StatusRefund,
		map[string]string{"$seats_en_US$": `[]`}},
	{ipass.TypeTicket, ipass.ProductShipTicket, "ship-create.json",
		[]string{"ship-gate.json", "ship-used.json"}, ipass.StatusUsed,
		map[string]string{"$checkPoint_zh_HK$": `["5號登船閘口"]`}},
}

var examplesDir = filepath.Join("..", "..", "examples")

// TestExamples runs every example of every pass kind with `ipass call`
// against a fresh `ipass serve` with the demo tenant, on each engine, as the
// README's quickstart does, and checks the pass and its history after.
func TestExamples(t *testing.T) {
	// Every file in examples/ belongs to a kind (query.json is the queryPass body).
	used := []string{"query.json"}
	for _, k := range passKinds {
		used = append(append(used, k.create), k.updates...)
	}
	files, _ := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	for _, f := range files {
		if !slices.Contains(used, filepath.Base(f)) {
			t.Errorf("examples/%s is not run by this test", filepath.Base(f))
		}
	}
	seen := map[string]bool{}
	for _, k := range passKinds {
		seen[string(k.typ)+"/"+string(k.product)] = true
	}
	if len(seen) != 10 {
		t.Fatalf("%d distinct pass kinds, want all 10", len(seen))
	}

	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dataDir := t.TempDir()
			url, _, _ := startServe(t, dataDir, "--db", newDSN(t))
			flags := []string{"--url", url, "--client-id", "2110200000000044",
				"--key", filepath.Join(dataDir, "demo-client.pem"),
				"--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem")}
			call := func(t *testing.T, op, file string, extra ...string) cliResult {
				t.Helper()
				args := append(append([]string{"call", op}, flags...), extra...)
				r := cliRun(t, "", nil, append(args, file)...)
				if r.code != exitOK {
					t.Fatalf("ipass call %s %s: %s", op, filepath.Base(file), r)
				}
				return r
			}
			for _, k := range passKinds {
				t.Run(string(k.typ)+"_"+string(k.product), func(t *testing.T) {
					pass := call(t, "createPass", filepath.Join(examplesDir, k.create), "--field", "passId").stdout
					pass = pass[:len(pass)-1] // the trailing newline
					for _, u := range k.updates {
						call(t, "updatePass", filepath.Join(examplesDir, u), "--set", "passId="+pass)
					}
					var q struct{ Pass ipass.PassView }
					out := call(t, "queryPass", filepath.Join(examplesDir, "query.json"), "--set", "passId="+pass).stdout
					if err := json.Unmarshal([]byte(out), &q); err != nil {
						t.Fatalf("queryPass: %v: %s", err, out)
					}
					p := q.Pass
					if p.Type != k.typ || p.Product != k.product || p.Status != k.wantStatus || p.Version != 1+len(k.updates) {
						t.Fatalf("pass %s/%s %s version %d; want %s/%s %s version %d", p.Type, p.Product, p.Status, p.Version,
							k.typ, k.product, k.wantStatus, 1+len(k.updates))
					}
					for key, want := range k.check {
						if got := string(p.DataInfo[key]); got != want {
							t.Errorf("dataInfo %s = %s, want %s", key, got, want)
						}
					}
					var h ipass.HistoryPage
					out = call(t, "queryPassHistory", filepath.Join(examplesDir, "query.json"), "--set", "passId="+pass).stdout
					if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Versions) != p.Version || h.LatestVersion != p.Version {
						t.Fatalf("history (%v): %s", err, out)
					}
				})
			}
		})
	}
	if _, err := os.Stat(filepath.Join(examplesDir, "README.md")); err != nil {
		t.Errorf("examples/README.md: %v", err)
	}
}
