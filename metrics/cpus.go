package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipass-dev/ipass/internal/cpuset"
)

// cpuCollector reports the CPUs the server runs on, read at scrape time:
// ipass_process_cpus{affinity="0-3"} is how many CPUs the process has (the
// runtime's count at start: the affinity mask capped by a cgroup CPU limit;
// GOMAXPROCS may be higher, see `ipass serve`), and its label the CPUs it
// may run on now. `ipass bench` divides by the one and compares its own
// affinity with the other.
type cpuCollector struct {
	cpus int
	desc *prometheus.Desc
}

// RegisterCPUs adds ipass_process_cpus with the process's CPU count.
func (m *Metrics) RegisterCPUs(cpus int) {
	m.reg.MustRegister(&cpuCollector{cpus: cpus, desc: prometheus.NewDesc("ipass_process_cpus",
		"CPUs the server process has (its scheduler affinity capped by a cgroup CPU limit), with the CPUs it may run on as a list.",
		[]string{"affinity"}, nil)})
}

func (c *cpuCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *cpuCollector) Collect(ch chan<- prometheus.Metric) {
	list := ""
	if cpus, ok := cpuset.Allowed(); ok {
		list = cpuset.Format(cpus)
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(c.cpus), list)
}

// RegisterStatements adds ipass_db_statements_total, read from statements
// at every scrape (the store's count of statements sent to the database).
func (m *Metrics) RegisterStatements(statements func() int64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "ipass_db_statements_total",
		Help: "Statements sent to the database (BEGIN and COMMIT included); on PostgreSQL each is a network round trip.",
	}, func() float64 { return float64(statements()) }))
}
