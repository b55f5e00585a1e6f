package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

const adminFixtures = "../../tenants/testdata/spec-fixtures.yaml"

// adminTempDB returns the DSN of a new SQLite database in a temp dir.
func adminTempDB(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "ipass.db")
}

// mustAdmin runs the command and fails the test unless it exits 0.
func mustAdmin(tb testing.TB, stdin string, args ...string) cliResult {
	tb.Helper()
	r := cliRun(tb, stdin, nil, args...)
	if r.code != exitOK {
		tb.Fatalf("ipass %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// adminSorted puts t in the store's export order (ids; keys by algorithm,
// then version) so a file can be compared with an export.
// adminSorted returns t in export order, with what applying t stores in
// place of the fields it left out (defaults, as for new records).
func adminSorted(t *ipass.Tenants) *ipass.Tenants {
	s := *t
	s.Clients = slices.Clone(t.Clients)
	slices.SortFunc(s.Clients, func(a, b ipass.Client) int { return strings.Compare(a.ID, b.ID) })
	for i := range s.Clients {
		c := &s.Clients[i]
		c.Omitted = nil
		if c.HeaderCase == "" {
			c.HeaderCase = ipass.HeaderLower
		}
		if c.EncryptionKey == "" {
			c.EncryptionKey = ipass.EncryptionKeyDedicated
		}
		s.Clients[i].Keys = slices.Clone(s.Clients[i].Keys)
		for j := range c.Keys {
			if c.Keys[j].Status == "" {
				c.Keys[j].Status = ipass.KeyActive
			}
		}
		slices.SortFunc(s.Clients[i].Keys, func(a, b ipass.ClientKey) int {
			if c := strings.Compare(a.Algorithm, b.Algorithm); c != 0 {
				return c
			}
			return a.Version - b.Version
		})
	}
	s.Merchants = slices.Clone(t.Merchants)
	for i := range s.Merchants {
		s.Merchants[i].Omitted = nil
	}
	slices.SortFunc(s.Merchants, func(a, b ipass.Merchant) int { return strings.Compare(a.ID, b.ID) })
	s.Templates = slices.Clone(t.Templates)
	for i := range s.Templates {
		s.Templates[i].Omitted = nil
	}
	slices.SortFunc(s.Templates, func(a, b ipass.Template) int {
		if c := strings.Compare(a.MerchantID, b.MerchantID); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	s.Users = slices.Clone(t.Users)
	slices.SortFunc(s.Users, func(a, b ipass.User) int { return strings.Compare(a.ID, b.ID) })
	return &s
}

func TestAdminApplyExportRoundTrip(t *testing.T) {
	db := adminTempDB(t)

	r := mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
	if want := "\napplied " + adminFixtures + ": 2 clients (3 keys), 2 merchants, 6 templates, 2 users\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("apply printed %q, want it to end with %q", r.stdout, want)
	}
	for _, want := range []string{
		"clients[0] (clientId \"2110200000000044\"): created\n",
		"clients[0] (clientId \"2110200000000044\").keys[1] (ECC224 keyVersion 1): created (active)\n",
		"templates[5] (templateCode \"tmpl-other-card\"): created\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("apply wrote to stderr: %s", r.stderr)
	}

	export1 := mustAdmin(t, "", "admin", "export", "--db", db).stdout
	got, err := tenants.Parse([]byte(export1), t.TempDir())
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, export1)
	}
	want, err := tenants.Load(adminFixtures)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(adminSorted(got), adminSorted(want)) {
		t.Errorf("export differs from the applied file:\n got %+v\nwant %+v", got, adminSorted(want))
	}

	// Applying the export again (it stands alone: keys are inline) changes
	// nothing, and the file is the summary's name for it.
	exportFile := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(exportFile, []byte(export1), 0o600); err != nil {
		t.Fatal(err)
	}
	mustAdmin(t, "", "admin", "apply", "-f", exportFile, "--db", db)
	if export2 := mustAdmin(t, "", "admin", "export", "--db", db).stdout; export2 != export1 {
		t.Errorf("export changed after re-applying it:\n%s\n---\n%s", export1, export2)
	}

	// The same through a pipe: `ipass admin export | ipass admin apply -f -`.
	r = mustAdmin(t, export1, "admin", "apply", "-f", "-", "--db", db)
	if !strings.Contains(r.stdout, "\napplied standard input: 2 clients") || strings.Count(r.stdout, ": unchanged\n") != 15 {
		t.Errorf("apply -f - printed %q", r.stdout)
	}
	if export3 := mustAdmin(t, "", "admin", "export", "--db", db).stdout; export3 != export1 {
		t.Errorf("export changed after re-applying it from stdin:\n%s\n---\n%s", export1, export3)
	}
}

func TestAdminApplyUpdates(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)

	// Upsert by id: a renamed merchant and a retired key replace the
	// stored ones; what the file leaves out stays.
	change := `
clients:
  - clientId: "2110200000000055"
    name: "Renamed back end"
    keys:
      - keyVersion: 1
        algorithm: RSA256
        publicKeyFile: keys/client-0055-rsa-v1.pub.pem
        status: retired
merchants:
  - {merchantId: "2160400000000022", clientId: "2110200000000055", name: "Renamed Tea House"}
`
	file := filepath.Join(t.TempDir(), "change.yaml")
	if err := os.CopyFS(filepath.Join(filepath.Dir(file), "keys"), os.DirFS("../../tenants/testdata/keys")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(change), 0o600); err != nil {
		t.Fatal(err)
	}
	r := mustAdmin(t, "", "admin", "apply", "-f", file, "--db", db)
	if !strings.HasSuffix(r.stdout, ": 1 client (1 key), 1 merchant, 0 templates, 0 users\n") {
		t.Errorf("apply printed %q", r.stdout)
	}
	got, err := tenants.Parse([]byte(mustAdmin(t, "", "admin", "export", "--db", db).stdout), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Clients[1]; c.Name != "Renamed back end" || c.Keys[0].Status != ipass.KeyRetired {
		t.Errorf("client 0055 after the update: %+v", c)
	}
	if m := got.Merchants[1]; m.Name != "Renamed Tea House" {
		t.Errorf("merchant 0022 after the update: %+v", m)
	}
	if len(got.Templates) != 6 || len(got.Users) != 2 {
		t.Errorf("the update deleted something: %d templates, %d users", len(got.Templates), len(got.Users))
	}
}

func TestAdminApplyRejectsWholeFile(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
	before := mustAdmin(t, "", "admin", "export", "--db", db).stdout

	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, file string
		stderr     []string
	}{
		{
			// The first entry is fine and would change the database; the
			// second is not, so neither is applied.
			name: "InvalidEntry",
			file: write("invalid.yaml", `
merchants:
  - {merchantId: "2160120036095023", clientId: "2110200000000044", name: "Changed"}
templates:
  - {templateCode: "temlate111001", merchantId: "2160120036095023", type: CARD, product: PASS, locales: [zh_HK], placeholders: [points]}
  - {templateCode: "x", merchantId: "2160120036095023", type: CARD, product: MEMBER_CARD, locales: [en-US], placeholders: [points]}
`),
			stderr: []string{
				" rejected, nothing was applied:\n",
				"\n  templates[0] (temlate111001).product: \"PASS\" is not a product of type CARD\n",
				"\n  templates[1] (x).locales[0]: \"en-US\" is not a locale like zh_HK\n",
			},
		},
		{
			name:   "TypoInFieldName",
			file:   write("typo.yaml", "merchants:\n  - {merchantID: \"2160120036095023\", clientId: \"2110200000000044\"}\n"),
			stderr: []string{"line 2: field merchantID not found in type a merchant"},
		},
		{
			// Valid on its own, but refers to a client that is neither in
			// the file nor in the database: the store refuses it, and the
			// rename before it in the same file is rolled back.
			name: "UnknownReference",
			file: write("reference.yaml", `
merchants:
  - {merchantId: "2160120036095023", clientId: "2110200000000044", name: "Changed"}
  - {merchantId: "2160999999999999", clientId: "2119999999999999"}
`),
			stderr: []string{" rejected, nothing was applied:\n", "2119999999999999"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliRun(t, "", nil, "admin", "apply", "-f", tt.file, "--db", db)
			if r.code != exitFailure {
				t.Errorf("exit %d, want %d", r.code, exitFailure)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if after := mustAdmin(t, "", "admin", "export", "--db", db).stdout; after != before {
				t.Errorf("the database changed:\n%s\n---\n%s", before, after)
			}
		})
	}
}

func TestAdminInvalidFileCreatesNoDatabase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte("users:\n  - userId: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "data", "ipass.db")
	r := cliRun(t, "", nil, "admin", "apply", "-f", file, "--db", "sqlite:"+dbPath)
	if r.code != exitFailure || !strings.Contains(r.stderr, "users[0].userId: is empty") {
		t.Errorf("exit %d, stderr %q; want 1 naming users[0].userId", r.code, r.stderr)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Errorf("an invalid file created the database (stat: %v)", err)
	}
}

func TestAdminDBFromEnvironment(t *testing.T) {
	envDB, flagDB := adminTempDB(t), adminTempDB(t)
	environ := map[string]string{"IPASS_DB": envDB}

	if r := cliRun(t, "", environ, "admin", "apply", "-f", adminFixtures); r.code != exitOK {
		t.Fatalf("apply with IPASS_DB: exit %d: %s", r.code, r.stderr)
	}
	if r := cliRun(t, "", nil, "admin", "export", "--db", envDB); !strings.Contains(r.stdout, "2110200000000044") {
		t.Errorf("apply did not use IPASS_DB: its database exports %q", r.stdout)
	}
	// The flag wins over the environment.
	if r := cliRun(t, "", environ, "admin", "export", "--db", flagDB); r.code != exitOK || strings.Contains(r.stdout, "clientId") {
		t.Errorf("export --db with IPASS_DB set: exit %d, %q; want the (empty) --db database", r.code, r.stdout)
	}
}

func TestAdminUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		output string // expected in stdout + stderr
	}{
		{"NoSubcommand", []string{"admin"}, exitUsage, "Usage: ipass admin SUBCOMMAND"},
		{"Help", []string{"admin", "--help"}, exitOK, "apply -f FILE"},
		{"UnknownSubcommand", []string{"admin", "delete"}, exitUsage, `unknown subcommand "delete"`},
		{"ApplyHelp", []string{"admin", "apply", "--help"}, exitOK, "Usage: ipass admin apply -f FILE [--dry-run] [--force] [--db DSN]"},
		{"ApplyHelpNamesEnv", []string{"admin", "apply", "-h"}, exitOK, "IPASS_DB"},
		{"ExportHelp", []string{"admin", "export", "--help"}, exitOK, "Usage: ipass admin export [--db DSN]"},
		{"ApplyWithoutFile", []string{"admin", "apply"}, exitUsage, "-f FILE is required"},
		{"ApplyUnknownFlag", []string{"admin", "apply", "--file", "x.yaml"}, exitUsage, "flag provided but not defined: -file"},
		{"ExportExtraArgument", []string{"admin", "export", "tenants.yaml"}, exitUsage, `unexpected argument "tenants.yaml"`},
		{"ApplyMissingFile", []string{"admin", "apply", "-f", "no-such-file.yaml"}, exitFailure, "no-such-file.yaml: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliRun(t, "", nil, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d", r.code, tt.code)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.output) {
				t.Errorf("output lacks %q:\nstdout: %s\nstderr: %s", tt.output, r.stdout, r.stderr)
			}
		})
	}
}

// TestAdminApplyRefusesOutOfRangeNumbers: numbers PostgreSQL's 32-bit
// columns cannot hold, and fractions, are refused by the validator naming
// entry and field, on both engines, before any driver sees them (issue 8,
// break 7). Before, PostgreSQL answered with a raw driver error and 2.9
// was stored as 2.
func TestAdminApplyRefusesOutOfRangeNumbers(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": sqlstoretest.NewSQLiteDSN, "postgres": sqlstoretest.NewPostgresDSN} {
		t.Run(name, func(t *testing.T) {
			db := dsn(t)
			mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
			before := mustAdmin(t, "", "admin", "export", "--db", db).stdout
			dir := t.TempDir()
			for _, tt := range []struct{ name, yaml, want string }{
				{"rateLimit", "clients:\n  - {clientId: \"2110200000000044\", rateLimit: 3000000000}\n",
					"clients[0] (2110200000000044).rateLimit: 3000000000 is larger than 2147483647"},
				{"keyVersion", "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - {keyVersion: 3000000000, algorithm: RSA256, publicKeyFile: " + filepath.Join(adminKeyDir(t), "client-0044-rsa-v1.pub.pem") + "}\n",
					"clients[0] (2110200000000044).keys[0].keyVersion: 3000000000 is larger than 2147483647"},
				{"fraction", "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - {keyVersion: 2.9, algorithm: RSA256, publicKeyFile: " + filepath.Join(adminKeyDir(t), "client-0044-rsa-v1.pub.pem") + "}\n",
					"clients[0] (2110200000000044).keys[0].keyVersion: 2.9 is not a whole number"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					file := filepath.Join(dir, tt.name+".yaml")
					if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
						t.Fatal(err)
					}
					r := cliRun(t, "", nil, "admin", "apply", "-f", file, "--db", db)
					if r.code != exitFailure || !strings.Contains(r.stderr, tt.want) {
						t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, exitFailure, tt.want)
					}
					if after := mustAdmin(t, "", "admin", "export", "--db", db).stdout; after != before {
						t.Fatal("the database changed")
					}
				})
			}
		})
	}
}

// adminKeyDir is the folder of the fixture key files, absolute.
func adminKeyDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(adminFixtures), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAdminApplyKeyRotationKeepsClient follows the README's key rotation
// step 2 with a file listing only the new key: the client keeps its name and
// rateLimit, --dry-run shows the change and writes nothing, and step 4
// retires the old key without its public key.
func TestAdminApplyKeyRotationKeepsClient(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", adminFixtures, "--db", db)
	before := mustAdmin(t, "", "admin", "export", "--db", db).stdout

	newKey, err := os.ReadFile("../../tenants/testdata/keys/client-0055-rsa-v1.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	step2 := "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - keyVersion: 2\n        algorithm: RSA256\n        publicKey: |\n          " +
		strings.ReplaceAll(strings.TrimSpace(string(newKey)), "\n", "\n          ") + "\n"
	r := mustAdmin(t, step2, "admin", "apply", "--dry-run", "-f", "-", "--db", db)
	for _, want := range []string{
		"clients[0] (clientId \"2110200000000044\"): unchanged\n",
		"clients[0] (clientId \"2110200000000044\").keys[0] (RSA256 keyVersion 2): created (active)\n",
		"dry run, nothing written: standard input",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if after := mustAdmin(t, "", "admin", "export", "--db", db).stdout; after != before {
		t.Fatal("--dry-run changed the database")
	}

	mustAdmin(t, step2, "admin", "apply", "-f", "-", "--db", db)
	step4 := "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - {keyVersion: 1, algorithm: RSA256, status: retired}\n"
	r = mustAdmin(t, step4, "admin", "apply", "-f", "-", "--db", db)
	if !strings.Contains(r.stdout, "(RSA256 keyVersion 1): retired\n") {
		t.Errorf("retire printed:\n%s", r.stdout)
	}
	got, err := tenants.Parse([]byte(mustAdmin(t, "", "admin", "export", "--db", db).stdout), "")
	if err != nil {
		t.Fatal(err)
	}
	c := got.Clients[0]
	if c.Name != "Demo merchant back end" || c.RateLimit != 200 {
		t.Errorf("client after rotation: name %q rateLimit %d; want both kept", c.Name, c.RateLimit)
	}
	if _, ok := c.ActiveKey(ipass.AlgorithmRSA256, 1); ok {
		t.Error("keyVersion 1 still active after retiring it")
	}
	if _, ok := c.ActiveKey(ipass.AlgorithmRSA256, 2); !ok {
		t.Error("keyVersion 2 not active")
	}
}
