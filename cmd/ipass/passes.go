package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

const adminPassesUsage = `Usage: ipass admin passes SUBCOMMAND [flags]

Shows passes straight from the database, for operators (merchants use
queryPass and queryPassHistory through the API).

Subcommands:
  list --merchant M [--user U] [--limit N]   the merchant's passes, by passId
  show PASSID [--json]                       one pass and its whole history

Run ` + "`ipass admin passes SUBCOMMAND --help`" + ` for the flags of a subcommand.
`

func runAdminPasses(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, adminPassesUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(e.stdout, adminPassesUsage)
		return exitOK
	case "list":
		return runPassesList(ctx, e, args[1:])
	case "show":
		return runPassesShow(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "ipass admin passes: unknown subcommand %q\n\n%s", args[0], adminPassesUsage)
	return exitUsage
}

func runPassesList(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var merchant, user string
	var limit int
	fs := adminFlagSet(e, "passes list --merchant M [--user U] [--limit N] [--db DSN]",
		"Lists the passes of merchant M (of user U only, if given), ordered by passId:\n"+
			"passId, type/product, status as the API shows it now (EXPIRED derived),\n"+
			"version, userId, bizSerialId and when it last changed (UTC).", &opts)
	fs.StringVar(&merchant, "merchant", "", "merchantId whose passes to list (required)")
	fs.StringVar(&user, "user", "", "only the passes of this userId")
	fs.IntVar(&limit, "limit", 1000, "list at most this many passes (0: all)")
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if merchant == "" {
		return adminUsageError(e, fs, "--merchant is required")
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin passes list: open database: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	passes, err := db.ListPasses(ctx, merchant, user, limit)
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin passes list: %v\n", err)
		return exitFailure
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PASSID\tKIND\tSTATUS\tVERSION\tUSER\tBIZSERIALID\tUPDATED")
	for _, p := range passes {
		fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%d\t%s\t%s\t%s\n", p.ID, p.Type, p.Product, p.EffectiveStatus(now),
			p.Version, p.UserID, p.BizSerialID, formatMillis(p.UpdatedAt))
	}
	if err := tw.Flush(); err != nil {
		return exitFailure
	}
	if len(passes) == 0 {
		fmt.Fprintf(e.stderr, "no passes for merchant %s (user filter %q)\n", merchant, user)
	}
	return exitOK
}

func runPassesShow(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var asJSON bool
	fs := adminFlagSet(e, "passes show PASSID [--json] [--db DSN]",
		"Shows the pass and every version of its history, oldest first: when, the\n"+
			"operation and requested status, the calling client, the Tracer-Id, and each\n"+
			"changed field from → to (values as stored JSON; a missing side is shown as -).", &opts)
	fs.BoolVar(&asJSON, "json", false, "print {\"pass\": …, \"history\": […]} as JSON instead")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if code, ok := parseAdminFlags(e, fs, &opts, nil); !ok {
		return code
	}
	if len(pos) != 1 {
		return adminUsageError(e, fs, "want exactly one PASSID")
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin passes show: open database: %v\n", err)
		return exitFailure
	}
	defer db.Close()
	p, err := db.PassByID(ctx, pos[0])
	if errors.Is(err, ipass.ErrNotFound) {
		fmt.Fprintf(e.stderr, "ipass admin passes show: no pass %s\n", pos[0])
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin passes show: %v\n", err)
		return exitFailure
	}
	versions, err := db.History(ctx, p.ID)
	if err == nil {
		var entries []ipass.HistoryEntry
		if entries, err = ipass.ReplayHistory(versions); err == nil {
			err = printPass(e.stdout, p, entries, asJSON)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass admin passes show: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// operatorEntry is a history entry with the calling client, which the API
// leaves out but an operator needs.
type operatorEntry struct {
	ipass.HistoryEntry
	ClientID string `json:"clientId"`
}

func printPass(w io.Writer, p *ipass.Pass, entries []ipass.HistoryEntry, asJSON bool) error {
	view := ipass.NewPassView(p, "", time.Now())
	if asJSON {
		out := struct {
			Pass    *ipass.PassView `json:"pass"`
			History []operatorEntry `json:"history"`
		}{Pass: view}
		for _, h := range entries {
			out.History = append(out.History, operatorEntry{h, h.ClientID})
		}
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	codeInfo, _ := json.Marshal(view.CodeInfo)
	dataInfo, _ := ipass.MarshalJSON(view.DataInfo)
	fmt.Fprintf(w, "pass %s  %s/%s  template %s\n", p.ID, p.Type, p.Product, p.TemplateCode)
	fmt.Fprintf(w, "  merchant %s  user %s  bizSerialId %s\n", p.MerchantID, p.UserID, p.BizSerialID)
	fmt.Fprintf(w, "  status %s  version %d  valid %s – %s\n", view.Status, p.Version, formatMillis(p.StartDate), formatMillis(p.EndDate))
	fmt.Fprintf(w, "  created %s  updated %s\n", formatMillis(p.CreatedAt), formatMillis(p.UpdatedAt))
	fmt.Fprintf(w, "  codeInfo %s\n  dataInfo %s\n\nhistory:\n", codeInfo, strings.TrimSpace(string(dataInfo)))
	for _, h := range entries {
		what := h.Operation
		if h.RequestStatus != "" {
			what += " " + h.RequestStatus
		}
		if h.UpdateDetailType != "" {
			what += " " + string(h.UpdateDetailType)
		}
		fmt.Fprintf(w, "v%d  %s  %s → %s  client %s  tracer %s\n", h.Version, formatMillis(h.ChangedAt), what, h.Status, h.ClientID, h.TracerID)
		if h.BizDate != 0 {
			fmt.Fprintf(w, "      bizDate %d (%s)\n", h.BizDate, formatMillis(h.BizDate))
		}
		for _, c := range h.Changes {
			fmt.Fprintf(w, "      %s: %s → %s\n", c.Field, orDash(c.From), orDash(c.To))
		}
		if len(h.Metadata) > 0 {
			fmt.Fprintf(w, "      metadata %s\n", h.Metadata)
		}
		if h.PassVerifyCode != "" {
			fmt.Fprintf(w, "      passVerifyCode %s\n", h.PassVerifyCode)
		}
	}
	return nil
}

func orDash(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "-"
	}
	return string(raw)
}

// formatMillis shows epoch milliseconds as UTC RFC 3339 with milliseconds.
func formatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
