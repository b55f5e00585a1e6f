package http_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// BenchmarkLongHistory reads the history of a pass with 1,000 versions of
// about 60 KB each (every version sets 10 face keys of 2,000 CJK
// characters), on SQLite over real HTTP: queryPassHistory with pageSize 1
// (the last version, and the first), through the SDK (signatures included),
// and the wallet detail page, whose size it reports. Targets: ≤ 30 ms per
// queryPassHistory call; a detail page ≤ 300 KB in ≤ 100 ms.
//
//	go test ./http/ -run '^$' -bench LongHistory -benchtime 20x
func BenchmarkLongHistory(b *testing.B) {
	s := newWalletSite(b, sqlstoretest.OpenSQLite(b))
	holder := s.demo.UserIDs[0]
	const versions = 1000
	start := time.Now()
	id := longTicket(b, s, holder, versions, 10, 2000)
	b.Logf("built %d versions in %v", versions, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()

	for _, from := range []struct {
		name    string
		version int
	}{{"queryPassHistory/last", versions}, {"queryPassHistory/first", 1}} {
		b.Run(from.name, func(b *testing.B) {
			req := &client.QueryPassHistoryRequest{MerchantID: s.demo.MerchantID, PassID: id, FromVersion: from.version, PageSize: 1}
			for b.Loop() {
				h, err := s.sdk.QueryPassHistory(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if len(h.Versions) != 1 || h.LatestVersion != versions {
					b.Fatalf("%d versions of %d", len(h.Versions), h.LatestVersion)
				}
			}
		})
	}

	b.Run("detailPage", func(b *testing.B) {
		link := s.link(b, holder) + "/passes/" + id + "?lang=en_US"
		var size int64
		for b.Loop() {
			resp, err := http.Get(link)
			if err != nil {
				b.Fatal(err)
			}
			size, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%d, %v", resp.StatusCode, err)
			}
		}
		b.ReportMetric(float64(size)/1024, "page-KB")
	})
}
