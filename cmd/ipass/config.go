package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// defaultDB is the embedded default database of `serve` and `admin`.
const defaultDB = "sqlite:./ipass-data/ipass.db"

// serveConfig is every `ipass serve` setting. Each resolves flag >
// IPASS_<FLAG_IN_UPPER_SNAKE> environment variable > default.
type serveConfig struct {
	addr              string        // listen address; default 127.0.0.1:8080, ":0" picks a free port
	addrFile          string        // write the bound host:port here once listening; default none
	db                string        // sqlite:PATH or postgres://...; default sqlite:DATA_DIR/ipass.db
	dataDir           string        // generated server keys, demo keys, default SQLite file; default ./ipass-data
	signingKey        string        // RSA private key PEM signing RSA256 responses; default generated in data dir
	eccSigningKey     string        // P-224 private key PEM signing ECC224 responses; default generated in data dir
	encryptionKey     string        // RSA private key unwrapping RSA_AES keys; default generated in data dir
	serverKeyVersion  int           // keyVersion of response Signature and expected request Encrypt; default 1
	tenants           string        // tenants file applied at start-up; default none
	requestTimeWindow time.Duration // accepted Request-Time skew either way; default 5m
	demo              bool          // provision the demo tenant on a database with no clients; default true
	logFormat         string        // text or json; default text
	logLevel          string        // debug, info, warn or error; default info
	shutdownTimeout   time.Duration // how long in-flight requests may take to finish on SIGTERM; default 15s
	drainDelay        time.Duration // on SIGTERM, how long /readyz says 503 before the listener closes; default 0
	tlsCert           string        // PEM certificate chain; with tlsKey serves HTTPS; default none (HTTP)
	tlsKey            string        // PEM private key for tlsCert; default none
	maxBodyBytes      int64         // largest accepted request body; default 1 MiB (spec G3)
	prevEncryptionKey string        // RSA private key still accepted for requests naming prevKeyVersion; default none
	prevKeyVersion    int           // the Encrypt keyVersion of prevEncryptionKey; default -1 (none)
	walletTimezone    string        // time zone of dates in the wallet pages; default Asia/Hong_Kong
	maxConnections    int           // open connections at most; default 0: the descriptor limit less a reserve
	metrics           bool          // serve Prometheus metrics at GET /metrics; default true
	metricsAddr       string        // serve /metrics only on this address, not on addr; default none
	cpuProfile        string        // write a Go CPU profile of the whole run here; default none
	sandbox           bool          // a sandbox: fails on purpose when asked (docs/sandbox.md); default false
	// Wallet event stream caps and keep-alive; defaults in package http.
	walletMaxStreams, walletMaxStreamsPerIP, walletMaxStreamsPerHolder int
	walletKeepAlive                                                    time.Duration
	requestLog                                                         requestLogConfig
}

func (c *serveConfig) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address` (:0 picks a free port; the bound address is logged)")
	fs.StringVar(&c.addrFile, "addr-file", "", "once listening, write the bound address as host:port to this `file`")
	fs.StringVar(&c.db, "db", "", "database: sqlite:PATH or postgres://... / postgresql://... (default sqlite:DATA_DIR/ipass.db)")
	fs.StringVar(&c.dataDir, "data-dir", "./ipass-data", "`directory` for generated server keys, demo keys and the default SQLite file")
	fs.StringVar(&c.signingKey, "signing-key", "", "RSA private key `file` (PKCS#8 or PKCS#1 PEM) signing RSA256 responses (default: generated in the data dir)")
	fs.StringVar(&c.eccSigningKey, "ecc-signing-key", "", "P-224 private key `file` (PKCS#8 or SEC1 PEM) signing ECC224 responses (default: generated in the data dir)")
	fs.StringVar(&c.encryptionKey, "encryption-key", "", "RSA private key `file` that decrypts RSA_AES symmetric keys (default: server-encryption.pem, generated in the data dir)")
	fs.IntVar(&c.serverKeyVersion, "server-key-version", 1, "keyVersion in response Signature headers and expected in request Encrypt headers")
	fs.StringVar(&c.tenants, "tenants", "", "tenants `file` applied at start-up (same as `ipass admin apply`)")
	fs.DurationVar(&c.requestTimeWindow, "request-time-window", 5*time.Minute, "accepted skew of Request-Time, either way")
	fs.BoolVar(&c.demo, "demo", true, "on a database with no clients, create the demo tenant")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "least severe log level written: debug, info, warn or error")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "on SIGTERM, how long in-flight requests may take to finish")
	fs.DurationVar(&c.drainDelay, "drain-delay", 0, "on SIGTERM, keep serving this long with /readyz answering 503 before closing the listener (set it to your load balancer's health-check interval)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate `file`; with --tls-key the server speaks HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key `file` for --tls-cert")
	fs.StringVar(&c.prevEncryptionKey, "previous-encryption-key", "", "during a server key rotation: the old RSA encryption key `file`, still accepted for requests whose Encrypt keyVersion is --previous-server-key-version")
	fs.IntVar(&c.prevKeyVersion, "previous-server-key-version", -1, "the Encrypt keyVersion of --previous-encryption-key")
	fs.BoolVar(&c.metrics, "metrics", true, "serve Prometheus metrics at GET /metrics, on the listen address or on --metrics-addr")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve GET /metrics on this `address` only (plain HTTP; e.g. 127.0.0.1:9090), and not on --addr")
	fs.StringVar(&c.cpuProfile, "cpu-profile", "", "write a Go CPU profile of the whole run to `FILE` when the server stops (performance work; see BENCHMARKS.md)")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", 1<<20, "largest accepted request body in bytes (REQUEST_TOO_LARGE above)")
	fs.IntVar(&c.maxConnections, "max-connections", 0, "most connections open at once (0: the descriptor limit, ulimit -n, less 128 kept for the database and files)")
	fs.BoolVar(&c.sandbox, "sandbox", false, "run a sandbox that fails on purpose when asked (`ipass admin chaos`, docs/sandbox.md); the database is recorded as a sandbox's and never serves production")
	c.walletFlags(fs)
	c.requestLog.flags(fs)
	return fs
}

// applyEnv sets every flag not given on the command line from its
// IPASS_<FLAG_IN_UPPER_SNAKE> environment variable, if that is set.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if setErr := fs.Set(f.Name, v); setErr != nil {
				err = fmt.Errorf("environment variable %s=%q: %v", name, v, setErr)
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return "IPASS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *serveConfig) validate() error {
	if c.db == "" {
		// The data dir holds everything a default start creates.
		c.db = "sqlite:" + filepath.Join(c.dataDir, "ipass.db")
	}
	switch c.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json", c.logFormat)
	}
	if _, err := parseLogLevel(c.logLevel); err != nil {
		return err
	}
	if c.requestTimeWindow <= 0 {
		return fmt.Errorf("--request-time-window %s: must be positive", c.requestTimeWindow)
	}
	if c.serverKeyVersion < 0 {
		return fmt.Errorf("--server-key-version %d: must not be negative", c.serverKeyVersion)
	}
	if (c.prevEncryptionKey == "") != (c.prevKeyVersion < 0) {
		return fmt.Errorf("--previous-encryption-key and --previous-server-key-version go together")
	}
	if c.prevEncryptionKey != "" && c.prevKeyVersion == c.serverKeyVersion {
		return fmt.Errorf("--previous-server-key-version %d: must differ from --server-key-version", c.prevKeyVersion)
	}
	if c.drainDelay < 0 || c.shutdownTimeout <= 0 {
		return fmt.Errorf("--drain-delay must not be negative and --shutdown-timeout must be positive")
	}
	if c.maxBodyBytes <= 0 {
		return fmt.Errorf("--max-body-bytes %d: must be positive", c.maxBodyBytes)
	}
	if c.metricsAddr != "" && !c.metrics {
		return fmt.Errorf("--metrics-addr needs --metrics")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	return c.requestLog.validate()
}
