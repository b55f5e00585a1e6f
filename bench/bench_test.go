package bench

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

// stub is the far side of a run: it answers every API request with a
// signed response, rejects every fifth update with PARAM_ILLEGAL, can stall,
// and publishes /metrics that grow by fixed amounts per request, so the
// report's server figures have exact expected values.
type stub struct {
	*httptest.Server
	key      crypto.Signer
	requests atomic.Int64

	updates    atomic.Int64
	stallAt    int64         // the update with this number (from 1) starts a stall; 0: none
	stallFor   time.Duration // every request arriving during the stall waits until it ends
	mu         sync.Mutex
	stallUntil time.Time

	affinity string // when set, /metrics has ipass_process_cpus{affinity=...} (cpus_test.go)
	limitAll bool   // answer every update REQUEST_TRAFFIC_EXCEED_LIMIT (429), as a rate-limited client gets
}

// Per request, the stub's /metrics say: 3 ms of CPU, 0.8 ms signing and
// 0.2 ms verifying, on 2 cores.
const (
	stubCPU    = 0.003
	stubSign   = 0.0008
	stubVerify = 0.0002
	stubCores  = 2
)

func newStub(t *testing.T) *stub {
	t.Helper()
	key, err := gateway.GenerateKey(gateway.RSA256)
	if err != nil {
		t.Fatal(err)
	}
	s := &stub{key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		n := float64(s.requests.Load())
		fmt.Fprintf(w, "# HELP process_cpu_seconds_total x\nprocess_cpu_seconds_total %g\n", stubCPU*n)
		fmt.Fprintf(w, "go_sched_gomaxprocs_threads %d\nprocess_resident_memory_bytes %d\n", stubCores, 100<<20)
		fmt.Fprintf(w, "ipass_http_requests_total{code=\"SUCCESS\",path=\"/x\"} %g\n", n)
		if s.affinity != "" {
			fmt.Fprintf(w, "ipass_process_cpus{affinity=%q} %d\n", s.affinity, stubCores)
		}
		fmt.Fprintf(w, "ipass_crypto_duration_seconds_sum{alg=\"RSA256\",op=\"sign\"} %g\n", stubSign*n)
		fmt.Fprintf(w, "ipass_crypto_duration_seconds_sum{alg=\"RSA256\",op=\"verify\"} %g\n", stubVerify*n)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/updatePass") {
		k := s.updates.Add(1)
		s.mu.Lock()
		if k == s.stallAt {
			s.stallUntil = time.Now().Add(s.stallFor)
		}
		until := s.stallUntil
		s.mu.Unlock()
		time.Sleep(time.Until(until))
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Data struct {
			Points int `json:"$points_en_US$"`
		} `json:"dataInfo"`
	}
	_ = json.Unmarshal(body, &req)
	n := s.requests.Add(1)
	result := `{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"}`
	status := http.StatusOK
	switch {
	case strings.HasSuffix(r.URL.Path, "/updatePass") && s.limitAll:
		result = `{"resultStatus":"F","resultCode":"REQUEST_TRAFFIC_EXCEED_LIMIT","resultMessage":"rate limit"}`
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", "1")
	case strings.HasSuffix(r.URL.Path, "/updatePass") && req.Data.Points%5 == 0:
		result = `{"resultStatus":"F","resultCode":"PARAM_ILLEGAL","resultMessage":"points"}`
	}
	resp := []byte(fmt.Sprintf(`{"resultInfo":%s,"result":%s,"passId":"P%d"}`, result, result, n))
	now := gateway.FormatTime(time.Now())
	clientID := r.Header.Get("Client-Id")
	sig, err := gateway.Sign(s.key, gateway.RSA256, gateway.Content(r.Method, r.URL.Path, clientID, now, resp))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Client-Id", clientID)
	w.Header().Set("Response-Time", now)
	w.Header().Set("Signature", gateway.FormatSignatureHeader(gateway.RSA256, 1, sig))
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

var (
	clientKeyOnce sync.Once
	clientKey     crypto.Signer
)

func (s *stub) config(t *testing.T) Config {
	t.Helper()
	clientKeyOnce.Do(func() {
		var err error
		if clientKey, err = gateway.GenerateKey(gateway.RSA256); err != nil {
			t.Fatal(err)
		}
	})
	c, err := client.New(client.Config{
		BaseURL: s.URL, ClientID: "2110200000000044", PrivateKey: clientKey, KeyVersion: 1,
		ServerPublicKeys: map[gateway.Algorithm]crypto.PublicKey{gateway.RSA256: s.key.Public()},
		Retries:          -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Client: c, MerchantID: "M", UserID: "U", TemplateCode: "T",
		Op: OpUpdate, Concurrency: 4, Passes: 3, MetricsURL: s.URL + "/metrics",
	}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

// The server figures follow from the /metrics differences over the
// measured requests, and every result code is counted.
func TestReportMaths(t *testing.T) {
	s := newStub(t)
	cfg := s.config(t)
	cfg.Requests = 200
	cfg.Warmup = 100 * time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 200 {
		t.Errorf("requests = %d, want 200", rep.Requests)
	}
	total := 0
	for _, n := range rep.Results {
		total += n
	}
	if total != rep.Requests || rep.Results["PARAM_ILLEGAL"] == 0 || rep.Results["SUCCESS"] == 0 {
		t.Errorf("results = %v, want SUCCESS and PARAM_ILLEGAL adding up to %d", rep.Results, rep.Requests)
	}
	if rep.Errors != rep.Results["PARAM_ILLEGAL"] {
		t.Errorf("errors = %d, want the %d PARAM_ILLEGAL", rep.Errors, rep.Results["PARAM_ILLEGAL"])
	}
	// The server counted the measured requests, give or take those in
	// flight when measuring began (warm-up and pass creation excluded).
	if rep.ServerRequests == nil || math.Abs(*rep.ServerRequests-float64(rep.Requests)) > float64(cfg.Concurrency) {
		t.Fatalf("server_requests = %v, want %d ± %d", deref(rep.ServerRequests), rep.Requests, cfg.Concurrency)
	}
	wantThroughput := float64(rep.Requests) / rep.DurationS
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"server_cpu_ms_per_request", rep.ServerCPUMsPerRequest, stubCPU * 1000},
		{"crypto_ms_per_request", rep.CryptoMsPerRequest, (stubSign + stubVerify) * 1000},
		{"server_cores", rep.ServerCores, stubCores},
		{"crypto_bound_rps", rep.CryptoBoundRPS, stubCores / (stubSign + stubVerify)},
		{"bound_ratio", rep.BoundRatio, wantThroughput * (stubSign + stubVerify) / stubCores},
		{"cpu_to_crypto_ratio", rep.CPUToCryptoRatio, stubCPU / (stubSign + stubVerify)},
		{"server_rss_mb", rep.ServerRSSMB, 100},
	}
	for _, c := range checks {
		if c.got == nil || !near(*c.got, c.want) {
			t.Errorf("%s = %v, want %g", c.name, deref(c.got), c.want)
		}
	}
	if !near(rep.ThroughputRPS, wantThroughput) {
		t.Errorf("throughput = %g, want requests/duration = %g", rep.ThroughputRPS, wantThroughput)
	}
	if !near(rep.CryptoMsByOp["sign/RSA256"], stubSign*1000) || !near(rep.CryptoMsByOp["verify/RSA256"], stubVerify*1000) {
		t.Errorf("crypto_ms_by_op = %v", rep.CryptoMsByOp)
	}
	l := rep.LatencyMS
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency percentiles out of order: %+v", l)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The JSON report has every documented field, with null for the server
// figures when there is no /metrics to read.
func TestReportJSONSchema(t *testing.T) {
	s := newStub(t)
	for _, tc := range []struct {
		name       string
		metricsURL string
		rate       float64
		wantNull   bool
	}{
		{"WithMetrics", s.URL + "/metrics", 0, false},
		{"MetricsUnreachable", s.URL + "/nothing-here", 200, true},
		{"NoMetrics", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s.config(t)
			cfg.Requests, cfg.MetricsURL, cfg.Rate = 20, tc.metricsURL, tc.rate
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			numbers := []string{"concurrency", "requests", "throughput_rps"}
			for _, k := range numbers {
				if _, ok := m[k].(float64); !ok {
					t.Errorf("%s = %#v, want a number", k, m[k])
				}
			}
			if m["op"] != "update" {
				t.Errorf("op = %#v", m["op"])
			}
			if tc.rate > 0 && m["rate"] != tc.rate || tc.rate == 0 && m["rate"] != nil {
				t.Errorf("rate = %#v, want %v", m["rate"], tc.rate)
			}
			lat, _ := m["latency_ms"].(map[string]any)
			for _, k := range []string{"p50", "p90", "p99", "p999", "max"} {
				if _, ok := lat[k].(float64); !ok {
					t.Errorf("latency_ms.%s = %#v, want a number", k, lat[k])
				}
			}
			results, _ := m["results"].(map[string]any)
			if len(results) == 0 {
				t.Errorf("results = %#v, want counts by code", m["results"])
			}
			for _, k := range []string{"server_cpu_ms_per_request", "crypto_ms_per_request", "crypto_bound_rps", "bound_ratio"} {
				v, present := m[k]
				switch {
				case !present:
					t.Errorf("%s missing", k)
				case tc.wantNull && v != nil:
					t.Errorf("%s = %#v, want null", k, v)
				case !tc.wantNull && v == nil:
					t.Errorf("%s = null, want a number", k)
				}
			}
		})
	}
}

// In open loop a request's latency runs from its intended send time: while
// the server stalls for a second, the requests scheduled behind the stalled
// one queue, and each is charged its wait. A closed loop with one request in
// flight records the same stall as one slow request.
func TestOpenLoopChargesTheQueue(t *testing.T) {
	const stall = time.Second
	run := func(rate float64) *Report {
		s := newStub(t)
		cfg := s.config(t)
		cfg.Concurrency, cfg.Rate, cfg.Duration, cfg.MetricsURL = 1, rate, 3*time.Second, ""
		cfg.Warmup, cfg.Presign = 0, 200
		// The 25th update (half a second in, in open loop) stalls the server.
		s.stallAt, s.stallFor = 25, stall
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	open := run(50)
	// 50 requests fall due during the stall, waiting from 1 s down to 0:
	// the slowest 10 % of 150 (15) all waited over 0.6 s.
	if open.LatencyMS.Max < 900 || open.LatencyMS.P90 < 500 {
		t.Errorf("open loop: p90 %.1f ms, max %.1f ms; want the queue behind a 1 s stall charged (p90 ≥ 500, max ≥ 900)",
			open.LatencyMS.P90, open.LatencyMS.Max)
	}
	if open.Requests < 140 || open.Requests > 151 {
		t.Errorf("open loop: %d requests, want the schedule's 150 whatever the stall", open.Requests)
	}
	closed := run(0)
	if closed.LatencyMS.Max < 900 || closed.LatencyMS.P90 > 300 {
		t.Errorf("closed loop: p90 %.1f ms, max %.1f ms; want one slow request (max ≥ 900) and a fast p90",
			closed.LatencyMS.P90, closed.LatencyMS.Max)
	}
}

// The bench's own RSA signatures stay out of the measured run while its
// stock lasts. With too small a stock the queue is topped up as it runs low,
// the run still completes, and the report counts the requests signed while
// measuring.
func TestSigningStaysOutOfTheRun(t *testing.T) {
	const requests = 150
	for _, tc := range []struct {
		name    string
		presign int
	}{
		{"stock for the whole run", 0},
		{"stock of 10", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			cfg := s.config(t)
			cfg.Requests, cfg.Warmup, cfg.Presign, cfg.MetricsURL = requests, 0, tc.presign, ""
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != requests {
				t.Fatalf("%d requests measured, want %d", rep.Requests, requests)
			}
			if tc.presign == 0 {
				if rep.SignedWhileMeasuring != 0 || rep.Presigned < requests {
					t.Errorf("%d signed beforehand and %d while measuring; want the whole run signed beforehand",
						rep.Presigned, rep.SignedWhileMeasuring)
				}
				return
			}
			// All but the stock and one request per signer (blocked on the
			// full queue, or signing, as the clock started) were signed while
			// measuring.
			if least := requests - tc.presign - runtime.GOMAXPROCS(0); rep.SignedWhileMeasuring < least {
				t.Errorf("%d signed while measuring, want at least %d", rep.SignedWhileMeasuring, least)
			}
			var out strings.Builder
			rep.Print(&out)
			if !strings.Contains(out.String(), fmt.Sprintf("signed %d requests while measuring", rep.SignedWhileMeasuring)) {
				t.Errorf("the report does not say how many were signed while measuring:\n%s", out.String())
			}
		})
	}
}
