package bench

import (
	"context"
	"strings"
	"testing"
)

// A run whose answers were REQUEST_TRAFFIC_EXCEED_LIMIT says so at the top
// of the report, with the tenants change that lifts the limit; a run
// without them does not.
func TestWarnsWhenRateLimited(t *testing.T) {
	for _, limited := range []bool{true, false} {
		s := newStub(t)
		s.limitAll = limited
		cfg := s.config(t)
		cfg.Requests, cfg.ClientID = 30, "2110200000000044"
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		rep.Print(&out)
		text := out.String()
		warned := strings.Contains(text, "WARNING") && strings.Contains(text, "this run measured the\n               client's rate limit, not the server") &&
			strings.Contains(text, "give client 2110200000000044 rateLimit: 0") && strings.Contains(text, "ipass admin apply -f tenants.yaml")
		if limited {
			if rep.Results["REQUEST_TRAFFIC_EXCEED_LIMIT"] != 30 || rep.RateLimitedShare != 1 {
				t.Errorf("results %v, rate_limited_share %g; want all 30 rate-limited", rep.Results, rep.RateLimitedShare)
			}
			if !warned || !strings.Contains(text, "30 of 30 answers (100.0 %) were REQUEST_TRAFFIC_EXCEED_LIMIT") {
				t.Errorf("no rate-limit warning:\n%s", text)
			}
			// The warning comes before the figures it makes meaningless.
			if strings.Index(text, "WARNING") > strings.Index(text, "throughput") {
				t.Errorf("the warning is not at the top:\n%s", text)
			}
		} else if warned || rep.RateLimitedShare != 0 {
			t.Errorf("rate-limit warning (share %g) without rate-limited answers:\n%s", rep.RateLimitedShare, text)
		}
	}
}
