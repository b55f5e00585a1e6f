// Command ipass is the ipass server, its provisioning tool and the merchant
// protocol CLI in one binary. Run `ipass --help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0 // success (for `call`: resultStatus S; for `verify`: valid)
	exitFailure = 1 // `call`: resultStatus F or U; `verify`: does not verify; other commands: failed
	exitUsage   = 2 // usage, transport or verification failure
)

// env is what a subcommand may touch, injected so tests run commands in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one subcommand; run returns an exit code.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// commands is filled by the per-subcommand files (serve.go, keygen.go, ...).
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, e *env, args []string) int) {
	commands[name] = command{summary: summary, run: run}
}

var commandOrder = []string{"serve", "keygen", "call", "sign", "verify", "admin", "certify", "bench", "version"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "ipass: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return cmd.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ipass — self-hostable AlipayHK iPass pass-management server, SDK CLI and tools")
	fmt.Fprintln(w, "\nUsage: ipass COMMAND [flags]\n\nCommands:")
	for _, name := range commandOrder {
		if c, ok := commands[name]; ok {
			fmt.Fprintf(w, "  %-8s %s\n", name, c.summary)
		}
	}
	fmt.Fprintln(w, "\nRun `ipass COMMAND --help` for the flags of a command.")
}

// parseFlags gives fs its usage text, parses args and refuses positional
// arguments. ok = false means stop with code: exitOK after --help, exitUsage
// after a flag error (flag has reported it) or a stray argument.
func parseFlags(e *env, fs *flag.FlagSet, usage string, args []string) (code int, ok bool) {
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ipass %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}
