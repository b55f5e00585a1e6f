package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	register("version", "print the module version, VCS revision and Go version of this binary", runVersion)
}

const versionUsage = `Usage: ipass version

Prints what this binary was built from, as the Go toolchain recorded it:
the module version ("(devel)" for a build from a working tree), the VCS
revision and commit time (absent when built with -buildvcs=false or
outside a repository; "+dirty" when the tree had local changes), and the
Go version and platform.
`

func runVersion(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code, ok := parseFlags(e, fs, versionUsage, args); !ok {
		return code
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(e.stderr, "ipass version: this binary carries no build information")
		return exitFailure
	}
	printVersion(e.stdout, info)
	return exitOK
}

func printVersion(w io.Writer, info *debug.BuildInfo) {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	revision := settings["vcs.revision"]
	if revision == "" {
		revision = "unknown"
	} else if settings["vcs.modified"] == "true" {
		revision += "+dirty"
	}
	fmt.Fprintf(w, "ipass %s\n", version)
	fmt.Fprintf(w, "module   %s\n", info.Main.Path)
	fmt.Fprintf(w, "revision %s\n", revision)
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(w, "committed %s\n", t)
	}
	fmt.Fprintf(w, "go       %s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
