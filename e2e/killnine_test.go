package e2e

import (
	"testing"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestKillNineUnderLoad SIGKILLs a server in the middle of a write load, per
// engine, and restarts it on the same data dir and database: every change
// acknowledged with SUCCESS must be there (README, "Behaviour worth knowing": SUCCESS means
// committed) and the database must pass its integrity check.
func TestKillNineUnderLoad(t *testing.T) {
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			dsn := eng.newDB(t)
			srv := startCluster(t, dsn, writeTenants(t, 0, 0), 1)[0]
			c := newAPIClient(t, client44ID)
			l := startWriteLoad(t, c, srv.addr, "k9-", 3, false)
			l.waitAcks(t, 60) // changes are flowing: the kill lands mid-write
			srv.kill(t)
			l.finish() // each goroutine stops at its first unanswered request
			t.Log(l.summary())
			l.checkResponses(t)

			srv.start(t)
			db := sqlstoretest.Open(t, dsn)
			l.checkDurable(t, db)
			// The restarted server reads and writes the same card.
			c.call(t, srv.addr, "queryPass", queryBody(l.cardID), "SUCCESS")
			c.call(t, srv.addr, "updatePass", pointsUpdate(l.cardID, loadMaxOps+1), "SUCCESS")
			srv.stop(t)
			checkIntegrity(t, db)
		})
	}
}
