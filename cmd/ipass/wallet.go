package main

// The wallet view's part of the binary: the serve wiring, the demo banner's
// wallet link, and `ipass admin wallet-link` / `ipass admin wallet-secret`.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // --wallet-timezone must work on hosts without a zoneinfo database

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
	"github.com/ipass-dev/ipass/wallet"
)

// Defaults of the wallet flags.
const (
	defaultWalletTimezone = "Asia/Hong_Kong"
	defaultWalletTTL      = 720 * time.Hour
	defaultWalletBaseURL  = "http://127.0.0.1:8080"
)

// newWallet builds the wallet pages for serve.
func newWallet(cfg *serveConfig, db *sqlstore.DB, logger *slog.Logger) (*ipasshttp.Wallet, error) {
	loc, err := time.LoadLocation(cfg.walletTimezone)
	if err != nil {
		return nil, fmt.Errorf("--wallet-timezone %q: %w", cfg.walletTimezone, err)
	}
	if cfg.walletKeepAlive <= 0 {
		return nil, fmt.Errorf("--wallet-keepalive %s: must be positive", cfg.walletKeepAlive)
	}
	return &ipasshttp.Wallet{Store: db, Passes: db, Tenants: db, Notifier: db, Location: loc, Logger: logger,
		MaxStreamsPerIP: cfg.walletMaxStreamsPerIP, MaxStreamsPerHolder: cfg.walletMaxStreamsPerHolder,
		KeepAlive: cfg.walletKeepAlive}, nil
}

// walletLink makes a link to userID's wallet under baseURL.
func walletLink(ctx context.Context, store ipass.WalletStore, baseURL, userID string, ttl time.Duration) (string, error) {
	secret, err := store.WalletSecret(ctx)
	if err != nil {
		return "", err
	}
	token, err := wallet.NewToken(secret, userID, time.Now().Add(ttl))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(baseURL, "/") + "/wallet/" + token, nil
}

// printWalletLink adds the demo user's wallet link to the first-start banner.
func printWalletLink(ctx context.Context, w io.Writer, db *sqlstore.DB, demo *tenants.DemoInfo, baseURL string) error {
	link, err := walletLink(ctx, db, baseURL, demo.UserIDs[0], defaultWalletTTL)
	if err != nil {
		return fmt.Errorf("demo wallet link: %w", err)
	}
	fmt.Fprintf(w, "Open the wallet of user %s in a browser and watch the card change with each call:\n  %s\n\n", demo.UserIDs[0], link)
	return nil
}

func runAdminWalletLink(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var user, base string
	var ttl time.Duration
	fs := adminFlagSet(e, "wallet-link --user USERID [--ttl 720h] [--base-url URL] [--db DSN]",
		"Prints a link to the wallet of USERID: the holder's passes of every merchant,\n"+
			"live. Anyone with the link can see that wallet until it expires or the\n"+
			"wallet secret is rotated (`ipass admin wallet-secret rotate`).", &opts)
	fs.StringVar(&user, "user", "", "the holder's `userId` (required)")
	fs.DurationVar(&ttl, "ttl", defaultWalletTTL, "how long the link works")
	fs.StringVar(&base, "base-url", defaultWalletBaseURL, "the server's public `URL`, as browsers reach it")
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if user == "" {
		return adminUsageError(e, fs, "--user USERID is required")
	}
	if ttl <= 0 {
		return adminUsageError(e, fs, "--ttl %s: must be positive", ttl)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return adminUsageError(e, fs, "--base-url %q: want http://HOST[:PORT] or https://…", base)
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin wallet-link: open database: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	if _, err := db.User(ctx, user); err != nil {
		if errors.Is(err, ipass.ErrNotFound) {
			fmt.Fprintf(e.stderr, "ipass admin wallet-link: --user %s: no such user is provisioned\n", user)
		} else {
			fmt.Fprintf(e.stderr, "ipass admin wallet-link: %v\n", err)
		}
		return exitFailure
	}
	link, err := walletLink(ctx, db, base, user, ttl)
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin wallet-link: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, link)
	return exitOK
}

func runAdminWalletSecret(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	fs := adminFlagSet(e, "wallet-secret rotate [--db DSN]",
		"Replaces the secret that signs wallet links: every link made before stops\n"+
			"working, on every node at once. Make new links with `ipass admin wallet-link`.", &opts)
	if len(args) == 0 || args[0] != "rotate" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return exitOK
		}
		return adminUsageError(e, fs, "want the action: wallet-secret rotate")
	}
	if code, ok := parseAdminFlags(e, fs, &opts, args[1:]); !ok {
		return code
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin wallet-secret: open database: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	if err := db.RotateWalletSecret(ctx); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin wallet-secret: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, "wallet secret rotated: every earlier wallet link has stopped working")
	return exitOK
}

// walletFlags adds serve's wallet flags.
func (c *serveConfig) walletFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.walletTimezone, "wallet-timezone", defaultWalletTimezone, "IANA time `zone` of dates shown in the wallet pages")
	fs.IntVar(&c.walletMaxStreams, "wallet-max-streams", ipasshttp.DefaultMaxStreams,
		"most wallet event streams open at once, in all (never more than half of --max-connections)")
	fs.IntVar(&c.walletMaxStreamsPerIP, "wallet-max-streams-per-ip", ipasshttp.DefaultMaxStreamsPerIP,
		"most wallet event streams open at once from one client address")
	fs.IntVar(&c.walletMaxStreamsPerHolder, "wallet-max-streams-per-holder", ipasshttp.DefaultMaxStreamsPerHolder,
		"most wallet event streams open at once for one holder, over all their links")
	fs.DurationVar(&c.walletKeepAlive, "wallet-keepalive", ipasshttp.DefaultStreamKeepAlive,
		"how often an idle wallet event stream gets a keep-alive comment")
}

// Descriptors kept out of the connection cap: the database (a SQLite file
// and its journal per pooled connection, or PostgreSQL connections), key
// and log files, the PostgreSQL listener.
const fdReserve = 128

// connectionLimits settles --max-connections and --wallet-max-streams: the
// connection cap stays below the descriptor limit by fdReserve, and wallet
// streams never take more than half of it, so the merchant API and the
// probes always find a connection.
func connectionLimits(cfg *serveConfig, logger *slog.Logger) (maxConns, maxStreams int, err error) {
	limit := openFileLimit()
	maxConns = cfg.maxConnections
	switch {
	case maxConns < 0:
		return 0, 0, fmt.Errorf("--max-connections %d: must be 0 (from the descriptor limit) or more", maxConns)
	case maxConns == 0 && limit == 0:
		return 0, 0, errors.New("--max-connections: the descriptor limit cannot be read here; set the cap")
	case maxConns == 0 && limit <= 2*fdReserve:
		maxConns = int(limit / 2)
		logger.Warn("the descriptor limit is low: connections capped at half of it", "ulimit_n", limit, "max_connections", maxConns)
	case maxConns == 0:
		maxConns = int(min(limit-fdReserve, 1<<20))
	case limit != 0 && uint64(maxConns)+fdReserve/2 > limit:
		return 0, 0, fmt.Errorf("--max-connections %d: the descriptor limit (ulimit -n) is %d, and ipass keeps at least %d for its database and files", maxConns, limit, fdReserve/2)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"wallet-max-streams", cfg.walletMaxStreams}, {"wallet-max-streams-per-ip", cfg.walletMaxStreamsPerIP}, {"wallet-max-streams-per-holder", cfg.walletMaxStreamsPerHolder}} {
		if f.v < 1 {
			return 0, 0, fmt.Errorf("--%s %d: must be at least 1", f.name, f.v)
		}
	}
	maxStreams = cfg.walletMaxStreams
	if maxStreams > maxConns/2 {
		maxStreams = max(maxConns/2, 1)
		logger.Info("wallet streams capped at half the connection cap", "wallet_max_streams", maxStreams, "max_connections", maxConns)
	}
	return maxConns, maxStreams, nil
}
