package http_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/openssl"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
)

// Fixture identities of docs/api.md, "Worked examples" (tenants/testdata/spec-fixtures.yaml).
const (
	clientA    = "2110200000000044" // owns merchantA
	clientB    = "2110200000000055" // owns merchantB
	merchantA  = "2160120036095023"
	merchantB  = "2160400000000022"
	user1      = "2160220037090534"
	openID1    = "fj398457jd8iue98d8w7w93j"
	user2      = "2160220043214225"
	openID2    = "k29dh38fj2l0s9d8f7g6h5j4"
	tmplMember = "temlate111001"
	tmplGift   = "82022031000135000000000000624234"
	tmplTicket = "22024120100135606000000001443495"
	tmplAir    = "22024120100135606000000001443496"
)

var (
	fixturesFile  = filepath.Join("..", "tenants", "testdata", "spec-fixtures.yaml")
	fixtureKeyDir = filepath.Join("..", "tenants", "testdata", "keys")
	serverKeyDir  = filepath.Join("..", "gateway", "testdata", "keys")
)

// clientKeyFiles: the private keys of the fixture clients, by (client, algorithm).
var clientKeyFiles = map[string]string{
	clientA + "/RSA256": "client-0044-rsa-v1.pem",
	clientA + "/ECC224": "client-0044-ecc-v1.pem",
	clientB + "/RSA256": "client-0055-rsa-v1.pem",
}

// clock is the settable time shared by the server, the service and the
// test's signer, so worked examples dated 2025 run at a 2025 "now".
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a real server on loopback with a real store and real keys.
type harness struct {
	t      testing.TB
	url    string
	db     *sqlstore.DB
	srv    *ipasshttp.Server
	clock  *clock
	keys   map[string]crypto.Signer // "client/ALG" → private key
	http   *http.Client             // sends requests; nil means http.DefaultClient
	server struct {
		rsaPub, eccPub crypto.PublicKey
		encPub         *rsa.PublicKey
	}
}

// defaultNow is 2025-01-05T00:00Z: after the 8.x bizDates, before their endDates.
var defaultNow = time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, db *sqlstore.DB) *harness {
	t.Helper()
	ctx := context.Background()
	fx, err := tenants.Load(fixturesFile)
	if err != nil {
		t.Fatalf("load fixtures: %v", err)
	}
	if err := db.Apply(ctx, fx); err != nil {
		t.Fatalf("apply fixtures: %v", err)
	}
	h := &harness{t: t, db: db, clock: &clock{t: defaultNow}, keys: map[string]crypto.Signer{}}
	for id, file := range clientKeyFiles {
		h.keys[id] = mustPrivateKey(t, filepath.Join(fixtureKeyDir, file))
	}
	rsaSigner := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-rsa-sign.key.pem"))
	eccSigner := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-ec-p224-sign.key.pem"))
	enc := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-rsa-enc.key.pem")).(*rsa.PrivateKey)
	h.server.rsaPub, h.server.eccPub, h.server.encPub = rsaSigner.Public(), eccSigner.Public(), &enc.PublicKey

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	db.Now = h.clock.Now
	h.srv = &ipasshttp.Server{
		Service:     &service.Service{Tenants: db, Passes: db, Now: h.clock.Now, Logger: logger},
		Tenants:     db,
		Gate:        db,
		WrappedKeys: db,
		Pinger:      db,
		// openssl.Wrap: in a -tags openssl build the server signs and
		// unwraps with libcrypto, so this whole suite tests that build too.
		Keys: ipasshttp.ServerKeys{RSASigner: openssl.Wrap(rsaSigner), ECCSigner: eccSigner,
			Decrypter: openssl.Wrap(enc).(crypto.Decrypter), KeyVersion: 1},
		Logger:            logger,
		Now:               h.clock.Now,
		RequestTimeWindow: 5 * time.Minute,
	}
	ts := httptest.NewServer(h.srv.Handler())
	t.Cleanup(ts.Close)
	h.url = ts.URL
	return h
}

func mustPrivateKey(t testing.TB, path string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gateway.ParsePrivateKey(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}

// in returns the harness reporting to t, for use inside a subtest: a
// failure must belong to the subtest, not to the parent test.
func (h *harness) in(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

// req is one request to send; zero values mean "a correct request".
type req struct {
	path        string            // endpoint path; default updatePass
	method      string            // default POST
	body        string            // JSON (plaintext)
	clientID    string            // default clientA
	alg         gateway.Algorithm // default RSA256
	keyVersion  int               // default 1; -1 omits keyVersion
	signAs      string            // sign with this client's key instead ("client/ALG")
	encrypt     bool              // RSA_AES, AES-256
	encVersion  int               // Encrypt keyVersion; default 1
	encWrapFor  *rsa.PublicKey    // wrap the AES key for this key instead of the server's
	signPlain   bool              // sign the plaintext instead of the encrypted wire body (E15)
	requestTime string            // default: clock now in +08:00
	contentType string            // default by encryption
	tamper      func(body []byte) []byte
	header      http.Header // extra or replacing headers; an empty value slice deletes
	noSign      bool        // send no Signature header
}

// reply is a verified response.
type reply struct {
	status  int
	header  http.Header
	raw     []byte // body on the wire
	plain   []byte // decrypted body (== raw when not encrypted)
	code    ipass.Code
	message string
	passID  string
	pass    *ipass.PassView
}

func pathOf(op string) string {
	switch op {
	case "createPass":
		return ipasshttp.PathCreatePass
	case "queryPass":
		return ipasshttp.PathQueryPass
	case "queryPassHistory":
		return ipasshttp.PathQueryPassHistory
	case "queryRequestLog":
		return ipasshttp.PathQueryRequestLog
	}
	return ipasshttp.PathUpdatePass
}

// send signs r the way a correct client does, sends it over HTTP and
// verifies the response signature (failing the test if it does not verify).
func (h *harness) send(r req) reply {
	h.t.Helper()
	httpReq, r := h.build(r)
	return h.sendRaw(r, httpReq)
}

// build signs r the way a correct client does and returns the request
// ready to send, and r with its defaults filled in (for verify).
func (h *harness) build(r req) (*http.Request, req) {
	h.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = ipasshttp.PathUpdatePass
	}
	if r.clientID == "" {
		r.clientID = clientA
	}
	if r.alg == "" {
		r.alg = gateway.RSA256
	}
	if r.requestTime == "" {
		// Each request gets its own instant so that no two share a signed
		// content (the replay check would refuse the second).
		h.clock.Add(time.Millisecond)
		r.requestTime = h.clock.Now().In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
	}
	body := []byte(r.body)
	signed := body
	hdr := http.Header{}
	hdr["Client-Id"] = []string{r.clientID}
	hdr["Request-Time"] = []string{r.requestTime}
	hdr.Set("Content-Type", "application/json; charset=UTF-8")
	if r.encrypt {
		aesKey, err := gateway.NewAESKey(32)
		if err != nil {
			h.t.Fatal(err)
		}
		if body, err = gateway.EncryptBody(aesKey, body); err != nil {
			h.t.Fatal(err)
		}
		wrapFor := h.server.encPub
		if r.encWrapFor != nil {
			wrapFor = r.encWrapFor
		}
		wrapped, err := gateway.WrapKey(wrapFor, aesKey)
		if err != nil {
			h.t.Fatal(err)
		}
		v := r.encVersion
		if v == 0 {
			v = 1
		}
		hdr.Set("Encrypt", gateway.FormatEncryptHeader(v, wrapped))
		if !r.signPlain {
			signed = body
		}
		hdr.Set("Content-Type", "text/plain; charset=UTF-8")
	}
	if r.contentType != "" {
		hdr.Set("Content-Type", r.contentType)
	}
	signer := r.signAs
	if signer == "" {
		signer = r.clientID + "/" + string(r.alg)
	}
	if !r.noSign {
		key, ok := h.keys[signer]
		if !ok {
			key = h.keys[clientA+"/RSA256"]
		}
		keyAlg, _ := gateway.AlgorithmOf(key.Public())
		sig, err := gateway.Sign(key, keyAlg, gateway.Content(r.method, r.path, r.clientID, r.requestTime, signed))
		if err != nil {
			h.t.Fatal(err)
		}
		v := r.keyVersion
		if v == 0 {
			v = 1
		}
		sh := gateway.FormatSignatureHeader(r.alg, v, sig)
		if r.keyVersion < 0 {
			sh = strings.Replace(sh, ",keyVersion=1", "", 1)
		}
		hdr.Set("Signature", sh)
	}
	if r.tamper != nil {
		body = r.tamper(body)
	}
	for k, v := range r.header {
		if len(v) == 0 {
			delete(hdr, k)
			continue
		}
		hdr[k] = v
	}
	httpReq, err := http.NewRequest(r.method, h.url+r.path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	httpReq.Header = hdr
	return httpReq, r
}

// sendRaw sends a hand-built request (what req cannot express) and
// verifies the answer like h.send; r describes it for verification.
func (h *harness) sendRaw(r req, httpReq *http.Request) reply {
	h.t.Helper()
	hc := h.http
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(httpReq)
	if err != nil {
		h.t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.verify(r, resp, raw)
}

// verify checks what every response must carry (spec 2.2, 2.8) and decodes it.
func (h *harness) verify(r req, resp *http.Response, raw []byte) reply {
	h.t.Helper()
	out := reply{status: resp.StatusCode, header: resp.Header, raw: raw, plain: raw}
	sigHeader, respTime := resp.Header.Get("Signature"), resp.Header.Get("Response-Time")
	if sigHeader == "" || respTime == "" {
		h.t.Fatalf("response without Signature or Response-Time: %v %s", resp.Header, raw)
	}
	if tr := resp.Header.Get("Tracer-Id"); len(tr) != 32 || strings.Trim(tr, "0123456789abcdef") != "" {
		h.t.Fatalf("Tracer-Id %q: want 32 lower-case hex", tr)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", respTime); err != nil {
		h.t.Fatalf("Response-Time %q: %v", respTime, err)
	}
	sentID, hasID := r.clientID, true
	if v, ok := r.header["Client-Id"]; ok {
		if len(v) == 0 {
			sentID, hasID = "", false
		} else {
			sentID = v[0]
		}
	}
	if hasID && resp.Header.Get("Client-Id") != sentID {
		h.t.Fatalf("Client-Id echoed as %q, sent %q", resp.Header.Get("Client-Id"), sentID)
	}
	params, err := gateway.ParseSignatureHeader(sigHeader)
	if err != nil {
		h.t.Fatalf("response Signature %q: %v", sigHeader, err)
	}
	pub := h.server.rsaPub
	if params.Algorithm == gateway.ECC224 {
		pub = h.server.eccPub
	}
	if _, err := gateway.VerifyMessage(pub, r.method, r.path, sentID, respTime, raw, sigHeader); err != nil {
		h.t.Fatalf("response signature does not verify: %v\nbody: %s", err, raw)
	}
	if enc := resp.Header.Get("Encrypt"); enc != "" {
		ep, err := gateway.ParseEncryptHeader(enc)
		if err != nil {
			h.t.Fatalf("response Encrypt %q: %v", enc, err)
		}
		priv := h.keys[r.clientID+"/RSA256"].(*rsa.PrivateKey)
		aesKey, err := gateway.UnwrapKey(priv, ep.WrappedKey)
		if err != nil {
			h.t.Fatalf("unwrap response key: %v", err)
		}
		if out.plain, err = gateway.DecryptBody(aesKey, raw); err != nil {
			h.t.Fatalf("decrypt response: %v", err)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			h.t.Fatalf("encrypted response Content-Type %q", ct)
		}
	} else if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		h.t.Fatalf("response Content-Type %q", ct)
	}
	var env struct {
		ResultInfo struct{ ResultStatus, ResultCode, ResultMessage string }
		Result     struct{ ResultStatus, ResultCode, ResultMessage string }
		PassID     string          `json:"passId"`
		Pass       *ipass.PassView `json:"pass"`
	}
	if err := json.Unmarshal(out.plain, &env); err != nil {
		h.t.Fatalf("response body is not JSON: %v: %s", err, out.plain)
	}
	if env.ResultInfo != env.Result {
		h.t.Fatalf("result %+v differs from resultInfo %+v", env.Result, env.ResultInfo)
	}
	out.code, out.message, out.passID, out.pass = ipass.Code(env.ResultInfo.ResultCode), env.ResultInfo.ResultMessage, env.PassID, env.Pass
	if env.ResultInfo.ResultStatus != out.code.Status() {
		h.t.Fatalf("resultStatus %s for %s", env.ResultInfo.ResultStatus, out.code)
	}
	if resp.StatusCode != out.code.HTTPStatus() {
		h.t.Fatalf("HTTP %d for %s", resp.StatusCode, out.code)
	}
	h.checkOpenAPI(r.method, r.path, resp, raw, out.plain)
	return out
}

// op sends body to the operation and returns the verified reply.
func (h *harness) op(op, body string) reply {
	h.t.Helper()
	return h.send(req{path: pathOf(op), body: body})
}

// must fails the test unless the reply has code.
func (h *harness) must(r reply, code ipass.Code) reply {
	h.t.Helper()
	if r.code != code {
		h.t.Fatalf("got %s (%s), want %s", r.code, r.message, code)
	}
	return r
}

// query reads a pass back through the API.
func (h *harness) query(merchant, passID string) *ipass.PassView {
	h.t.Helper()
	r := h.must(h.op("queryPass", `{"merchantId":"`+merchant+`","passId":"`+passID+`"}`), ipass.CodeSuccess)
	return r.pass
}

// snapshot is the whole stored state, compared before and after hostile
// requests to prove nothing changed.
func (h *harness) snapshot() string {
	h.t.Helper()
	ctx := context.Background()
	t, err := h.db.Export(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	je := json.NewEncoder(&b)
	_ = je.Encode(t)
	ids, err := h.db.PassIDs(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, id := range ids {
		p, err := h.db.PassByID(ctx, id)
		if err != nil {
			h.t.Fatal(err)
		}
		hist, err := h.db.History(ctx, id)
		if err != nil {
			h.t.Fatal(err)
		}
		_ = je.Encode(p)
		_ = je.Encode(hist)
	}
	return b.String()
}
