package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
)

func init() {
	register("admin", "provision tenants (apply, export); inspect passes and their history (passes) and the request log (requests)", runAdmin)
}

const adminUsage = `Usage: ipass admin SUBCOMMAND [flags]

Provisions clients and their keys, merchants, templates and users from a
tenants file (YAML, see docs/tenants-file.md), and shows passes with their
version history.

Subcommands:
  apply -f FILE   create or update everything in FILE (idempotent; never deletes)
  export          print the current tenants as a tenants file
  client-settings --client ID
                  print one client's SDK settings: gateway URL, server public
                  keys as PEM and one-line base64, headerCase, encryptionKey
  wallet-link --user USERID   print a link to a holder's wallet
  wallet-secret rotate        make every earlier wallet link stop working
  passes list --merchant M [--user U]
                  list a merchant's passes (of one user)
  passes show PASSID
                  one pass and every version of its history
  seed --passes N add N passes straight into the database, for measuring at scale
  requests [--client ID] [--since WHEN] [--result CODE] [--pass PASSID] [--json]
                  the request log, newest first
  chaos add|list|clear --client ID
                  a sandbox only: arm failures on purpose (docs/sandbox.md)
  clock --merchant M --advance D | --set TIME | --reset
                  a sandbox only: move one merchant's "now" (docs/sandbox.md)

Run ` + "`ipass admin SUBCOMMAND --help`" + ` for the flags of a subcommand.
`

func runAdmin(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, adminUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(e.stdout, adminUsage)
		return exitOK
	case "apply":
		return runAdminApply(ctx, e, args[1:])
	case "export":
		return runAdminExport(ctx, e, args[1:])
	case "client-settings":
		return runAdminClientSettings(ctx, e, args[1:])
	case "wallet-link":
		return runAdminWalletLink(ctx, e, args[1:])
	case "wallet-secret":
		return runAdminWalletSecret(ctx, e, args[1:])
	case "passes":
		return runAdminPasses(ctx, e, args[1:])
	case "seed":
		return runAdminSeed(ctx, e, args[1:])
	case "requests":
		return runAdminRequests(ctx, e, args[1:])
	case "chaos":
		return runAdminChaos(ctx, e, args[1:])
	case "clock":
		return runAdminClock(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "ipass admin: unknown subcommand %q\n\n%s", args[0], adminUsage)
	return exitUsage
}

// adminOptions are the parsed flags of an admin subcommand.
type adminOptions struct {
	file   string // apply -f: the tenants file; "-" reads standard input
	db     string // --db, else IPASS_DB, else the serve default
	dryRun bool   // apply --dry-run: print the changes, write nothing
	force  bool   // apply --force: allow changing the shape of templates passes use
}

// source names the tenants file in messages.
func (o adminOptions) source() string {
	if o.file == "-" {
		return "standard input"
	}
	return o.file
}

// adminFlagSet makes the flag set of one admin subcommand with the flags all
// of them share.
func adminFlagSet(e *env, synopsis, about string, opts *adminOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("ipass admin", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&opts.db, "db", defaultDB,
		"database `DSN`: sqlite:PATH or postgres://... / postgresql://... (also IPASS_DB; the flag wins)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ipass admin %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseAdminFlags parses args. It returns ok = false with the exit code when
// the command should stop: after --help (exitOK), or on a usage error, which
// it has reported (exitUsage).
func parseAdminFlags(e *env, fs *flag.FlagSet, opts *adminOptions, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		return adminUsageError(e, fs, "unexpected argument %q", fs.Arg(0)), false
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "db" })
	if v := e.getenv(envName("db")); !given && v != "" {
		opts.db = v
	}
	return exitOK, true
}

func adminUsageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "ipass admin: %s\n\n", fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

func runAdminApply(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	fs := adminFlagSet(e, "apply -f FILE [--dry-run] [--force] [--db DSN]",
		"Creates or updates, by id, every client, key, merchant, template and user in FILE,\n"+
			"all in one transaction, and prints what changed, entry by entry. Nothing is\n"+
			"deleted; a field an entry leaves out keeps its stored value. Retire a key with\n"+
			"status: retired (its public key may be left out); retirement is final and a\n"+
			"registered key's material never changes. An invalid file is rejected whole,\n"+
			"naming each bad entry and field.", &opts)
	fs.StringVar(&opts.file, "f", "", "tenants `FILE` to apply (required); - reads standard input, key paths then relative to the working directory")
	fs.BoolVar(&opts.dryRun, "dry-run", false, "check everything and print what would change, without writing")
	fs.BoolVar(&opts.force, "force", false, "allow changing the type, product, locales or placeholders of a template that passes use")
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if opts.file == "" {
		return adminUsageError(e, fs, "-f FILE is required")
	}
	summary, err := adminApply(ctx, opts, e)
	var rejected *ipass.Error
	switch {
	case errors.As(err, &rejected):
		// One problem a line, so a long list stays readable.
		fmt.Fprintf(e.stderr, "ipass admin apply: %s rejected, nothing was applied:\n  %s\n",
			opts.source(), strings.ReplaceAll(rejected.Message, "\n", "\n  "))
		return exitFailure
	case err != nil:
		fmt.Fprintf(e.stderr, "ipass admin apply: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, summary)
	return exitOK
}

// adminApply loads and validates the file before opening the database, so an
// invalid file touches nothing (it does not even create the SQLite file).
// Problems with the file or with its references (from the store) are
// *ipass.Error.
func adminApply(ctx context.Context, opts adminOptions, e *env) (string, error) {
	var t *ipass.Tenants
	var err error
	if opts.file == "-" {
		var data []byte
		if data, err = io.ReadAll(e.stdin); err != nil {
			return "", fmt.Errorf("read standard input: %w", err)
		}
		t, err = tenants.Parse(data, ".")
	} else {
		t, err = tenants.Load(opts.file)
	}
	if err != nil {
		return "", err
	}
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		return "", fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	changes, err := db.ApplyChanges(ctx, t, sqlstore.ApplyOptions{DryRun: opts.dryRun, Force: opts.force})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "%s: %s\n", c.Entry, c.What)
	}
	verb := "applied"
	if opts.dryRun {
		verb = "dry run, nothing written:"
	}
	keys := 0
	for _, c := range t.Clients {
		keys += len(c.Keys)
	}
	return b.String() + fmt.Sprintf("%s %s: %s (%s), %s, %s, %s", verb, opts.source(),
		adminCount(len(t.Clients), "client"), adminCount(keys, "key"), adminCount(len(t.Merchants), "merchant"),
		adminCount(len(t.Templates), "template"), adminCount(len(t.Users), "user")), nil
}

func runAdminExport(ctx context.Context, e *env, args []string) int {
	var opts adminOptions
	fs := adminFlagSet(e, "export [--db DSN]",
		"Prints every client (with its keys, inline as PEM), merchant, template and user\n"+
			"as a tenants file on standard output; `ipass admin apply -f` takes it back.", &opts)
	if code, ok := parseAdminFlags(e, fs, &opts, args); !ok {
		return code
	}
	if err := adminExport(ctx, opts, e); err != nil {
		fmt.Fprintf(e.stderr, "ipass admin export: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func adminExport(ctx context.Context, opts adminOptions, e *env) error {
	db, err := sqlstore.Open(ctx, opts.db, adminLogger(e.stderr))
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	t, err := db.Export(ctx)
	if err != nil {
		return err
	}
	out, err := tenants.Marshal(t)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(out)
	return err
}

// adminLogger shows the store's warnings and errors only: a one-shot command
// need not report migrations it ran.
func adminLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func adminCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
