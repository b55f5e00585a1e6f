package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/metrics"
	"github.com/ipass-dev/ipass/reqlog"
	"github.com/ipass-dev/ipass/sqlstore"
)

// instrument plugs the Prometheus exporter into the server's and the
// store's observer hooks and returns its GET /metrics handler. cpus is the
// process's CPU count (ensureProcs).
func instrument(srv *ipasshttp.Server, db *sqlstore.DB, cpus int) http.Handler {
	m := metrics.New(db.PoolStats)
	m.RegisterCPUs(cpus)
	m.RegisterStatements(db.Statements)
	db.SetObserver(m)
	srv.Observer = m
	if w, ok := srv.RequestLog.(*reqlog.Writer); ok {
		m.RegisterRequestLog(w.Written, w.Dropped)
	}
	return m.Handler()
}

// metricsServer serves h at GET /metrics on its own listener
// (--metrics-addr), so the metrics can stay on a private interface while
// the API listens on a public one. Every other request is a plain 404: this
// listener speaks to a scraper, never to a merchant.
func metricsServer(h http.Handler, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// startCPUProfile profiles the process into path until the returned
// function runs; "" profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
