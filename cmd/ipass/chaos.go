package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

const adminChaosUsage = `Usage: ipass admin chaos SUBCOMMAND --client ID [flags]

Arms failures on purpose for one client of a sandbox (a database that
` + "`ipass serve --sandbox`" + ` runs on; see docs/sandbox.md). Every node of the
sandbox obeys the rules; they are used up oldest first. Any other database
refuses.

Subcommands:
  add --client ID --operation OP --answer KIND [--times N] [--after-execute] [--delay D]
  list --client ID     the client's rules with the requests each has left
  clear --client ID    delete the client's rules

Run ` + "`ipass admin chaos SUBCOMMAND --help`" + ` for the flags of a subcommand.
`

func runAdminChaos(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, adminChaosUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(e.stdout, adminChaosUsage)
		return exitOK
	case "add", "list", "clear":
		return runChaosCommand(ctx, e, args[0], args[1:])
	}
	fmt.Fprintf(e.stderr, "ipass admin chaos: unknown subcommand %q\n\n%s", args[0], adminChaosUsage)
	return exitUsage
}

func runChaosCommand(ctx context.Context, e *env, sub string, args []string) int {
	var opts adminOptions
	var rule ipass.ChaosRule
	var answer string
	synopsis, about := "chaos "+sub+" --client ID [--db DSN]", "Lists the client's rules, oldest (next used) first."
	if sub == "clear" {
		about = "Deletes every rule of the client."
	}
	if sub == "add" {
		synopsis = "chaos add --client ID --operation OP --answer KIND [--times N] [--after-execute] [--delay D] [--db DSN]"
		about = "Arms a rule: the client's next N requests of OP fail as KIND.\n" +
			"Without --after-execute the request is not run; with it, it runs and\n" +
			"commits and then its answer is replaced (the answer is lost)."
	}
	fs := adminFlagSet(e, synopsis, about, &opts)
	fs.StringVar(&rule.ClientID, "client", "", "the client's `ID` (required)")
	if sub == "add" {
		fs.StringVar(&rule.Operation, "operation", "", "createPass, updatePass, queryPass, queryPassHistory or * (required)")
		fs.StringVar(&answer, "answer", "", "UNKNOWN_EXCEPTION, SYSTEM_ERROR, REQUEST_TRAFFIC_EXCEED_LIMIT, UNSIGNED, BAD_SIGNATURE or DROP (required unless --delay)")
		fs.IntVar(&rule.Remaining, "times", 1, "how many matching requests fail")
		fs.BoolVar(&rule.AfterExecute, "after-execute", false, "run and commit the request, then replace its answer")
		fs.DurationVar(&rule.Delay, "delay", 0, "hold the answer this long (alone, or with --answer)")
	}
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if rule.ClientID == "" {
		return adminUsageError(e, fs, "--client is required")
	}
	rule.Answer = ipass.ChaosAnswer(strings.ToUpper(answer))
	if sub == "add" {
		if err := rule.Validate(); err != nil {
			return adminUsageError(e, fs, "%s", ipass.ErrorMessage(err))
		}
	}
	if err := adminChaos(ctx, e, opts, sub, rule); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin chaos %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

func adminChaos(ctx context.Context, e *env, opts adminOptions, sub string, rule ipass.ChaosRule) error {
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.RequireSandbox(ctx); err != nil {
		return err
	}
	if _, err := db.Client(ctx, rule.ClientID); errors.Is(err, ipass.ErrNotFound) {
		return fmt.Errorf("client %s: not registered", rule.ClientID)
	} else if err != nil {
		return err
	}
	switch sub {
	case "add":
		r, err := db.AddChaosRule(ctx, rule)
		if err != nil {
			return err
		}
		// Nodes re-read which clients have rules once a second (http.DefaultChaosRefresh).
		fmt.Fprintf(e.stdout, "armed for client %s: %s (every sandbox node obeys it within a second)\n", r.ClientID, r)
	case "list":
		rules, err := db.ChaosRules(ctx, rule.ClientID)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			fmt.Fprintf(e.stdout, "no rules for client %s\n", rule.ClientID)
		}
		for _, r := range rules {
			fmt.Fprintln(e.stdout, r)
		}
	case "clear":
		n, err := db.ClearChaosRules(ctx, rule.ClientID)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "cleared %s for client %s\n", adminCount(n, "rule"), rule.ClientID)
	}
	return nil
}
