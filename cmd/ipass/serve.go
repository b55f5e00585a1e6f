package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/examples"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/keyfile"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
)

func init() {
	register("serve", "run the server", runServe)
}

func runServe(ctx context.Context, e *env, args []string) int {
	var cfg serveConfig
	fs := cfg.flagSet(e.stderr)
	if code, ok := parseFlags(e, fs, "Usage: ipass serve [flags]\n\nRuns the open-API server (docs/api.md; operating it: docs/operating.md). Every flag can also be given as IPASS_<FLAG_IN_UPPER_SNAKE> (the flag wins).\n\nFlags:\n", args); !ok {
		return code
	}
	if err := applyEnv(fs, e.getenv); err != nil {
		fmt.Fprintf(e.stderr, "ipass serve: %v\n", err)
		return exitUsage
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintf(e.stderr, "ipass serve: %v\n", err)
		return exitUsage
	}
	logger := newLogger(e.stderr, cfg.logFormat, cfg.logLevel)
	cpus := ensureProcs(e.getenv, logger)
	if err := serve(ctx, &cfg, cpus, logger, e.stdout); err != nil {
		logger.Error("server stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

func newLogger(w io.Writer, format, level string) *slog.Logger {
	lvl, _ := parseLogLevel(level) // validated with the other flags
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseLogLevel reads --log-level.
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// serve runs until ctx is cancelled (SIGINT/SIGTERM), then drains. cpus is
// the process's CPU count, for the metrics.
func serve(ctx context.Context, cfg *serveConfig, cpus int, logger *slog.Logger, stdout io.Writer) error {
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	db, err := sqlstore.Open(ctx, cfg.db, logger)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.ClaimMode(ctx, cfg.sandbox); err != nil {
		return err
	}
	keys, err := loadServerKeys(ctx, cfg, db, logger)
	if err != nil {
		return err
	}
	keys.keys = withFastCrypto(keys.keys, logger)

	if cfg.tenants != "" {
		t, err := tenants.Load(cfg.tenants)
		if err != nil {
			return fmt.Errorf("tenants file: %w", err)
		}
		if err := db.Apply(ctx, t); err != nil {
			return fmt.Errorf("apply tenants file %s: %w", cfg.tenants, err)
		}
		logger.Info("tenants applied", "file", cfg.tenants, "clients", len(t.Clients), "merchants", len(t.Merchants),
			"templates", len(t.Templates), "users", len(t.Users))
	}
	var demo *tenants.DemoInfo
	if cfg.demo {
		if demo, err = provisionDemo(ctx, db, cfg.dataDir, logger); err != nil {
			return err
		}
	}
	warnLoosePermissions(logger, cfg, keys)

	srv := &ipasshttp.Server{
		Service:           &service.Service{Tenants: db, Passes: db, Logger: logger},
		Tenants:           db,
		Gate:              db,
		WrappedKeys:       db,
		Pinger:            db,
		Keys:              keys.keys,
		Logger:            logger,
		RequestTimeWindow: cfg.requestTimeWindow,
		MaxBodyBytes:      cfg.maxBodyBytes,
	}
	if w := startRequestLog(ctx, cfg.requestLog, db, logger); w != nil {
		srv.RequestLog, srv.NodeName = w, cfg.requestLog.nodeName
		// After Shutdown no request is left to record: write what is queued.
		defer w.Close(context.Background())
	}
	if cfg.sandbox {
		srv.Chaos = db
		srv.Service.(*service.Service).Clocks = db
	}
	if srv.Wallet, err = newWallet(cfg, db, logger); err != nil {
		return err
	}
	if cfg.sandbox {
		srv.Wallet.Clocks = db // the wallet follows the merchants' moved clocks too
	}
	if srv.MaxConnections, srv.Wallet.MaxStreams, err = connectionLimits(cfg, logger); err != nil {
		return err
	}
	var ms *http.Server // --metrics-addr's own server
	if cfg.metrics {
		if h := instrument(srv, db, cpus); cfg.metricsAddr == "" {
			srv.Metrics = h
		} else {
			ms = metricsServer(h, logger)
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	ln = srv.Listener(ln)
	if ms != nil {
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on --metrics-addr %s: %w", cfg.metricsAddr, err)
		}
		logger.Info("metrics listening", "addr", mln.Addr().String(), "url", "http://"+mln.Addr().String()+"/metrics")
		go func() {
			if err := ms.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics listener stopped", "err", err)
			}
		}()
		// Closed last, so scrapes still see the drain.
		defer ms.Close()
	}
	addr := ln.Addr().String()
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	logger.Info("listening", "addr", addr, "url", scheme+"://"+addr, "db", redactDSN(cfg.db), "engine", db.Engine(),
		"max_connections", srv.MaxConnections, "wallet_max_streams", srv.Wallet.MaxStreams, "sandbox", cfg.sandbox)
	if cfg.sandbox {
		logger.Warn("SANDBOX: this server fails on purpose when asked (ipass admin chaos, docs/sandbox.md); never use it or its database for production")
		if cfg.logFormat != "json" {
			fmt.Fprintln(stdout, "SANDBOX: this server fails on purpose when asked (ipass admin chaos, docs/sandbox.md).")
		}
	}
	if demo != nil {
		// In JSON mode the banner is a log record: log collectors read stdout
		// and stderr alike, so keep it one JSON stream.
		var b strings.Builder
		out := io.Writer(stdout)
		if cfg.logFormat == "json" {
			out = &b
		}
		examplesDir, err := writeQuickstartExamples(cfg.dataDir)
		if err != nil {
			ln.Close()
			return err
		}
		printQuickstart(out, demo, keys, scheme+"://"+addr, selfCommand(), examplesDir)
		if err := printWalletLink(ctx, out, db, demo, scheme+"://"+addr); err != nil {
			ln.Close()
			return err
		}
		if cfg.logFormat == "json" {
			logger.Info("quickstart", "text", strings.TrimSpace(b.String()))
		}
	}
	// Written last: a script that waits for this file then also finds the
	// whole banner printed.
	if cfg.addrFile != "" {
		if err := os.WriteFile(cfg.addrFile, []byte(addr), 0o600); err != nil {
			ln.Close()
			return fmt.Errorf("write --addr-file: %w", err)
		}
	}

	hs := srv.HTTPServer()
	go pruneReplayRecords(ctx, db, logger)

	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- hs.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "drain_delay", cfg.drainDelay, "timeout", cfg.shutdownTimeout)
	srv.Drain()
	// Keep accepting for a while so load balancers see /readyz fail and
	// stop routing here before connections start being refused.
	if cfg.drainDelay > 0 {
		select {
		case <-time.After(cfg.drainDelay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// pruneReplayRecords deletes expired replay records, and the answers kept
// with them for repeats, once a minute so the table stays proportional to
// the traffic of one window.
func pruneReplayRecords(ctx context.Context, db ipass.Gate, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := db.PruneRequests(ctx, now); err != nil {
				logger.Warn("prune replay records", "err", err)
			} else if n > 0 {
				logger.Debug("pruned replay records", "count", n)
			}
		}
	}
}

func provisionDemo(ctx context.Context, db *sqlstore.DB, dataDir string, logger *slog.Logger) (*tenants.DemoInfo, error) {
	has, err := db.HasClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("check for clients: %w", err)
	}
	if has {
		// Still print the quickstart on later starts if this is the demo
		// tenant's data dir, so the commands are never lost.
		if _, err := os.Stat(filepath.Join(dataDir, "demo-client.pem")); err != nil {
			return nil, nil
		}
	}
	t, info, err := tenants.Demo(dataDir)
	if err != nil {
		return nil, fmt.Errorf("demo tenant: %w", err)
	}
	if has {
		if _, err := db.Client(ctx, info.ClientID); err != nil {
			return nil, nil
		}
	}
	if !has {
		if err := db.Apply(ctx, t); err != nil {
			return nil, fmt.Errorf("apply demo tenant: %w", err)
		}
		logger.Info("demo tenant created", "client_id", info.ClientID, "merchant_id", info.MerchantID)
	}
	return info, nil
}

// quickstartExamples are the bodies the banner's commands send.
var quickstartExamples = []string{"member-card-create.json", "member-card-points.json", "query.json"}

// writeQuickstartExamples copies the banner's example bodies into
// DATA_DIR/examples, so its commands find them in whatever folder the server
// was started from (examples/ of a clone is only there at its root).
func writeQuickstartExamples(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "examples")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("quickstart examples: %w", err)
	}
	for _, name := range quickstartExamples {
		data, err := examples.Files.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("quickstart examples: %w", err)
		}
		if err := keyfile.WriteIfChanged(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("quickstart examples: %w", err)
		}
	}
	return dir, nil
}

// printQuickstart writes the demo banner. Its commands are meant to be
// pasted into a shell in the server's working directory: every path is
// shell-quoted (a data dir may have spaces), and the connection flags are
// exported as the IPASS_* variables ipass call reads, because a FLAGS
// variable expanded unquoted is split into words by sh and bash but not by
// zsh.
func printQuickstart(w io.Writer, demo *tenants.DemoInfo, keys *serverKeySet, url, self, examplesDir string) {
	self = shellCommand(self)
	ex := func(name string) string { return shellQuote(filepath.Join(examplesDir, name)) }
	fmt.Fprintf(w, `
ipass is running at %s with the demo tenant.
  client id:   %s (RSA256 key version 1, private key %s)
  merchant id: %s   users: %s
  server keys (version %d): RSA256 %s, ECC224 %s, encryption %s
Try it from another terminal, in this folder:
  export IPASS_URL=%s IPASS_CLIENT_ID=%s IPASS_KEY=%s IPASS_SERVER_PUBLIC_KEY=%s
  PASS=$(%s call createPass --field passId %s)
  %s call updatePass --set passId="$PASS" %s
  %s call queryPass --set passId="$PASS" %s
Encrypted (RSA_AES):
  %s call queryPass --encrypt --server-encryption-key %s --set passId="$PASS" %s

`, url, demo.ClientID, demo.PrivateKeyFile, demo.MerchantID, strings.Join(demo.UserIDs, ", "),
		keys.keys.KeyVersion, keys.rsaSign.pubPEM, keys.eccSign.pubPEM, keys.encrypt.pubPEM,
		shellQuote(url), shellQuote(demo.ClientID), shellQuote(demo.PrivateKeyFile), shellQuote(keys.rsaSign.pubPEM),
		self, ex("member-card-create.json"), self, ex("member-card-points.json"), self, ex("query.json"),
		self, shellQuote(keys.encrypt.pubPEM), ex("query.json"))
}

// shellQuote quotes s for a POSIX shell (and zsh) unless it needs none.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellCommand quotes the binary's path; `go run ./cmd/ipass` stays words.
func shellCommand(self string) string {
	if self == goRunSelf {
		return self
	}
	return shellQuote(self)
}

// selfCommand is how the banner tells the user to run ipass: `go run
// ./cmd/ipass` when this process was started that way (its binary lives in
// the go command's build cache), else this binary's own path.
func selfCommand() string {
	exe, err := os.Executable()
	return selfCommandOf(exe, err)
}

// goRunSelf runs ipass from the source, in a clone's root.
const goRunSelf = "go run ./cmd/ipass"

func selfCommandOf(exe string, err error) string {
	if err != nil || strings.Contains(exe, "go-build") {
		return goRunSelf
	}
	return exe
}

// redactDSN hides a PostgreSQL password in logs.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
}
