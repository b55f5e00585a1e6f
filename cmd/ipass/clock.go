package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

func runAdminClock(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var merchant, advance, set string
	var reset bool
	fs := adminFlagSet(e, "clock --merchant M (--advance DURATION | --set TIME | --reset) [--db DSN]",
		"Moves \"now\" for merchant M's passes on a sandbox (docs/sandbox.md): expiry and the\n"+
			"status queryPass shows follow it; the request window and signatures keep the\n"+
			"real clock. Every sandbox node follows within a second.", &opts)
	fs.StringVar(&merchant, "merchant", "", "the merchant's `ID` (required)")
	fs.StringVar(&advance, "advance", "", "move the clock forward (or back, if negative) by `DURATION`: 400d, 36h, -90m")
	fs.StringVar(&set, "set", "", "set the clock to `TIME` (RFC 3339, e.g. 2027-01-01T00:00:00Z); it runs on from there")
	fs.BoolVar(&reset, "reset", false, "give the merchant the real clock back")
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	given := 0
	for _, b := range []bool{advance != "", set != "", reset} {
		if b {
			given++
		}
	}
	if merchant == "" || given != 1 {
		return adminUsageError(e, fs, "--merchant and exactly one of --advance, --set, --reset are required")
	}
	var delta time.Duration
	var at time.Time
	var err error
	if advance != "" {
		if delta, err = parseDays(advance); err != nil {
			return adminUsageError(e, fs, "--advance %q: %v", advance, err)
		}
	}
	if set != "" {
		if at, err = time.Parse(time.RFC3339, set); err != nil {
			return adminUsageError(e, fs, "--set %q: want RFC 3339, e.g. 2027-01-01T00:00:00Z", set)
		}
	}
	if err := adminClock(ctx, e, opts, merchant, delta, at, reset); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin clock: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func adminClock(ctx context.Context, e *env, opts adminOptions, merchant string, delta time.Duration, at time.Time, reset bool) error {
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.RequireSandbox(ctx); err != nil {
		return err
	}
	if _, err := db.Merchant(ctx, merchant); errors.Is(err, ipass.ErrNotFound) {
		return fmt.Errorf("merchant %s: not registered", merchant)
	} else if err != nil {
		return err
	}
	offset, err := db.ClockOffset(ctx, merchant)
	if err != nil {
		return err
	}
	now := time.Now()
	switch {
	case reset:
		offset = 0
	case !at.IsZero():
		offset = at.Sub(now)
	default:
		offset += delta
	}
	if err := db.SetClockOffset(ctx, merchant, offset); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "merchant %s: now reads %s (%s)\n", merchant,
		now.Add(offset).UTC().Format(time.RFC3339), formatOffset(offset))
	return nil
}

// parseDays is time.ParseDuration with whole days as well ("400d").
func parseDays(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, errors.New("want a duration such as 400d, 36h or -90m")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 400d, 36h or -90m")
	}
	return d, nil
}

func formatOffset(d time.Duration) string {
	if d == 0 {
		return "the real clock"
	}
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	rest := (d % (24 * time.Hour)).Round(time.Second)
	if days > 0 {
		return fmt.Sprintf("%s%dd%s from the real clock", sign, days, strings.TrimSuffix(rest.String(), "0s"))
	}
	return sign + rest.String() + " from the real clock"
}
