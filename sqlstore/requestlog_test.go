package sqlstore_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// testRequestLog: entries come back as written, newest first, filtered and
// paged by ID; pruning honours the age and the per-client bound.
func testRequestLog(t *testing.T, newDSN func(testing.TB) string) {
	db := open(t, newDSN)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []ipass.RequestLogEntry
	for i := range 700 { // over one INSERT's chunk
		client, code := clientA, "SUCCESS"
		if i%2 == 1 {
			client = clientB
		}
		if i%7 == 0 {
			code = "INVALID_SIGNATURE"
		}
		batch = append(batch, ipass.RequestLogEntry{
			At: base.Add(time.Duration(i) * time.Second).UnixMilli(), ClientID: client, Operation: "updatePass",
			MerchantID: merchantA, PassID: fmt.Sprintf("P%d", i%5), ResultCode: code, Message: fmt.Sprintf("message %d", i),
			HTTPStatus: 200, DurationMS: 1.234, TracerID: fmt.Sprintf("%032x", i), ContentSHA256: fmt.Sprintf("%064x", i), Node: "node-1",
		})
	}
	if err := db.AppendRequestLog(ctx(t), batch[:650]); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRequestLog(ctx(t), batch[650:]); err != nil {
		t.Fatal(err)
	}

	all, err := db.RequestLog(ctx(t), ipass.RequestLogQuery{})
	if err != nil || len(all) != len(batch) {
		t.Fatalf("all: %d entries, %v; want %d", len(all), err, len(batch))
	}
	for i, e := range all {
		want := batch[len(batch)-1-i] // newest first
		want.ID = e.ID
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, e, want)
		}
		if i > 0 && e.ID >= all[i-1].ID {
			t.Fatalf("entry %d: ID %d not below %d", i, e.ID, all[i-1].ID)
		}
	}

	// Filters, each alone and together; the cursor pages without gaps.
	mine, err := db.RequestLog(ctx(t), ipass.RequestLogQuery{ClientID: clientB, ResultCode: "INVALID_SIGNATURE", PassID: "P2"})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range all {
		if e.ClientID == clientB && e.ResultCode == "INVALID_SIGNATURE" && e.PassID == "P2" {
			want = append(want, e.ID)
		}
	}
	if len(want) == 0 || len(mine) != len(want) {
		t.Fatalf("filtered: %d entries, want %d", len(mine), len(want))
	}
	since := base.Add(690 * time.Second)
	recent, err := db.RequestLog(ctx(t), ipass.RequestLogQuery{Since: since})
	if err != nil || len(recent) != 10 {
		t.Fatalf("since: %d entries, %v; want 10", len(recent), err)
	}
	var paged []int64
	for from := int64(0); ; {
		page, err := db.RequestLog(ctx(t), ipass.RequestLogQuery{ClientID: clientA, FromID: from, Limit: 101})
		if err != nil {
			t.Fatal(err)
		}
		n := min(len(page), 100)
		for _, e := range page[:n] {
			paged = append(paged, e.ID)
		}
		if len(page) <= 100 {
			break
		}
		from = page[100].ID
	}
	if len(paged) != 350 {
		t.Fatalf("paged %d of client A's 350 entries", len(paged))
	}

	// Age first: the 100 oldest go. Then the bound: 200 per client.
	n, err := db.PruneRequestLog(ctx(t), base.Add(100*time.Second), 0)
	if err != nil || n != 100 {
		t.Fatalf("prune by age = %d, %v; want 100", n, err)
	}
	n, err = db.PruneRequestLog(ctx(t), base, 200)
	if err != nil || n != 200 {
		t.Fatalf("prune to 200 per client = %d, %v; want 200 (300 each before)", n, err)
	}
	for _, c := range []string{clientA, clientB} {
		left, err := db.RequestLog(ctx(t), ipass.RequestLogQuery{ClientID: c})
		if err != nil || len(left) != 200 {
			t.Fatalf("%s keeps %d, %v; want 200", c, len(left), err)
		}
		if newest := all[0]; c == newest.ClientID && left[0].ID != newest.ID {
			t.Fatalf("%s lost its newest entry", c)
		}
	}
	if n, err := db.PruneRequestLog(ctx(t), base, 200); err != nil || n != 0 {
		t.Fatalf("second prune = %d, %v; want 0", n, err)
	}
}
