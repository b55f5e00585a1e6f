package bench

import (
	"fmt"
	"io"
	"strings"

	"github.com/ipass-dev/ipass"
)

// Report is the outcome of a run. Its JSON form is what `ipass bench --json`
// writes; server-side figures are null when /metrics was not reachable.
type Report struct {
	Op            string         `json:"op"`
	Concurrency   int            `json:"concurrency"`
	Rate          *float64       `json:"rate"` // requests a second in open loop; null in closed loop
	Requests      int            `json:"requests"`
	Errors        int            `json:"errors"` // requests whose outcome was not SUCCESS
	DurationS     float64        `json:"duration_s"`
	ThroughputRPS float64        `json:"throughput_rps"`
	LatencyMS     Latency        `json:"latency_ms"`
	Results       map[string]int `json:"results"` // result code (or ERROR:<check>) → count
	// RateLimitedShare is the share of answers that were
	// REQUEST_TRAFFIC_EXCEED_LIMIT: above rateLimitedWarn the run measured
	// the client's rate limit rather than the server.
	RateLimitedShare float64 `json:"rate_limited_share"`
	ClientID         string  `json:"client_id,omitempty"` // the Client-Id the run signed as, for the hint

	Presigned            int `json:"presigned"`              // requests signed before the clock started
	SignedWhileMeasuring int `json:"signed_while_measuring"` // requests the bench had to sign while measuring

	// From the server's /metrics, differences over the measured run.
	ServerRequests        *float64           `json:"server_requests"`           // API requests the server counted
	ServerCPUMsPerRequest *float64           `json:"server_cpu_ms_per_request"` // process CPU (user+system)
	CryptoMsPerRequest    *float64           `json:"crypto_ms_per_request"`     // the server's own crypto timing, all operations
	CryptoMsByOp          map[string]float64 `json:"crypto_ms_by_op"`           // "sign/RSA256" → ms per request
	ServerCores           *float64           `json:"server_cores"`              // the server's CPUs (ipass_process_cpus; else its GOMAXPROCS)
	CryptoBoundRPS        *float64           `json:"crypto_bound_rps"`          // server_cores ÷ crypto time per request
	BoundRatio            *float64           `json:"bound_ratio"`               // throughput ÷ crypto bound
	CPUToCryptoRatio      *float64           `json:"cpu_to_crypto_ratio"`       // server CPU ÷ crypto time, per request
	ServerRSSMB           *float64           `json:"server_rss_mb"`             // resident memory at the end
	ServerMetricsError    string             `json:"server_metrics_error,omitempty"`

	// CPU lists ("0-3,6") the server and the bench may run on, and those in
	// both when the server is on this machine: "" when none or unknown.
	ServerCPUs string `json:"server_cpus"`
	BenchCPUs  string `json:"bench_cpus"`
	SharedCPUs string `json:"shared_cpus"`

	Series []Point `json:"series"` // per interval, by completion time
}

// Latency holds percentiles in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Point is one interval of the time series.
type Point struct {
	T   float64 `json:"t_s"` // end of the interval, seconds after measuring began
	RPS float64 `json:"rps"` // requests completed per second
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
}

// addServer fills the server-side figures from two scrapes.
func (r *Report) addServer(before, after *scrapeResult, err error, url string) {
	if url == "" {
		return
	}
	if before == nil || after == nil {
		r.ServerMetricsError = "metrics not reachable"
		if err != nil {
			r.ServerMetricsError = err.Error()
		}
		return
	}
	if v, ok := after.value("process_resident_memory_bytes"); ok {
		r.ServerRSSMB = ptr(v / (1 << 20))
	}
	// The CPUs the server has, not its GOMAXPROCS: on one CPU ipass serve
	// runs 2 Ps (cmd/ipass/procs.go), which would double the bound.
	if v := after.sum("ipass_process_cpus"); v > 0 {
		r.ServerCores = ptr(v)
	} else if v, ok := after.value("go_sched_gomaxprocs_threads"); ok && v > 0 {
		r.ServerCores = ptr(v)
	}
	reqs := after.sum("ipass_http_requests_total") - before.sum("ipass_http_requests_total")
	if reqs <= 0 {
		r.ServerMetricsError = "the server counted no API requests during the run"
		return
	}
	r.ServerRequests = ptr(reqs)
	if a, ok := after.value("process_cpu_seconds_total"); ok {
		b, _ := before.value("process_cpu_seconds_total")
		r.ServerCPUMsPerRequest = ptr((a - b) * 1000 / reqs)
	}
	const crypto = "ipass_crypto_duration_seconds_sum"
	if _, ok := after.series[crypto]; !ok {
		return
	}
	c := (after.sum(crypto) - before.sum(crypto)) * 1000 / reqs
	r.CryptoMsPerRequest = ptr(c)
	r.CryptoMsByOp = map[string]float64{}
	for labels, v := range after.series[crypto] {
		d := (v - before.series[crypto][labels]) * 1000 / reqs
		if d > 0 {
			r.CryptoMsByOp[opName(labels)] = d
		}
	}
	if c > 0 && r.ServerCores != nil {
		r.CryptoBoundRPS = ptr(*r.ServerCores * 1000 / c)
		r.BoundRatio = ptr(r.ThroughputRPS / *r.CryptoBoundRPS)
	}
	if c > 0 && r.ServerCPUMsPerRequest != nil {
		r.CPUToCryptoRatio = ptr(*r.ServerCPUMsPerRequest / c)
	}
}

func ptr(v float64) *float64 { return &v }

// rateLimitedWarn is the share of REQUEST_TRAFFIC_EXCEED_LIMIT answers from
// which the report warns: one in a hundred already bends every figure.
const rateLimitedWarn = 0.01

// addRateLimited fills RateLimitedShare from the results.
func (r *Report) addRateLimited() {
	if r.Requests > 0 {
		r.RateLimitedShare = float64(r.Results[string(ipass.CodeTrafficExceedLimit)]) / float64(r.Requests)
	}
}

// Print writes the human-readable report.
func (r *Report) Print(w io.Writer) {
	mode := fmt.Sprintf("closed loop, %d in flight", r.Concurrency)
	if r.Rate != nil {
		mode = fmt.Sprintf("open loop at %g req/s over %d connections", *r.Rate, r.Concurrency)
	}
	fmt.Fprintf(w, "%s: %d requests in %.2f s (%s)\n", r.Op, r.Requests, r.DurationS, mode)
	if r.SharedCPUs != "" {
		fmt.Fprintf(w, "  WARNING      the bench shares CPUs %s with the server (server %s, bench %s): its HTTP and\n"+
			"               signing compete with the server and every server figure below pays for them;\n"+
			"               pin them apart, e.g. taskset -c 0 ipass serve ... and taskset -c 1 ipass bench ...\n",
			r.SharedCPUs, r.ServerCPUs, r.BenchCPUs)
	}
	if r.RateLimitedShare >= rateLimitedWarn {
		client := "the client"
		if r.ClientID != "" {
			client = "client " + r.ClientID
		}
		fmt.Fprintf(w, "  WARNING      %d of %d answers (%.1f %%) were %s: this run measured the\n"+
			"               client's rate limit, not the server. Lift it: give %s rateLimit: 0 in the\n"+
			"               tenants file (ipass admin export > tenants.yaml, edit, ipass admin apply -f tenants.yaml)\n",
			r.Results[string(ipass.CodeTrafficExceedLimit)], r.Requests, r.RateLimitedShare*100, ipass.CodeTrafficExceedLimit, client)
	}
	fmt.Fprintf(w, "  throughput   %.1f req/s\n", r.ThroughputRPS)
	l := r.LatencyMS
	fmt.Fprintf(w, "  latency ms   p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
		l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	fmt.Fprintf(w, "  results     ")
	for _, c := range codes(r.Results) {
		fmt.Fprintf(w, " %s %d", c, r.Results[c])
	}
	fmt.Fprintln(w)
	if r.SignedWhileMeasuring > 0 {
		fmt.Fprintf(w, "  bench        signed %d requests while measuring (%d were signed beforehand): its RSA work shared the machine; raise --presign\n",
			r.SignedWhileMeasuring, r.Presigned)
	}
	switch {
	case r.ServerMetricsError != "":
		fmt.Fprintf(w, "  server       (no figures: %s)\n", r.ServerMetricsError)
	case r.ServerRequests != nil:
		fmt.Fprintf(w, "  server       %.0f requests counted", *r.ServerRequests)
		if r.ServerCores != nil {
			fmt.Fprintf(w, ", %g cores", *r.ServerCores)
		}
		if r.ServerRSSMB != nil {
			fmt.Fprintf(w, ", RSS %.0f MB", *r.ServerRSSMB)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  server CPU   %s ms/request\n", optional(r.ServerCPUMsPerRequest, "%.3f"))
		if r.CryptoMsPerRequest != nil {
			var parts []string
			for _, op := range sortedKeys(r.CryptoMsByOp) {
				parts = append(parts, fmt.Sprintf("%s %.3f", op, r.CryptoMsByOp[op]))
			}
			fmt.Fprintf(w, "  crypto       %.3f ms/request (%s)\n", *r.CryptoMsPerRequest, strings.Join(parts, ", "))
			fmt.Fprintf(w, "  CPU ÷ crypto %s×\n", optional(r.CPUToCryptoRatio, "%.2f"))
			fmt.Fprintf(w, "  crypto bound %s req/s (cores ÷ crypto time); throughput is %s of it\n",
				optional(r.CryptoBoundRPS, "%.0f"), percent(r.BoundRatio))
		}
	}
}

func optional(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f %%", *v*100)
}
