// Package metrics is the server's Prometheus exposition: it registers every
// collector in one registry and implements the observer hooks of packages
// http ([ipasshttp.Observer]) and sqlstore ([sqlstore.TxObserver]), so that
// neither of them, nor the root or gateway, imports Prometheus.
//
// The metric names and labels are documented in the README ("Metrics").
package metrics

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ipass-dev/ipass"
	ipasshttp "github.com/ipass-dev/ipass/http"
)

// Metrics holds the registry and the collectors the hooks feed. It is safe
// for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	crypto          *prometheus.HistogramVec
	tx              *prometheus.HistogramVec
	txRetries       *prometheus.CounterVec
	replayRejected  prometheus.Counter
	rateLimited     prometheus.Counter
}

// Metrics implements both observer hooks.
var (
	_ ipasshttp.Observer = (*Metrics)(nil)
)

// New registers the ipass collectors and Go's and the process's own.
// pools, if not nil, is read at every scrape for the database pool gauges
// (sqlstore's DB.PoolStats).
func New(pools func() map[string]sql.DBStats) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipass_http_requests_total",
			Help: "Open-API requests answered, by path and result code.",
		}, []string{"path", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ipass_http_request_duration_seconds",
			Help:    "Time from the request reaching the handler to the signed response written, by path.",
			Buckets: []float64{.0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, .512, 1, 2, 5},
		}, []string{"path"}),
		crypto: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ipass_crypto_duration_seconds",
			Help:    "Time in each cryptographic operation, timed where the server calls it, by operation and algorithm.",
			Buckets: []float64{.00001, .00002, .00005, .0001, .0002, .0005, .001, .002, .005, .01, .05},
		}, []string{"op", "alg"}),
		tx: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ipass_db_transaction_duration_seconds",
			Help:    "Database transactions from begin to commit (a write includes its retries), by kind and outcome.",
			Buckets: []float64{.0001, .0005, .001, .002, .004, .008, .016, .032, .064, .128, .256, .512, 1, 5},
		}, []string{"kind", "outcome"}),
		txRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipass_db_transaction_retries_total",
			Help: "Transactions run again after a conflict (serialisation failure, deadlock, busy database).",
		}, []string{"kind"}),
		replayRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipass_replay_rejected_total",
			Help: "Requests refused as replays (REPEAT_REQUEST).",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipass_rate_limited_total",
			Help: "Requests refused by the per-client rate limit (REQUEST_TRAFFIC_EXCEED_LIMIT).",
		}),
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.crypto, m.tx, m.txRetries,
		m.replayRejected, m.rateLimited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pools != nil {
		m.reg.MustRegister(newPoolCollector(pools))
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is the registry itself, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest implements [ipasshttp.Observer].
func (m *Metrics) ObserveRequest(path string, code ipass.Code, d time.Duration) {
	m.requests.WithLabelValues(path, string(code)).Inc()
	m.requestDuration.WithLabelValues(path).Observe(d.Seconds())
	switch code {
	case ipass.CodeRepeatRequest:
		m.replayRejected.Inc()
	case ipass.CodeTrafficExceedLimit:
		m.rateLimited.Inc()
	}
}

// ObserveCrypto implements [ipasshttp.Observer].
func (m *Metrics) ObserveCrypto(op ipasshttp.CryptoOp, alg string, d time.Duration) {
	m.crypto.WithLabelValues(string(op), alg).Observe(d.Seconds())
}

// ObserveTx implements sqlstore.TxObserver.
func (m *Metrics) ObserveTx(kind string, d time.Duration, attempts int, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.tx.WithLabelValues(kind, outcome).Observe(d.Seconds())
	if attempts > 1 {
		m.txRetries.WithLabelValues(kind).Add(float64(attempts - 1))
	}
}
