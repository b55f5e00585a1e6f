package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
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
	logger := newLogger(e.stderr, cfg.logFormat)
	if err := serve(ctx, &cfg, logger, e.stdout); err != nil {
		logger.Error("server stopped", "err", err)
		return exitFailure
	}
	return exitOK
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// serve runs until ctx is cancelled (SIGINT/SIGTERM), then drains.
func serve(ctx context.Context, cfg *serveConfig, logger *slog.Logger, stdout io.Writer) error {
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	keys, err := loadServerKeys(cfg, logger)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.db, logger)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()

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

	srv := &ipasshttp.Server{
		Service:           &service.Service{Tenants: db, Passes: db, Logger: logger},
		Tenants:           db,
		Replay:            db,
		Limiter:           db,
		Pinger:            db,
		Keys:              keys,
		Logger:            logger,
		RequestTimeWindow: cfg.requestTimeWindow,
		MaxBodyBytes:      cfg.maxBodyBytes,
	}
	if srv.Wallet, err = newWallet(cfg, db, logger); err != nil {
		return err
	}
	if cfg.metrics {
		instrument(srv, db)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	addr := ln.Addr().String()
	scheme := "http"
	if cfg.tlsCert != "" {
		scheme = "https"
	}
	logger.Info("listening", "addr", addr, "url", scheme+"://"+addr, "db", redactDSN(cfg.db), "engine", db.Engine())
	if cfg.addrFile != "" {
		if err := os.WriteFile(cfg.addrFile, []byte(addr), 0o600); err != nil {
			ln.Close()
			return fmt.Errorf("write --addr-file: %w", err)
		}
	}
	if demo != nil {
		printQuickstart(stdout, demo, cfg, scheme+"://"+addr)
		if err := printWalletLink(ctx, stdout, db, demo, scheme+"://"+addr); err != nil {
			ln.Close()
			return err
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

// pruneReplayRecords deletes expired replay records once a minute so the
// table stays proportional to the traffic of one window.
func pruneReplayRecords(ctx context.Context, db ipass.ReplayStore, logger *slog.Logger) {
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

func printQuickstart(w io.Writer, demo *tenants.DemoInfo, cfg *serveConfig, url string) {
	self := "go run ./cmd/ipass"
	flags := fmt.Sprintf("--url %s --client-id %s --key %s --server-public-key %s",
		url, demo.ClientID, demo.PrivateKeyFile, filepath.Join(cfg.dataDir, "server-signing.pub.pem"))
	fmt.Fprintf(w, `
ipass is running at %s with the demo tenant.
  client id:   %s (RSA256 key version 1, private key %s)
  merchant id: %s   users: %s
Try it from another terminal, in this folder:
  FLAGS="%s"
  PASS=$(%s call createPass $FLAGS --field passId examples/member-card-create.json)
  %s call updatePass $FLAGS --set passId=$PASS examples/member-card-points.json
  %s call queryPass  $FLAGS --set passId=$PASS examples/query.json

`, url, demo.ClientID, demo.PrivateKeyFile, demo.MerchantID, strings.Join(demo.UserIDs, ", "), flags, self, self, self)
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

// loadServerKeys loads the configured server keys, or generates them in the
// data dir once and reuses them afterwards so merchants can pin them.
func loadServerKeys(cfg *serveConfig, logger *slog.Logger) (ipasshttp.ServerKeys, error) {
	keys := ipasshttp.ServerKeys{KeyVersion: cfg.serverKeyVersion}
	rsaSigner, err := loadOrGenerate(cfg.signingKey, filepath.Join(cfg.dataDir, "server-signing"), gateway.RSA256, logger)
	if err != nil {
		return keys, fmt.Errorf("signing key: %w", err)
	}
	if _, ok := rsaSigner.Public().(*rsa.PublicKey); !ok {
		return keys, errors.New("--signing-key: not an RSA key")
	}
	eccSigner, err := loadOrGenerate(cfg.eccSigningKey, filepath.Join(cfg.dataDir, "server-ecc-signing"), gateway.ECC224, logger)
	if err != nil {
		return keys, fmt.Errorf("ECC signing key: %w", err)
	}
	if pub, ok := eccSigner.Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P224() {
		return keys, errors.New("--ecc-signing-key: not a P-224 EC key")
	}
	keys.RSASigner, keys.ECCSigner = rsaSigner, eccSigner
	decrypter := rsaSigner
	if cfg.encryptionKey != "" {
		if decrypter, err = loadKey(cfg.encryptionKey); err != nil {
			return keys, fmt.Errorf("--encryption-key: %w", err)
		}
	}
	priv, ok := decrypter.(*rsa.PrivateKey)
	if !ok {
		return keys, errors.New("--encryption-key: not an RSA private key")
	}
	keys.Decrypter = priv
	if cfg.prevEncryptionKey != "" {
		prev, err := loadKey(cfg.prevEncryptionKey)
		if err != nil {
			return keys, fmt.Errorf("--previous-encryption-key: %w", err)
		}
		prevRSA, ok := prev.(*rsa.PrivateKey)
		if !ok {
			return keys, errors.New("--previous-encryption-key: not an RSA private key")
		}
		keys.PreviousDecrypter, keys.PreviousKeyVersion = prevRSA, cfg.prevKeyVersion
	}
	return keys, nil
}

func loadKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return gateway.ParsePrivateKey(data)
}

// loadOrGenerate loads path if given; otherwise prefix.pem, generating it
// (with prefix.pub.pem and prefix.pub.b64) when it does not exist yet.
func loadOrGenerate(path, prefix string, alg gateway.Algorithm, logger *slog.Logger) (crypto.Signer, error) {
	if path != "" {
		return loadKey(path)
	}
	if _, err := os.Stat(prefix + ".pem"); err == nil {
		return loadKey(prefix + ".pem")
	}
	key, err := gateway.GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	if err := writeKeyFiles(prefix, key); err != nil {
		return nil, err
	}
	logger.Info("generated server key", "algorithm", alg, "file", prefix+".pem", "public", prefix+".pub.pem")
	return key, nil
}

// writeKeyFiles writes PREFIX.pem (PKCS#8, 0600), PREFIX.pub.pem (SPKI) and
// PREFIX.pub.b64 (bare base64 DER, the form the official SDKs take).
func writeKeyFiles(prefix string, key crypto.Signer) error {
	privPEM, err := gateway.MarshalPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	pubPEM, err := gateway.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		return err
	}
	pubB64, err := gateway.PublicKeyBase64(key.Public())
	if err != nil {
		return err
	}
	if dir := filepath.Dir(prefix); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	// O_EXCL: never overwrite a key someone may have pinned.
	f, err := os.OpenFile(prefix+".pem", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(privPEM); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(prefix+".pub.pem", pubPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(prefix+".pub.b64", []byte(pubB64), 0o644)
}
