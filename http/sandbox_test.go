package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// sandboxNode is one sandbox server on the database at dsn: nodes made on
// one dsn are processes sharing a database. It re-reads which clients have
// rules on every request, so a rule armed through one node is seen by the
// next request to the other at once (in production: within a second).
func sandboxNode(t *testing.T, dsn string) *harness {
	t.Helper()
	db := sqlstoretest.Open(t, dsn)
	h := newHarness(t, db)
	h.srv.Chaos = db
	h.srv.ChaosRefresh = time.Nanosecond
	svc := h.srv.Service.(*service.Service)
	svc.Clocks, svc.ClockRefresh = db, time.Nanosecond
	return h
}

// rawSend sends r and returns what came back, without the harness's
// checks: chaos answers are unsigned, badly signed or missing on purpose.
func (h *harness) rawSend(r req) (*http.Response, []byte, req, error) {
	httpReq, r := h.build(r)
	resp, err := http.DefaultClient.Do(httpReq)
	if err != nil {
		return nil, nil, r, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp, raw, r, err
}

// TestSandboxChaos arms every answer kind, with and without
// --after-execute, through one node and sends the request to the other: the
// answer is the kind's, and the update committed exactly when the rule
// said so.
func TestSandboxChaos(t *testing.T) {
	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dsn := newDSN(t)
			a, b := sandboxNode(t, dsn), sandboxNode(t, dsn)
			pass := createMember(t, a)
			points := 100
			update := func() string {
				points++
				return fmt.Sprintf(`{"merchantId":"%s","userId":"%s","passId":"%s","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":%d,"$points_en_US$":%d}}`,
					merchantA, user1, pass, points, points)
			}
			for _, kind := range ipass.ChaosAnswers {
				for _, after := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/after=%v", kind, after), func(t *testing.T) {
						a, b := a.in(t), b.in(t)
						before := a.query(merchantA, pass).Version
						if _, err := a.db.AddChaosRule(context.Background(), ipass.ChaosRule{ClientID: clientA,
							Operation: "updatePass", Answer: kind, Remaining: 1, AfterExecute: after}); err != nil {
							t.Fatal(err)
						}
						resp, raw, sent, err := b.rawSend(req{body: update()})
						checkChaosAnswer(t, b, kind, after, sent, resp, raw, err)
						wantVersion := before
						if after {
							wantVersion++
						}
						if v := a.query(merchantA, pass).Version; v != wantVersion {
							t.Fatalf("version %d after the request, want %d (executed: %v)", v, wantVersion, after)
						}
						// Used up: the next request is answered as usual.
						b.must(b.send(req{body: update()}), ipass.CodeSuccess)
					})
				}
			}
			t.Run("delay", func(t *testing.T) {
				a, b := a.in(t), b.in(t)
				if _, err := a.db.AddChaosRule(context.Background(), ipass.ChaosRule{ClientID: clientA,
					Operation: "*", Remaining: 1, Delay: 300 * time.Millisecond}); err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				b.must(b.send(req{body: update()}), ipass.CodeSuccess)
				if took := time.Since(start); took < 300*time.Millisecond {
					t.Fatalf("answered after %s, want the 300ms delay", took)
				}
			})
			t.Run("other client untouched, in order, times", func(t *testing.T) {
				a, b := a.in(t), b.in(t)
				ctx := context.Background()
				for _, r := range []ipass.ChaosRule{
					{ClientID: clientA, Operation: "queryPass", Answer: ipass.ChaosUnknownException, Remaining: 2},
					{ClientID: clientA, Operation: "*", Answer: ipass.ChaosTrafficExceedLimit, Remaining: 1},
				} {
					if _, err := a.db.AddChaosRule(ctx, r); err != nil {
						t.Fatal(err)
					}
				}
				// clientB has no rule: its requests are answered as usual.
				b.must(b.send(req{clientID: clientB, path: pathOf("queryPass"),
					body: `{"merchantId":"` + merchantB + `","passId":"1"}`}), ipass.CodePassHasNotExist)
				q := `{"merchantId":"` + merchantA + `","passId":"` + pass + `"}`
				b.must(b.op("queryPass", q), ipass.CodeUnknownException)
				a.must(a.op("queryPass", q), ipass.CodeUnknownException)
				b.must(b.op("queryPass", q), ipass.CodeTrafficExceedLimit)
				b.must(b.op("queryPass", q), ipass.CodeSuccess)
				if rules, err := a.db.ChaosRules(ctx, clientA); err != nil || len(rules) != 0 {
					t.Fatalf("rules left: %v, %v", rules, err)
				}
			})
		})
	}
}

// checkChaosAnswer checks that the answer is what a real failure of kind
// looks like.
func checkChaosAnswer(t *testing.T, h *harness, kind ipass.ChaosAnswer, after bool, sent req, resp *http.Response, raw []byte, err error) {
	t.Helper()
	if kind == ipass.ChaosDrop {
		if err == nil {
			t.Fatalf("DROP: got HTTP %d %s, want the connection closed without an answer", resp.StatusCode, raw)
		}
		return
	}
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	switch kind {
	case ipass.ChaosSystemError:
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Signature") != "" || resp.Header.Get("Tracer-Id") != "" {
			t.Fatalf("SYSTEM_ERROR: HTTP %d %v %s; want a proxy's unsigned 502", resp.StatusCode, resp.Header, raw)
		}
		return
	case ipass.ChaosUnsigned:
		if resp.Header.Get("Signature") != "" || resp.Header.Get("Response-Time") == "" {
			t.Fatalf("UNSIGNED: headers %v", resp.Header)
		}
	case ipass.ChaosBadSignature:
		sig := resp.Header.Get("Signature")
		if _, err := gateway.ParseSignatureHeader(sig); err != nil {
			t.Fatalf("BAD_SIGNATURE: Signature %q is not well formed: %v", sig, err)
		}
		_, err := gateway.VerifyMessage(h.server.rsaPub, sent.method, sent.path, sent.clientID, resp.Header.Get("Response-Time"), raw, sig)
		if err == nil {
			t.Fatalf("BAD_SIGNATURE: the signature verifies")
		}
	default: // signed answers: the harness checks them as any answer
		r := h.verify(sent, resp, raw)
		want := ipass.Code(kind)
		if r.code != want {
			t.Fatalf("got %s (%s), want %s", r.code, r.message, want)
		}
		if kind == ipass.ChaosTrafficExceedLimit {
			if s, _ := strconv.Atoi(resp.Header.Get("Retry-After")); s < 1 {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		}
		return
	}
	// UNSIGNED and BAD_SIGNATURE: the body is the real answer after
	// execution, an UNKNOWN_EXCEPTION before.
	want := `"resultCode":"UNKNOWN_EXCEPTION"`
	if after {
		want = `"resultCode":"SUCCESS"`
	}
	if !strings.Contains(string(raw), want) {
		t.Fatalf("%s: body %s, want %s", kind, raw, want)
	}
}

// TestSandboxOff: a server that is not a sandbox never reads the rules,
// even when the database holds some.
func TestSandboxOff(t *testing.T) {
	db := sqlstoretest.OpenSQLite(t)
	h := newHarness(t, db)
	pass := createMember(t, h)
	if _, err := db.AddChaosRule(context.Background(), ipass.ChaosRule{ClientID: clientA, Operation: "*",
		Answer: ipass.ChaosUnknownException, Remaining: 5}); err != nil {
		t.Fatal(err)
	}
	h.query(merchantA, pass) // SUCCESS, not the armed failure
	if rules, _ := db.ChaosRules(context.Background(), clientA); len(rules) != 1 || rules[0].Remaining != 5 {
		t.Fatalf("a production server used a rule: %v", rules)
	}
	resp, err := http.Get(h.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "sandbox") {
		t.Fatalf("/readyz of a production server: %q", body)
	}
	s := sandboxNode(t, sqlstoretest.NewSQLiteDSN(t))
	if resp, err = http.Get(s.url + "/readyz"); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "sandbox") {
		t.Fatalf("/readyz of a sandbox: %q", body)
	}
}

// sandboxBench makes the benchmarked server a sandbox when
// IPASS_BENCH_SANDBOX is set, with a rule armed for another client: the
// cost a sandbox adds to a client without rules (docs/sandbox.md).
func sandboxBench(b *testing.B, h *harness) {
	if os.Getenv("IPASS_BENCH_SANDBOX") == "" {
		return
	}
	h.srv.Chaos = h.db
	h.srv.Service.(*service.Service).Clocks = h.db // as serve --sandbox wires it
	if _, err := h.db.AddChaosRule(context.Background(), ipass.ChaosRule{ClientID: clientB, Operation: "*",
		Answer: ipass.ChaosDrop, Remaining: 1}); err != nil {
		b.Fatal(err)
	}
}

// countingChaos counts the sandbox's reads.
type countingChaos struct {
	ipass.ChaosStore
	mu             sync.Mutex
	clients, takes int
}

func (c *countingChaos) ChaosClients(ctx context.Context) ([]string, error) {
	c.mu.Lock()
	c.clients++
	c.mu.Unlock()
	return c.ChaosStore.ChaosClients(ctx)
}

func (c *countingChaos) TakeChaosRule(ctx context.Context, clientID, op string) (ipass.ChaosRule, bool, error) {
	c.mu.Lock()
	c.takes++
	c.mu.Unlock()
	return c.ChaosStore.TakeChaosRule(ctx, clientID, op)
}

// TestSandboxCost: the requests of a client without rules make no database
// work of their own on a sandbox: one read of who has rules per refresh,
// whatever the number of requests, and no take.
func TestSandboxCost(t *testing.T) {
	db := sqlstoretest.OpenSQLite(t)
	h := newHarness(t, db)
	counting := &countingChaos{ChaosStore: db}
	h.srv.Chaos, h.srv.ChaosRefresh = counting, time.Hour
	if _, err := db.AddChaosRule(context.Background(), ipass.ChaosRule{ClientID: clientB, Operation: "*",
		Answer: ipass.ChaosDrop, Remaining: 1}); err != nil {
		t.Fatal(err)
	}
	pass := createMember(t, h)
	for range 20 {
		h.query(merchantA, pass)
	}
	if counting.clients != 1 || counting.takes != 0 {
		t.Fatalf("21 requests of a client without rules: %d reads of the clients with rules, %d takes; want 1 and 0",
			counting.clients, counting.takes)
	}
}

// chaosOp sends a sandboxChaos [ext] request as client and returns the
// rules it answered.
func (h *harness) chaosOp(client, body string, want ipass.Code) []map[string]any {
	h.t.Helper()
	r := h.must(h.send(req{clientID: client, path: ipasshttp.PathSandboxChaos, body: body}), want)
	var env struct{ Rules []map[string]any }
	if err := json.Unmarshal(r.plain, &env); err != nil {
		h.t.Fatal(err)
	}
	return env.Rules
}

// TestSandboxChaosOperation: a client arms, lists and clears its own rules
// through the signed [ext] operation; another node obeys them; another
// client neither sees nor reaches them; a production server has no such
// operation.
func TestSandboxChaosOperation(t *testing.T) {
	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dsn := newDSN(t)
			a, b := sandboxNode(t, dsn), sandboxNode(t, dsn)
			pass := createMember(t, a)
			q := `{"merchantId":"` + merchantA + `","passId":"` + pass + `"}`
			rules := a.chaosOp(clientA, `{"action":"add","operation":"queryPass","answer":"REQUEST_TRAFFIC_EXCEED_LIMIT","times":2}`, ipass.CodeSuccess)
			if len(rules) != 1 || rules[0]["operation"] != "queryPass" || rules[0]["remaining"] != float64(2) {
				t.Fatalf("rules after add: %v", rules)
			}
			// Another client sees none of them, clears none of them, and
			// cannot name a client.
			if got := b.chaosOp(clientB, `{"action":"list"}`, ipass.CodeSuccess); len(got) != 0 {
				t.Fatalf("clientB lists %v", got)
			}
			b.chaosOp(clientB, `{"action":"clear"}`, ipass.CodeSuccess)
			b.chaosOp(clientB, `{"action":"clear","clientId":"`+clientA+`"}`, ipass.CodeParamIllegal)
			b.chaosOp(clientB, `{"action":"add","operation":"queryPass","answer":"NOPE"}`, ipass.CodeParamIllegal)
			// The other node obeys clientA's rule; clientB is untouched.
			b.must(b.send(req{clientID: clientB, path: pathOf("queryPass"), body: `{"merchantId":"` + merchantB + `","passId":"1"}`}), ipass.CodePassHasNotExist)
			b.must(b.op("queryPass", q), ipass.CodeTrafficExceedLimit)
			if got := a.chaosOp(clientA, `{"action":"list"}`, ipass.CodeSuccess); len(got) != 1 || got[0]["remaining"] != float64(1) {
				t.Fatalf("rules after one use: %v", got)
			}
			// A "*" rule never blocks the operation that clears it.
			a.chaosOp(clientA, `{"action":"add","operation":"*","answer":"DROP","times":5}`, ipass.CodeSuccess)
			if got := b.chaosOp(clientA, `{"action":"clear"}`, ipass.CodeSuccess); len(got) != 0 {
				t.Fatalf("rules after clear: %v", got)
			}
			b.must(b.op("queryPass", q), ipass.CodeSuccess)
		})
	}
	t.Run("production", func(t *testing.T) {
		h := newHarness(t, sqlstoretest.OpenSQLite(t))
		for path, body := range map[string]string{ipasshttp.PathSandboxChaos: `{"action":"list"}`,
			ipasshttp.PathSandboxClock: `{"merchantId":"` + merchantA + `","reset":true}`} {
			resp, raw, _, err := h.rawSend(req{path: path, body: body})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(raw), "NO_INTERFACE_DEF") {
				t.Fatalf("a production server answered %s: %d %s", path, resp.StatusCode, raw)
			}
		}
	})
}

// TestSandboxClock: a member card with a year left reads EXPIRED once its
// merchant's clock moved 400 days on (through another node), ACTIVE again
// after the reset; another merchant's clock does not move, and requests
// keep the real clock for Request-Time.
func TestSandboxClock(t *testing.T) {
	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			dsn := newDSN(t)
			a, b := sandboxNode(t, dsn), sandboxNode(t, dsn)
			yearLeft := a.clock.Now().Add(365 * 24 * time.Hour).UnixMilli()
			body := strings.Replace(createBody8_1, `"endDate":4102444800000`, fmt.Sprintf(`"endDate":%d`, yearLeft), 1)
			pass := a.must(a.op("createPass", body), ipass.CodeSuccess).passID
			ctx := context.Background()
			status := func(h *harness) ipass.Status { return h.query(merchantA, pass).Status }
			if s := status(b); s != ipass.StatusActive {
				t.Fatalf("before: %s", s)
			}
			if err := a.db.SetClockOffset(ctx, merchantA, 400*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			if s := status(b); s != ipass.StatusExpired {
				t.Fatalf("after 400 days: %s, want EXPIRED", s)
			}
			// merchantB's clock did not move; its client's requests carry
			// the real Request-Time and are accepted.
			b.must(b.send(req{clientID: clientB, path: pathOf("queryPass"), body: `{"merchantId":"` + merchantB + `","passId":"1"}`}), ipass.CodePassHasNotExist)
			if err := a.db.SetClockOffset(ctx, merchantA, 0); err != nil {
				t.Fatal(err)
			}
			if s := status(b); s != ipass.StatusActive {
				t.Fatalf("after the reset: %s, want ACTIVE", s)
			}
		})
	}
}

// TestSandboxClockOperation: a client moves the clock of its own merchant
// with the signed [ext] operation, never another client's merchant.
func TestSandboxClockOperation(t *testing.T) {
	for name, newDSN := range sqlstoretest.DSNs(t) {
		t.Run(name, func(t *testing.T) {
			a := sandboxNode(t, newDSN(t))
			yearLeft := a.clock.Now().Add(365 * 24 * time.Hour).UnixMilli()
			pass := a.must(a.op("createPass", strings.Replace(createBody8_1, `"endDate":4102444800000`, fmt.Sprintf(`"endDate":%d`, yearLeft), 1)), ipass.CodeSuccess).passID
			clockOp := func(client, body string, want ipass.Code) map[string]any {
				t.Helper()
				r := a.must(a.send(req{clientID: client, path: ipasshttp.PathSandboxClock, body: body}), want)
				var out map[string]any
				if err := json.Unmarshal(r.plain, &out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			// clientB cannot reach merchantA's clock.
			clockOp(clientB, `{"merchantId":"`+merchantA+`","advanceMillis":34560000000}`, ipass.CodeAccessDenied)
			if off, _ := a.db.ClockOffset(context.Background(), merchantA); off != 0 {
				t.Fatalf("clientB moved merchantA's clock by %s", off)
			}
			out := clockOp(clientA, `{"merchantId":"`+merchantA+`","advanceMillis":34560000000}`, ipass.CodeSuccess)
			if out["offsetMillis"] != float64(34560000000) || out["merchantId"] != merchantA {
				t.Fatalf("answer %v", out)
			}
			if s := a.query(merchantA, pass).Status; s != ipass.StatusExpired {
				t.Fatalf("after 400 days: %s", s)
			}
			clockOp(clientA, `{"merchantId":"`+merchantA+`","reset":true,"advanceMillis":1}`, ipass.CodeParamIllegal)
			if out := clockOp(clientA, `{"merchantId":"`+merchantA+`","reset":true}`, ipass.CodeSuccess); out["offsetMillis"] != float64(0) {
				t.Fatalf("after reset: %v", out)
			}
			if s := a.query(merchantA, pass).Status; s != ipass.StatusActive {
				t.Fatalf("after reset: %s", s)
			}
		})
	}
}
