package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/reqlog"
)

// requestLogConfig are the flags of the request log (docs/operating.md,
// "Request log").
type requestLogConfig struct {
	retention time.Duration // how long entries are kept; 0 keeps none (the log is off)
	maxRows   int           // entries kept per client at most, beyond the retention; 0: no bound
	nodeName  string        // this process's name in the entries; default the hostname
}

func (c *requestLogConfig) flags(fs *flag.FlagSet) {
	fs.DurationVar(&c.retention, "request-log-retention", 7*24*time.Hour,
		"how long the request log keeps each request of a known client (queryRequestLog, `ipass admin requests`); 0 turns the log off")
	fs.IntVar(&c.maxRows, "request-log-max-rows", 100000,
		"most request log entries kept per client, newest first, whatever their age (0: no bound); enforced when pruning, once a minute")
	fs.StringVar(&c.nodeName, "node-name", "", "this server's name in the request log (default: the hostname)")
}

func (c *requestLogConfig) validate() error {
	if c.retention < 0 || c.maxRows < 0 {
		return fmt.Errorf("--request-log-retention and --request-log-max-rows must not be negative")
	}
	if c.nodeName == "" {
		c.nodeName, _ = os.Hostname()
	}
	return nil
}

// startRequestLog starts the batch writer and its pruning; nil when the log
// is off. Close the writer after the HTTP server's Shutdown.
func startRequestLog(ctx context.Context, c requestLogConfig, store ipass.RequestLogStore, logger *slog.Logger) *reqlog.Writer {
	if c.retention == 0 {
		return nil
	}
	w := &reqlog.Writer{Store: store, Logger: logger}
	w.Start()
	go pruneRequestLog(ctx, store, c, logger)
	return w
}

// pruneRequestLog deletes, once a minute, the entries past the retention
// and each client's beyond --request-log-max-rows.
func pruneRequestLog(ctx context.Context, store ipass.RequestLogStore, c requestLogConfig, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := store.PruneRequestLog(ctx, now.Add(-c.retention), c.maxRows); err != nil {
				logger.Warn("prune request log", "err", err)
			} else if n > 0 {
				logger.Debug("pruned request log", "count", n)
			}
		}
	}
}
