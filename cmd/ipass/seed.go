package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
)

// seedOptions are the parsed flags of `ipass admin seed`.
type seedOptions struct {
	admin    adminOptions
	passes   int    // how many passes to add; required
	merchant string // default: the demo merchant
	template string // default: the demo membership-card template
	users    string // comma-separated userIds the passes are spread over; default the demo users
	dataInfo string // dataInfo of every pass (JSON); default points for the demo template
	batch    int    // passes per transaction; default 10000
}

const seedAbout = "Adds N passes straight into the database, for measuring at scale (see BENCHMARKS.md).\n" +
	"Each pass is built by the same rules as a createPass (template checks, fingerprint,\n" +
	"history entry version 1), so the server reads it like any other; bizSerialIds are\n" +
	"seed-<run>-<n>. Rows go in with multi-row INSERTs, one transaction per --batch passes.\n" +
	"Stop the server first on SQLite (it would wait for the write lock)."

func runAdminSeed(ctx context.Context, e *env, args []string) int {
	var o seedOptions
	fs := adminFlagSet(e, "seed --passes N [--db DSN] [--merchant M --template T --users U1,U2]", seedAbout, &o.admin)
	fs.IntVar(&o.passes, "passes", 0, "how many passes to add (required)")
	fs.StringVar(&o.merchant, "merchant", "2160120036095023", "merchantId owning the passes (default: the demo merchant)")
	fs.StringVar(&o.template, "template", "temlate111001", "templateCode of the passes (default: the demo membership card)")
	fs.StringVar(&o.users, "users", tenants.BenchUserID, "comma-separated userIds the passes are spread over (default: the demo tenant's bench user, not the quickstart's holders)")
	fs.StringVar(&o.dataInfo, "data-info", `{"$points_en_US$":0,"$points_zh_HK$":0}`, "dataInfo `JSON` of every pass (must suit the template)")
	fs.IntVar(&o.batch, "batch", 10000, "passes per transaction")
	if code, ok := parseAdminFlags(e, fs, &o.admin, args); !ok {
		return code
	}
	if o.passes <= 0 {
		return adminUsageError(e, fs, "--passes N is required and must be positive")
	}
	if o.batch <= 0 {
		return adminUsageError(e, fs, "--batch must be positive")
	}
	start := time.Now()
	if err := seed(ctx, &o); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin seed: %v\n", err)
		return exitFailure
	}
	d := time.Since(start)
	fmt.Fprintf(e.stdout, "seeded %d passes in %.1f s (%.0f passes/s)\n", o.passes, d.Seconds(), float64(o.passes)/d.Seconds())
	return exitOK
}

// seedBatch is one transaction's worth of passes.
type seedBatch struct {
	passes   []*ipass.Pass
	versions []*ipass.PassVersion
}

// seed checks the tenants once, then builds batches on every core while one
// writer inserts them.
func seed(ctx context.Context, o *seedOptions) error {
	db, err := sqlstore.Open(ctx, o.admin.db, nil)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	m, err := db.Merchant(ctx, o.merchant)
	if err != nil {
		return fmt.Errorf("--merchant %s: %w", o.merchant, err)
	}
	tpl, err := db.Template(ctx, o.merchant, o.template)
	if err != nil {
		return fmt.Errorf("--template %s: %w", o.template, err)
	}
	var users []string
	for _, u := range strings.Split(o.users, ",") {
		u = strings.TrimSpace(u)
		if _, err := db.User(ctx, u); err != nil {
			return fmt.Errorf("--users %s: %w", u, err)
		}
		users = append(users, u)
	}
	if !json.Valid([]byte(o.dataInfo)) {
		return errors.New("--data-info: not valid JSON")
	}
	g := &seedGen{tpl: tpl, users: users, merchant: o.merchant, dataInfo: o.dataInfo,
		run: strconv.FormatInt(time.Now().UnixMilli(), 36), caller: ipass.Caller{ClientID: m.ClientID, TracerID: "seed"}}
	// One pass first, so a template/dataInfo mismatch is reported once.
	if _, _, err := g.pass(0, time.Now()); err != nil {
		return err
	}

	nBatches := (o.passes + o.batch - 1) / o.batch
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan seedBatch, 2)
	errc := make(chan error, runtime.GOMAXPROCS(0))
	var next sync.Mutex
	k := 0
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				b := k
				k++
				next.Unlock()
				if b >= nBatches || ctx.Err() != nil {
					return
				}
				batch, err := g.batch(b*o.batch, min((b+1)*o.batch, o.passes))
				if err != nil {
					errc <- err
					cancel()
					return
				}
				select {
				case batches <- batch:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(batches) }()
	for b := range batches {
		if err := db.SeedPasses(ctx, b.passes, b.versions); err != nil {
			cancel()
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}

// seedGen builds pass n as createPass would from a request body.
type seedGen struct {
	tpl      *ipass.Template
	users    []string
	merchant string
	dataInfo string
	run      string
	caller   ipass.Caller
}

func (g *seedGen) batch(from, to int) (seedBatch, error) {
	b := seedBatch{passes: make([]*ipass.Pass, 0, to-from), versions: make([]*ipass.PassVersion, 0, to-from)}
	now := time.Now()
	for n := from; n < to; n++ {
		p, v, err := g.pass(n, now)
		if err != nil {
			return b, err
		}
		b.passes = append(b.passes, p)
		b.versions = append(b.versions, v)
	}
	return b, nil
}

// pass runs the createPass rules (docs/api.md, "Processing order", createPass steps 1, 2, 4, 5, 7 and
// 8) on a generated body; the tenants were checked once by seed.
func (g *seedGen) pass(n int, now time.Time) (*ipass.Pass, *ipass.PassVersion, error) {
	serial := "seed-" + g.run + "-" + strconv.Itoa(n)
	user := g.users[n%len(g.users)]
	body := fmt.Sprintf(`{"merchantId":%q,"userId":%q,"templateCode":%q,"bizSerialId":%q,"bizSerialType":"OUT_PLAT_FORM",`+
		`"startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":%q},"dataInfo":%s}`,
		g.merchant, user, g.tpl.Code, serial, serial, g.dataInfo)
	b, err := ipass.DecodeBody([]byte(body))
	if err != nil {
		return nil, nil, fmt.Errorf("pass body: %w", err)
	}
	req, err := ipass.ParseCreateRequest(b)
	if err != nil {
		return nil, nil, err
	}
	if err := req.CheckTemplate(g.tpl); err != nil {
		return nil, nil, err
	}
	plan, err := ipass.PlanCreate(req, g.tpl, user)
	if err != nil {
		return nil, nil, err
	}
	if err := plan.CheckNew(now); err != nil {
		return nil, nil, err
	}
	id, err := ipass.NewPassID(now)
	if err != nil {
		return nil, nil, err
	}
	p, v, err := plan.Issue(id, now, g.caller)
	if err != nil {
		return nil, nil, err
	}
	p.Version = 1 // as DB.CreatePass sets it
	return p, v, nil
}
