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
	client := &http.Client{}
	fetch := func() time.Duration {
		start := time.Now()
		resp, err := client.Get(link)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	fetch() // warm: connection, templates
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, fetch())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkWalletPage300 renders the first page of a wallet of 300 passes
// (240 member cards and 60 expired tickets, each with a QR code of 512
// Chinese characters) over real HTTP. It reports the first
// render (no code drawn yet: the codes are new to the process), the p50 of
// later renders, and the page's size. Targets: ≤ 1 s and ≤ 1 MB.
//
//	go test ./http/ -run '^$' -bench WalletPage300 -benchtime 50x
func BenchmarkWalletPage300(b *testing.B) {
	s := newWalletSite(b, sqlstoretest.OpenSQLite(b))
	holder := s.demo.UserIDs[0]
	bigWallet(b, s, holder)
	link := s.link(b, holder) + "?lang=en_US"
	client := &http.Client{}
	size := 0
	fetch := func() time.Duration {
		start := time.Now()
		resp, err := client.Get(link)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		size = int(n)
		return time.Since(start)
	}
	first := fetch()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, fetch())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(size), "html-bytes")
}
