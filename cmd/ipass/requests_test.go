package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAdminRequests: the request log of a real server, flushed when it
// stops, read back with each filter of `ipass admin requests`.
func TestAdminRequests(t *testing.T) {
	dataDir := t.TempDir()
	url, _, stop := startServe(t, dataDir, "--node-name", "node-7")
	call := func(key string, args ...string) cliResult {
		t.Helper()
		flags := []string{"--url", url, "--client-id", "2110200000000044", "--key", key,
			"--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem")}
		return cliRun(t, "", nil, append(append([]string{"call", args[0]}, flags...), args[1:]...)...)
	}
	demoKey := filepath.Join(dataDir, "demo-client.pem")
	r := call(demoKey, "createPass", "--field", "passId", filepath.Join(examplesDir, "member-card-create.json"))
	if r.code != exitOK {
		t.Fatalf("createPass: %s", r)
	}
	card := strings.TrimSpace(r.stdout)
	// Signed with the server's own key: not the client's, INVALID_SIGNATURE.
	bad := call(filepath.Join(dataDir, "server-signing.pem"), "updatePass", "--set", "passId="+card, filepath.Join(examplesDir, "member-card-points.json"))
	sum := regexp.MustCompile(`SHA-256 ([0-9a-f]{64})`).FindStringSubmatch(bad.stdout + bad.stderr)
	if sum == nil {
		t.Fatalf("updatePass with the wrong key: no SHA-256 quoted: %s", bad)
	}
	if r := call(demoKey, "queryPass", "--set", "passId="+card, filepath.Join(examplesDir, "query.json")); r.code != exitOK {
		t.Fatalf("queryPass: %s", r)
	}
	// The merchant reads its own failure back with queryRequestLog, once
	// the writer's batch (every 200 ms) has stored it. Each call is logged too.
	var reads []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		r := cliRun(t, `{"resultCode":"INVALID_SIGNATURE"}`, nil, "call", "queryRequestLog", "--url", url, "--client-id", "2110200000000044",
			"--key", demoKey, "--server-public-key", filepath.Join(dataDir, "server-signing.pub.pem"), "-")
		if r.code != exitOK {
			t.Fatalf("call queryRequestLog: %s", r)
		}
		reads = append(reads, "queryRequestLog:SUCCESS")
		if strings.Contains(r.stdout, `"contentSha256":"`+sum[1]+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queryRequestLog never showed the INVALID_SIGNATURE entry: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The writer's counters are scraped with the rest; nothing was dropped.
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(scrape), "\nipass_request_log_dropped_total 0\n") || !strings.Contains(string(scrape), "\nipass_request_log_written_total ") {
		t.Fatalf("metrics lack the request log counters:\n%s", scrape)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
	db := "sqlite:" + filepath.Join(dataDir, "ipass.db")
	requests := func(args ...string) []map[string]any {
		t.Helper()
		r := mustAdmin(t, "", append([]string{"admin", "requests", "--json", "--db", db}, args...)...)
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if line == "" {
				continue
			}
			var e map[string]any
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("%v: %s", err, r.stdout)
			}
			out = append(out, e)
		}
		return out
	}
	ops := func(entries []map[string]any) string {
		var s []string
		for _, e := range entries {
			s = append(s, e["operation"].(string)+":"+e["resultCode"].(string))
		}
		return strings.Join(s, " ")
	}
	all := requests()
	if got := ops(all); got != strings.Join(append(reads, "queryPass:SUCCESS updatePass:INVALID_SIGNATURE createPass:SUCCESS"), " ") {
		t.Fatalf("all, newest first: %s", got)
	}
	for _, e := range all {
		// An unverified request's body names nothing in the log; nor does
		// queryRequestLog, whose passId would be a filter.
		named := e["resultCode"] == "SUCCESS" && e["operation"] != "queryRequestLog"
		if e["clientId"] != "2110200000000044" || e["node"] != "node-7" || (e["passId"] == card) != named || (e["merchantId"] == "2160120036095023") != named {
			t.Fatalf("entry %v", e)
		}
	}
	failed := requests("--result", "INVALID_SIGNATURE")
	if len(failed) != 1 || failed[0]["contentSha256"] != sum[1] || !strings.Contains(failed[0]["resultMessage"].(string), sum[1]) {
		t.Fatalf("--result INVALID_SIGNATURE: %v; the message quoted %s", failed, sum[1])
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pass", card, "--result", "SUCCESS"}, "queryPass:SUCCESS createPass:SUCCESS"},
		{[]string{"--pass", "2025010100000000000000000000001"}, ""},
		{[]string{"--client", "2110200000000044", "--limit", "1"}, "queryRequestLog:SUCCESS"},
		{[]string{"--client", "2110200000000055"}, ""},
		{[]string{"--since", "1h"}, ops(all)},
		{[]string{"--since", "2999-01-01T00:00:00Z"}, ""},
	} {
		if got := ops(requests(c.args...)); got != c.want {
			t.Fatalf("%v: %q, want %q", c.args, got, c.want)
		}
	}
	// The table shows the same rows.
	r = mustAdmin(t, "", "admin", "requests", "--result", "INVALID_SIGNATURE", "--db", db)
	if !strings.Contains(r.stdout, "updatePass") || !strings.Contains(r.stdout, sum[1]) || !strings.Contains(r.stdout, "node-7") {
		t.Fatalf("table: %s", r.stdout)
	}
	if r := cliRun(t, "", nil, "admin", "requests", "--since", "yesterday", "--db", db); r.code != exitUsage {
		t.Fatalf("--since yesterday: %s", r)
	}
}
