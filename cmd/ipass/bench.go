package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/bench"
	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/tenants"
)

func init() {
	register("bench", "load-test a server with signed requests and report throughput, latency and server cost", runBench)
}

const benchUsage = `Usage: ipass bench [flags]

Drives a server with signed requests and reports throughput, latency
percentiles (HDR histogram), every result code and, from the server's
/metrics, its CPU and its own crypto time per request.

Closed loop (default): --concurrency requests in flight. Open loop: --rate R
sends R requests a second on a fixed schedule over --concurrency connections,
and latency is measured from each request's intended send time, so a stalled
server is charged for the queue it causes. Requests are signed before the clock
starts (--presign; a closed loop's stock is sized for up to 1000 req/s) and
topped up only when the stock runs low, never inside a latency; the report says
how many the bench had to sign while measuring.

Example, against the demo server of the quickstart. Its client has rateLimit
200 a second: give it rateLimit: 0 first (ipass admin export > tenants.yaml,
edit, ipass admin apply -f tenants.yaml), or the bench measures the limiter
(the report warns when answers were REQUEST_TRAFFIC_EXCEED_LIMIT). The passes
go to the demo's bench user, never to the quickstart holder's wallet:
  ipass bench --client-id 2110200000000044 --key ipass-data/demo-client.pem \
    --server-public-key ipass-data/server-signing.pub.pem --duration 10s

On one machine, pin the server and the bench to different CPUs (taskset -c 0
ipass serve ..., taskset -c 1 ipass bench ...): the report warns when the
server's /metrics say it may run on the bench's CPUs.

Flags:
`

// benchOptions are the parsed flags of `ipass bench`.
type benchOptions struct {
	call        callOptions   // url, client-id, key, key-version, server-public-key, insecure
	merchantID  string        // default: the demo merchant
	userID      string        // default: the demo user
	template    string        // default: the demo membership-card template
	op          string        // update, query, create or mix; default update
	concurrency int           // default 16
	rate        float64       // > 0: open loop; default 0 (closed loop)
	duration    time.Duration // default 10s unless --requests
	requests    int           // default 0 (use --duration)
	passes      int           // default 16
	warmup      time.Duration // default 2s
	presign     int           // default 0 (the whole run, up to 20000)
	metricsURL  string        // default URL/metrics; "off" to skip
	jsonFile    string
	plotFile    string
	progress    string // auto, on, off
}

func (o *benchOptions) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &o.call
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "server base `URL`")
	fs.StringVar(&c.clientID, "client-id", "", "your Client-Id (required)")
	fs.StringVar(&c.keyFile, "key", "", "your private key `FILE` (required)")
	fs.IntVar(&c.keyVersion, "key-version", 1, "keyVersion of --key as registered")
	fs.Var(&c.serverKeys, "server-public-key", "server public key `FILE` verifying responses (required unless --no-verify)")
	fs.BoolVar(&c.insecure, "no-verify", false, "do not verify response signatures (measures without the client's verify)")
	fs.StringVar(&o.merchantID, "merchant", "2160120036095023", "merchantId of the passes (default: the demo merchant)")
	fs.StringVar(&o.userID, "user", tenants.BenchUserID, "userId holding the passes (default: the demo tenant's bench user)")
	fs.StringVar(&o.template, "template", "temlate111001", "membership-card templateCode with $points_en_US$ and $points_zh_HK$ (default: the demo's)")
	fs.StringVar(&o.op, "op", bench.OpUpdate, "operation: update, query, create or mix (per 10: 1 create, 2 queries, 7 updates)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests in flight (closed loop) or connections (open loop)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: send this many requests a second on a fixed schedule")
	fs.DurationVar(&o.duration, "duration", 0, "how long to measure (default 10s when --requests is not given)")
	fs.IntVar(&o.requests, "requests", 0, "how many requests to measure")
	fs.IntVar(&o.passes, "passes", 16, "passes created first; update and query spread over them")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "load applied before measuring")
	fs.IntVar(&o.presign, "presign", 0, "requests signed before the clock starts (default: the whole run, a closed loop taken at up to 1000 req/s, at most 20000)")
	fs.StringVar(&o.metricsURL, "metrics-url", "", "the server's Prometheus `URL` (default: --url + /metrics; \"off\" skips it)")
	fs.StringVar(&o.jsonFile, "json", "", "also write the report as JSON to `FILE`")
	fs.StringVar(&o.plotFile, "plot", "", "write throughput and latency percentiles over time as SVG to `FILE`")
	fs.StringVar(&o.progress, "progress", "auto", "live progress line on stderr: auto (only on a terminal), on or off")
	return fs
}

func runBench(ctx context.Context, e *env, args []string) int {
	var o benchOptions
	fs := o.flagSet(e.stderr)
	if code, ok := parseFlags(e, fs, benchUsage, args); !ok {
		return code
	}
	cfg, err := o.config(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass bench: %v\n", err)
		return exitUsage
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass bench: %v\n", err)
		var re *client.ResultError
		if errors.As(err, &re) && re.ResultCode == ipass.CodeUserNotExist && o.userID == tenants.BenchUserID {
			fmt.Fprintf(e.stderr, "ipass bench: the default --user %s is the bench user of demo tenants made since it was added; "+
				"name a user of your tenants with --user, or add this one (ipass admin export, add it under users:, ipass admin apply)\n", tenants.BenchUserID)
		}
		return exitFailure
	}
	rep.Print(e.stdout)
	if o.jsonFile != "" {
		data, err := ipass.MarshalJSON(rep)
		if err == nil {
			err = os.WriteFile(o.jsonFile, append(data, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "ipass bench: --json: %v\n", err)
			return exitFailure
		}
	}
	if o.plotFile != "" {
		title := fmt.Sprintf("ipass bench --op %s, %s", rep.Op, loadName(rep))
		if err := writePlot(o.plotFile, rep, title); err != nil {
			fmt.Fprintf(e.stderr, "ipass bench: --plot: %v\n", err)
			return exitFailure
		}
	}
	if rep.Requests == 0 {
		fmt.Fprintln(e.stderr, "ipass bench: no request completed")
		return exitFailure
	}
	return exitOK
}

func loadName(r *bench.Report) string {
	if r.Rate != nil {
		return fmt.Sprintf("open loop %g req/s", *r.Rate)
	}
	return fmt.Sprintf("%d clients", r.Concurrency)
}

func writePlot(path string, rep *bench.Report, title string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WritePlot(f, title); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// config checks the flags and builds the SDK client and the run.
func (o *benchOptions) config(e *env) (bench.Config, error) {
	if o.duration <= 0 && o.requests <= 0 {
		o.duration = 10 * time.Second
	}
	if o.duration < 0 || o.requests < 0 {
		return bench.Config{}, errors.New("--duration and --requests must not be negative")
	}
	o.call.retries = 0 // every attempt is a measured request: no retries
	cc, err := o.call.config(e)
	if err != nil {
		return bench.Config{}, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = o.concurrency + 8
	t.MaxIdleConnsPerHost = o.concurrency + 8 // keep-alive: never reconnect under load
	cc.HTTPClient = &http.Client{Transport: t, Timeout: time.Minute}
	c, err := client.New(cc)
	if err != nil {
		return bench.Config{}, err
	}
	metricsURL := o.metricsURL
	switch metricsURL {
	case "":
		metricsURL = strings.TrimRight(o.call.url, "/") + "/metrics"
	case "off":
		metricsURL = ""
	}
	cfg := bench.Config{
		Client: c, ClientID: o.call.clientID, MerchantID: o.merchantID, UserID: o.userID, TemplateCode: o.template,
		Op: o.op, Concurrency: o.concurrency, Rate: o.rate, Duration: o.duration, Requests: o.requests,
		Passes: o.passes, Warmup: o.warmup, Presign: o.presign, MetricsURL: metricsURL,
	}
	switch o.progress {
	case "on":
		cfg.Progress = e.stderr
	case "auto":
		if isTerminal(e.stderr) {
			cfg.Progress = e.stderr
		}
	case "off":
	default:
		return cfg, fmt.Errorf("--progress %q: want auto, on or off", o.progress)
	}
	return cfg, nil
}

// isTerminal reports whether w is a character device (a terminal), so the
// progress line never lands in a pipe or a log file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
