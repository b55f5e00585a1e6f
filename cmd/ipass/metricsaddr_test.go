package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

// TestServeMetricsAddr: with --metrics-addr, /metrics answers on that
// listener only, and on the main address it is an unknown path like any
// other: a signed NO_INTERFACE_DEF (issue 15, break 9). The metrics listener
// still counts the main listener's requests: it is the same exporter.
func TestServeMetricsAddr(t *testing.T) {
	dataDir := t.TempDir()
	url, _, stderr, _ := startServeLogs(t, "--data-dir", dataDir, "--db", "sqlite:"+filepath.Join(dataDir, "ipass.db"),
		"--demo=false", "--log-format", "json", "--metrics-addr", "127.0.0.1:0")
	var metricsURL string
	for _, line := range strings.Split(stderr.String(), "\n") {
		var r struct{ Msg, URL string }
		if json.Unmarshal([]byte(line), &r) == nil && r.Msg == "metrics listening" {
			metricsURL = r.URL
		}
	}
	if !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("no metrics listener logged:\n%s", stderr)
	}

	get := func(method, url string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	// The main address: a signed 404, verified with the server's key.
	resp, body := get(http.MethodGet, url+"/metrics")
	pub, err := loadPublicKey(filepath.Join(dataDir, "server-signing.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.VerifyMessage(pub, http.MethodGet, "/metrics", resp.Header.Get("Client-Id"), resp.Header.Get("Response-Time"), body, resp.Header.Get("Signature")); err != nil {
		t.Fatalf("GET /metrics on the main address: %d, signature: %v\n%s", resp.StatusCode, err, body)
	}
	var answer struct{ ResultInfo struct{ ResultCode string } }
	if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != http.StatusNotFound || answer.ResultInfo.ResultCode != "NO_INTERFACE_DEF" {
		t.Fatalf("GET /metrics on the main address: %d %s (%v); want a signed 404 NO_INTERFACE_DEF", resp.StatusCode, body, err)
	}

	// The metrics address: the exposition, counting the request above.
	resp, body = get(http.MethodGet, metricsURL)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET %s: %d %s", metricsURL, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if v := metricValue(t, string(body), `ipass_http_requests_total\{code="NO_INTERFACE_DEF",path="other"\}`); v != 1 {
		t.Errorf("the metrics listener counted %v NO_INTERFACE_DEF answers of the main one, want 1", v)
	}
	// The store's statements (the migrations and the demo tenant at least).
	if v := metricValue(t, string(body), `ipass_db_statements_total`); v <= 0 {
		t.Errorf("ipass_db_statements_total %v, want the statements the store sent", v)
	}
	// Nothing else is served there.
	base := strings.TrimSuffix(metricsURL, "/metrics")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/openapi.json"},
		{http.MethodPost, "/api/open/alipay/v1/ipass/pass/manage/queryPass"},
		{http.MethodGet, "/wallet/x"},
	} {
		if resp, body := get(c.method, base+c.path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s on the metrics listener: %d %s; want 404", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// --metrics-addr without metrics is a contradiction, refused at start.
func TestServeMetricsAddrNeedsMetrics(t *testing.T) {
	r := cliRun(t, "", nil, "serve", "--metrics=false", "--metrics-addr", "127.0.0.1:0")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--metrics-addr") {
		t.Fatalf("got %s; want a usage error naming --metrics-addr", r)
	}
}
