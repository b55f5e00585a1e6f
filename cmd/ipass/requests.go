package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

func runAdminRequests(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var q ipass.RequestLogQuery
	var since string
	var asJSON bool
	fs := adminFlagSet(e, "requests [--client ID] [--since WHEN] [--result CODE] [--pass PASSID] [--limit N] [--json] [--db DSN]",
		"Shows the request log, newest first: every API request of a known client kept\n"+
			"for --request-log-retention (see docs/operating.md, \"Request log\"), with its\n"+
			"result, Tracer-Id and the SHA-256 of the signed content. Merchants read their\n"+
			"own with queryRequestLog.", &opts)
	fs.StringVar(&q.ClientID, "client", "", "only this client's requests")
	fs.StringVar(&since, "since", "", "only requests since `WHEN`: a duration back from now (90m, 24h) or an RFC 3339 time")
	fs.StringVar(&q.ResultCode, "result", "", "only requests with this result `CODE` (e.g. INVALID_SIGNATURE)")
	fs.StringVar(&q.PassID, "pass", "", "only requests naming this passId")
	fs.IntVar(&q.Limit, "limit", 100, "show at most this many (0: all)")
	fs.BoolVar(&asJSON, "json", false, "print the entries as JSON lines (with clientId)")
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if since != "" {
		t, err := parseSince(since, time.Now())
		if err != nil {
			return adminUsageError(e, fs, "--since %q: %v", since, err)
		}
		q.Since = t
	}
	if q.Limit < 0 {
		return adminUsageError(e, fs, "--limit %d: must not be negative", q.Limit)
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin requests: open database: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	entries, err := db.RequestLog(ctx, q)
	if err == nil {
		err = printRequests(e, entries, asJSON)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin requests: %v\n", err)
		return exitFailure
	}
	if len(entries) == 0 {
		fmt.Fprintln(e.stderr, "no requests match")
	}
	return exitOK
}

// parseSince reads --since: a duration back from now, or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a positive duration (24h) or an RFC 3339 time")
	}
	return t, nil
}

func printRequests(e *env, entries []ipass.RequestLogEntry, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, r := range entries {
			// The API leaves clientId out (a merchant reads only its own); an operator needs it.
			if err := enc.Encode(struct {
				ClientID string `json:"clientId"`
				ipass.RequestLogEntry
			}{r.ClientID, r}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCLIENT\tOPERATION\tMERCHANT\tPASS\tRESULT\tHTTP\tMS\tTRACER\tSHA-256\tNODE\tMESSAGE")
	for _, r := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\n", formatMillis(r.At), r.ClientID, r.Operation,
			orDashText(r.MerchantID), orDashText(r.PassID), r.ResultCode, r.HTTPStatus, r.DurationMS, r.TracerID,
			orDashText(r.ContentSHA256), r.Node, r.Message)
	}
	return tw.Flush()
}

func orDashText(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
