package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// cliResult is what one in-process `ipass` run printed and returned.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cliRun runs `ipass args...` in-process with stdin and an environment of
// its own (nothing is read from the real environment).
func cliRun(tb testing.TB, stdin string, environ map[string]string, args ...string) cliResult {
	tb.Helper()
	var out, errOut bytes.Buffer
	e := &env{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return environ[k] },
	}
	code := run(context.Background(), e, args)
	return cliResult{out.String(), errOut.String(), code}
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}
