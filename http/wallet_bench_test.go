package http_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// BenchmarkWalletPage200 renders the wallet page of a holder with 200 passes
// (cards and tickets, half with a QR code of their own) over real HTTP, and
// reports the p50 and p99 of the request latency. Target: p99 ≤ 50 ms.
//
//	go test ./http/ -run '^$' -bench WalletPage200 -benchtime 400x
func BenchmarkWalletPage200(b *testing.B) {
	s := newWalletSite(b, sqlstoretest.OpenSQLite(b))
	holder := s.demo.UserIDs[0]
	for i := range 200 {
		if i%2 == 0 {
			s.card(b, holder, i, fmt.Sprintf("CARD-%06d", i))
		} else {
			s.ticket(b, holder, fmt.Sprintf("Ticket %d", i), time.Now().Add(time.Duration(i)*time.Hour))
		}
	}
	link := s.link(b, holder) + "?lang=en_US"
	fetchPage(b, link) // warm: connection, templates
	lat := timedFetches(b, link)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkWalletPage300 renders the first page of a wallet of 300 passes
// (240 member cards and 60 used tickets, each with a QR code of 512
// Chinese characters) over real HTTP. It reports the first render (no code
// drawn yet: the codes are new to the process), the p50 of later renders,
// and the page's size. Targets: ≤ 1 s and ≤ 1 MB.
//
//	go test ./http/ -run '^$' -bench WalletPage300 -benchtime 50x
func BenchmarkWalletPage300(b *testing.B) {
	s := newWalletSite(b, sqlstoretest.OpenSQLite(b))
	holder := s.demo.UserIDs[0]
	bigWallet(b, s, holder)
	link := s.link(b, holder) + "?lang=en_US"
	first, size := fetchPage(b, link)
	lat := timedFetches(b, link)
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(size), "html-bytes")
}

// fetchPage gets a wallet page and returns how long it took and its size.
func fetchPage(b *testing.B, link string) (time.Duration, int) {
	start := time.Now()
	resp, err := http.Get(link)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	return time.Since(start), int(n)
}

// timedFetches gets link b.N times under the benchmark's timer and returns
// the latencies, sorted.
func timedFetches(b *testing.B, link string) []time.Duration {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		d, _ := fetchPage(b, link)
		lat = append(lat, d)
	}
	b.StopTimer()
	slices.Sort(lat)
	return lat
}
