package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scrapeResult is a Prometheus text exposition: metric name → label set
// (as written between the braces) → value.
type scrapeResult struct {
	series map[string]map[string]float64
}

func (s *scrapeResult) value(name string) (float64, bool) {
	v, ok := s.series[name][""]
	return v, ok
}

// sum adds up every series of name.
func (s *scrapeResult) sum(name string) float64 {
	var t float64
	for _, v := range s.series[name] {
		t += v
	}
	return t
}

// scrape reads the server's /metrics; nil, nil when url is "".
func scrape(ctx context.Context, url string) (*scrapeResult, error) {
	if url == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s answered %s", url, resp.Status)
	}
	return parseExposition(io.LimitReader(resp.Body, 16<<20))
}

// parseExposition reads the text format's sample lines ("name{labels} value
// [timestamp]"); comments and unparsable values are skipped.
func parseExposition(r io.Reader) (*scrapeResult, error) {
	res := &scrapeResult{series: map[string]map[string]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest := line, "", ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, labels, rest = line[:i], line[i+1:j], line[j+1:]
		} else if i := strings.IndexAny(line, " \t"); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		if res.series[name] == nil {
			res.series[name] = map[string]float64{}
		}
		res.series[name][labels] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return res, nil
}

// opName turns `alg="RSA256",op="sign"` into "sign/RSA256".
func opName(labels string) string {
	var op, alg string
	for _, kv := range strings.Split(labels, ",") {
		k, v, _ := strings.Cut(kv, "=")
		v = strings.Trim(v, `"`)
		switch strings.TrimSpace(k) {
		case "op":
			op = v
		case "alg":
			alg = v
		}
	}
	return op + "/" + alg
}

func sortedKeys(m map[string]float64) []string {
	return slices.Sorted(maps.Keys(m))
}
