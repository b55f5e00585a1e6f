// Package bench is the load generator behind `ipass bench`: it drives an
// ipass server (or any gateway speaking the protocol) with signed requests
// through package client, closed loop (N requests in flight) or open loop
// (R requests a second on a fixed schedule), and reports throughput,
// latency percentiles from an HDR histogram, every result code, and — from
// the server's /metrics — the server's CPU and crypto time per request.
//
// Two rules keep the numbers honest, after wrk2:
//   - Requests are signed before the clock starts, by a pool of signers, so
//     the client's RSA signature is never inside a latency nor, unless the
//     run outlasts its stock, competing with the server for the machine.
//   - In open loop a request's latency runs from the instant the schedule
//     meant to send it, not from when a free connection got to it: a server
//     that stalls is charged for the whole queue it caused (no coordinated
//     omission).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipass-dev/ipass/client"
)

// The operations a run can drive.
const (
	OpUpdate = "update" // updatePass: UPDATE_MEMBER_CARD points change on one of the passes
	OpQuery  = "query"  // queryPass of one of the passes
	OpCreate = "create" // createPass with a fresh bizSerialId each time
	OpMix    = "mix"    // per 10 requests: 1 create, 2 queries, 7 updates
)

// Config is one run. Client, MerchantID, UserID and TemplateCode name who
// calls and on what; the rest shapes the load.
type Config struct {
	Client       *client.Client // signs, sends and (unless built with InsecureSkipVerify) verifies
	ClientID     string         // the Client-Id Client signs as; only named in the report's hints
	MerchantID   string
	UserID       string
	TemplateCode string // membership-card template with $points_en_US$/$points_zh_HK$ (the demo's temlate111001)

	Op          string        // OpUpdate, OpQuery, OpCreate or OpMix
	Concurrency int           // requests in flight (closed loop), or connections (open loop)
	Rate        float64       // > 0: open loop at Rate requests a second
	Duration    time.Duration // how long to measure; or
	Requests    int           // how many requests to measure (the first of the two reached ends the run)
	Passes      int           // passes created before the run; update and query spread over them
	Warmup      time.Duration // load applied before measuring starts

	// Presign is how many requests are signed before the clock starts (0:
	// enough for the whole run, at most 20000; a closed loop's pace is
	// taken as at most 1000 requests a second). During the run the signers
	// only top the queue up when fewer than 2×Concurrency are left.
	Presign int

	MetricsURL string        // the server's /metrics; "" skips the server-side figures
	Progress   io.Writer     // a live progress line every second; nil for none
	Interval   time.Duration // time-series bucket for the plot; 0 means 1 s
	Now        func() time.Time
}

func (c *Config) check() error {
	switch c.Op {
	case OpUpdate, OpQuery, OpCreate, OpMix:
	default:
		return fmt.Errorf("op %q: want update, query, create or mix", c.Op)
	}
	switch {
	case c.Client == nil:
		return errors.New("no client")
	case c.Concurrency < 1:
		return fmt.Errorf("concurrency %d: must be at least 1", c.Concurrency)
	case c.Rate < 0:
		return fmt.Errorf("rate %g: must not be negative", c.Rate)
	case c.Duration <= 0 && c.Requests <= 0:
		return errors.New("give a duration or a number of requests")
	case c.Passes < 1 && c.Op != OpCreate:
		return fmt.Errorf("passes %d: must be at least 1", c.Passes)
	case c.Warmup < 0:
		return errors.New("warmup must not be negative")
	}
	return nil
}

// job is one signed request waiting for its turn.
type job struct {
	prepared *client.Prepared
	err      error // signing failed
}

// Run creates the passes, then applies the load and returns the report.
// Cancelling ctx ends the run early; the report covers what was measured.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	runID := strconv.FormatInt(now().UnixNano(), 36)
	bodies := &bodies{cfg: &cfg, runID: runID}
	if cfg.Op != OpCreate {
		ids, err := createPasses(ctx, &cfg, runID)
		if err != nil {
			return nil, err
		}
		bodies.passIDs = ids
	}

	// Signers fill a queue of ready requests before the clock starts. From
	// then on they only top it up when it runs low, so that the bench's own
	// RSA signatures share the machine with the server under test only if
	// the run outlasts its stock; the report counts those it had to make.
	presign := cfg.Presign
	if presign <= 0 {
		// A closed loop may take up to Concurrency requests more than it
		// sends as it ends, and a queue under 2×Concurrency is topped up: a
		// stock with that margin lasts the whole run.
		presign = min(cfg.expected()+3*cfg.Concurrency, 20000)
	}
	q := &queue{ready: make(chan job, max(presign, 2*cfg.Concurrency)), low: make(chan struct{}, 1)}
	q.lowWater = 2 * cfg.Concurrency
	signCtx, stopSigning := context.WithCancel(ctx)
	defer stopSigning()
	var seq atomic.Int64
	var measureFrom atomic.Pointer[time.Time] // set once the clock has started
	var signedMeasuring atomic.Int64
	var signers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		signers.Add(1)
		go func() {
			defer signers.Done()
			for signCtx.Err() == nil {
				from := measureFrom.Load()
				if from != nil && len(q.ready) >= q.lowWater {
					select {
					case <-q.low:
					case <-signCtx.Done():
						return
					}
					continue
				}
				if from != nil && !now().Before(*from) {
					signedMeasuring.Add(1) // counted as begun: one begun before may end after
				}
				op, body := bodies.next(int(seq.Add(1)))
				p, err := cfg.Client.Prepare(signCtx, op, body)
				select {
				case q.ready <- job{prepared: p, err: err}:
				case <-signCtx.Done():
					return
				}
			}
		}()
	}
	for len(q.ready) < min(presign, cap(q.ready)) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}

	rec := newRecorder(now(), cfg.Warmup, cfg.Interval)
	measureFrom.Store(&rec.measureFrom)
	// The server's counters are read as measuring begins, after the warm-up.
	var before *scrapeResult
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		if d := rec.measureFrom.Sub(now()); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return
			}
		}
		before, _ = scrape(ctx, cfg.MetricsURL) // nil when unreachable
	}()
	var progressDone chan struct{}
	if cfg.Progress != nil {
		progressDone = make(chan struct{})
		go rec.progress(cfg.Progress, progressDone)
	}
	if cfg.Rate > 0 {
		openLoop(ctx, &cfg, rec, q, now)
	} else {
		closedLoop(ctx, &cfg, rec, q, now, scraped)
	}
	stopSigning()
	if progressDone != nil {
		close(progressDone)
		fmt.Fprint(cfg.Progress, "\r\033[K")
	}
	<-scraped
	// Nothing is left in flight here, so the server's counters are final.
	after, scrapeErr := scrape(ctx, cfg.MetricsURL)
	rep := rec.report(&cfg)
	rep.Presigned = presign
	rep.SignedWhileMeasuring = int(signedMeasuring.Load())
	rep.addServer(before, after, scrapeErr, cfg.MetricsURL)
	rep.addCPUs(after, cfg.MetricsURL)
	rep.addRateLimited()
	rep.ClientID = cfg.ClientID
	signers.Wait()
	return rep, nil
}

// expected is about how many requests the whole run will send. A closed
// loop's pace is unknown beforehand: it is taken as at most maxPace.
func (c *Config) expected() int {
	const maxPace = 1000 // requests a second
	switch {
	case c.Rate > 0 && c.Requests > 0:
		return c.Requests + int(c.Rate*c.Warmup.Seconds())
	case c.Rate > 0:
		return int(c.Rate * (c.Warmup + c.Duration).Seconds())
	case c.Requests > 0:
		return c.Requests + int(maxPace*c.Warmup.Seconds())
	}
	return int(maxPace * (c.Warmup + c.Duration).Seconds())
}

// closedLoop keeps Concurrency requests in flight. Measured requests wait
// for the server's counters to be read (scraped closes), so the server's
// figures cover them and, give or take the warm-up requests in flight at
// that moment, nothing else.
func closedLoop(ctx context.Context, cfg *Config, rec *recorder, q *queue, now func() time.Time, scraped <-chan struct{}) {
	end := rec.measureFrom.Add(cfg.Duration)
	var measured atomic.Int64
	workers(ctx, cfg.Concurrency, func() bool {
		if cfg.Duration > 0 && !now().Before(end) {
			return false
		}
		j, ok := q.take(ctx)
		if !ok {
			return false
		}
		start := now()
		inWarmup := start.Before(rec.measureFrom)
		if !inWarmup {
			select {
			case <-scraped:
			case <-ctx.Done():
				return false
			}
			start = now()
		}
		if !inWarmup && cfg.Requests > 0 && measured.Add(1) > int64(cfg.Requests) {
			return false
		}
		rec.record(start, now, send(cfg.Client, j), !inWarmup)
		return true
	})
}

// openLoop sends request i at start + i/Rate over Concurrency connections.
// A request that finds every connection busy waits, and that wait is part
// of its latency, measured from its intended send time.
func openLoop(ctx context.Context, cfg *Config, rec *recorder, q *queue, now func() time.Time) {
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	warmupN := int64(cfg.Warmup / interval)
	var next atomic.Int64
	workers(ctx, cfg.Concurrency, func() bool {
		i := next.Add(1) - 1
		intended := rec.start.Add(time.Duration(i) * interval)
		switch {
		case cfg.Requests > 0 && i-warmupN >= int64(cfg.Requests):
			return false
		case cfg.Duration > 0 && !intended.Before(rec.measureFrom.Add(cfg.Duration)):
			return false
		}
		if d := intended.Sub(now()); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return false
			}
		}
		j, ok := q.take(ctx)
		if !ok {
			return false
		}
		rec.record(intended, now, send(cfg.Client, j), i >= warmupN)
		return true
	})
}

// workers runs step on n goroutines, each until it returns false or ctx
// ends, and waits for all of them.
func workers(ctx context.Context, n int, step func() bool) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && step() {
			}
		}()
	}
	wg.Wait()
}

// queue holds the signed requests waiting for their turn.
type queue struct {
	ready    chan job
	low      chan struct{} // a signer may top up: fewer than lowWater are ready
	lowWater int
}

// take waits for the next signed request; false when ctx ends first.
func (q *queue) take(ctx context.Context) (job, bool) {
	select {
	case j := <-q.ready:
		if len(q.ready) < q.lowWater {
			select {
			case q.low <- struct{}{}:
			default:
			}
		}
		return j, true
	case <-ctx.Done():
		return job{}, false
	}
}

// send sends one prepared request and names its outcome: the result code,
// or "ERROR:<check>" when no verified result came back.
func send(c *client.Client, j job) string {
	if j.err != nil {
		return "ERROR:sign"
	}
	resp, err := c.Send(j.prepared)
	if err == nil {
		return string(resp.Result.Code)
	}
	var re *client.ResultError
	if errors.As(err, &re) {
		return string(re.ResultCode)
	}
	var pe *client.ProtocolError
	if errors.As(err, &pe) {
		return "ERROR:" + pe.Check
	}
	return "ERROR:other"
}
