package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create the database
)

// pgCluster is a private PostgreSQL server for one test, so that it can be
// stopped and started without disturbing the shared one other tests use.
type pgCluster struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // owned by postgres: data/, the socket and the log
	port int
}

// startPrivatePostgres initialises and starts a cluster on a free port. It
// needs root (initdb refuses root, so it runs as postgres through runuser)
// and the server binaries; without them it skips, or fails under CI=true.
func startPrivatePostgres(t *testing.T) *pgCluster {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("private PostgreSQL (required in CI): "+format, args...)
		}
		t.Skipf("private PostgreSQL: "+format, args...)
	}
	if os.Geteuid() != 0 {
		unavailable("not root: initdb must run as user postgres via runuser")
	}
	ctls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(ctls) == 0 {
		unavailable("no /usr/lib/postgresql/*/bin/pg_ctl")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		unavailable("%v", err)
	}
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		unavailable("%v", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)

	// Not under t.TempDir(): its parents are 0700 root, closed to postgres.
	dir, err := os.MkdirTemp("", "ipass-e2e-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg := &pgCluster{bin: filepath.Dir(slices.Max(ctls)), dir: dir, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()

	// --no-sync: the cluster is thrown away; fsync stays on while it runs.
	pg.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "root", "--no-sync")
	pg.start(t)
	t.Cleanup(func() {
		_ = pg.ctl("-m", "immediate", "stop")
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("private PostgreSQL log:\n%s", log)
		}
	})
	return pg
}

func (pg *pgCluster) command(name string, args ...string) *exec.Cmd {
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, name)}, args...)...)
}

func (pg *pgCluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := pg.command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// ctl runs pg_ctl on the cluster, waiting (-w) at most 30 s.
func (pg *pgCluster) ctl(args ...string) error {
	base := []string{"-D", filepath.Join(pg.dir, "data"), "-w", "-t", "30"}
	if out, err := pg.command("pg_ctl", append(base, args...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %v\n%s", args, err, out)
	}
	return nil
}

func (pg *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir)
	if err := pg.ctl("-o", opts, "-l", filepath.Join(pg.dir, "log"), "start"); err != nil {
		t.Fatal(err)
	}
}

// stop shuts the server down in mode "fast" (rolls back open transactions
// and disconnects every client, as an operator's restart does) or
// "immediate" (no checkpoint: a crash, recovered from the WAL on start).
func (pg *pgCluster) stop(t *testing.T, mode string) {
	t.Helper()
	if err := pg.ctl("-m", mode, "stop"); err != nil {
		t.Fatal(err)
	}
}

func (pg *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://root@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

func (pg *pgCluster) createDB(t *testing.T, name string) string {
	t.Helper()
	admin, err := sql.Open("pgx", pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	return pg.url(name)
}

// readyz returns the HTTP status of GET /readyz, or 0 without an answer.
func readyz(addr string) int {
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// waitReadyz polls /readyz until it answers want, at most limit.
func waitReadyz(t *testing.T, addr string, want int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for got := 0; ; {
		if got = readyz(addr); got == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("/readyz answered %d for %v, want %d", got, limit, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPostgresOutage stops and restarts PostgreSQL while a write load
// flows, once as an operator would ("fast": transactions rolled back, clients
// disconnected) and once as a crash ("immediate": recovery from the WAL on
// start): requests that fail get a signed UNKNOWN_EXCEPTION (HTTP 500, U),
// /readyz is 503 while the database is down, the same server process answers
// SUCCESS within 5 s of the database being back, and every change
// acknowledged before, during or after is in the database afterwards.
func TestPostgresOutage(t *testing.T) {
	pg := startPrivatePostgres(t)
	dsn := pg.createDB(t, "ipass")
	srv := startCluster(t, dsn, writeTenants(t, 0, 0), 1)[0]
	c := newAPIClient(t, client44ID)
	if code := readyz(srv.addr); code != http.StatusOK {
		t.Fatalf("/readyz %d before the outage, want 200", code)
	}
	l := startWriteLoad(t, c, srv.addr, "outage-", 3, true)
	defer l.finish()
	l.waitAcks(t, 30)

	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) {
			pg.stop(t, mode)
			down := time.Now()
			t.Logf("/readyz 503 %v after PostgreSQL stopped", waitReadyz(t, srv.addr, http.StatusServiceUnavailable, 5*time.Second))
			// A request of our own, and the load's, fail with a signed U.
			c.call(t, srv.addr, "queryPass", queryBody(l.cardID), "UNKNOWN_EXCEPTION")
			for before := l.count("UNKNOWN_EXCEPTION"); l.count("UNKNOWN_EXCEPTION") < before+10; {
				if time.Since(down) > 10*time.Second {
					t.Fatalf("the load got no UNKNOWN_EXCEPTION while the database was down: %s", l.summary())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // down for a while, as a restart is

			pg.start(t)
			back := time.Now()
			t.Logf("PostgreSQL down for %v", back.Sub(down))
			// Ask until SUCCESS: queries here, the load's writes below.
			var before []string // answers before the first SUCCESS
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := c.send(ctx, srv.addr, c.mustSign(t, "queryPass", queryBody(l.cardID)))
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if resp.code == "SUCCESS" {
					break
				}
				before = append(before, resp.code)
				if time.Since(back) > 5*time.Second {
					t.Fatalf("no SUCCESS within 5s of the database being back; answers %v", before)
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Logf("first query SUCCESS %v after the database was back (answers before it: %v)", time.Since(back), before)
			l.waitAcks(t, 30)
			l.mu.Lock()
			firstWrite := time.Duration(-1)
			for _, s := range l.successes {
				if s.sent.After(back) && (firstWrite < 0 || s.done.Sub(back) < firstWrite) {
					firstWrite = s.done.Sub(back)
				}
			}
			l.mu.Unlock()
			t.Logf("first acknowledged write %v after the database was back", firstWrite)
			if firstWrite < 0 || firstWrite > 5*time.Second {
				t.Errorf("first acknowledged write %v after the database was back, want within 5s", firstWrite)
			}
			waitReadyz(t, srv.addr, http.StatusOK, 5*time.Second)
			t.Logf("/readyz 200 at the latest %v after the database was back", time.Since(back))
		})
	}

	l.finish()
	t.Log(l.summary())
	l.checkResponses(t)
	l.mu.Lock()
	firstErrors(t, l.transport) // every request must get a signed answer
	for code := range l.codes {
		if code != "SUCCESS" && code != "UNKNOWN_EXCEPTION" {
			t.Errorf("result %s during the outages: want SUCCESS or UNKNOWN_EXCEPTION only (%v)", code, l.codes)
		}
	}
	l.mu.Unlock()
	srv.stop(t)
	db := sqlstoretest.Open(t, dsn)
	l.checkDurable(t, db)
	checkIntegrity(t, db)
}
