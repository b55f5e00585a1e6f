package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkWalletSSE1000 opens 1,000 event streams on one holder's wallet
// on one `ipass serve` process (SQLite) and measures, per updatePass, the
// time from sending the call until the event has reached every stream, and
// the server's extra resident memory with the streams open. Targets: all
// within 1 s; at most 50 MB.
//
//	go test ./e2e/ -run '^$' -bench WalletSSE1000 -benchtime 20x
func BenchmarkWalletSSE1000(b *testing.B) { benchWalletStreams(b, 1000, 1) }

// BenchmarkWalletStreams2000 is the same with 2,000 streams on a wallet of
// 300 passes: what a stream keeps must not grow with the wallet. Target: at
// most 60 MB of extra resident memory.
//
//	go test ./e2e/ -run '^$' -bench WalletStreams2000 -benchtime 5x
func BenchmarkWalletStreams2000(b *testing.B) { benchWalletStreams(b, 2000, 300) }

func benchWalletStreams(b *testing.B, streams, passes int) {
	// The stream caps lifted for one holder on one address: this measures
	// the streams, not the limits.
	n := strconv.Itoa(streams)
	s := startCluster(b, "", "", 1, "--wallet-max-streams", n, "--wallet-max-streams-per-ip", n,
		"--wallet-max-streams-per-holder", n, "--max-connections", strconv.Itoa(2*streams+100))[0]
	c := newAPIClient(b, client44ID)
	card := c.call(b, s.addr, "createPass", memberCreate("wallet-sse-bench"), "SUCCESS").passID()
	for i := 1; i < passes; i++ {
		c.call(b, s.addr, "createPass", memberCreate(fmt.Sprintf("wallet-sse-bench-%d", i)), "SUCCESS")
	}
	link := walletLink(b, "sqlite:"+filepath.Join(s.dataDir, "ipass.db"), s.addr, user0534)
	u, err := url.Parse(link)
	if err != nil {
		b.Fatal(err)
	}
	before := rssBytes(b, s.cmd.Process.Pid)

	got := make(chan time.Time, streams)
	ready := make(chan struct{}, streams)
	for range streams {
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			b.Fatalf("stream: %v (raise ulimit -n?)", err)
		}
		b.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "GET %s/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", u.Path, s.addr)
		go func() {
			rd := bufio.NewReader(conn)
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				switch {
				case strings.HasPrefix(line, "retry:"):
					ready <- struct{}{}
				case strings.HasPrefix(line, "data:"):
					got <- time.Now()
				}
			}
		}()
	}
	for range streams {
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			b.Fatal("streams did not all open within 60 s")
		}
	}
	time.Sleep(time.Second) // let the server settle before reading its memory
	extra := rssBytes(b, s.cmd.Process.Pid) - before

	var worst time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		c.call(b, s.addr, "updatePass", pointsUpdate(card, 1000+i), "SUCCESS")
		var last time.Time
		for range streams {
			select {
			case last = <-got:
			case <-time.After(30 * time.Second):
				b.Fatal("an update did not reach every stream within 30 s")
			}
		}
		worst = max(worst, last.Sub(start))
	}
	b.StopTimer()
	b.ReportMetric(float64(worst.Milliseconds()), "worst-all-delivered-ms")
	b.ReportMetric(float64(extra)/(1<<20), "extra-RSS-MB")
}

// rssBytes reads a process's resident set size from /proc.
func rssBytes(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("VmRSS not found")
	return 0
}
