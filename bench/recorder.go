package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 10 minutes, to 3
// significant digits (0.1 % error at any value).
const (
	histMin    = 1
	histMax    = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// recorder collects the measured requests: the whole-run histogram, the
// result counts, and a histogram per interval for the time series.
type recorder struct {
	start       time.Time // the run's first intended send (warm-up included)
	measureFrom time.Time // start + warm-up
	interval    time.Duration

	mu        sync.Mutex
	hist      *hdrhistogram.Histogram
	results   map[string]int
	errors    int
	first     time.Time // first measured intended start
	last      time.Time // last measured completion
	buckets   []*hdrhistogram.Histogram
	completed []int
}

func newRecorder(start time.Time, warmup, interval time.Duration) *recorder {
	if interval <= 0 {
		interval = time.Second
	}
	return &recorder{start: start, measureFrom: start.Add(warmup), interval: interval,
		hist: newHist(), results: map[string]int{}}
}

// record files one request that was due at start (its intended send time in
// open loop, its actual one in closed loop) and completed now (read after
// code is known, i.e. once the response was read and checked).
func (r *recorder) record(start time.Time, now func() time.Time, code string, measured bool) {
	if !measured {
		return
	}
	end := now()
	us := max(end.Sub(start).Microseconds(), histMin)
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.hist.RecordValue(min(us, histMax)) // values above 10 min are clamped, not lost
	r.results[code]++
	if !isSuccess(code) {
		r.errors++
	}
	if r.first.IsZero() || start.Before(r.first) {
		r.first = start
	}
	if end.After(r.last) {
		r.last = end
	}
	// The series is by completion time: it shows what the server delivered
	// each second, and the latency of what completed then.
	i := max(int(end.Sub(r.measureFrom)/r.interval), 0)
	for len(r.buckets) <= i {
		r.buckets = append(r.buckets, newHist())
		r.completed = append(r.completed, 0)
	}
	_ = r.buckets[i].RecordValue(min(us, histMax))
	r.completed[i]++
}

func isSuccess(code string) bool { return code == "SUCCESS" }

// progress writes a one-line status every second until done closes.
func (r *recorder) progress(w io.Writer, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		r.mu.Lock()
		n := r.hist.TotalCount()
		var rps float64
		if el := r.last.Sub(r.first).Seconds(); el > 0 {
			rps = float64(n) / el
		}
		line := fmt.Sprintf("%8d requests  %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d",
			n, rps, ms(r.hist.ValueAtQuantile(50)), ms(r.hist.ValueAtQuantile(99)), r.errors)
		if n == 0 {
			line = "warming up…"
		}
		r.mu.Unlock()
		fmt.Fprintf(w, "\r\033[K%s", line)
	}
}

func ms(us int64) float64 { return float64(us) / 1000 }

// report turns what was recorded into the client side of the report.
func (r *recorder) report(cfg *Config) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{
		Op: cfg.Op, Concurrency: cfg.Concurrency, Results: r.results,
		Requests: int(r.hist.TotalCount()), Errors: r.errors,
	}
	if cfg.Rate > 0 {
		rate := cfg.Rate
		rep.Rate = &rate
	}
	if rep.Requests > 0 {
		rep.DurationS = r.last.Sub(r.first).Seconds()
		if rep.DurationS > 0 {
			rep.ThroughputRPS = float64(rep.Requests) / rep.DurationS
		}
		rep.LatencyMS = Latency{
			P50: ms(r.hist.ValueAtQuantile(50)), P90: ms(r.hist.ValueAtQuantile(90)),
			P99: ms(r.hist.ValueAtQuantile(99)), P999: ms(r.hist.ValueAtQuantile(99.9)),
			Max: ms(r.hist.Max()), Mean: r.hist.Mean() / 1000,
		}
	}
	for i, h := range r.buckets {
		span := r.interval.Seconds()
		if i == len(r.buckets)-1 { // the last interval is usually cut short
			span = r.last.Sub(r.measureFrom).Seconds() - float64(i)*r.interval.Seconds()
		}
		if span < r.interval.Seconds()/2 && i > 0 {
			continue // too short to give a rate or percentiles worth plotting
		}
		rep.Series = append(rep.Series, Point{
			T:   float64(i)*r.interval.Seconds() + span,
			RPS: float64(r.completed[i]) / span,
			P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		})
	}
	return rep
}

// codes lists result codes, most frequent first.
func codes(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	return out
}
