package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipass-dev/ipass/gateway"
)

// The operations and their paths, as package gateway spells them for the
// server, the SDK and the CLI alike.
const (
	OpCreatePass = gateway.OpCreatePass
	OpUpdatePass = gateway.OpUpdatePass
	OpQueryPass  = gateway.OpQueryPass
	// OpQueryPassHistory is an ipass extension (docs/api.md).
	OpQueryPassHistory = gateway.OpQueryPassHistory
	// OpQueryRequestLog is an ipass extension (docs/api.md).
	OpQueryRequestLog = gateway.OpQueryRequestLog

	PathCreatePass = gateway.PathCreatePass
	PathUpdatePass = gateway.PathUpdatePass
	PathQueryPass  = gateway.PathQueryPass

	PathQueryPassHistory = gateway.PathQueryPassHistory
	PathQueryRequestLog  = gateway.PathQueryRequestLog
)

// Defaults of [Config].
const (
	// DefaultRetries is the number of retries `ipass call` makes unless told
	// otherwise. The zero Config makes none (one attempt), like
	// `ipass call --retries 0`: set Config.Retries to DefaultRetries to get
	// them.
	DefaultRetries            = 3
	DefaultRetryBackoff       = 200 * time.Millisecond
	DefaultResponseTimeWindow = 5 * time.Minute
	DefaultTimeout            = 30 * time.Second

	maxBackoff       = 5 * time.Second  // one wait never exceeds this
	maxRetryAfter    = 10 * time.Second // a server's Retry-After is honoured up to this
	maxResponseBytes = 8 << 20          // the largest response read (queryPass with a full dataInfo is ~70 KiB)
)

// Config configures a [Client]. Only BaseURL, ClientID, PrivateKey and (unless
// InsecureSkipVerify) ServerPublicKeys are required.
type Config struct {
	// BaseURL is the gateway: scheme, host and an optional path prefix, e.g.
	// "http://127.0.0.1:8080". The operation path is appended and the whole
	// path is what gets signed.
	BaseURL string
	// ClientID is the Client-Id the gateway registered for the caller.
	ClientID string
	// PrivateKey signs requests: RSA (RSA256) or ECDSA P-224 (ECC224). Any
	// crypto.Signer works, so the key may live in an HSM or KMS.
	PrivateKey crypto.Signer
	// KeyVersion is the registered version of PrivateKey, sent in the
	// Signature header. 0 is a legal version; a negative value omits the
	// item so the gateway uses the caller's latest key of Algorithm.
	KeyVersion int
	// Algorithm is RSA256 or ECC224; empty means derived from PrivateKey.
	Algorithm gateway.Algorithm

	// ServerPublicKeys verify response signatures, by the algorithm the
	// response names (an ipass server answers with the request's algorithm,
	// so the key of Algorithm is required). Values are *rsa.PublicKey for
	// RSA256 and P-224 *ecdsa.PublicKey for ECC224.
	ServerPublicKeys map[gateway.Algorithm]crypto.PublicKey
	// ServerKeyVersions holds server keys by the keyVersion a response's
	// Signature header names, for a server key rotation: a response naming a
	// version found here is verified with that key, any other with
	// ServerPublicKeys. Optional.
	ServerKeyVersions map[int]map[gateway.Algorithm]crypto.PublicKey
	// InsecureSkipVerify accepts responses without checking their signature
	// cryptographically. Responses must still carry Signature and
	// Response-Time. For debugging only: anyone on the path can forge results.
	InsecureSkipVerify bool

	// Encryption, if set, encrypts request bodies (RSA_AES, spec 2.6).
	// Responses that carry Encrypt are decrypted whether or not it is set.
	Encryption *Encryption
	// DecryptionKey unwraps the AES key of encrypted responses, which the
	// gateway wraps for the caller's latest RSA256 key. Nil means PrivateKey
	// when that is an RSA key; an ECC224 caller that receives encrypted
	// responses must set it.
	DecryptionKey *rsa.PrivateKey

	// HTTPClient sends the requests. Nil means a client of this package with
	// a 30 s timeout and a connection pool per Client. Redirects are never
	// followed (the signature covers the path), whatever HTTPClient says.
	HTTPClient *http.Client
	// Retries is the number of extra attempts after a U result or a
	// transport failure. 0 (or negative) means none: one attempt, as with
	// `ipass call --retries 0`. [DefaultRetries] is what `ipass call` uses.
	Retries int
	// RetryBackoff is the first wait between attempts, doubled each time
	// (with jitter) up to 5 s. 0 means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// ResponseTimeWindow bounds |Response-Time − now|: a signed response far
	// from the present is a replay of an old one. 0 means
	// DefaultResponseTimeWindow; negative disables the check.
	ResponseTimeWindow time.Duration
	// RequestTimeMillis sends Request-Time as epoch milliseconds instead of
	// RFC 3339 with a numeric offset and milliseconds (the default).
	RequestTimeMillis bool
	// Now is the clock for Request-Time and the Response-Time window; nil
	// means time.Now.
	Now func() time.Time
}

// Encryption is the request side of RSA_AES.
type Encryption struct {
	// ServerKey is the gateway's RSA encryption public key.
	ServerKey *rsa.PublicKey
	// KeyVersion is its version, sent in the Encrypt header; negative omits
	// the item (the gateway then uses its current key).
	KeyVersion int
	// AESKeySize is 16, 24 or 32 bytes; 0 means 32.
	AESKeySize int
}

// Client is the SDK: it calls the Open API on behalf of one registered
// caller (see the package comment; not [ipass.Client]). It is safe for
// concurrent use and should be reused.
type Client struct {
	base       string // BaseURL without a trailing slash
	basePath   string // its path prefix, signed as part of every path
	clientID   string
	signer     crypto.Signer
	alg        gateway.Algorithm
	keyVersion int
	serverKeys map[gateway.Algorithm]crypto.PublicKey
	versioned  map[int]map[gateway.Algorithm]crypto.PublicKey // by server keyVersion
	insecure   bool
	enc        *Encryption
	decrypter  *rsa.PrivateKey
	hc         *http.Client
	retries    int
	backoff    time.Duration
	window     time.Duration
	millis     bool
	now        func() time.Time
	ops        map[string]endpoint // known operations, precomputed
	lastMilli  atomic.Int64        // last Request-Time used, ms; see requestTime
}

// endpoint is where one operation is sent and what path is signed.
type endpoint struct {
	name string // operation name for errors
	path string // signed path (base path + operation path)
	url  string // full URL
}

// New checks cfg once and returns a Client. Errors name the field.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("client: BaseURL is required")
	case err != nil:
		return nil, fmt.Errorf("client: BaseURL %q: want http:// or https:// and a host: %w", cfg.BaseURL, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("client: BaseURL %q: want http:// or https:// and a host", cfg.BaseURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("client: BaseURL %q: no query, fragment or user info allowed", cfg.BaseURL)
	}
	if err := gateway.CheckClientID(cfg.ClientID); err != nil {
		return nil, fmt.Errorf("client: ClientID %q: %w (the rule: 1 to 64 visible ASCII characters)", cfg.ClientID, err)
	}
	if cfg.PrivateKey == nil {
		return nil, errors.New("client: PrivateKey is required")
	}
	keyAlg, err := gateway.AlgorithmOf(cfg.PrivateKey.Public())
	if err != nil {
		return nil, fmt.Errorf("client: PrivateKey: %w", err)
	}
	alg := cfg.Algorithm
	if alg == "" {
		alg = keyAlg
	} else if alg, err = gateway.ParseAlgorithm(string(alg)); err != nil {
		return nil, fmt.Errorf("client: Algorithm %q: want RSA256 or ECC224", cfg.Algorithm)
	}
	if alg != keyAlg {
		return nil, fmt.Errorf("client: Algorithm %s does not fit PrivateKey, a %s key", alg, keyAlg)
	}

	serverKeys, err := checkServerKeys("ServerPublicKeys", cfg.ServerPublicKeys)
	if err != nil {
		return nil, err
	}
	versioned := make(map[int]map[gateway.Algorithm]crypto.PublicKey, len(cfg.ServerKeyVersions))
	for v, keys := range cfg.ServerKeyVersions {
		if versioned[v], err = checkServerKeys(fmt.Sprintf("ServerKeyVersions[%d]", v), keys); err != nil {
			return nil, err
		}
	}
	if !cfg.InsecureSkipVerify && serverKeys[alg] == nil {
		return nil, fmt.Errorf("client: ServerPublicKeys has no %s key to verify responses with (or set InsecureSkipVerify)", alg)
	}

	c := &Client{
		base:       strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"),
		basePath:   strings.TrimRight(u.EscapedPath(), "/"),
		clientID:   cfg.ClientID,
		signer:     cfg.PrivateKey,
		alg:        alg,
		keyVersion: cfg.KeyVersion,
		serverKeys: serverKeys,
		versioned:  versioned,
		insecure:   cfg.InsecureSkipVerify,
		decrypter:  cfg.DecryptionKey,
		retries:    cfg.Retries,
		backoff:    cfg.RetryBackoff,
		window:     cfg.ResponseTimeWindow,
		millis:     cfg.RequestTimeMillis,
		now:        cfg.Now,
	}
	if c.decrypter == nil {
		c.decrypter, _ = cfg.PrivateKey.(*rsa.PrivateKey)
	}
	if cfg.Encryption != nil {
		e := *cfg.Encryption
		if e.ServerKey == nil {
			return nil, errors.New("client: Encryption.ServerKey is required")
		}
		if e.AESKeySize == 0 {
			e.AESKeySize = 32
		}
		if e.AESKeySize != 16 && e.AESKeySize != 24 && e.AESKeySize != 32 {
			return nil, fmt.Errorf("client: Encryption.AESKeySize %d: want 16, 24 or 32", e.AESKeySize)
		}
		if c.decrypter == nil {
			// Without it every encrypted response would fail to decrypt.
			return nil, errors.New("client: Encryption needs DecryptionKey (the caller's RSA key the gateway encrypts responses to) when PrivateKey is not RSA")
		}
		c.enc = &e
	}
	// 0 must mean what `ipass call --retries 0` means: no retries. A zero
	// value that silently meant "some" surprised integrators who set 0.
	c.retries = max(c.retries, 0)
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.window == 0 {
		c.window = DefaultResponseTimeWindow
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.hc = httpClient(cfg.HTTPClient)
	ops := gateway.Operations()
	c.ops = make(map[string]endpoint, len(ops))
	for _, op := range ops {
		c.ops[op.Name] = c.endpoint(op.Name, op.Path)
	}
	return c, nil
}

func (c *Client) endpoint(name, path string) endpoint {
	return endpoint{name: name, path: c.basePath + path, url: c.base + path}
}

// httpClient returns hc (or a default) with redirects disabled: a
// redirected request would be verified by the server against a path it was
// not signed for, and its response against the wrong path by us.
func httpClient(hc *http.Client) *http.Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32 // the default 2 would reconnect under any concurrency
		t.ResponseHeaderTimeout = DefaultTimeout
		hc = &http.Client{Transport: t, Timeout: DefaultTimeout}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Call sends body, byte for byte, as a signed request of operation and
// returns the verified response if its resultStatus is S. operation is
// "createPass", "updatePass" or "queryPass", or an absolute path starting
// with "/" for other endpoints of the same gateway protocol.
//
// With Encryption configured, body is the plaintext JSON and the signature
// covers its encryption. Errors are *[ResultError] (F, or U after retries;
// its Response holds the verified response) and *[ProtocolError].
func (c *Client) Call(ctx context.Context, operation string, body []byte) (*Response, error) {
	ep, err := c.lookup(operation)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, ep, body)
}

// lookup finds operation's endpoint: a known name or an absolute path.
func (c *Client) lookup(operation string) (endpoint, error) {
	if ep, ok := c.ops[operation]; ok {
		return ep, nil
	}
	if !strings.HasPrefix(operation, "/") {
		return endpoint{}, fmt.Errorf("client: unknown operation %q: want %s or a path", operation, operationNames())
	}
	return c.endpoint(operation, operation), nil
}

// seal encrypts plain when Encryption is configured; otherwise it is the wire body itself.
func (c *Client) seal(ep endpoint, plain []byte) (wire []byte, encHeader string, err error) {
	if c.enc == nil {
		return plain, "", nil
	}
	if wire, encHeader, err = gateway.Seal(c.enc.ServerKey, c.enc.KeyVersion, c.enc.AESKeySize, plain); err != nil {
		return nil, "", fmt.Errorf("client: %s: encrypt request: %w", ep.name, err)
	}
	return wire, encHeader, nil
}

// do runs the attempts of one call.
func (c *Client) do(ctx context.Context, ep endpoint, plain []byte) (*Response, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, &ProtocolError{Operation: ep.name, Check: CheckTransport, Attempts: attempt - 1, Err: err}
		}
		// Sealed afresh for every attempt: the server accepts a wrapped
		// AES key once, so a retry cannot reuse the first attempt's.
		wire, encHeader, err := c.seal(ep, plain)
		if err != nil {
			return nil, err
		}
		req, err := c.prepare(ctx, ep, wire, encHeader, c.requestTime())
		if err != nil {
			return nil, err
		}
		resp, err := c.exchange(ep, req, attempt)
		if err == nil {
			return resp, nil
		}
		wait, retry := c.retryable(ctx, err, attempt)
		if !retry {
			return nil, err
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) <= wait {
			return nil, err // the next attempt could not finish in time anyway
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// requestTime returns the instant for the next Request-Time: the clock's
// millisecond, or one after the last one this Client used if that is not
// earlier. The server refuses a signed content it has seen (spec 2.9), so
// two identical calls in the same millisecond (concurrent queries of one
// pass, a retry with a frozen or coarse clock) must not share a time. The
// times run ahead of the clock only while a Client sends more than 1000
// requests a second, far above the gateways' per-client rate limits.
func (c *Client) requestTime() time.Time {
	now := c.now()
	for {
		last := c.lastMilli.Load()
		ms := max(now.UnixMilli(), last+1)
		if c.lastMilli.CompareAndSwap(last, ms) {
			return time.UnixMilli(ms).In(now.Location())
		}
	}
}

// prepare builds one signed attempt: Request-Time, content, signature and
// headers. It is the per-call work BenchmarkPrepareCall measures.
func (c *Client) prepare(ctx context.Context, ep endpoint, wire []byte, encHeader string, now time.Time) (*http.Request, error) {
	var tbuf [40]byte
	var reqTime string
	if c.millis {
		reqTime = string(strconv.AppendInt(tbuf[:0], now.UnixMilli(), 10))
	} else {
		reqTime = string(now.AppendFormat(tbuf[:0], "2006-01-02T15:04:05.000-07:00"))
	}
	content := gateway.Content(http.MethodPost, ep.path, c.clientID, reqTime, wire)
	sig, err := gateway.Sign(c.signer, c.alg, content)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", ep.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(wire))
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", ep.name, err)
	}
	h := req.Header
	// One backing array for all values; the keys are already canonical.
	n := 4
	if encHeader != "" {
		n = 5
	}
	vals := make([]string, n)
	vals[0], vals[1], vals[2] = c.clientID, reqTime, gateway.FormatSignatureHeader(c.alg, c.keyVersion, sig)
	h["Client-Id"] = vals[0:1:1]
	h["Request-Time"] = vals[1:2:2]
	h["Signature"] = vals[2:3:3]
	if encHeader != "" {
		vals[3], vals[4] = "text/plain; charset=UTF-8", encHeader
		h["Content-Type"] = vals[3:4:4]
		h["Encrypt"] = vals[4:5:5]
	} else {
		vals[3] = "application/json; charset=UTF-8"
		h["Content-Type"] = vals[3:4:4]
	}
	return req, nil
}

// retryable decides whether err deserves another attempt and how long to
// wait first. Only U results and failures to get any answer qualify: an F is
// final, and a response that fails verification would fail again (or is an
// attack), so neither is retried.
// untrusted are the checks whose failure leaves the outcome of a call
// unknown: an answer came, but not one to believe.
var untrusted = map[string]bool{
	CheckSignatureMissing: true, CheckResponseTimeMissing: true, CheckHeaderRepeated: true,
	CheckSignatureUnparsable: true, CheckSignatureInvalid: true, CheckResponseTimeUnparsable: true,
	CheckResponseTimeWindow: true, CheckDecrypt: true, CheckClientIDMismatch: true,
}

func (c *Client) retryable(ctx context.Context, err error, attempt int) (time.Duration, bool) {
	if attempt > c.retries {
		return 0, false
	}
	var retryAfter time.Duration
	var re *ResultError
	var pe *ProtocolError
	switch {
	case errors.As(err, &re):
		if re.ResultStatus != "U" {
			return 0, false
		}
		if re.Response != nil {
			// Unsigned, so only ever lengthens the wait, within bounds.
			if s, err := strconv.Atoi(re.Response.Header.Get("Retry-After")); err == nil && s > 0 {
				retryAfter = min(time.Duration(s)*time.Second, maxRetryAfter)
			}
		}
	case errors.As(err, &pe):
		// An answer that cannot be trusted (unsigned — as a proxy's 502–504
		// is —, badly signed, stale, undecryptable) tells nothing of what the
		// server did: the call is as unanswered as after a lost connection,
		// and asking again is how to learn. It is safe: the API's writes are
		// idempotent for the same content under a fresh Request-Time (an
		// exact retry makes no new version; createPass finds its bizSerialId).
		if !untrusted[pe.Check] && pe.Check != CheckTransport {
			return 0, false
		}
		if errors.Is(pe.Err, context.Canceled) || isCertificateError(pe.Err) {
			return 0, false
		}
		// The caller's own deadline ends the call; the HTTP client's
		// per-attempt timeout is one more unanswered attempt.
		if errors.Is(pe.Err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	d := c.backoff << (attempt - 1)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	// Jitter in [d/2, d) spreads the retries of many callers hit at once.
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter), true
}

// checkServerKeys copies keys after checking each is of the algorithm it is
// filed under, so a misfiled key fails at New, not at the first response.
func checkServerKeys(name string, keys map[gateway.Algorithm]crypto.PublicKey) (map[gateway.Algorithm]crypto.PublicKey, error) {
	out := make(map[gateway.Algorithm]crypto.PublicKey, len(keys))
	for a, k := range keys {
		ka, err := gateway.AlgorithmOf(k)
		if err != nil {
			return nil, fmt.Errorf("client: %s[%s]: %w", name, a, err)
		}
		if ka != a {
			return nil, fmt.Errorf("client: %s[%s] is a %s key", name, a, ka)
		}
		out[a] = k
	}
	return out, nil
}

// isCertificateError reports whether err is a TLS certificate verification
// failure: the same certificate fails the same way on every attempt, so
// retrying only delays the message that says what to fix.
func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// operationNames lists the operations for a message: "createPass, …, or queryPassHistory".
func operationNames() string {
	var names []string
	for _, op := range gateway.Operations() {
		names = append(names, op.Name)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
