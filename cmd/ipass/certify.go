package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/certify"
	"github.com/ipass-dev/ipass/sqlstore"
)

func init() {
	register("certify", "rehearse failures with one client of a sandbox and judge how its integration copes", runCertify)
}

const certifyAbout = `Runs a certification session for one client of a sandbox (a database that
` + "`ipass serve --sandbox`" + ` runs on; see docs/sandbox.md, "Certifying an
integration"). For each scenario in turn it arms one failure, says what to make
your system do, watches the client's calls in the request log and judges them:
pass, fail, or timeout (the client made no call the failure applies to).
Exit status 0 only when every scenario passed.`

func runCertify(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	var clientID, scenarios, jsonFile string
	var timeout time.Duration
	fs := flag.NewFlagSet("ipass certify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&opts.db, "db", defaultDB, "the sandbox's database `DSN`: sqlite:PATH or postgres://... (also IPASS_DB; the flag wins)")
	fs.StringVar(&clientID, "client", "", "the client's `ID` (required)")
	fs.StringVar(&scenarios, "scenario", "", "run only these scenarios, comma-separated, in this order: "+strings.Join(certify.Names(), ", "))
	fs.StringVar(&jsonFile, "json", "", "also write the report as JSON to `FILE`")
	fs.DurationVar(&timeout, "timeout-per-scenario", certify.DefaultTimeout, "how long each scenario waits for the client")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ipass certify --client ID [--db DSN] [--scenario a,b,...] [--json FILE] [--timeout-per-scenario D]\n\n%s\n\nFlags:\n", certifyAbout)
		fs.PrintDefaults()
	}
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	o := certify.Options{ClientID: clientID, Timeout: timeout, Out: e.stdout}
	if scenarios != "" {
		o.Scenarios = strings.Split(scenarios, ",")
	}
	switch _, err := certify.Select(o.Scenarios); {
	case clientID == "":
		return certifyUsage(e, fs, "--client is required")
	case err != nil:
		return certifyUsage(e, fs, "--scenario: %v", err)
	case timeout <= 0:
		return certifyUsage(e, fs, "--timeout-per-scenario %s: must be positive", timeout)
	}
	rep, err := certifySession(ctx, e, opts.db, o)
	if err == nil && jsonFile != "" {
		err = writeReport(jsonFile, rep)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "ipass certify: %v\n", err)
		return exitFailure
	}
	passed := 0
	for _, r := range rep.Results {
		if r.Verdict == certify.Pass {
			passed++
		}
	}
	fmt.Fprintf(e.stdout, "%d of %d scenarios passed\n", passed, len(rep.Results))
	if !rep.Passed {
		return exitFailure
	}
	return exitOK
}

func certifyUsage(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "ipass certify: %s\n\n", fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

func certifySession(ctx context.Context, e *env, dsn string, o certify.Options) (*certify.Report, error) {
	db, err := sqlstore.Open(ctx, dsn, adminLogger(e.stderr))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.RequireSandbox(ctx); err != nil {
		return nil, err
	}
	if _, err := db.Client(ctx, o.ClientID); errors.Is(err, ipass.ErrNotFound) {
		return nil, fmt.Errorf("client %s: not registered", o.ClientID)
	} else if err != nil {
		return nil, err
	}
	return certify.Run(ctx, db, o)
}

func writeReport(path string, rep *certify.Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
