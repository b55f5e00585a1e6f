package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricValue returns the value of the sample line matching pattern (a
// regexp over "name{labels}") in a Prometheus text exposition.
func metricValue(t *testing.T, exposition, pattern string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		t.Fatalf("no sample matches %s in /metrics", pattern)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func getMetrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// `ipass bench` against a real server: every request verified and counted,
// the server's /metrics read for its CPU and crypto time, and those metrics
// agreeing with what the bench saw.
func TestBenchAgainstServer(t *testing.T) {
	dir := t.TempDir()
	url, _, _ := startServe(t, dir)
	jsonFile := filepath.Join(dir, "report.json")
	plotFile := filepath.Join(dir, "plot.svg")
	r := cliRun(t, "", nil, "bench", "--url", url, "--client-id", "2110200000000044",
		"--key", filepath.Join(dir, "demo-client.pem"), "--server-public-key", filepath.Join(dir, "server-signing.pub.pem"),
		"--requests", "40", "--concurrency", "2", "--passes", "2", "--warmup", "0",
		"--json", jsonFile, "--plot", plotFile)
	if r.code != exitOK {
		t.Fatalf("bench: %s", r)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("progress line written to a non-terminal: %q", r.stderr)
	}
	var rep struct {
		Requests      int                `json:"requests"`
		Results       map[string]int     `json:"results"`
		ServerCPU     *float64           `json:"server_cpu_ms_per_request"`
		Crypto        *float64           `json:"crypto_ms_per_request"`
		CryptoByOp    map[string]float64 `json:"crypto_ms_by_op"`
		Bound         *float64           `json:"crypto_bound_rps"`
		BoundRatio    *float64           `json:"bound_ratio"`
		ServerRequest *float64           `json:"server_requests"`
	}
	data, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 40 {
		t.Errorf("requests = %d, want 40", rep.Requests)
	}
	if rep.ServerCPU == nil || rep.Crypto == nil || rep.Bound == nil || rep.BoundRatio == nil || rep.ServerRequest == nil {
		t.Fatalf("server figures missing: %s", data)
	}
	if *rep.ServerCPU <= 0 || *rep.Crypto <= 0 || rep.CryptoByOp["sign/RSA256"] <= 0 || rep.CryptoByOp["verify/RSA256"] <= 0 {
		t.Errorf("server CPU %v ms, crypto %v ms (%v): want positive sign and verify times", *rep.ServerCPU, *rep.Crypto, rep.CryptoByOp)
	}
	if svg, err := os.ReadFile(plotFile); err != nil || !strings.Contains(string(svg), "<polyline") {
		t.Errorf("plot: %v, want an SVG with lines", err)
	}

	// One encrypted call exercises the open and seal timings.
	body := writeBody(t, "q.json", `{"merchantId":"2160120036095023","passId":"none"}`)
	cliRun(t, "", nil, "call", "queryPass", "--url", url, "--client-id", "2110200000000044",
		"--key", filepath.Join(dir, "demo-client.pem"), "--server-public-key", filepath.Join(dir, "server-signing.pub.pem"),
		"--encrypt", "--server-encryption-key", filepath.Join(dir, "server-signing.pub.pem"), body)

	// An unknown path is counted under "other", so probes cannot grow the label set.
	if resp, err := http.Post(url+"/no/such/path", "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
	}

	m := getMetrics(t, url)
	if v := metricValue(t, m, `ipass_http_requests_total\{code="NO_INTERFACE_DEF",path="other"\}`); v != 1 {
		t.Errorf("unknown path counted %v times under other, want 1", v)
	}
	const update = `path="/api/open/alipay/v1/ipass/pass/manage/updatePass"`
	success := metricValue(t, m, `ipass_http_requests_total\{code="SUCCESS",`+update+`\}`)
	if int(success) != rep.Results["SUCCESS"] {
		t.Errorf("server counted %v updatePass SUCCESS, bench %d", success, rep.Results["SUCCESS"])
	}
	limited := rep.Results["REQUEST_TRAFFIC_EXCEED_LIMIT"]
	if limited > 0 {
		if got := metricValue(t, m, `ipass_rate_limited_total`); int(got) != limited {
			t.Errorf("ipass_rate_limited_total = %v, bench saw %d", got, limited)
		}
	}
	for _, pattern := range []string{
		`ipass_http_request_duration_seconds_count\{` + update + `\}`,
		`ipass_crypto_duration_seconds_count\{alg="RSA256",op="sign"\}`,
		`ipass_crypto_duration_seconds_count\{alg="RSA256",op="verify"\}`,
		`ipass_crypto_duration_seconds_count\{alg="RSA_AES",op="open"\}`,
		`ipass_crypto_duration_seconds_count\{alg="RSA_AES",op="seal"\}`,
		`ipass_db_transaction_duration_seconds_count\{kind="write",outcome="ok"\}`,
		`ipass_db_transaction_duration_seconds_count\{kind="read",outcome="ok"\}`,
		`ipass_db_pool_open_connections\{pool="write"\}`,
		`process_cpu_seconds_total`,
		`go_goroutines`,
	} {
		if v := metricValue(t, m, pattern); v <= 0 {
			t.Errorf("%s = %v, want > 0", pattern, v)
		}
	}
	for _, name := range []string{"ipass_replay_rejected_total", "ipass_db_pool_wait_count_total", "go_sched_gomaxprocs_threads"} {
		if !strings.Contains(m, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// --metrics=false leaves /metrics to the API handler (a signed NO_INTERFACE_DEF).
func TestServeMetricsOff(t *testing.T) {
	url, _, _ := startServe(t, t.TempDir(), "--metrics=false")
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Signature") == "" {
		t.Errorf("GET /metrics with --metrics=false: %d, Signature %q; want a signed 404", resp.StatusCode, resp.Header.Get("Signature"))
	}
}
