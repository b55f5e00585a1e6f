package reqlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/reqlog"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

func entry(i int) ipass.RequestLogEntry {
	return ipass.RequestLogEntry{At: int64(i), ClientID: "c1", Operation: "queryPass", ResultCode: "SUCCESS",
		Message: "success", HTTPStatus: 200, TracerID: fmt.Sprintf("%032x", i), Node: "n"}
}

// TestWriterBatches: a full batch is written at once, a partial one by the
// interval, in order; a batch the store refuses is counted as dropped.
func TestWriterBatches(t *testing.T) {
	db := sqlstoretest.OpenSQLite(t)
	w := &reqlog.Writer{Store: db, Batch: 4, Interval: time.Hour}
	w.Start()
	for i := range 4 {
		w.Record(entry(i))
	}
	waitFor(t, func() bool { return w.Written() == 4 }) // the batch size, not the hour
	w.Close(context.Background())

	w2 := &reqlog.Writer{Store: db, Batch: 100, Interval: 10 * time.Millisecond}
	w2.Start()
	w2.Record(entry(4))
	waitFor(t, func() bool { return w2.Written() == 1 }) // the interval
	got, err := db.RequestLog(context.Background(), ipass.RequestLogQuery{})
	if err != nil || len(got) != 5 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.At != int64(4-i) {
			t.Fatalf("entry %d at %d: not in the order recorded", i, e.At)
		}
	}

	db.Close() // the store now refuses every write
	w2.Record(entry(5))
	waitFor(t, func() bool { return w2.Dropped() == 1 })
	w2.Close(context.Background())
	if w2.Written() != 1 {
		t.Fatalf("written %d", w2.Written())
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
