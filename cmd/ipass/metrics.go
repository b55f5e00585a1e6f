package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/metrics"
	"github.com/ipass-dev/ipass/sqlstore"
)

// instrument plugs the Prometheus exporter into the server's and the
// store's observer hooks and serves it at GET /metrics.
func instrument(srv *ipasshttp.Server, db *sqlstore.DB) *metrics.Metrics {
	m := metrics.New(db.PoolStats)
	db.SetObserver(m)
	srv.Observer = m
	srv.Metrics = m.Handler()
	return m
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
