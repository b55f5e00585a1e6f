package e2e

// Helpers of the multi-process, outage and load tests. Unlike the black-box
// test, these sign and verify with the project's gateway package: thousands of
// requests through the openssl CLI would take minutes. Every response is still
// checked in full (signature, headers, envelope) before it counts.

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

const (
	client44ID  = "2110200000000044"
	client55ID  = "2110200000000055"
	wideTmpl    = "tmpl-200" // CARD with 200 placeholders in one locale (see writeTenants)
	wideTmplMax = 200        // dataInfo may hold at most 200 keys (docs/api.md, "Limits")
	rateTmpl55  = "tmpl-other-card"
)

// ---------------------------------------------------------------------------
// Server keys and tenants

var (
	serverKeysOnce sync.Once
	serverKeysErr  error
	serverKeyArgs  []string
	serverRSAPub   crypto.PublicKey // verifies every response (all are RSA256 here)
)

// sharedServerKeyArgs returns --signing-key, --ecc-signing-key and
// --encryption-key flags for keys generated once per run. Processes behind
// one service share their keys (merchants pin them, and a server refuses to
// start with keys other than those its database recorded), so one public key
// verifies every process's responses.
func sharedServerKeyArgs(t testing.TB) []string {
	t.Helper()
	serverKeysOnce.Do(func() {
		for _, k := range []struct {
			alg  gateway.Algorithm
			flag string
		}{{gateway.RSA256, "--signing-key"}, {gateway.ECC224, "--ecc-signing-key"}, {gateway.RSA256, "--encryption-key"}} {
			key, err := gateway.GenerateKey(k.alg)
			if err != nil {
				serverKeysErr = err
				return
			}
			pem, err := gateway.MarshalPrivateKeyPEM(key)
			if err != nil {
				serverKeysErr = err
				return
			}
			p := filepath.Join(binDir, "server"+strings.TrimPrefix(k.flag, "-")+".pem")
			if err := os.WriteFile(p, pem, 0o600); err != nil {
				serverKeysErr = err
				return
			}
			if k.flag == "--signing-key" {
				serverRSAPub = key.Public()
			}
			serverKeyArgs = append(serverKeyArgs, k.flag, p)
		}
	})
	if serverKeysErr != nil {
		t.Fatalf("server keys: %v", serverKeysErr)
	}
	return serverKeyArgs
}

// writeTenants writes a tenants file for the load tests: the fixture clients
// with the given rateLimits (0 = unlimited; the fixture's 200/s would
// throttle a 200-request race), the fixture merchants, users and the
// templates the tests use, plus tmpl-200, a CARD with placeholders p000–p199
// in the single locale en_US, so that 200 updates can each set their own key.
func writeTenants(t testing.TB, rateLimit44, rateLimit55 int) string {
	t.Helper()
	keys := filepath.Join(moduleRoot(t), "tenants", "testdata", "keys")
	var ph []string
	for i := range wideTmplMax {
		ph = append(ph, fmt.Sprintf("p%03d", i))
	}
	yaml := fmt.Sprintf(`clients:
  - clientId: "%[1]s"
    name: "load client"
    rateLimit: %[3]d
    keys:
      - {keyVersion: 1, algorithm: RSA256, publicKeyFile: "%[5]s/client-0044-rsa-v1.pub.pem"}
  - clientId: "%[2]s"
    name: "rate-limited client"
    rateLimit: %[4]d
    keys:
      - {keyVersion: 1, algorithm: RSA256, publicKeyFile: "%[5]s/client-0055-rsa-v1.pub.pem"}
merchants:
  - {merchantId: "%[6]s", clientId: "%[1]s", name: "Demo Coffee"}
  - {merchantId: "%[7]s", clientId: "%[2]s", name: "Other Tea House"}
templates:
  - {templateCode: "%[8]s", merchantId: "%[6]s", type: CARD, product: MEMBER_CARD, title: {en_US: "Member card"},
     locales: [zh_HK, en_US], placeholders: [points, level], code: QRCODE}
  - {templateCode: "%[9]s", merchantId: "%[6]s", type: TICKET, product: PASS, title: {en_US: "Admission ticket"},
     locales: [zh_HK, en_US], placeholders: [ticketName, address, availableTimes, price, startTime, endTime], code: QRCODE}
  - {templateCode: "%[10]s", merchantId: "%[6]s", type: CARD, product: MEMBER_CARD, title: {en_US: "Wide card"},
     locales: [en_US], placeholders: [%[11]s], code: QRCODE}
  - {templateCode: "%[12]s", merchantId: "%[7]s", type: CARD, product: MEMBER_CARD, title: {en_US: "Member card"},
     locales: [zh_HK, en_US], placeholders: [points, level], code: QRCODE}
users:
  - userId: "%[13]s"
    openIds: {"%[6]s": "%[14]s", "%[7]s": "other-open-id-0534"}
  - userId: "%[15]s"
    openIds: {"%[6]s": "k29dh38fj2l0s9d8f7g6h5j4"}
`, client44ID, client55ID, rateLimit44, rateLimit55, keys, merchant44, merchant55,
		memberTmpl, ticketTmpl, wideTmpl, strings.Join(ph, ", "), rateTmpl55, user0534, openID0534, user4225)
	p := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---------------------------------------------------------------------------
// Engines and clusters

// engine is a database engine the servers can run on.
type engine struct {
	name  string
	newDB func(testing.TB) string // creates a fresh, migrated database; returns its --db value
}

// engines returns the engines to test, sorted by name: SQLite always,
// PostgreSQL when IPASS_TEST_POSTGRES_URL is set (and, under CI=true, one
// whose newDB fails the test when it is not).
func engines(t testing.TB) []engine {
	t.Helper()
	m := sqlstoretest.DSNs(t)
	var out []engine
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, engine{name, m[name]})
	}
	return out
}

// startCluster starts n `ipass serve` processes on one database, each with
// its own data dir, the shared server keys and any extra flags, one after
// the other.
func startCluster(t testing.TB, dsn, tenantsFile string, n int, extra ...string) []*server {
	t.Helper()
	var srvs []*server
	for range n {
		s := newServerOn(t, dsn, tenantsFile, append(sharedServerKeyArgs(t), extra...)...)
		s.start(t)
		srvs = append(srvs, s)
	}
	return srvs
}

func addrsOf(srvs []*server) []string {
	var a []string
	for _, s := range srvs {
		a = append(a, s.addr)
	}
	return a
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("server not running (exit: %v)", s.waitErr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("ipass serve still running 10s after SIGKILL")
	}
}

// checkIntegrity runs the store's own consistency check (SQLite's
// integrity_check and foreign keys; on both engines, history 1..version per
// pass) on a handle the test opened with sqlstoretest.Open.
func checkIntegrity(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.CheckIntegrity(ctx); err != nil {
		t.Errorf("integrity check: %v", err)
	}
}

// ---------------------------------------------------------------------------
// A Go client of the wire protocol

var (
	errTransport   = errors.New("transport")
	errBadResponse = errors.New("bad response")
)

// apiClient signs requests as one registered client and verifies every
// response against the shared server keys. Safe for concurrent use.
type apiClient struct {
	id      string
	signer  crypto.Signer
	hc      *http.Client
	lastNS  atomic.Int64 // Request-Time clock, strictly increasing
	tracers sync.Map     // Tracer-Id → struct{}: each must be unique
}

func newAPIClient(t testing.TB, id string) *apiClient {
	t.Helper()
	sharedServerKeyArgs(t)
	keyFile := map[string]string{client44ID: "client-0044-rsa-v1.pem", client55ID: "client-0055-rsa-v1.pem"}[id]
	pem, err := os.ReadFile(filepath.Join(moduleRoot(t), "tenants", "testdata", "keys", keyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gateway.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiClient{id: id, signer: signer, hc: &http.Client{Transport: tr}}
}

// signedReq is one signed request, kept so that it can be sent again byte
// for byte (a replay).
type signedReq struct {
	path, clientID, time, signature string
	body                            []byte
}

// requestTime is now in Hong Kong time with nanoseconds, strictly later than
// the previous one, so that requests with equal bodies never share a signed
// content by accident (which would be a replay).
func (c *apiClient) requestTime() string {
	for {
		last := c.lastNS.Load()
		ns := max(time.Now().UnixNano(), last+1)
		if c.lastNS.CompareAndSwap(last, ns) {
			return time.Unix(0, ns).In(hongKong).Format("2006-01-02T15:04:05.000000000-07:00")
		}
	}
}

func (c *apiClient) sign(op, body string) (*signedReq, error) {
	r := &signedReq{path: apiPrefix + op, clientID: c.id, time: c.requestTime(), body: []byte(body)}
	sig, err := gateway.Sign(c.signer, gateway.RSA256, gateway.Content("POST", r.path, r.clientID, r.time, r.body))
	if err != nil {
		return nil, err
	}
	r.signature = gateway.FormatSignatureHeader(gateway.RSA256, 1, sig)
	return r, nil
}

func (c *apiClient) mustSign(t testing.TB, op, body string) *signedReq {
	t.Helper()
	r, err := c.sign(op, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signAll signs one request per body, on every core.
func (c *apiClient) signAll(t testing.TB, op string, bodies []string) []*signedReq {
	t.Helper()
	reqs := make([]*signedReq, len(bodies))
	errs := make([]error, len(bodies))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(bodies); i += workers {
				reqs[i], errs[i] = c.sign(op, bodies[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return reqs
}

func (r *signedReq) setHeaders(h http.Header) {
	h.Set("Client-Id", r.clientID)
	h.Set("Request-Time", r.time)
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Signature", r.signature)
}

// wire is the request as raw HTTP/1.1, for connections dialled in advance.
func (r *signedReq) wire(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nClient-Id: %s\r\nRequest-Time: %s\r\n"+
		"Content-Type: application/json; charset=UTF-8\r\nSignature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		r.path, host, r.clientID, r.time, r.signature, len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

// apiResp is a response that passed every check of apiClient.check.
type apiResp struct {
	status  int
	code    string
	message string
	doc     map[string]any
	tracer  string
	at      time.Time // when it was read
}

func (a *apiResp) passID() string { s, _ := a.doc["passId"].(string); return s }

func (a *apiResp) pass() map[string]any { p, _ := a.doc["pass"].(map[string]any); return p }

func (a *apiResp) String() string {
	return fmt.Sprintf("HTTP %d %s %q", a.status, a.code, a.message)
}

// send posts r to addr over the client's keep-alive pool. A failure to get
// an answer wraps errTransport; an answer that fails a check wraps
// errBadResponse.
func (c *apiClient) send(ctx context.Context, addr string, r *signedReq) (*apiResp, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+r.path, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	r.setHeaders(req.Header)
	hr, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", errTransport, addr, r.path, err)
	}
	defer hr.Body.Close()
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: reading body: %v", errTransport, addr, r.path, err)
	}
	return c.check(r, hr.StatusCode, hr.Header, body)
}

// readOn reads the one response to r from a connection r was written on.
func (c *apiClient) readOn(conn net.Conn, r *signedReq) (*apiResp, error) {
	hr, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: read: %v", errTransport, err)
	}
	defer hr.Body.Close()
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", errTransport, err)
	}
	return c.check(r, hr.StatusCode, hr.Header, body)
}

// mustSend sends r and fails the test unless the verified result is code.
func (c *apiClient) mustSend(t testing.TB, addr string, r *signedReq, code string) *apiResp {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.send(ctx, addr, r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.code != code {
		t.Fatalf("%s %s: got %v, want %s", addr, r.path, resp, code)
	}
	return resp
}

// call signs and sends one request and requires code.
func (c *apiClient) call(t testing.TB, addr, op, body, code string) *apiResp {
	t.Helper()
	return c.mustSend(t, addr, c.mustSign(t, op, body), code)
}

// check applies docs/api.md, "Response headers" and "Results", to a response: one Signature and
// Response-Time, Client-Id echoed, a unique Tracer-Id, a signature that
// verifies with the server's RSA key version 1 over the rebuilt content, and
// a result envelope whose code, status letter and HTTP status agree (and, on
// 429, Retry-After ≥ 1).
func (c *apiClient) check(r *signedReq, status int, h http.Header, body []byte) (*apiResp, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s\nHTTP %d %v\n%s", errBadResponse, r.path, fmt.Sprintf(format, args...), status, h, body)
	}
	a := &apiResp{status: status, tracer: h.Get("Tracer-Id"), at: time.Now()}
	sigs, times := h.Values("Signature"), h.Values("Response-Time")
	if len(sigs) != 1 || len(times) != 1 {
		return nil, bad("%d Signature and %d Response-Time headers, want one each", len(sigs), len(times))
	}
	if !responseTimeRE.MatchString(times[0]) {
		return nil, bad("Response-Time %q is not RFC 3339 UTC with milliseconds", times[0])
	}
	if ids := h.Values("Client-Id"); len(ids) != 1 || ids[0] != r.clientID {
		return nil, bad("Client-Id %q, want %q echoed", ids, r.clientID)
	}
	if !tracerRE.MatchString(a.tracer) {
		return nil, bad("Tracer-Id %q is not 32 lower-case hex characters", a.tracer)
	}
	if _, dup := c.tracers.LoadOrStore(a.tracer, struct{}{}); dup {
		return nil, bad("Tracer-Id %s was already used by another response", a.tracer)
	}
	p, err := gateway.VerifyMessage(serverRSAPub, "POST", r.path, r.clientID, times[0], body, sigs[0])
	if err != nil {
		return nil, bad("response signature: %v", err)
	}
	if p.Algorithm != gateway.RSA256 || p.KeyVersion != 1 {
		return nil, bad("response signed %s key version %d, want RSA256 version 1", p.Algorithm, p.KeyVersion)
	}
	if ct := h.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		return nil, bad("Content-Type %q", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&a.doc); err != nil {
		return nil, bad("body is not a JSON object: %v", err)
	}
	info, _ := a.doc["resultInfo"].(map[string]any)
	if info == nil || canon(info) != canon(a.doc["result"]) {
		return nil, bad("resultInfo missing or different from result")
	}
	a.code, _ = info["resultCode"].(string)
	a.message, _ = info["resultMessage"].(string)
	if info["resultStatus"] != resultStatus(a.code) || status != httpStatus(a.code) {
		return nil, bad("resultStatus %v and HTTP %d do not fit %s", info["resultStatus"], status, a.code)
	}
	if a.code == "REQUEST_TRAFFIC_EXCEED_LIMIT" {
		if n, err := strconv.Atoi(h.Get("Retry-After")); err != nil || n < 1 {
			return nil, bad("Retry-After %q, want an integer ≥ 1", h.Get("Retry-After"))
		}
	}
	return a, nil
}

// fire sends reqs[i] to addrs[i % len(addrs)], all released together, and
// returns the responses and errors by index.
func (c *apiClient) fire(t testing.TB, addrs []string, reqs []*signedReq) ([]*apiResp, []error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resps := make([]*apiResp, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = c.send(ctx, addrs[i%len(addrs)], r)
		})
	}
	close(start)
	wg.Wait()
	return resps, errs
}

// tally counts result codes; an error counts under its own text.
func tally(resps []*apiResp, errs []error) map[string]int {
	m := map[string]int{}
	for i := range resps {
		if errs[i] != nil {
			m["error"]++
			continue
		}
		m[resps[i].code]++
	}
	return m
}

// firstErrors fails the test with the first few errors of a batch.
func firstErrors(t testing.TB, errs []error) {
	t.Helper()
	var n int
	for _, err := range errs {
		if err == nil {
			continue
		}
		if n++; n <= 3 {
			t.Error(err)
		}
	}
	if n > 3 {
		t.Errorf("… and %d more errors", n-3)
	}
}

// jsonInt reads a JSON number decoded with UseNumber.
func jsonInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// ---------------------------------------------------------------------------
// Request bodies

// memberCreate is createMember with another bizSerialId.
func memberCreate(serial string) string {
	return strings.Replace(createMember, `"bizSerialId":"`+memberSerial+`"`, `"bizSerialId":"`+serial+`"`, 1)
}

// pointsUpdate sets $points_en_US$ on a member card of user0534.
func pointsUpdate(passID string, points int) string {
	return passBody(user0534, passID, fmt.Sprintf(`"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":%d}`, points))
}
