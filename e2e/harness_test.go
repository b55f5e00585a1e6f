package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/internal/browsertest"
)

// apiPrefix is the common path of the three endpoints (docs/api.md, "Endpoints").
const apiPrefix = "/api/open/alipay/v1/ipass/pass/manage/"

var (
	binDir    string // holds the ipass binary built for this test run
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ipass-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	browsertest.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// moduleRoot is the repository root: the test runs in e2e/.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above e2e/: %v", err)
	}
	return root
}

// requireOpenSSL skips without openssl locally, but a CI run must not pass
// vacuously, so there it fails.
func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not on PATH (required in CI): %v", err)
		}
		t.Skipf("openssl not on PATH: %v", err)
	}
}

// ipassBinary builds ./cmd/ipass once per test binary run. It is the
// production build: a -race in GOFLAGS is dropped, because the load,
// rate-limit and outage tests measure the server's timing, and the race
// detector makes it several times slower. The server code runs under the
// race detector in-process (packages http, client, cmd/ipass).
func ipassBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(binDir, "ipass")
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/ipass")
		cmd.Dir = moduleRoot(t)
		var goflags []string
		for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
			if f != "-race" && f != "-race=true" {
				goflags = append(goflags, f)
			}
		}
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.Join(goflags, " "))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ipass: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// ---------------------------------------------------------------------------
// Server process

// server is one `ipass serve` process; start and stop may be called again on
// the same data dir to check persistence.
type server struct {
	bin, dir, dataDir, logPath string
	args                       []string

	// Public keys that must verify response signatures, the public key the
	// request symmetric keys are wrapped for, and the server key version.
	rsaPub, eccPub, encPub string
	keyVersion             string

	cpus    []int // when set, the process runs on these CPUs only (onecore_test.go)
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	addr    string
}

func newServer(t testing.TB, extra ...string) *server {
	t.Helper()
	return newServerOn(t, "", "", extra...)
}

// newServerOn is newServer on database db ("" = a SQLite file in the
// server's own data dir) with tenants file tenantsFile ("" = the spec
// fixtures), so that several servers can share one database.
func newServerOn(t testing.TB, db, tenantsFile string, extra ...string) *server {
	t.Helper()
	root := moduleRoot(t)
	dir := t.TempDir()
	s := &server{
		bin:        ipassBinary(t),
		dir:        dir,
		dataDir:    filepath.Join(dir, "data"),
		logPath:    filepath.Join(dir, "server.log"),
		keyVersion: "1",
	}
	if db == "" {
		db = "sqlite:" + filepath.Join(s.dataDir, "ipass.db")
	}
	if tenantsFile == "" {
		tenantsFile = filepath.Join(root, "tenants", "testdata", "spec-fixtures.yaml")
	}
	s.args = append([]string{"serve",
		"--addr", "127.0.0.1:0",
		"--addr-file", filepath.Join(dir, "addr"),
		"--data-dir", s.dataDir,
		"--db", db,
		"--tenants", tenantsFile,
		"--demo=false",
		"--request-time-window", "5m",
	}, extra...)
	t.Cleanup(func() {
		if s.running() {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(s.logPath)
			t.Logf("server output (%s):\n%s", s.logPath, log)
		}
	})
	return s
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) start(t testing.TB) {
	t.Helper()
	addrFile := filepath.Join(s.dir, "addr")
	_ = os.Remove(addrFile) // a stale file from the previous start would point at a closed port
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== start %s\n", strings.Join(s.args, " "))
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := startOn(cmd, s.cpus); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			addr := strings.TrimSpace(string(b))
			if _, port, err := net.SplitHostPort(addr); err == nil && port != "" && port != "0" {
				s.addr = addr
				return
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("ipass serve exited before writing --addr-file: %v", s.waitErr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("ipass serve did not write --addr-file within 20s")
		}
	}
}

// stop sends SIGTERM and requires a graceful exit with status 0.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("server not running (exit: %v)", s.waitErr)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Fatal("ipass serve did not exit within 5s of SIGTERM")
	}
	if s.waitErr != nil {
		t.Fatalf("ipass serve after SIGTERM: %v (want exit status 0)", s.waitErr)
	}
}

// ---------------------------------------------------------------------------
// OpenSSL

// env is the client side of one test: a scratch dir for openssl's files, the
// Request-Time clock and the Tracer-Ids seen so far.
type env struct {
	srv     *server
	tmp     string
	mu      sync.Mutex
	lastMS  int64
	nfile   int
	tracers map[string]string
}

func newEnv(t *testing.T, srv *server) *env {
	return &env{srv: srv, tmp: t.TempDir(), tracers: map[string]string{}}
}

// file writes data to a fresh scratch file and returns its path.
func (e *env) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	e.mu.Lock()
	e.nfile++
	p := filepath.Join(e.tmp, fmt.Sprintf("%04d-%s", e.nfile, name))
	e.mu.Unlock()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func openssl(args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("openssl %s: %v: %s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out, nil
}

func mustOpenSSL(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := openssl(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var urlEscaper = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D")

// sign returns the URL-escaped base64 signature of content (RSA256 or ECC224:
// `openssl dgst -sha256 -sign` picks the scheme from the key type).
func (e *env) sign(t *testing.T, key string, content []byte) string {
	t.Helper()
	in := e.file(t, "content", content)
	sig := in + ".sig"
	mustOpenSSL(t, "dgst", "-sha256", "-sign", key, "-out", sig, in)
	raw, err := os.ReadFile(sig)
	if err != nil {
		t.Fatal(err)
	}
	return urlEscaper.Replace(base64.StdEncoding.EncodeToString(raw))
}

// verify reports whether sig is a valid signature of content under pub.
func (e *env) verify(t *testing.T, pub string, content, sig []byte) bool {
	t.Helper()
	in := e.file(t, "content", content)
	sigFile := e.file(t, "sig", sig)
	out, err := openssl("dgst", "-sha256", "-verify", pub, "-signature", sigFile, in)
	return err == nil && strings.Contains(string(out), "Verified OK")
}

func aesCipher(n int) string { return fmt.Sprintf("-aes-%d-ecb", n*8) }

// randomKey asks openssl for n random bytes (an AES key).
func (e *env) randomKey(t *testing.T, n int) []byte {
	t.Helper()
	p := e.file(t, "aeskey", nil)
	mustOpenSSL(t, "rand", "-out", p, strconv.Itoa(n))
	k, err := os.ReadFile(p)
	if err != nil || len(k) != n {
		t.Fatalf("openssl rand: %d bytes, %v", len(k), err)
	}
	return k
}

// aesEncrypt returns base64(AES-ECB-PKCS#7(plain)), the wire form of an
// encrypted body.
func (e *env) aesEncrypt(t *testing.T, key, plain []byte) string {
	t.Helper()
	in := e.file(t, "plain", plain)
	mustOpenSSL(t, "enc", aesCipher(len(key)), "-nosalt", "-K", hex.EncodeToString(key), "-in", in, "-out", in+".ct")
	ct, err := os.ReadFile(in + ".ct")
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

func (e *env) aesDecrypt(t *testing.T, key, ct []byte) []byte {
	t.Helper()
	in := e.file(t, "ct", ct)
	mustOpenSSL(t, "enc", "-d", aesCipher(len(key)), "-nosalt", "-K", hex.EncodeToString(key), "-in", in, "-out", in+".pt")
	pt, err := os.ReadFile(in + ".pt")
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// wrapKey encrypts an AES key with RSA PKCS#1 v1.5 to pub: the symmetricKey.
func (e *env) wrapKey(t *testing.T, pub string, key []byte) string {
	t.Helper()
	in := e.file(t, "key", key)
	mustOpenSSL(t, "pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", in, "-out", in+".wrapped")
	w, err := os.ReadFile(in + ".wrapped")
	if err != nil {
		t.Fatal(err)
	}
	return urlEscaper.Replace(base64.StdEncoding.EncodeToString(w))
}

func (e *env) unwrapKey(t *testing.T, priv string, wrapped []byte) []byte {
	t.Helper()
	in := e.file(t, "wrapped", wrapped)
	mustOpenSSL(t, "pkeyutl", "-decrypt", "-inkey", priv, "-pkeyopt", "rsa_padding_mode:pkcs1", "-in", in, "-out", in+".key")
	k, err := os.ReadFile(in + ".key")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ---------------------------------------------------------------------------
// Requests

// client is a registered API client of spec-fixtures.yaml.
type client struct {
	id     string
	rsaKey string // PKCS#8 private key, RSA256 key version 1
	eccKey string // P-224 private key, ECC224 key version 1 ("" if none)
}

func fixtureClients(t *testing.T) (c44, c55 client) {
	keys := filepath.Join(moduleRoot(t), "tenants", "testdata", "keys")
	c44 = client{"2110200000000044", filepath.Join(keys, "client-0044-rsa-v1.pem"), filepath.Join(keys, "client-0044-ecc-v1.pem")}
	c55 = client{"2110200000000055", filepath.Join(keys, "client-0055-rsa-v1.pem"), ""}
	return c44, c55
}

type header struct{ name, value string }

// request is a raw HTTP/1.1 request, kept as written so tests can duplicate
// headers, change their case or send bytes that net/http would normalise.
type request struct {
	method, target string
	headers        []header
	body           []byte
	aesKey         []byte // the AES key of an encrypted body, for checks
}

func (r *request) path() string {
	p, _, _ := strings.Cut(r.target, "?")
	return p
}

// get returns the first value of a header (case-insensitive), as a server
// takes it.
func (r *request) get(name string) (string, bool) {
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			return h.value, true
		}
	}
	return "", false
}

// set replaces every occurrence of a header by one value, in place.
func (r *request) set(name, value string) {
	out := r.headers[:0]
	done := false
	for _, h := range r.headers {
		if strings.EqualFold(h.name, name) {
			if done {
				continue
			}
			h, done = header{name, value}, true
		}
		out = append(out, h)
	}
	r.headers = out
	if !done {
		r.headers = append(r.headers, header{name, value})
	}
}

func (r *request) add(name, value string) { r.headers = append(r.headers, header{name, value}) }

func (r *request) del(name string) {
	out := r.headers[:0]
	for _, h := range r.headers {
		if !strings.EqualFold(h.name, name) {
			out = append(out, h)
		}
	}
	r.headers = out
}

func (r *request) wire(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.method, r.target, host)
	for _, h := range r.headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(r.body))
	b.Write(r.body)
	return b.Bytes()
}

// requestTime returns a Request-Time instant "now", one millisecond later
// than any earlier one, so that no two requests share a content to sign by
// accident (replay protection).
func (e *env) requestTime() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	ms := time.Now().UnixMilli()
	if ms <= e.lastMS {
		ms = e.lastMS + 1
	}
	e.lastMS = ms
	return time.UnixMilli(ms)
}

var hongKong = time.FixedZone("HKT", 8*3600)

// hkTime is RFC 3339 with a +08:00 offset and milliseconds, the official
// SDKs' form.
func hkTime(tm time.Time) string { return tm.In(hongKong).Format("2006-01-02T15:04:05.000-07:00") }

type opts struct {
	alg        string // Signature algorithm: "" = RSA256, or "ECC224"
	signWith   string // private key to sign with; "" = the client's key for alg
	keyVersion string // Signature keyVersion: "" = "1"
	time       string // Request-Time header; "" = now, RFC 3339 +08:00
	method     string // "" = POST
	target     string // request target; "" = apiPrefix + operation

	encrypt       int    // AES key length in bytes for an RSA_AES body; 0 = plaintext
	wrapFor       string // public key the AES key is wrapped for; "" = the server's encryption key
	encKeyVersion string // Encrypt keyVersion; "" = the server key version
	signPlain     bool   // sign the plaintext instead of the wire body (a client bug)
}

// newRequest builds a correctly signed (and, with o.encrypt, encrypted)
// request for operation op with the given JSON body.
func (e *env) newRequest(t *testing.T, c client, op, body string, o opts) *request {
	t.Helper()
	r := &request{method: o.method, target: o.target, body: []byte(body)}
	if r.method == "" {
		r.method = "POST"
	}
	if r.target == "" {
		r.target = apiPrefix + op
	}
	rt := o.time
	if rt == "" {
		rt = hkTime(e.requestTime())
	}
	contentType := "application/json; charset=UTF-8"
	var encHeader string
	if o.encrypt > 0 {
		r.aesKey = e.randomKey(t, o.encrypt)
		r.body = []byte(e.aesEncrypt(t, r.aesKey, []byte(body)))
		wrapFor, kv := o.wrapFor, o.encKeyVersion
		if wrapFor == "" {
			wrapFor = e.srv.encPub
		}
		if kv == "" {
			kv = e.srv.keyVersion
		}
		encHeader = "algorithm=RSA_AES,keyVersion=" + kv + ",symmetricKey=" + e.wrapKey(t, wrapFor, r.aesKey)
		contentType = "text/plain; charset=UTF-8"
	}
	alg, key := "RSA256", c.rsaKey
	if o.alg == "ECC224" {
		alg, key = "ECC224", c.eccKey
	}
	if o.signWith != "" {
		key = o.signWith
	}
	kv := o.keyVersion
	if kv == "" {
		kv = "1"
	}
	signed := r.body
	if o.signPlain {
		signed = []byte(body)
	}
	content := signedContent(r.method, r.path(), c.id, rt, signed)
	r.headers = []header{
		{"Client-Id", c.id},
		{"Request-Time", rt},
		{"Content-Type", contentType},
		{"Signature", "algorithm=" + alg + ",keyVersion=" + kv + ",signature=" + e.sign(t, key, content)},
	}
	if encHeader != "" {
		r.add("Encrypt", encHeader)
	}
	return r
}

func signedContent(method, path, clientID, tm string, body []byte) []byte {
	return append([]byte(method+" "+path+"\n"+clientID+"."+tm+"."), body...)
}

// ---------------------------------------------------------------------------
// Responses

type response struct {
	status    int
	header    http.Header
	body      []byte         // exactly as received (ciphertext if encrypted)
	plain     []byte         // the JSON (decrypted if encrypted)
	aesKeyLen int            // length of the response AES key; 0 if plaintext
	doc       map[string]any // plain, decoded with UseNumber
	code      string
	message   string
}

// roundTrip writes the raw request on a fresh connection and reads one
// response. The write runs concurrently so a server that answers before
// reading an oversize body does not deadlock the test.
func (e *env) roundTrip(t *testing.T, r *request) *response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.srv.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() { _, _ = conn.Write(r.wire(e.srv.addr)) }()
	hr, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: reading response: %v", r.method, r.target, err)
	}
	defer hr.Body.Close()
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		t.Fatalf("%s %s: reading response body: %v", r.method, r.target, err)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: body}
}

// want describes the expected outcome of one request.
type want struct {
	code string
	alg  string // algorithm of the response signature; "" = RSA256
	// encryptedFor is the client whose RSA key must unwrap the response's
	// symmetricKey; nil means the response must be plaintext.
	encryptedFor *client
	aesLen       int // expected response AES key length (0 = any of 16/24/32)
}

var (
	responseTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	tracerRE       = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// httpStatus is the HTTP status of each result code (docs/api.md, "Result codes").
func httpStatus(code string) int {
	switch code {
	case "UNKNOWN_EXCEPTION":
		return 500
	case "MEDIA_TYPE_NOT_ACCEPTABLE":
		return 415
	case "METHOD_NOT_SUPPORTED":
		return 405
	case "NO_INTERFACE_DEF":
		return 404
	case "REQUEST_TOO_LARGE":
		return 413
	case "REQUEST_TRAFFIC_EXCEED_LIMIT":
		return 429
	}
	return 200
}

func resultStatus(code string) string {
	switch code {
	case "SUCCESS":
		return "S"
	case "UNKNOWN_EXCEPTION", "REQUEST_TRAFFIC_EXCEED_LIMIT":
		return "U"
	}
	return "F"
}

// parseParams parses a Signature or Encrypt header value (docs/api.md, "Request headers").
func parseParams(v string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.Trim(item, " \t"), "=")
		if !ok {
			return nil, fmt.Errorf("item %q has no '='", item)
		}
		k = strings.ToLower(strings.Trim(k, " \t"))
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		m[k] = strings.Trim(val, " \t")
	}
	return m, nil
}

// decodeB64Param percent-decodes and base64-decodes a signature or
// symmetricKey value.
func decodeB64Param(v string) ([]byte, error) {
	u, err := url.PathUnescape(v)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(u)
}

// do sends r and checks the response against the wire contract and w: HTTP
// status, headers, the server signature (with openssl), decryption (with
// openssl) and the result envelope. It fails the test on any deviation.
func (e *env) do(t *testing.T, r *request, w want) *response {
	t.Helper()
	resp := e.roundTrip(t, r)
	e.check(t, r, resp, w)
	return resp
}

func (e *env) check(t *testing.T, r *request, resp *response, w want) {
	t.Helper()
	desc := fmt.Sprintf("%s %s", r.method, r.target)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s\nresponse: HTTP %d %v\n%s", desc, fmt.Sprintf(format, args...), resp.status, resp.header, resp.body)
	}

	// Signed headers.
	if n := len(resp.header.Values("Signature")); n != 1 {
		fail("%d Signature headers, want 1", n)
	}
	if n := len(resp.header.Values("Response-Time")); n != 1 {
		fail("%d Response-Time headers, want 1", n)
	}
	respTime := resp.header.Get("Response-Time")
	if !responseTimeRE.MatchString(respTime) {
		fail("Response-Time %q is not RFC 3339 UTC with milliseconds", respTime)
	}
	if rt, err := time.Parse(time.RFC3339Nano, respTime); err != nil || time.Since(rt).Abs() > time.Minute {
		fail("Response-Time %q is not now (%v)", respTime, err)
	}
	tracer := resp.header.Get("Tracer-Id")
	if !tracerRE.MatchString(tracer) {
		fail("Tracer-Id %q is not 32 lower-case hex characters", tracer)
	}
	e.mu.Lock()
	prev, seen := e.tracers[tracer]
	e.tracers[tracer] = desc
	e.mu.Unlock()
	if seen {
		fail("Tracer-Id %s already used by an earlier response (%s)", tracer, prev)
	}
	sentID, hadID := r.get("Client-Id")
	gotIDs := resp.header.Values("Client-Id")
	switch {
	case hadID && (len(gotIDs) != 1 || gotIDs[0] != sentID):
		fail("Client-Id %q, want the request's %q echoed", gotIDs, sentID)
	case !hadID && len(gotIDs) != 0:
		fail("Client-Id %q on a response to a request without Client-Id", gotIDs)
	}

	// Signature, verified with openssl against the server's public key.
	params, err := parseParams(resp.header.Get("Signature"))
	if err != nil {
		fail("Signature header: %v", err)
	}
	alg := w.alg
	if alg == "" {
		alg = "RSA256"
	}
	if !strings.EqualFold(params["algorithm"], alg) {
		fail("Signature algorithm %q, want %s", params["algorithm"], alg)
	}
	if params["keyversion"] != e.srv.keyVersion {
		fail("Signature keyVersion %q, want the server key version %s", params["keyversion"], e.srv.keyVersion)
	}
	sig, err := decodeB64Param(params["signature"])
	if err != nil || len(sig) == 0 {
		fail("Signature value %q: %v", params["signature"], err)
	}
	pub := e.srv.rsaPub
	if alg == "ECC224" {
		pub = e.srv.eccPub
	}
	content := signedContent(r.method, r.path(), sentID, respTime, resp.body)
	if !e.verify(t, pub, content, sig) {
		fail("response signature does not verify with %s over %q", pub, content)
	}

	// Body: plaintext JSON, or RSA_AES decrypted with openssl.
	ct := resp.header.Get("Content-Type")
	if w.encryptedFor == nil {
		if enc := resp.header.Values("Encrypt"); len(enc) != 0 {
			fail("unexpected Encrypt header %q", enc)
		}
		if ct != "application/json; charset=UTF-8" {
			fail("Content-Type %q, want application/json; charset=UTF-8", ct)
		}
		resp.plain = resp.body
	} else {
		if ct != "text/plain; charset=UTF-8" {
			fail("Content-Type %q, want text/plain; charset=UTF-8 (encrypted response)", ct)
		}
		enc, err := parseParams(resp.header.Get("Encrypt"))
		if err != nil || resp.header.Get("Encrypt") == "" {
			fail("Encrypt header missing or malformed (%v); the response must be encrypted", err)
		}
		if !strings.EqualFold(enc["algorithm"], "RSA_AES") {
			fail("Encrypt algorithm %q, want RSA_AES", enc["algorithm"])
		}
		if enc["keyversion"] != "1" {
			fail("Encrypt keyVersion %q, want the client's RSA key version 1", enc["keyversion"])
		}
		wrapped, err := decodeB64Param(enc["symmetrickey"])
		if err != nil {
			fail("symmetricKey: %v", err)
		}
		key := e.unwrapKey(t, w.encryptedFor.rsaKey, wrapped)
		resp.aesKeyLen = len(key)
		if w.aesLen != 0 && len(key) != w.aesLen {
			fail("response AES key is %d bytes, want %d", len(key), w.aesLen)
		}
		if len(key) != 16 && len(key) != 24 && len(key) != 32 {
			fail("response AES key is %d bytes", len(key))
		}
		if r.aesKey != nil && bytes.Equal(key, r.aesKey) {
			fail("response reuses the request's AES key; it must be fresh")
		}
		raw, err := base64.StdEncoding.DecodeString(string(resp.body))
		if err != nil {
			fail("encrypted body is not base64: %v", err)
		}
		resp.plain = e.aesDecrypt(t, key, raw)
	}

	// Envelope.
	dec := json.NewDecoder(bytes.NewReader(resp.plain))
	dec.UseNumber()
	if err := dec.Decode(&resp.doc); err != nil {
		fail("body is not a JSON object: %v\n%s", err, resp.plain)
	}
	info, _ := resp.doc["resultInfo"].(map[string]any)
	if info == nil {
		fail("no resultInfo in %s", resp.plain)
	}
	if canon(resp.doc["result"]) != canon(info) {
		fail("result %s differs from resultInfo %s", canon(resp.doc["result"]), canon(info))
	}
	resp.code, _ = info["resultCode"].(string)
	resp.message, _ = info["resultMessage"].(string)
	if resp.code != w.code {
		fail("resultCode %s (%q), want %s\nplaintext: %s", resp.code, resp.message, w.code, resp.plain)
	}
	if got := info["resultStatus"]; got != resultStatus(w.code) {
		fail("resultStatus %v, want %s", got, resultStatus(w.code))
	}
	if w.code == "SUCCESS" && resp.message != "success" {
		fail("resultMessage %q, want success", resp.message)
	}
	if w.code != "SUCCESS" && resp.message == "" {
		fail("empty resultMessage on %s", w.code)
	}
	if resp.status != httpStatus(w.code) {
		fail("HTTP %d, want %d for %s", resp.status, httpStatus(w.code), w.code)
	}
	if w.code == "METHOD_NOT_SUPPORTED" && resp.header.Get("Allow") != "POST" {
		fail("Allow %q, want POST", resp.header.Get("Allow"))
	}
	t.Logf("%s → HTTP %d %s %q", desc, resp.status, resp.code, resp.message)
}

// canon re-encodes a decoded JSON value with sorted keys, so values can be
// compared regardless of key order (numbers keep their literal text).
func canon(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func canonJSON(t *testing.T, s string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad expected JSON %s: %v", s, err)
	}
	return canon(v)
}

// absent marks a field that must not be in a queryPass result.
const absent = "<absent>"

// checkPass compares fields of the "pass" object of a queryPass response with
// JSON literals, and returns the object.
func checkPass(t *testing.T, resp *response, fields map[string]string) map[string]any {
	t.Helper()
	p, ok := resp.doc["pass"].(map[string]any)
	if !ok {
		t.Fatalf("queryPass response without a pass object: %s", resp.plain)
	}
	for k, lit := range fields {
		v, has := p[k]
		switch {
		case lit == absent && has:
			t.Errorf("pass.%s = %s, want it absent", k, canon(v))
		case lit == absent:
		case !has:
			t.Errorf("pass.%s missing, want %s", k, lit)
		case canon(v) != canonJSON(t, lit):
			t.Errorf("pass.%s = %s, want %s", k, canon(v), canonJSON(t, lit))
		}
	}
	return p
}

func passID(t *testing.T, resp *response) string {
	t.Helper()
	id, _ := resp.doc["passId"].(string)
	if !regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`).MatchString(id) {
		t.Fatalf("passId %q is not 1-32 characters of [0-9A-Za-z]: %s", id, resp.plain)
	}
	return id
}

var errSkipped = errors.New("prerequisite scenario failed")

// need stops a scenario whose prerequisite (an earlier scenario) failed; the
// earlier failure is the one to look at.
func need(t *testing.T, vals ...string) {
	t.Helper()
	for _, v := range vals {
		if v == "" {
			t.Fatal(errSkipped)
		}
	}
}
