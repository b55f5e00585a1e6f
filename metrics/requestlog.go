package metrics

import "github.com/prometheus/client_golang/prometheus"

// RegisterRequestLog adds the request log writer's counters, read at
// scrape time: entries written, and entries dropped (its buffer was full,
// or their batch failed), which an alert should watch.
func (m *Metrics) RegisterRequestLog(written, dropped func() int64) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ipass_request_log_written_total",
			Help: "Request log entries stored.",
		}, func() float64 { return float64(written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ipass_request_log_dropped_total",
			Help: "Request log entries lost: the writer's buffer was full (requests never wait for it) or their batch could not be written.",
		}, func() float64 { return float64(dropped()) }),
	)
}
