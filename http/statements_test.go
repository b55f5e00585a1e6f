package http_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestStatementsPerRequest bounds what one signed request costs the
// database: the statements the store sends (BEGIN, COMMIT and SAVEPOINT
// included), counted at the driver (sqlstore's DB.Statements). On
// PostgreSQL each statement is a network round trip. The bounds are the
// counts this code makes; a change that adds a statement to every request
// fails here and has to say why.
func TestStatementsPerRequest(t *testing.T) {
	// The rate limit stays on (the fixtures' 200/s, as a tenant has in
	// production): its bucket is part of every admitted request.
	bounds := map[string]map[string]int64{
		// engine → kind → statements per request
		// Before the cuts of issue 19: SQLite 22, 31, 13; PostgreSQL 21, 26, 11.
		"sqlite":   {"update": 15, "encrypted update": 18, "query": 7},
		"postgres": {"update": 12, "encrypted update": 15, "query": 7},
	}
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			passID := h.must(h.op("createPass", fmt.Sprintf(`{"merchantId":%q,"userId":%q,"templateCode":"temlate111001","bizSerialId":"stmts-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"C1"},"dataInfo":{"$points_en_US$":1,"$points_zh_HK$":1}}`,
				merchantA, user1)), "SUCCESS").passID
			points := 1
			send := func(kind string) {
				t.Helper()
				h.clock.Add(time.Second) // a fresh Request-Time, and a refilled bucket
				if kind == "query" {
					h.must(h.send(req{path: pathOf("queryPass"), body: fmt.Sprintf(`{"merchantId":%q,"passId":%q}`, merchantA, passID)}), "SUCCESS")
					return
				}
				points++
				body := fmt.Sprintf(`{"merchantId":%q,"userId":%q,"passId":%q,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":%d,"$points_zh_HK$":%d}}`,
					merchantA, user1, passID, points, points)
				h.must(h.send(req{body: body, encrypt: kind == "encrypted update"}), "SUCCESS")
			}
			for _, kind := range []string{"update", "encrypted update", "query"} {
				// Warm up: the first runs fill caches (clients, templates,
				// prepared statements) that a serving process has filled.
				for range 3 {
					send(kind)
				}
				const n = 8
				before := h.db.Statements()
				for range n {
					send(kind)
				}
				got := (h.db.Statements() - before) / n
				t.Logf("%s, %s: %d statements per request", name, kind, got)
				if want := bounds[name][kind]; got > want {
					t.Errorf("%s, %s: %d statements per request, want at most %d", name, kind, got, want)
				}
			}
		})
	}
}
