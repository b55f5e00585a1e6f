package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads database/sql pool statistics at scrape time, one
// series per pool ("read"/"write" on SQLite, "main" on PostgreSQL).
type poolCollector struct {
	stats func() map[string]sql.DBStats

	maxOpen, open, inUse, idle, waitCount, waitSeconds *prometheus.Desc
}

func newPoolCollector(stats func() map[string]sql.DBStats) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("ipass_db_pool_"+name, help, []string{"pool"}, nil)
	}
	return &poolCollector{
		stats:       stats,
		maxOpen:     desc("max_open_connections", "Maximum number of open connections to the database."),
		open:        desc("open_connections", "Established connections, in use and idle."),
		inUse:       desc("in_use_connections", "Connections currently in use."),
		idle:        desc("idle_connections", "Idle connections."),
		waitCount:   desc("wait_count_total", "Times a caller waited for a free connection."),
		waitSeconds: desc("wait_duration_seconds_total", "Total time callers waited for a free connection."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), pool)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle), pool)
		ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(s.WaitCount), pool)
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds(), pool)
	}
}
