package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestCluster runs two `ipass serve` processes on one database, per engine,
// and checks the storage guarantees of docs/operating.md across them: concurrent requests on one pass
// serialise, no merge is lost, a retried create never makes a second pass,
// and a replay is caught by a process that never saw the original.
func TestCluster(t *testing.T) {
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			dsn := eng.newDB(t)
			srvs := startCluster(t, dsn, writeTenants(t, 0, 0), 2)
			addrs := addrsOf(srvs)
			c := newAPIClient(t, client44ID)
			db := sqlstoretest.Open(t, dsn) // history and pass counts, read beside the API
			ctx := context.Background()

			t.Run("200_USED_one_wins", func(t *testing.T) {
				id := c.call(t, addrs[0], "createPass", createTicket, "SUCCESS").passID()
				// Each USED carries its own bizDate, so none is an exact
				// retry of the winner (spec 5.6) and exactly one may win.
				const n = 200
				bodies := make([]string, n)
				for i := range bodies {
					bodies[i] = passBody(user4225, id, fmt.Sprintf(`"status":"USED","bizDate":%d`, 1735948800000+int64(i)*1000))
				}
				resps, errs := c.fire(t, addrs, c.signAll(t, "updatePass", bodies))
				firstErrors(t, errs)
				got := tally(resps, errs)
				if got["SUCCESS"] != 1 || got["PASS_USED_OCCUPIED"] != n-1 {
					t.Fatalf("results %v, want 1 SUCCESS and %d PASS_USED_OCCUPIED", got, n-1)
				}
				var winner *apiResp
				var winnerDate string
				for i, r := range resps {
					if r.code == "SUCCESS" {
						winner, winnerDate = r, fmt.Sprint(1735948800000+int64(i)*1000)
					}
				}
				p := c.call(t, addrs[1], "queryPass", queryBody(id), "SUCCESS").pass()
				if canon(p["status"]) != `"USED"` || canon(p["version"]) != "2" {
					t.Errorf("pass status %s version %s, want USED version 2", canon(p["status"]), canon(p["version"]))
				}
				h, err := db.History(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(h) != 2 || h[1].Status != ipass.StatusUsed || h[1].TracerID != winner.tracer || fmt.Sprint(h[1].BizDate) != winnerDate {
					t.Errorf("history %+v, want version 1 and one USED version from the winner (Tracer-Id %s, bizDate %s)", h, winner.tracer, winnerDate)
				}
			})

			t.Run("200_UPDATEs_all_merge", func(t *testing.T) {
				create := fmt.Sprintf(`{"merchantId":"%s","userId":"%s","templateCode":"%s","bizSerialId":"wide-1","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD",
 "codeInfo":{"$codevalue$":"1"},"dataInfo":{"$p000_en_US$":-1}}`, merchant44, user0534, wideTmpl)
				id := c.call(t, addrs[0], "createPass", create, "SUCCESS").passID()
				bodies := make([]string, wideTmplMax)
				for i := range bodies {
					bodies[i] = passBody(user0534, id, fmt.Sprintf(`"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$p%03d_en_US$":%d}`, i, i))
				}
				resps, errs := c.fire(t, addrs, c.signAll(t, "updatePass", bodies))
				firstErrors(t, errs)
				if got := tally(resps, errs); got["SUCCESS"] != wideTmplMax {
					t.Fatalf("results %v, want %d SUCCESS", got, wideTmplMax)
				}
				p := c.call(t, addrs[1], "queryPass", queryBody(id), "SUCCESS").pass()
				if v := canon(p["version"]); v != fmt.Sprint(wideTmplMax+1) {
					t.Errorf("version %s, want %d", v, wideTmplMax+1)
				}
				data, _ := p["dataInfo"].(map[string]any)
				if len(data) != wideTmplMax {
					t.Errorf("dataInfo has %d keys, want %d", len(data), wideTmplMax)
				}
				for i := range wideTmplMax {
					k := fmt.Sprintf("$p%03d_en_US$", i)
					if v, ok := jsonInt(data[k]); !ok || v != int64(i) {
						t.Errorf("dataInfo[%s] = %s, want %d (a lost merge)", k, canon(data[k]), i)
					}
				}
				// One history entry per acknowledged update, each with the
				// Tracer-Id its response carried.
				h, err := db.History(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, v := range h[1:] {
					seen[v.TracerID] = true
				}
				for _, r := range resps {
					if !seen[r.tracer] {
						t.Errorf("acknowledged update %s has no history entry", r.tracer)
					}
				}
				if len(h) != wideTmplMax+1 {
					t.Errorf("%d history entries, want %d", len(h), wideTmplMax+1)
				}
			})

			t.Run("50_identical_creates_one_pass", func(t *testing.T) {
				before, err := db.PassIDs(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// Identical bodies, each signed with its own Request-Time:
				// retries as a client sends them (spec 2.9).
				bodies := make([]string, 50)
				for i := range bodies {
					bodies[i] = memberCreate("race-create-1")
				}
				resps, errs := c.fire(t, addrs, c.signAll(t, "createPass", bodies))
				firstErrors(t, errs)
				if got := tally(resps, errs); got["SUCCESS"] != len(bodies) {
					t.Fatalf("results %v, want %d SUCCESS", got, len(bodies))
				}
				ids := map[string]int{}
				for _, r := range resps {
					ids[r.passID()]++
				}
				if len(ids) != 1 {
					t.Fatalf("passIds %v, want one", ids)
				}
				after, err := db.PassIDs(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(after) != len(before)+1 {
					t.Errorf("%d passes after the creates, want %d + 1", len(after), len(before))
				}
				p, err := db.PassBySerial(ctx, merchant44, "race-create-1")
				if err != nil {
					t.Fatal(err)
				}
				if ids[p.ID] != len(bodies) || p.Version != 1 {
					t.Errorf("stored pass %s version %d, answers %v", p.ID, p.Version, ids)
				}
			})

			t.Run("replay_across_processes", func(t *testing.T) {
				id := c.call(t, addrs[0], "createPass", memberCreate("replay-1"), "SUCCESS").passID()
				r := c.mustSign(t, "updatePass", pointsUpdate(id, 7))
				first := c.mustSend(t, addrs[0], r, "SUCCESS")
				// The same bytes (Host aside, which is not signed) to the
				// process that never saw them, then to the first again:
				// answered the first answer, kept in the database, and not
				// executed (issue 17).
				for _, addr := range []string{addrs[1], addrs[0]} {
					if resp := c.mustSend(t, addr, r, "SUCCESS"); !reflect.DeepEqual(resp.doc, first.doc) {
						t.Errorf("repeat on %s answered %v; want the first answer %v", addr, resp.doc, first.doc)
					}
				}
				p := c.call(t, addrs[1], "queryPass", queryBody(id), "SUCCESS").pass()
				if canon(p["version"]) != "2" {
					t.Errorf("version %s after a replayed update, want 2", canon(p["version"]))
				}
			})

			for _, s := range srvs {
				s.stop(t)
			}
			checkIntegrity(t, db)
		})
	}
}
