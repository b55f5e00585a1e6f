package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/certify"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

const certifyClient = "2110200000000044"

// integration is a merchant's system as certify's developer drives it:
// it creates a pass or updates one, doing whatever it does on failure.
type integration interface {
	create(ctx context.Context, body map[string]any) (passID string)
	update(ctx context.Context, body map[string]any)
}

// sdkIntegration uses package client with DefaultRetries and nothing else:
// the SDK's own retries (a U, no answer, an answer it cannot trust) are what
// certify judges.
type sdkIntegration struct{ c *client.Client }

func (s sdkIntegration) call(ctx context.Context, op string, body map[string]any) (*client.Response, error) {
	b, _ := json.Marshal(body)
	return s.c.Call(ctx, op, b)
}

func (s sdkIntegration) create(ctx context.Context, body map[string]any) string {
	resp, err := s.call(ctx, "createPass", body)
	if err != nil {
		return ""
	}
	var out struct{ PassID string }
	_ = json.Unmarshal(resp.Body, &out)
	return out.PassID
}

func (s sdkIntegration) update(ctx context.Context, body map[string]any) {
	_, _ = s.call(ctx, "updatePass", body)
}

// naiveIntegration signs with package gateway over plain net/http, checks
// no signature and never retries: whatever came back is the outcome.
type naiveIntegration struct {
	url string
	key crypto.Signer
}

func (n naiveIntegration) post(ctx context.Context, op string, body map[string]any) map[string]any {
	b, _ := json.Marshal(body)
	path := "/api/open/alipay/v1/ipass/pass/manage/" + op
	now := time.Now().Format("2006-01-02T15:04:05.000-07:00")
	alg, _ := gateway.AlgorithmOf(n.key.Public())
	sig, err := gateway.Sign(n.key, alg, gateway.Content(http.MethodPost, path, certifyClient, now, b))
	if err != nil {
		return nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, n.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Client-Id", certifyClient)
	req.Header.Set("Request-Time", now)
	req.Header.Set("Signature", gateway.FormatSignatureHeader(alg, -1, sig))
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return out
}

func (n naiveIntegration) create(ctx context.Context, body map[string]any) string {
	id, _ := n.post(ctx, "createPass", body)["passId"].(string)
	return id
}

func (n naiveIntegration) update(ctx context.Context, body map[string]any) {
	n.post(ctx, "updatePass", body)
}

// eagerIntegration retries at once, with no regard for Retry-After, and
// resends its update with the points recomputed: a second change.
type eagerIntegration struct{ naiveIntegration }

func (e eagerIntegration) update(ctx context.Context, body map[string]any) {
	out := e.post(ctx, "updatePass", body)
	info, _ := out["resultInfo"].(map[string]any)
	if info["resultStatus"] != "S" {
		data := body["dataInfo"].(map[string]any)
		data["$points_en_US$"], data["$points_zh_HK$"] = 5000, 5000
		e.post(ctx, "updatePass", body)
	}
}

func readExample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// runCertified runs `ipass certify` against a sandbox and, like the
// developer reading its instructions, makes the integration act on each.
func runCertified(t *testing.T, db string, newIntegration func(url, dataDir string) integration, scenarios []string) (certify.Report, int, string) {
	t.Helper()
	dataDir := t.TempDir()
	url, _, _ := startServeArgs(t, "--data-dir", dataDir, "--db", db, "--sandbox")
	app := newIntegration(url, dataDir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A pass to update, created before any rule is armed.
	create := readExample(t, "member-card-create.json")
	create["bizSerialId"] = "certify-base"
	passID := app.create(ctx, create)
	if passID == "" {
		t.Fatal("could not create the pass the scenarios update")
	}

	out := &syncBuffer{}
	jsonFile := filepath.Join(t.TempDir(), "report.json")
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: out, stderr: out, getenv: func(string) string { return "" }}, []string{
			"certify", "--client", certifyClient, "--db", db, "--scenario", strings.Join(scenarios, ","),
			"--json", jsonFile, "--timeout-per-scenario", "5s"})
	}()
	acted := 0
	var code int
	for finished := false; !finished; {
		select {
		case code = <-done:
			finished = true
		case <-time.After(50 * time.Millisecond):
		}
		for acted < len(scenarios) && strings.Contains(out.String(), fmt.Sprintf("[%d/%d] %s:", acted+1, len(scenarios), scenarios[acted])) {
			if strings.HasPrefix(scenarios[acted], "create") {
				body := readExample(t, "member-card-create.json")
				body["bizSerialId"] = fmt.Sprintf("certify-%d", acted)
				app.create(ctx, body)
			} else {
				body := readExample(t, "member-card-points.json")
				body["passId"] = passID
				body["dataInfo"].(map[string]any)["$points_en_US$"] = 100 + acted
				body["dataInfo"].(map[string]any)["$points_zh_HK$"] = 100 + acted
				app.update(ctx, body)
			}
			acted++
		}
	}
	var rep certify.Report
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatalf("no JSON report (exit %d): %v\n%s", code, err, out)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(scenarios) {
		t.Fatalf("report has %d results, want %d:\n%s", len(rep.Results), len(scenarios), b)
	}
	t.Logf("ipass certify (exit %d):\n%s", code, out)
	return rep, code, out.String()
}

func verdicts(rep certify.Report) map[string]certify.Result {
	m := map[string]certify.Result{}
	for _, r := range rep.Results {
		m[r.Scenario] = r
	}
	return m
}

var certifyScenarios = []string{"lost-update", "create-unknown", "unsigned-answer", "bad-signature", "rate-limited", "slow-answer"}

// TestCertifySDK: an integration on package client with its default retry
// policy passes every scenario, and the report shows the calls it judged.
func TestCertifySDK(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			rep, code, out := runCertified(t, newDSN(t), func(url, dataDir string) integration {
				key, err := gateway.ParsePrivateKey(mustRead(t, filepath.Join(dataDir, "demo-client.pem")))
				if err != nil {
					t.Fatal(err)
				}
				pub, err := gateway.ParsePublicKey(mustRead(t, filepath.Join(dataDir, "server-signing.pub.pem")))
				if err != nil {
					t.Fatal(err)
				}
				alg, _ := gateway.AlgorithmOf(key.Public())
				c, err := client.New(client.Config{BaseURL: url, ClientID: certifyClient, PrivateKey: key, KeyVersion: -1,
					ServerPublicKeys: map[gateway.Algorithm]crypto.PublicKey{alg: pub}, Retries: client.DefaultRetries,
					// Shorter than slow-answer's hold, as most integrations' are.
					HTTPClient: &http.Client{Timeout: 3 * time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				return sdkIntegration{c}
			}, certifyScenarios)
			for _, r := range rep.Results {
				if r.Verdict != certify.Pass {
					t.Errorf("%s: %s: %s\nevidence: %+v", r.Scenario, r.Verdict, r.Reason, r.Evidence)
				}
				armed := 0
				for _, c := range r.Evidence {
					if c.Armed {
						armed++
					}
				}
				if armed != 1 || len(r.Evidence) < 2 {
					t.Errorf("%s: evidence has %d calls, %d armed: %+v", r.Scenario, len(r.Evidence), armed, r.Evidence)
				}
			}
			if code != exitOK || !rep.Passed {
				t.Errorf("exit %d, passed %v\n%s", code, rep.Passed, out)
			}
		})
	}
}

// TestCertifyNaive: a client that neither retries nor checks signatures
// fails where it should: the U it does not retry, the unverifiable answers
// it takes as success, the 429 it does not retry.
func TestCertifyNaive(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			rep, code, out := runCertified(t, newDSN(t), func(url, dataDir string) integration {
				key, err := gateway.ParsePrivateKey(mustRead(t, filepath.Join(dataDir, "demo-client.pem")))
				if err != nil {
					t.Fatal(err)
				}
				return naiveIntegration{url: url, key: key}
			}, certifyScenarios)
			v := verdicts(rep)
			for _, name := range certifyScenarios {
				if v[name].Verdict != certify.Fail {
					t.Errorf("%s: %s (%s), want fail\nevidence: %+v", name, v[name].Verdict, v[name].Reason, v[name].Evidence)
				}
				if len(v[name].Evidence) != 1 || !v[name].Evidence[0].Armed {
					t.Errorf("%s: evidence %+v, want the one armed call", name, v[name].Evidence)
				}
			}
			if code != exitFailure || rep.Passed || !strings.Contains(out, "0 of 6 scenarios passed") {
				t.Errorf("exit %d, passed %v\n%s", code, rep.Passed, out)
			}
		})
	}
}

// TestCertifyEager: a client that retries at once, with a recomputed
// change, fails on the second change and on the ignored Retry-After.
func TestCertifyEager(t *testing.T) {
	for engine, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(engine, func(t *testing.T) {
			scenarios := []string{"lost-update", "rate-limited"}
			rep, code, _ := runCertified(t, newDSN(t), func(url, dataDir string) integration {
				key, err := gateway.ParsePrivateKey(mustRead(t, filepath.Join(dataDir, "demo-client.pem")))
				if err != nil {
					t.Fatal(err)
				}
				return eagerIntegration{naiveIntegration{url: url, key: key}}
			}, scenarios)
			v := verdicts(rep)
			if r := v["lost-update"]; r.Verdict != certify.Fail || r.Changes != 2 || !strings.Contains(r.Reason, "second change") {
				t.Errorf("lost-update: %+v", r)
			}
			if r := v["rate-limited"]; r.Verdict != certify.Fail || !strings.Contains(r.Reason, "before its Retry-After") || len(r.Evidence) != 2 {
				t.Errorf("rate-limited: %+v", r)
			}
			if code != exitFailure {
				t.Errorf("exit %d", code)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCertifyRefuses: flags are checked, and only a sandbox's database with
// the client registered is certified against.
func TestCertifyRefuses(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
	for _, tt := range []struct {
		args string
		code int
		want string
	}{
		{"certify", exitUsage, "--client is required"},
		{"certify --client X --scenario lost-update,nope", exitUsage, `scenario "nope": not one of lost-update, create-unknown`},
		{"certify --client X --timeout-per-scenario 0s", exitUsage, "must be positive"},
		{"certify --client " + certifyClient + " --db " + db, exitFailure, "ipass serve --sandbox"},
	} {
		if r := cliRun(t, "", nil, strings.Fields(tt.args)...); r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("ipass %s: exit %d, want %d with %q\n%s", tt.args, r.code, tt.code, tt.want, r.stderr)
		}
	}
	store := sqlstoretest.Open(t, db)
	if err := store.ClaimMode(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, "", nil, "certify", "--client", "nobody", "--db", db); r.code != exitFailure || !strings.Contains(r.stderr, "client nobody: not registered") {
		t.Errorf("an unknown client: %d %s", r.code, r.stderr)
	}
}
