package sqlstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestHistoryJSON: the stored history is JSON that each engine's SQL can
// query (json_extract on SQLite, the jsonb copy on PostgreSQL), while the
// store still reads it back byte for byte; and ListPasses filters by
// merchant and user.
func TestHistoryJSON(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			dsn := newDSN(t)
			db := open(t, func(testing.TB) string { return dsn })
			seed(t, db)
			p := createPass(t, db, 1)
			createPass(t, db, 2)
			_, err := db.UpdatePass(ctx(t), p.ID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
				next.DataInfo["$points_en_US$"] = json.RawMessage(`19999`)
				return &ipass.PassVersion{Operation: "updatePass", ClientID: clientA, MerchantID: merchantA, RequestStatus: "UPDATE",
					Changes:  json.RawMessage(`{"dataInfo":{"$points_en_US$":19999,"$odd_en_US$":"\ud800"}}`),
					Metadata: json.RawMessage(`{"billNo":"B-1","lastChangedPoints":19899}`), TracerID: "t2"}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := rawDB(t, dsn)
			query := `SELECT version FROM pass_versions WHERE pass_id = $1 AND json_extract(changes, '$.dataInfo."$points_en_US$"') = 19999
				AND json_extract(metadata, '$.billNo') = 'B-1'`
			if engine == sqlstore.EnginePostgres {
				// The lone surrogate cannot live in jsonb: that row's copy is NULL...
				query = `SELECT version FROM pass_versions WHERE pass_id = $1 AND changes_jsonb IS NULL AND metadata_jsonb ->> 'billNo' = 'B-1'`
			}
			var version int
			if err := raw.QueryRow(query, p.ID).Scan(&version); err != nil || version != 2 {
				t.Fatalf("JSON query: version %d, %v", version, err)
			}
			if engine == sqlstore.EnginePostgres {
				// ... while every other row's is there to query.
				if err := raw.QueryRow(`SELECT count(*) FROM pass_versions WHERE changes_jsonb ->> 'status' = 'ACTIVE'`).Scan(&version); err != nil || version != 2 {
					t.Fatalf("jsonb query: %d rows, %v", version, err)
				}
			} else if _, err := raw.Exec(`INSERT INTO pass_versions (pass_id, version, operation, client_id, merchant_id, changed_at, status,
				request_status, update_kind, changes, metadata, pass_verify_code, biz_date, tracer_id)
				VALUES ($1, 9, 'updatePass', 'c', 'm', 0, 'ACTIVE', '', '', '{not json', NULL, '', 0, '')`, p.ID); err == nil ||
				!strings.Contains(err.Error(), "must be JSON") {
				t.Fatalf("SQLite accepted a history row that is not JSON: %v", err)
			}
			h, err := db.History(ctx(t), p.ID)
			if err != nil || len(h) != 2 || string(h[1].Changes) != `{"dataInfo":{"$points_en_US$":19999,"$odd_en_US$":"\ud800"}}` {
				t.Fatalf("History: %v %+v", err, h)
			}

			all, err := db.ListPasses(ctx(t), merchantA, "", 0)
			if err != nil || len(all) != 2 || all[0].ID != passID(1) || all[1].ID != passID(2) {
				t.Fatalf("ListPasses: %v %d", err, len(all))
			}
			for _, tc := range []struct {
				merchant, user string
				limit, want    int
			}{{merchantA, userA, 0, 2}, {merchantA, userA, 1, 1}, {merchantA, "nobody", 0, 0}, {"nowhere", "", 0, 0}} {
				got, err := db.ListPasses(ctx(t), tc.merchant, tc.user, tc.limit)
				if err != nil || len(got) != tc.want {
					t.Errorf("ListPasses(%s, %s, %d) = %d, %v; want %d", tc.merchant, tc.user, tc.limit, len(got), err, tc.want)
				}
			}
		})
	}
}
