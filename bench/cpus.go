package bench

import (
	"net"
	"net/url"
	"strings"

	"github.com/ipass-dev/ipass/internal/cpuset"
)

// The server publishes the CPUs it may run on as the label of
// ipass_process_cpus{affinity="0-3"}. When it runs on this machine (its
// /metrics URL names a loopback or local address), the bench compares that
// list with its own affinity: CPUs in both mean the bench's HTTP, verify and
// signing work competes with the server, and every server figure (throughput,
// latency, the share of the crypto bound) is charged for it.

// serverCPUs is the server's affinity list from a scrape; "" when absent.
func serverCPUs(s *scrapeResult) string {
	for labels := range s.series["ipass_process_cpus"] {
		if v, ok := strings.CutPrefix(labels, `affinity="`); ok {
			return strings.TrimSuffix(v, `"`)
		}
	}
	return ""
}

// addCPUs fills the report's CPU lists and the CPUs shared with the server.
func (r *Report) addCPUs(s *scrapeResult, metricsURL string) {
	if own, ok := cpuset.Allowed(); ok {
		r.BenchCPUs = cpuset.Format(own)
	}
	if s == nil {
		return
	}
	r.ServerCPUs = serverCPUs(s)
	if r.ServerCPUs == "" || r.BenchCPUs == "" || !isLocal(metricsURL) {
		return
	}
	srv, err := cpuset.Parse(r.ServerCPUs)
	if err != nil {
		return
	}
	own, _ := cpuset.Parse(r.BenchCPUs)
	r.SharedCPUs = cpuset.Format(cpuset.Overlap(own, srv))
}

// isLocal reports whether rawURL's host is this machine: a loopback name or
// address, or an address of one of its interfaces.
func isLocal(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}
