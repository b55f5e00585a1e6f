// Package http is the ipass server: the open-API endpoints behind the
// gateway checks of docs/api.md, "Processing order" (G1–G12), health and readiness
// probes, and the single place where a result becomes a signed HTTP response.
//
// It depends on root interfaces only ([ipass.PassService], [ipass.TenantStore],
// [ipass.Gate], [ipass.Pinger]); cmd/ipass plugs the store in. Import it as ipasshttp where net/http is also used.
package http

import (
	"context"
	"crypto"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// The endpoint paths, as package gateway spells them. Matching is exact and
// case-sensitive (spec 1, rule 1).
const (
	PathCreatePass = gateway.PathCreatePass
	PathUpdatePass = gateway.PathUpdatePass
	PathQueryPass  = gateway.PathQueryPass
	// PathQueryPassHistory is this project's extension [ext] (docs/api.md).
	PathQueryPassHistory = gateway.PathQueryPassHistory
	// PathQueryRequestLog is this project's extension [ext] (docs/api.md).
	PathQueryRequestLog = gateway.PathQueryRequestLog
)

// DefaultMaxBodyBytes is the request body limit of G3 (1 MiB as received).
const DefaultMaxBodyBytes = 1 << 20

// DefaultMaxHeaderBytes caps the request headers this handler accepts (names
// plus values). The http.Server's own MaxHeaderBytes should be set well above
// it (see [TransportMaxHeaderBytes]) so that moderately oversized headers still
// get a signed REQUEST_TOO_LARGE from us rather than net/http's unsigned 431.
const DefaultMaxHeaderBytes = 64 << 10

// TransportMaxHeaderBytes is the http.Server MaxHeaderBytes to pair with
// DefaultMaxHeaderBytes: past it net/http answers 431 itself, unsigned.
const TransportMaxHeaderBytes = 1 << 20

// ServerKeys are the server's own keys. Signers stay behind crypto.Signer so
// only the key-loading code sees key bytes.
type ServerKeys struct {
	RSASigner  crypto.Signer    // signs RSA256 responses
	ECCSigner  crypto.Signer    // signs ECC224 responses (P-224)
	Decrypter  crypto.Decrypter // unwraps RSA_AES symmetric keys sent by clients (RSA)
	KeyVersion int              // reported in response Signature headers; expected in request Encrypt headers

	// PreviousDecrypter, when set, still unwraps requests whose Encrypt
	// keyVersion is PreviousKeyVersion: merchants that encrypt can move to
	// the new server key over a grace period instead of at one instant.
	PreviousDecrypter  crypto.Decrypter
	PreviousKeyVersion int

	// SigningDecrypter is the RSA signing key as a decrypter, used only for
	// clients set to encryptionKey: signing (SDKs that know one server
	// key). nil: RSASigner is used when it is a crypto.Decrypter, and
	// otherwise such requests fail as any undecryptable request does.
	SigningDecrypter crypto.Decrypter
}

// decrypterFor returns the private key for an Encrypt keyVersion (-1: absent,
// meaning the current key) and the client's encryptionKey setting. A client
// on the signing key has no previous key: the signing key has no grace
// period either.
func (k *ServerKeys) decrypterFor(version int, which ipass.EncryptionKey) (crypto.Decrypter, bool) {
	if which == ipass.EncryptionKeySigning {
		if version >= 0 && version != k.KeyVersion {
			return nil, false
		}
		return k.signingDecrypter(), true
	}
	switch {
	case version < 0 || version == k.KeyVersion:
		return k.Decrypter, true
	case k.PreviousDecrypter != nil && version == k.PreviousKeyVersion:
		return k.PreviousDecrypter, true
	}
	return nil, false
}

// signingDecrypter is SigningDecrypter, or RSASigner if it can decrypt; nil
// otherwise, which gateway.OpenRequest answers like any failure.
func (k *ServerKeys) signingDecrypter() crypto.Decrypter {
	if k.SigningDecrypter != nil {
		return k.SigningDecrypter
	}
	if d, ok := k.RSASigner.(crypto.Decrypter); ok {
		return d
	}
	return nil
}

// Server answers the open API. Configure the exported fields, then call
// [Server.Handler]. It is safe for concurrent use once serving.
type Server struct {
	Service ipass.PassService // business operations (required)
	Tenants ipass.TenantStore // client and key lookup (required)
	Gate    ipass.Gate        // replay records and rate limits; nil disables both
	// WrappedKeys makes each Encrypt symmetricKey usable once, server-wide;
	// nil disables the check.
	WrappedKeys ipass.WrappedKeyStore
	Pinger      ipass.Pinger     // readiness; nil means always ready
	Keys        ServerKeys       // server keys (RSASigner required)
	Logger      *slog.Logger     // one line per request; nil discards
	Now         func() time.Time // clock; nil means time.Now
	Wallet      *Wallet          // the wallet pages (/wallet/, /static/wallet/); nil: not served

	// Observer receives request and crypto timings; nil disables them.
	Observer Observer
	// Metrics, when set, answers GET /metrics (the Prometheus exposition).
	Metrics http.Handler
	// RequestLog keeps every request of a known client for the merchant
	// to read (queryRequestLog [ext], requestlog.go); nil: none is kept
	// and queryRequestLog is not offered.
	RequestLog ipass.RequestLog
	// NodeName names this process in the request log.
	NodeName string

	// RequestTimeWindow is W of spec 2.3: accepted |now − Request-Time|.
	RequestTimeWindow time.Duration
	// MaxRequestDuration bounds the time from a request's arrival to its
	// write (see [ipass.Admission]); 0 means DefaultMaxRequestDuration.
	MaxRequestDuration time.Duration
	// MaxClockSkew is how far apart the clocks of the processes sharing the
	// database may be; 0 means DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// MaxKeptAnswer is the largest answer kept for repeats, in bytes; 0
	// means DefaultMaxKeptAnswer.
	MaxKeptAnswer int
	// MaxBodyBytes is the G3 limit; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxHeaderBytes caps the request headers; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxConnections caps the open connections of [Server.Listener]; 0
	// means no cap (see connlimit.go).
	MaxConnections int

	// Chaos, when set, makes this a sandbox that fails on purpose as the
	// rules stored there say (sandbox.go); nil for every production server.
	Chaos ipass.ChaosStore
	// ChaosRefresh is how long the list of clients with rules is trusted;
	// 0 means DefaultChaosRefresh.
	ChaosRefresh time.Duration

	draining  atomic.Bool
	keyCache  sync.Map // provisioned public key text → crypto.PublicKey
	connsOnce sync.Once
	conns     *connTable

	chaosCache chaosCache
}

// HTTPServer wraps the handler in the *http.Server `ipass serve` runs, with
// the timeouts that keep slow or idle clients from pinning connections.
func (s *Server) HTTPServer() *http.Server {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second, // slow-loris: headers must arrive promptly
		ReadTimeout:       30 * time.Second, // a 1 MiB body needs no longer
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    TransportMaxHeaderBytes,
		// Without this net/http answers "OPTIONS *" itself, unsigned; with
		// it the request reaches the handler and gets a signed
		// NO_INTERFACE_DEF like any other unknown path.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
	if s.Wallet != nil {
		hs.RegisterOnShutdown(s.Wallet.Shutdown) // end event streams, or Shutdown waits for them
	}
	conns := s.connTable()
	hs.ConnState = conns.track
	hs.RegisterOnShutdown(conns.closeUnused)
	return hs
}

// Drain marks the server as shutting down: /readyz answers 503 so load
// balancers stop sending traffic while in-flight requests finish.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return slog.New(truncating(s.Logger.Handler()))
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) maxHeader() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// Handler returns the root handler: /healthz, /readyz, /openapi.json and the open API.
// Every other path is answered by the API handler as NO_INTERFACE_DEF.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				s.serveHealth(w)
				return
			}
		case "/metrics":
			if s.Metrics != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				s.Metrics.ServeHTTP(w, r)
				return
			}
		case "/readyz":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				s.serveReady(w, r)
				return
			}
		case "/openapi.json":
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				serveOpenAPI(w, r)
				return
			}
		}
		if s.Wallet != nil && (strings.HasPrefix(r.URL.Path, "/wallet/") || strings.HasPrefix(r.URL.Path, "/static/wallet/")) {
			s.Wallet.ServeHTTP(w, r)
			return
		}
		s.serveAPI(w, r)
	})
}

func (s *Server) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("draining\n"))
		return
	}
	if s.Pinger != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Pinger.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unreachable\n"))
			return
		}
	}
	if s.Chaos != nil {
		_, _ = w.Write([]byte("ready (sandbox: fails on purpose when asked; never production)\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// publicKey parses a provisioned key once and caches it: parsing SPKI on
// every request would cost more than the signature check itself.
func (s *Server) publicKey(text string) (crypto.PublicKey, error) {
	if k, ok := s.keyCache.Load(text); ok {
		return k, nil
	}
	k, err := gateway.ParsePublicKey([]byte(text))
	if err != nil {
		return nil, errors.Join(errors.New("parse provisioned client key"), err)
	}
	s.keyCache.Store(text, k)
	return k, nil
}
