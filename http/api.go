package http

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// exchange is one request's state as it passes the gateway steps. What it
// learns (algorithm, client, Encrypt) decides how the response is signed and
// whether it is encrypted, whichever step ends the request.
type exchange struct {
	method      string // as received; signed into the response content
	path        string // as received, without query; signed into the response content
	clientID    string // first Client-Id header value, echoed byte for byte
	hasClientID bool
	tracerID    string
	arrived     time.Time // server clock when the request arrived

	algorithm  gateway.Algorithm // response signature algorithm
	client     *ipass.Client     // set once G5 identified the caller
	encrypted  bool              // the request carried an Encrypt header
	aesKeyLen  int               // request AES key length once recovered (after G9 only)
	retryAfter time.Duration     // for REQUEST_TRAFFIC_EXCEED_LIMIT
	methodBad  bool              // 405: add Allow
	chaos      *ipass.ChaosRule  // a sandbox rule taken for this request (sandbox.go)

	// repeats (see settle)
	envelope        []byte // SHA-256 of the Encrypt header (encrypted only)
	keyReusedBySame bool   // G12 found the wrapped key used by this client before

	// result payload on SUCCESS
	passID  string
	pass    *ipass.PassView
	history *ipass.HistoryPage
	logPage *ipass.RequestLogPage

	// for the request log (requestlog.go)
	contentSum          [32]byte // SHA-256 of the signed content, once G9 computed it
	summed              bool
	merchantID, passArg string // merchantId and passId the request named

	rules *[]chaosRuleView // sandboxChaos [ext]
	clock *clockView       // sandboxClock [ext]

	// the answer's resultCode and body once settled (or a repeat's kept
	// one); body nil until then
	code ipass.Code
	body []byte
}

// redact withholds the values an error echoes when the request was
// encrypted: the body may be blocks of another client's ciphertext spliced
// together (AES-ECB) to be read back through this very message.
func (x *exchange) redact(err error) error {
	if x.encrypted {
		return ipass.Redacted(err)
	}
	return err
}

// operation is one operation of the API: its name (package gateway's),
// whether only a sandbox serves it, and what runs it for a verified caller
// on the plaintext body, leaving its result on x.
type operation struct {
	name    string
	sandbox bool
	run     func(s *Server, ctx context.Context, caller ipass.Caller, x *exchange, body []byte) error
}

// operations dispatches by path (G1): the paths are package gateway's, the
// one spelling the server, the SDK and the CLI share.
var operations = map[string]*operation{
	gateway.PathCreatePass: {name: gateway.OpCreatePass, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.passID, err = s.Service.CreatePass(ctx, c, body)
		return err
	}},
	gateway.PathUpdatePass: {name: gateway.OpUpdatePass, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) error {
		return s.Service.UpdatePass(ctx, c, body)
	}},
	gateway.PathQueryPass: {name: gateway.OpQueryPass, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.pass, err = s.Service.QueryPass(ctx, c, body)
		return err
	}},
	gateway.PathQueryPassHistory: {name: gateway.OpQueryPassHistory, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.history, err = s.Service.QueryPassHistory(ctx, c, body)
		return err
	}},
	gateway.PathQueryRequestLog: {name: gateway.OpQueryRequestLog, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.logPage, err = s.queryRequestLog(ctx, c.ClientID, body)
		return err
	}},
	gateway.PathSandboxChaos: {name: gateway.OpSandboxChaos, sandbox: true, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.rules, err = s.sandboxChaos(ctx, x.client, body)
		return err
	}},
	gateway.PathSandboxClock: {name: gateway.OpSandboxClock, sandbox: true, run: func(s *Server, ctx context.Context, c ipass.Caller, x *exchange, body []byte) (err error) {
		x.clock, err = s.sandboxClock(ctx, x.client, body)
		return err
	}},
}

func operationFor(path string) (*operation, bool) {
	op, ok := operations[path]
	return op, ok
}

// coreHeaders may appear once only (spec 2.1).
var coreHeaders = []string{"Client-Id", "Signature", "Request-Time", "Encrypt"}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{
		method:    r.Method,
		path:      requestPath(r),
		tracerID:  newTracerID(),
		algorithm: gateway.RSA256,
		arrived:   s.now(),
	}
	if v := r.Header.Values("Client-Id"); len(v) > 0 {
		x.clientID, x.hasClientID = v[0], true
	}

	err := s.chaosAfter(r.Context(), x, s.processSafely(r.Context(), x, r))
	if chaosIntercept(w, x) {
		return
	}
	code := ipass.ErrorCode(err)
	if code == ipass.CodeUnknownException {
		s.logger().ErrorContext(r.Context(), "internal error",
			"tracer_id", x.tracerID, "client_id", x.clientID, "path", x.path, "err", err)
	}
	s.respond(w, x, err)
	s.observeRequest(x, code, start)
	s.logger().InfoContext(r.Context(), "request",
		"tracer_id", x.tracerID, "client_id", x.clientID, "method", x.method, "path", x.path,
		"result_code", string(code), "result_message", truncate(ipass.ErrorMessage(err), 256), "http_status", code.HTTPStatus(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	s.recordRequest(x, err, start)
}

// processSafely turns a panic anywhere below into UNKNOWN_EXCEPTION, so a
// bug answers one request with a signed error instead of dropping it.
func (s *Server) processSafely(ctx context.Context, x *exchange, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return s.process(ctx, x, r)
}

// process runs G1–G12 and then the operation; the first failing step decides.
func (s *Server) process(ctx context.Context, x *exchange, r *http.Request) error {
	// G1, G2
	op, ok := operationFor(x.path)
	if !ok || op.sandbox && s.Chaos == nil { // a sandbox's only
		return ipass.Errorf(ipass.CodeNoInterfaceDef, "path %s: no such interface", truncate(x.path, 200))
	}
	if r.Method != http.MethodPost {
		x.methodBad = true
		return ipass.Errorf(ipass.CodeMethodNotSupported, "method %s: only POST is supported", truncate(r.Method, 32))
	}
	// G3, extended to headers: a flood of headers costs as much as a big body.
	if size := headerSize(r.Header); size > s.maxHeader() {
		return ipass.Errorf(ipass.CodeRequestTooLarge, "headers: %d bytes, more than the %d accepted", size, s.maxHeader())
	}
	body, err := readBody(r, s.maxBody())
	if err != nil {
		return err
	}
	// G4
	encryptValues := r.Header.Values("Encrypt")
	if err := checkMediaType(r.Header, len(encryptValues) > 0); err != nil {
		return err
	}
	for _, name := range coreHeaders {
		if len(r.Header.Values(name)) > 1 {
			return ipass.Errorf(ipass.CodeParamIllegal, "%s: header given more than once", name)
		}
	}
	// G5
	client, err := s.identify(ctx, x)
	if err != nil {
		return err
	}
	x.client = client
	x.encrypted = len(encryptValues) > 0
	if x.encrypted {
		sum := sha256.Sum256([]byte(encryptValues[0]))
		x.envelope = sum[:]
	}

	// G6
	sigHeader := r.Header.Get("Signature")
	if sigHeader == "" {
		return ipass.Errorf(ipass.CodeInvalidSignature, "Signature: header is missing")
	}
	params, err := gateway.ParseSignatureHeader(sigHeader)
	// Answer in the request's algorithm as soon as it is known, even when a
	// later item of the header is what failed.
	x.algorithm = params.Algorithm
	if err != nil {
		return gatewayError(err)
	}
	// G7
	key, ok := client.ActiveKey(string(params.Algorithm), params.KeyVersion)
	if !ok {
		if params.KeyVersion < 0 {
			return ipass.Errorf(ipass.CodeKeyNotFound, "Signature: client has no active %s key", params.Algorithm)
		}
		return ipass.Errorf(ipass.CodeKeyNotFound, "Signature.keyVersion: client has no active %s key version %d", params.Algorithm, params.KeyVersion)
	}
	pub, err := s.publicKey(key.PublicKey)
	if err != nil {
		return err
	}
	// G8
	requestTime := r.Header.Get("Request-Time")
	if requestTime == "" {
		return ipass.Errorf(ipass.CodeParamIllegal, "Request-Time: header is missing")
	}
	at, err := gateway.ParseTime(requestTime)
	if err != nil {
		return gatewayError(err)
	}
	// The arrival instant, not the instant this step runs: under a burst
	// requests queue for the database, and the rate limit must refill by
	// when they came, or a burst would be measured as longer than it was.
	now := x.arrived
	// Compare instants, not a Sub result: Sub saturates for far-off times
	// (year 9999, epoch-ms near 2^63), and negating the minimum Duration overflows.
	if at.Before(now.Add(-s.RequestTimeWindow)) || at.After(now.Add(s.RequestTimeWindow)) {
		return ipass.Errorf(ipass.CodeRequestTimeExpired,
			"Request-Time: %v is outside the accepted window of ±%s around server time %v%s",
			requestTimeText(requestTime, at), s.RequestTimeWindow, ipass.Millis(now.UnixMilli()), ipass.EpochSecondsHint(requestTime))
	}
	// G9: over the raw bytes received, never re-serialised.
	content := gateway.Content(r.Method, x.path, x.clientID, requestTime, body)
	if s.RequestLog != nil {
		x.contentSum, x.summed = sha256.Sum256(content), true
	}
	timer := s.cryptoStart()
	err = gateway.Verify(pub, params.Algorithm, content, params.Signature)
	s.cryptoDone(timer, CryptoVerify, string(params.Algorithm))
	if err != nil {
		return invalidSignature(params.Algorithm, key.Version, pub, content)
	}
	// A sandbox's failure on purpose, before anything is recorded or run.
	if err := s.chaosBefore(ctx, x, op); err != nil {
		return err
	}
	// G10, G11: decided by the store in the operation's own transaction
	// (one commit per request), or alone by settle when nothing is written.
	var adm *ipass.Admission
	if s.Gate != nil {
		adm = s.admission(client, content, at, now)
		// The answer of a write is kept in the write's own transaction.
		// Called there, possibly more than once (a retried transaction),
		// so it reads x and changes a copy.
		adm.AnswerOf = func(passID string, refused error) *ipass.Answer {
			y := *x
			y.passID = passID
			return s.answerOf(&y, x.redact(refused))
		}
		ctx = ipass.WithAdmission(ctx, adm)
	}
	return s.settle(ctx, x, adm, s.execute(ctx, x, op, encryptValues, body))
}

// execute is G12 and the operation.
func (s *Server) execute(ctx context.Context, x *exchange, op *operation, encryptValues []string, body []byte) error {
	var err error
	// G12
	if x.encrypted {
		if body, err = s.decrypt(ctx, x, encryptValues[0], body); err != nil {
			return err
		}
	}

	err = op.run(s, ctx, ipass.Caller{ClientID: x.client.ID, TracerID: x.tracerID}, x, body)
	s.noteArguments(x, body, err)
	// Name the field, never its value (see redact).
	return x.redact(err)
}

// identify is G5: a present, well-formed, registered Client-Id.
func (s *Server) identify(ctx context.Context, x *exchange) (*ipass.Client, error) {
	id := x.clientID
	if err := gateway.CheckClientID(id); err != nil {
		return nil, ipass.Errorf(ipass.CodeInvalidClient, "Client-Id: %v", err)
	}
	client, err := s.Tenants.Client(ctx, id)
	if errors.Is(err, ipass.ErrNotFound) {
		return nil, ipass.Errorf(ipass.CodeInvalidClient, "Client-Id %s: not registered", id)
	}
	if err != nil {
		return nil, fmt.Errorf("look up client: %w", err)
	}
	return client, nil
}

// decrypt is G12: Encrypt header, the server's key version, a client RSA key
// for the response, the wrapped key's single use, then unwrap and decrypt.
func (s *Server) decrypt(ctx context.Context, x *exchange, header string, body []byte) ([]byte, error) {
	params, parseErr := gateway.ParseEncryptHeader(header)
	// A bad symmetricKey still yields the key version, which G12 checks first.
	var gwErr *gateway.Error
	if parseErr != nil && !(errors.As(parseErr, &gwErr) && gwErr.Part == "Encrypt.symmetricKey") {
		return nil, gatewayError(parseErr)
	}
	decrypter, ok := s.Keys.decrypterFor(params.KeyVersion, x.client.EncryptionKey)
	if !ok {
		return nil, ipass.Errorf(ipass.CodeKeyNotFound,
			"Encrypt.keyVersion: the server has no encryption key version %d (current: %d)", params.KeyVersion, s.Keys.KeyVersion)
	}
	if _, ok := x.client.ActiveKey(ipass.AlgorithmRSA256, -1); !ok {
		return nil, ipass.Errorf(ipass.CodeKeyNotFound, "Encrypt: no RSA key to encrypt the response to; register an active RSA256 key for this client")
	}
	if parseErr != nil {
		return nil, gatewayError(parseErr)
	}
	if err := s.useWrappedKey(ctx, x, params.WrappedKey); err != nil {
		return nil, err
	}
	// One answer for every failure, and the response sealed with the same
	// key size whatever failed (keySize is 0 then): no padding oracle.
	timer := s.cryptoStart()
	plaintext, keySize, err := gateway.OpenRequest(decrypter, params, body)
	s.cryptoDone(timer, CryptoOpen, "RSA_AES")
	if err != nil {
		return nil, gatewayError(err)
	}
	x.aesKeyLen = keySize
	return plaintext, nil
}

// useWrappedKey accepts a wrapped AES key once, server-wide: the Encrypt
// header is not signed, so otherwise another client could re-sign a
// captured ciphertext with its symmetricKey as its own request. Decided on
// the bytes as received, before unwrapping, so the answer tells nothing
// about the key inside.
func (s *Server) useWrappedKey(ctx context.Context, x *exchange, wrapped []byte) error {
	if s.WrappedKeys == nil {
		return nil
	}
	digest := sha256.Sum256(wrapped)
	use, err := s.WrappedKeys.RecordWrappedKey(ctx, x.client.ID, digest[:], x.arrived)
	if err != nil {
		return fmt.Errorf("record wrapped key: %w", err)
	}
	if use != ipass.KeyFresh {
		// Used before by this client: possibly this very request's first
		// delivery, which the answer to this one then repeats (settle).
		x.keyReusedBySame = use == ipass.KeyUsedBySame
		return ipass.Errorf(ipass.CodeRepeatRequest, "Encrypt.symmetricKey: this wrapped key was already used; wrap a fresh AES key for every request")
	}
	return nil
}

// gatewayError turns a protocol-layer rejection into a result error; its
// message already names the part (e.g. "Signature.signature: ...").
func gatewayError(err error) error {
	reason := gateway.ReasonOf(err)
	if reason == "" {
		return err
	}
	return &ipass.Error{Code: ipass.Code(reason), Message: err.Error()}
}

// readBody is G3. It reads one byte past the limit to tell "exactly 1 MiB"
// from "more" and never more than that, whatever Content-Length claims;
// reading the small excess lets a client that sent it read the answer.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	tooLarge := ipass.Errorf(ipass.CodeRequestTooLarge, "body: larger than %d bytes", limit)
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, ipass.Errorf(ipass.CodeParamIllegal, "body: could not be read completely")
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// checkMediaType is the Content-Type / Content-Encoding part of G4 (spec 2.7).
// Repeated Content-Type values are accepted when each is acceptable: the
// official Go SDK sends two.
func checkMediaType(h http.Header, encrypted bool) error {
	values := h.Values("Content-Type")
	if len(values) == 0 {
		return ipass.Errorf(ipass.CodeMediaTypeNotAccept, "Content-Type: header is missing; use application/json; charset=UTF-8")
	}
	for _, v := range values {
		mediaType, params, err := mime.ParseMediaType(v)
		if err != nil {
			return ipass.Errorf(ipass.CodeMediaTypeNotAccept, "Content-Type: %q is not a valid media type", truncate(v, 100))
		}
		if mediaType != "application/json" && (!encrypted || mediaType != "text/plain") {
			want := "application/json"
			if encrypted {
				want = "text/plain or application/json"
			}
			return ipass.Errorf(ipass.CodeMediaTypeNotAccept, "Content-Type: %s is not acceptable; use %s", truncate(mediaType, 100), want)
		}
		if cs, ok := params["charset"]; ok {
			switch strings.ToLower(cs) {
			case "utf-8", "utf8":
			default:
				return ipass.Errorf(ipass.CodeMediaTypeNotAccept, "Content-Type: charset %s is not acceptable; only UTF-8", truncate(cs, 40))
			}
		}
	}
	for _, v := range h.Values("Content-Encoding") {
		for _, enc := range strings.Split(v, ",") {
			if enc = strings.TrimSpace(enc); !strings.EqualFold(enc, "identity") && enc != "" {
				return ipass.Errorf(ipass.CodeMediaTypeNotAccept, "Content-Encoding: %s is not supported; send the body unencoded", truncate(enc, 40))
			}
		}
	}
	return nil
}

// requestPath is the path exactly as received, without query string, for
// matching (G1) and for the signed content of the response.
func requestPath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" { // a handler called directly, not through a server
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	if !strings.HasPrefix(uri, "/") { // absolute-form request target
		if u, err := url.Parse(uri); err == nil {
			return u.EscapedPath()
		}
	}
	return uri
}

func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

func newTracerID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// truncate caps echoed input so a message never grows with an attacker's header.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// responseKey is the client's latest active RSA key, which an encrypted
// response's AES key is wrapped for.
func responseKey(s *Server, c *ipass.Client) (*rsa.PublicKey, int, bool) {
	k, ok := c.ActiveKey(ipass.AlgorithmRSA256, -1)
	if !ok {
		return nil, 0, false
	}
	pub, err := s.publicKey(k.PublicKey)
	if err != nil {
		return nil, 0, false
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	return rsaPub, k.Version, ok
}
