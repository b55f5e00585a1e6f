package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/sqlstore"
)

// TestAdminSandboxCommands: chaos and clock refuse a database no sandbox
// claimed (naming --sandbox), check their flags, and act on a sandbox's.
func TestAdminSandboxCommands(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
	commands := [][]string{
		{"admin", "chaos", "add", "--client", "2110200000000044", "--operation", "updatePass", "--answer", "DROP", "--db", db},
		{"admin", "chaos", "list", "--client", "2110200000000044", "--db", db},
		{"admin", "chaos", "clear", "--client", "2110200000000044", "--db", db},
		{"admin", "clock", "--merchant", "2160120036095023", "--advance", "400d", "--db", db},
	}
	for _, args := range commands {
		if r := cliRun(t, "", nil, args...); r.code != exitFailure || !strings.Contains(r.stderr, "ipass serve --sandbox") {
			t.Fatalf("ipass %s on a database no sandbox claimed: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	for _, tt := range []struct{ args, want string }{
		{"admin chaos add --client X --operation deletePass --answer DROP", `operation: "deletePass" is not one of`},
		{"admin chaos add --client X --operation * --answer LOST", `answer: "LOST" is not one of`},
		{"admin chaos add --client X --operation *", "answer: required unless a delay is given"},
		{"admin chaos add --client X --operation * --answer DROP --times 0", "times: 0 is not between 1 and 1000"},
		{"admin chaos list", "--client is required"},
		{"admin clock --merchant M", "exactly one of --advance, --set, --reset"},
		{"admin clock --merchant M --advance 400x", "want a duration such as 400d"},
		{"admin clock --merchant M --set tomorrow", "want RFC 3339"},
	} {
		if r := cliRun(t, "", nil, strings.Fields(tt.args)...); r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("ipass %s: exit %d, want %d with %q\n%s", tt.args, r.code, exitUsage, tt.want, r.stderr)
		}
	}

	// Claimed as a sandbox's, as `serve --sandbox` does at start.
	store, err := sqlstore.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ClaimMode(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if r := mustAdmin(t, "", commands[0]...); !strings.Contains(r.stdout, "#1 updatePass DROP times=1") {
		t.Fatalf("add: %s", r.stdout)
	}
	if r := mustAdmin(t, "", commands[1]...); strings.TrimSpace(r.stdout) != "#1 updatePass DROP times=1" {
		t.Fatalf("list: %q", r.stdout)
	}
	if r := mustAdmin(t, "", commands[2]...); !strings.Contains(r.stdout, "cleared 1 rule") {
		t.Fatalf("clear: %s", r.stdout)
	}
	if r := mustAdmin(t, "", commands[3]...); !strings.Contains(r.stdout, "+400d from the real clock") {
		t.Fatalf("clock: %s", r.stdout)
	}
	if r := cliRun(t, "", nil, "admin", "chaos", "list", "--client", "nobody", "--db", db); r.code != exitFailure || !strings.Contains(r.stderr, "not registered") {
		t.Fatalf("an unknown client: %d %s", r.code, r.stderr)
	}
}
