// Package reqlog writes the request log (docs/operating.md, "Request log")
// off the request path: the server hands each entry to a [Writer], which
// queues it in a bounded buffer and inserts what has gathered in batches,
// each in a transaction of its own. A request never waits for the database
// on its account; when the buffer is full the entry is dropped and counted.
package reqlog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipass-dev/ipass"
)

// Defaults of a [Writer]'s zero fields.
const (
	DefaultBuffer   = 8192
	DefaultBatch    = 256
	DefaultInterval = 200 * time.Millisecond
)

// Writer batches request log entries into a store. Set the fields, call
// [Writer.Start], and [Writer.Close] once no more entries come (after the
// HTTP server's Shutdown) to write what is still queued.
type Writer struct {
	Store    ipass.RequestLogStore
	Logger   *slog.Logger  // write failures; nil discards
	Buffer   int           // entries queued at most; 0: DefaultBuffer
	Batch    int           // a batch is written once this many are queued; 0: DefaultBatch
	Interval time.Duration // and at least this often when any are; 0: DefaultInterval

	queue   chan ipass.RequestLogEntry
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
	written atomic.Int64
}

var _ ipass.RequestLog = (*Writer)(nil)

// Start starts the goroutine that writes the batches.
func (w *Writer) Start() {
	w.init()
	go w.run()
}

func (w *Writer) init() {
	w.once.Do(func() {
		if w.Buffer <= 0 {
			w.Buffer = DefaultBuffer
		}
		if w.Batch <= 0 {
			w.Batch = DefaultBatch
		}
		if w.Interval <= 0 {
			w.Interval = DefaultInterval
		}
		if w.Logger == nil {
			w.Logger = slog.New(slog.DiscardHandler)
		}
		w.queue = make(chan ipass.RequestLogEntry, w.Buffer)
		w.stop = make(chan struct{})
		w.done = make(chan struct{})
	})
}

// Record queues e. It never blocks: with the buffer full, e is dropped and
// counted (see [Writer.Dropped]).
func (w *Writer) Record(e ipass.RequestLogEntry) {
	w.init()
	select {
	case w.queue <- e:
	default:
		w.dropped.Add(1)
	}
}

// Requests reads the store.
func (w *Writer) Requests(ctx context.Context, q ipass.RequestLogQuery) ([]ipass.RequestLogEntry, error) {
	return w.Store.RequestLog(ctx, q)
}

// Dropped is how many entries were lost: the buffer was full, or their
// batch could not be written.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Written is how many entries were stored.
func (w *Writer) Written() int64 { return w.written.Load() }

// Close writes what is queued and stops the writer. Entries recorded after
// Close are not written. ctx bounds the last write.
func (w *Writer) Close(ctx context.Context) {
	w.init()
	select {
	case <-w.stop:
		return // already closed
	default:
	}
	close(w.stop)
	select {
	case <-w.done:
	case <-ctx.Done():
	}
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	batch := make([]ipass.RequestLogEntry, 0, w.Batch)
	for {
		select {
		case e := <-w.queue:
			if batch = append(batch, e); len(batch) >= w.Batch {
				batch = w.flush(context.Background(), batch)
			}
		case <-t.C:
			batch = w.flush(context.Background(), batch)
		case <-w.stop:
			for {
				select {
				case e := <-w.queue:
					if batch = append(batch, e); len(batch) >= w.Batch {
						batch = w.flush(context.Background(), batch)
					}
				default:
					w.flush(context.Background(), batch)
					return
				}
			}
		}
	}
}

// flush writes batch and returns it emptied for reuse. A failed batch is
// dropped (and counted) rather than retried: the log must not grow a
// backlog that holds memory while the database is down.
func (w *Writer) flush(ctx context.Context, batch []ipass.RequestLogEntry) []ipass.RequestLogEntry {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.Store.AppendRequestLog(ctx, batch); err != nil {
		w.dropped.Add(int64(len(batch)))
		w.Logger.Warn("request log: batch not written", "entries", len(batch), "err", err)
	} else {
		w.written.Add(int64(len(batch)))
	}
	return batch[:0]
}
