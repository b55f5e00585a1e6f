package e2e

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestGracefulShutdownUnderLoad sends SIGTERM while requests are in flight:
// each of them must complete with a signed response, the process must exit
// 0, connections attempted after must be refused, and nothing the server
// carried out may have gone unanswered.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	dsn := sqlstoretest.NewSQLiteDSN(t)
	srv := startCluster(t, dsn, writeTenants(t, 0, 0), 1)[0]
	c := newAPIClient(t, client44ID)
	// Eight creators and the updater keep nine requests queued for the
	// single SQLite writer, so some are in flight whenever the signal lands.
	l := startWriteLoad(t, c, srv.addr, "term-", 8, false)
	defer l.finish()
	l.waitAcks(t, 50)

	// Watch for refused connections while the server drains.
	refused := make(chan bool, 1) // whether the process was still running then
	go func() {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			conn, err := net.DialTimeout("tcp", srv.addr, time.Second)
			if err != nil {
				refused <- srv.running()
				return
			}
			conn.Close()
		}
		close(refused)
	}()
	term := time.Now()
	srv.stop(t) // SIGTERM; requires exit status 0 within 5 s
	t.Logf("exited %v after SIGTERM", time.Since(term))
	if running, ok := <-refused; !ok {
		t.Error("connections were still accepted 10s after SIGTERM")
	} else {
		t.Logf("new connections refused while the process was still draining: %v", running)
	}
	if _, err := net.DialTimeout("tcp", srv.addr, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after exit: %v, want connection refused", err)
	}

	l.finish()
	t.Log(l.summary())
	l.checkResponses(t) // every answer, in flight or not, is signed and well-formed
	l.mu.Lock()
	inFlight := 0
	for _, s := range l.successes {
		if s.sent.Before(term) && s.done.After(term) {
			inFlight++
		}
	}
	for code := range l.codes {
		if code != "SUCCESS" && code != "transport" {
			t.Errorf("result %s under shutdown (%v): want SUCCESS, or no connection once closed", code, l.codes)
		}
	}
	l.mu.Unlock()
	t.Logf("%d requests sent before SIGTERM were answered SUCCESS after it", inFlight)
	if inFlight == 0 {
		t.Error("no request was in flight at SIGTERM: the test proved nothing")
	}

	db := sqlstoretest.Open(t, dsn)
	l.checkDurable(t, db)
	l.checkAllAnswered(t, db)
	checkIntegrity(t, db)
}
