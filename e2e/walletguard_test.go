package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/internal/ssetest"
	"github.com/ipass-dev/ipass/sqlstore"
)

// watchEvents opens url's event stream and reads it in the background.
func watchEvents(t testing.TB, url string) *ssetest.Watch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream %s: %d", url, resp.StatusCode)
	}
	return ssetest.Start(resp.Body)
}

// TestWalletRevocationAcrossProcesses: `ipass admin wallet-secret rotate`,
// run as its own process the way operators run it, ends the open event
// streams of every serving process within 2 s (SQLite: a server sharing the
// file with the admin process; PostgreSQL: two nodes), and no change made
// after the rotation reaches them.
func TestWalletRevocationAcrossProcesses(t *testing.T) {
	for _, eng := range engines(t) {
		t.Run(eng.name, func(t *testing.T) {
			dsn := eng.newDB(t)
			nodes := 1
			if eng.name == sqlstore.EnginePostgres {
				nodes = 2
			}
			srvs := startCluster(t, dsn, writeTenants(t, 0, 0), nodes)
			c := newAPIClient(t, client44ID)
			last := srvs[len(srvs)-1].addr
			card := c.call(t, last, "createPass", memberCreate("revocation-1"), "SUCCESS").passID()
			var streams []*ssetest.Watch
			for _, s := range srvs {
				streams = append(streams, watchEvents(t, walletLink(t, dsn, s.addr, user0534)+"/events"))
			}
			c.call(t, last, "updatePass", pointsUpdate(card, 200), "SUCCESS")
			for i, w := range streams {
				if !ssetest.WaitFor(walletLive+4*time.Second, func() bool { return w.EventsAfter(time.Time{}) > 0 }) {
					t.Fatalf("node %d's stream got no event for an update before the rotation", i)
				}
			}

			rotateStart := time.Now()
			if out, err := exec.Command(ipassBinary(t), "admin", "wallet-secret", "rotate", "--db", dsn).CombinedOutput(); err != nil {
				t.Fatalf("ipass admin wallet-secret rotate: %v\n%s", err, out)
			}
			rotated := time.Now()
			// No write follows yet: the streams must find the rotation by
			// themselves (a change would wake them; see the http tests).
			for i, w := range streams {
				select {
				case <-w.Ended():
				case <-time.After(5 * time.Second):
					t.Fatalf("node %d's stream still open 5s after the rotation", i)
				}
				if d := w.EndedAt().Sub(rotated); d > 2*time.Second {
					t.Errorf("node %d's stream ended %s after the rotation command returned, want within 2s", i, d)
				}
			}
			c.call(t, last, "updatePass", pointsUpdate(card, 300), "SUCCESS")
			time.Sleep(walletLive)
			for i, w := range streams {
				if n := w.EventsAfter(rotateStart); n != 0 {
					t.Errorf("node %d sent %d events on a revoked link", i, n)
				}
			}
		})
	}
}

// TestHostileHolderFlood: one holder's link, from one address, tries far
// more event streams than every cap while the server runs with a low
// descriptor limit. Throughout, /healthz and a signed queryPass answer
// within 200 ms, and the server's descriptor count stays under its limit.
// (Runs the release binary, not under the race detector: it times answers.)
func TestHostileHolderFlood(t *testing.T) {
	const (
		nofile    = 256
		attackers = 200
		duration  = 4 * time.Second
	)
	srv := newServer(t, append(sharedServerKeyArgs(t), "--max-connections", "96", "--wallet-max-streams", "30",
		"--wallet-max-streams-per-ip", "20", "--wallet-max-streams-per-holder", "10")...)
	// The limit is set by the shell the server is exec'd from, as an
	// operator's `ulimit -n` would.
	srv.args = append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile), srv.bin}, srv.args...)
	srv.bin = "/bin/sh"
	srv.start(t)
	pid := srv.cmd.Process.Pid

	c := newAPIClient(t, client44ID)
	card := c.call(t, srv.addr, "createPass", memberCreate("flood-1"), "SUCCESS").passID()
	link := walletLink(t, "sqlite:"+filepath.Join(srv.dataDir, "ipass.db"), srv.addr, user0534)
	path := strings.TrimPrefix(link, "http://"+srv.addr) + "/events"

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var open, refused, failed atomic.Int64
	var wg sync.WaitGroup
	for range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				switch flood(ctx, srv.addr, path) {
				case http.StatusOK:
					open.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				default:
					failed.Add(1)
				}
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}

	// A fresh connection for each probe: a merchant's first call, or one
	// after its keep-alive connection was closed.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	c.hc = probe
	var slowest time.Duration
	var slowWhat string
	maxFDs, probes := 0, 0
	time.Sleep(300 * time.Millisecond) // let the flood build up
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := probe.Get("http://" + srv.addr + "/healthz")
		if err != nil {
			t.Fatalf("/healthz during the flood: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if d := time.Since(start); d > slowest {
			slowest, slowWhat = d, "/healthz"
		}
		start = time.Now()
		r, err := c.send(context.Background(), srv.addr, c.mustSign(t, "queryPass", queryBody(card)))
		if err != nil || r.code != "SUCCESS" {
			t.Fatalf("queryPass during the flood: %v %v", r, err)
		}
		if d := time.Since(start); d > slowest {
			slowest, slowWhat = d, "queryPass"
		}
		if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			maxFDs = max(maxFDs, len(fds))
		}
		probes++
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	t.Logf("%d attackers for %s: %d streams opened, %d refused, %d other; %d probes, slowest %s %s; at most %d descriptors (limit %d)",
		attackers, duration, open.Load(), refused.Load(), failed.Load(), probes, slowWhat, slowest, maxFDs, nofile)
	if refused.Load() == 0 || open.Load() == 0 {
		t.Errorf("the flood opened %d streams and was refused %d times; want both (caps reached)", open.Load(), refused.Load())
	}
	if probes < 10 {
		t.Errorf("only %d probes ran", probes)
	}
	if slowest > 200*time.Millisecond {
		t.Errorf("slowest answer during the flood: %s %s, want within 200ms", slowWhat, slowest)
	}
	if maxFDs == 0 || maxFDs >= nofile {
		t.Errorf("the server held up to %d descriptors, limit %d", maxFDs, nofile)
	}
	log, _ := os.ReadFile(srv.logPath)
	if strings.Contains(string(log), "too many open files") {
		t.Errorf("the server ran out of descriptors:\n%s", log)
	}
	if !slices.ContainsFunc(strings.Split(string(log), "\n"), func(l string) bool { return strings.Contains(l, "max_connections=96") }) {
		t.Errorf("the start-up log does not show max_connections=96")
	}
}

// flood opens one event stream on its own connection; an admitted stream
// is held until ctx ends. It returns the status code (0: no answer).
func flood(ctx context.Context, addr, path string) int {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, addr); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body) // hold the stream
	}
	return resp.StatusCode
}
