package main

import (
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
