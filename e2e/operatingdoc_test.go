package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the doc's PostgreSQL queries
	_ "modernc.org/sqlite"             // the "sqlite" driver, for the doc's SQLite queries
)

// This file runs the commands of docs/operating.md against the built binary
// (issue 15, break 9: the page showed commands and defaults the binary did
// not have). Every code block of the page is marked <!-- doc-test: NAME -->
// and TestOperatingDoc has a step for each NAME; a block without a mark, or
// a mark no step runs, fails the test.

// docBlock is one marked code block.
type docBlock struct {
	name, text string
	line       int
}

var docMark = regexp.MustCompile(`^\s*<!-- doc-test: ([a-z0-9-]+) -->\s*$`)

// operatingBlocks reads docs/operating.md's code blocks by their marks.
func operatingBlocks(t *testing.T) map[string]docBlock { return docBlocks(t, "operating.md") }

// docBlocks reads the code blocks of docs/page by their marks.
func docBlocks(t *testing.T, page string) map[string]docBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	blocks := map[string]docBlock{}
	mark, markIndent := "", 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := docMark.FindStringSubmatch(l); m != nil {
			mark, markIndent = m[1], indent(l)
			continue
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		fenced := strings.HasPrefix(strings.TrimSpace(l), "```")
		indented := indent(l) >= 4 && i > 0 && strings.TrimSpace(lines[i-1]) == "" && !isListText(lines, i)
		if !fenced && !indented {
			mark = ""
			continue
		}
		start := i
		var body []string
		if fenced {
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				body = append(body, lines[i])
			}
		} else {
			cut := indent(l)
			if mark != "" {
				cut = markIndent + 4
			}
			for ; i < len(lines) && (strings.TrimSpace(lines[i]) == "" || indent(lines[i]) >= cut); i++ {
				body = append(body, strings.TrimPrefix(lines[i], strings.Repeat(" ", min(cut, indent(lines[i])))))
			}
			i--
		}
		switch {
		case mark == "":
			t.Errorf("docs/%s:%d: a code block without a <!-- doc-test: NAME --> mark:\n%s", page, start+1, strings.Join(body, "\n"))
		case blocks[mark].text != "":
			t.Errorf("docs/%s:%d: a second block marked %s", page, start+1, mark)
		default:
			blocks[mark] = docBlock{mark, strings.TrimSpace(strings.Join(body, "\n")), start + 1}
		}
		mark = ""
	}
	return blocks
}

// isListText reports whether line i continues a list item's text (indented
// under "1. " or "- ") rather than starting a code block.
func isListText(lines []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		s := strings.TrimSpace(lines[j])
		if s == "" || docMark.MatchString(lines[j]) {
			continue
		}
		// A code block in a list item is indented 4 past the item's text.
		return len(lines[i])-len(strings.TrimLeft(lines[i], " ")) < 4+len(lines[j])-len(strings.TrimLeft(lines[j], " "))
	}
	return false
}

// commands splits a block into shell commands, joining continued lines.
func commands(block string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if c, ok := strings.CutSuffix(l, "\\"); ok {
			cur += c
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	return out
}

// docShell runs a page's commands with sh in a working directory, with the
// built ipass first on PATH.
type docShell struct {
	t   *testing.T
	dir string
	env []string
	sub *strings.Replacer // the page's example paths and addresses → this test's
}

func newDocShell(t *testing.T, dir string, sub ...string) *docShell {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+filepath.Dir(ipassBinary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	return &docShell{t: t, dir: dir, env: env, sub: strings.NewReplacer(sub...)}
}

// run runs one command; it must succeed. It returns stdout and stderr.
func (d *docShell) run(command string, extraEnv ...string) string {
	d.t.Helper()
	out, err := d.try(command, extraEnv...)
	if err != nil {
		d.t.Fatalf("%s: %v\n%s", command, err, out)
	}
	return out
}

func (d *docShell) try(command string, extraEnv ...string) (string, error) {
	d.t.Helper()
	cmd := exec.Command("sh", "-c", d.sub.Replace(command))
	cmd.Dir, cmd.Env = d.dir, append(slices.Clone(d.env), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// block runs every command of a block in order; `ipass serve` lines are not
// allowed here (see serve).
func (d *docShell) block(b docBlock, extraEnv ...string) string {
	d.t.Helper()
	var all strings.Builder
	for _, c := range commands(b.text) {
		if strings.HasPrefix(c, "ipass serve") {
			d.t.Fatalf("block %s (line %d): serve commands are started with serve()", b.name, b.line)
		}
		all.WriteString(d.run(c, extraEnv...))
	}
	return all.String()
}

// docServer is an `ipass serve` started from a page's command.
type docServer struct {
	url     string
	logPath string // its stdout and stderr
	cmd     *exec.Cmd
	done    chan error
}

// log is what the server printed so far.
func (d *docServer) log() string {
	b, _ := os.ReadFile(d.logPath)
	return string(b)
}

// stop sends SIGTERM and waits for a clean exit.
func (d *docServer) stop(t *testing.T) {
	t.Helper()
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("serve exited with %v on SIGTERM\n%s", err, d.log())
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM\n%s", d.log())
	}
}

// serve starts command (an `ipass serve` line, after substitution) on a
// free loopback port: the --addr it names, if any, is overridden by a later
// one, as flags go. It returns once the server is listening.
func (d *docShell) serve(command string, extraArgs ...string) *docServer {
	d.t.Helper()
	if !strings.HasPrefix(command, "ipass serve") {
		d.t.Fatalf("not a serve command: %s", command)
	}
	tmp := d.t.TempDir()
	addrFile := filepath.Join(tmp, "addr")
	line := "exec " + d.sub.Replace(command) + " --addr 127.0.0.1:0 --addr-file " + addrFile + " " + strings.Join(extraArgs, " ")
	cmd := exec.Command("sh", "-c", line)
	s := &docServer{logPath: filepath.Join(tmp, "log"), cmd: cmd, done: make(chan error, 1)}
	logf, err := os.Create(s.logPath)
	if err != nil {
		d.t.Fatal(err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd.Dir, cmd.Env = d.dir, d.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	d.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			s.url = "http://" + string(b)
			return s
		}
		select {
		case err := <-s.done:
			d.t.Fatalf("%s\nexited before listening (%v):\n%s", line, err, s.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s\ndid not start:\n%s", line, s.log())
		}
	}
}

func httpGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// demoCall is `ipass call` as the demo client of the data dir in the shell's
// directory, verifying with serverPub; it returns the command line.
func demoCall(url, op, serverPub, file string, extra ...string) string {
	return fmt.Sprintf("ipass call %s --url %s --client-id 2110200000000044 --key ipass-data/demo-client.pem --server-public-key %s %s %s",
		op, url, serverPub, strings.Join(extra, " "), file)
}

// freeAddr is a loopback address nothing listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// queryRows runs the SQL statements of a block and returns every row's
// first column.
func queryRows(t *testing.T, driver, dsn, block string) [][]string {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out [][]string
	for _, stmt := range strings.Split(block, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		rows, err := db.QueryContext(context.Background(), stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		var got []string
		for rows.Next() {
			var v sql.NullString
			cols, _ := rows.Columns()
			dest := []any{&v}
			for range cols[1:] {
				dest = append(dest, new(any))
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
			got = append(got, v.String)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		out = append(out, got)
	}
	return out
}

// haveSQLite3 reports whether the sqlite3 command is installed; a CI run
// must not pass without it.
func haveSQLite3(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sqlite3 not on PATH (required in CI): %v", err)
		}
		return false
	}
	return true
}

// TestOperatingDoc runs every command docs/operating.md shows.
func TestOperatingDoc(t *testing.T) {
	blocks := operatingBlocks(t)
	root := moduleRoot(t)
	examples := filepath.Join(root, "examples")
	used := map[string]bool{}
	get := func(t *testing.T, name string) docBlock {
		t.Helper()
		b, ok := blocks[name]
		if !ok {
			t.Fatalf("docs/operating.md has no block marked %s", name)
		}
		used[name] = true
		return b
	}
	old := syscall.Umask(0o022) // the usual umask, under which loose files are easy to make
	t.Cleanup(func() { syscall.Umask(old) })

	t.Run("install", func(t *testing.T) {
		gobin := t.TempDir()
		d := newDocShell(t, root)
		d.env = append(d.env, "GOBIN="+gobin, "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"), "GOFLAGS=")
		out := d.block(get(t, "install"))
		if _, err := os.Stat(filepath.Join(gobin, "ipass")); err != nil || !strings.Contains(out, "go1.") {
			t.Fatalf("no ipass installed (%v), or ipass version printed no Go version:\n%s", err, out)
		}
	})

	// One node on SQLite with the demo tenant: backup, queries, admin
	// commands, then file permissions.
	t.Run("sqlite-node", func(t *testing.T) {
		d := newDocShell(t, t.TempDir())
		srv := d.serve("ipass serve")
		pub := "ipass-data/server-signing.pub.pem"
		pass := strings.TrimSpace(d.run(demoCall(srv.url, "createPass", pub, filepath.Join(examples, "member-card-create.json"), "--field passId")))
		d.run(demoCall(srv.url, "updatePass", pub, filepath.Join(examples, "member-card-points.json"), "--set passId="+pass))

		if backup := get(t, "sqlite-backup"); !haveSQLite3(t) {
			t.Logf("not run without the sqlite3 command: %s", backup.text)
		} else {
			d.block(backup) // while the server runs
			if got := queryRows(t, "sqlite", filepath.Join(d.dir, "backup.db"), "SELECT id FROM passes"); len(got[0]) != 1 || got[0][0] != pass {
				t.Fatalf("backup.db holds passes %v, want [%s]", got, pass)
			}
		}
		for i, rows := range queryRows(t, "sqlite", filepath.Join(d.dir, "ipass-data", "ipass.db"), get(t, "sql-sqlite").text) {
			if !slices.Contains(rows, pass) {
				t.Errorf("SQLite query %d returned %v, want the pass %s among them", i+1, rows, pass)
			}
		}
		out := d.block(get(t, "admin-passes"), "PASS="+pass)
		if n := strings.Count(out, pass); n < 4 {
			t.Errorf("the admin commands named the pass %d times, want at least once each:\n%s", n, out)
		}
		srv.stop(t)

		// What an older ipass, or a careless copy, leaves behind.
		for path, mode := range map[string]os.FileMode{"ipass-data": 0o755, "ipass-data/server-signing.pem": 0o644, "ipass-data/ipass.db": 0o644} {
			if err := os.Chmod(filepath.Join(d.dir, path), mode); err != nil {
				t.Fatal(err)
			}
		}
		srv = d.serve("ipass serve")
		srv.stop(t)
		example := get(t, "warn-example").text
		if !strings.Contains(srv.log(), example) {
			t.Errorf("the log has no line ending in the page's example\n%s\nlog:\n%s", example, srv.log())
		}
		for _, want := range []string{`fix="chmod 700 ipass-data"`, `fix="chmod 600 ipass-data/ipass.db`} {
			if !strings.Contains(srv.log(), want) {
				t.Errorf("no warning with %s:\n%s", want, srv.log())
			}
		}
		if fi, err := os.Stat(filepath.Join(d.dir, "ipass-data", "ipass.db")); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("the database was changed behind the operator's back: %v %v", fi.Mode().Perm(), err)
		}
		d.block(get(t, "fix-permissions"))
		srv = d.serve("ipass serve")
		srv.stop(t)
		if strings.Contains(srv.log(), `fix="chmod`) {
			t.Errorf("warnings after the page's fix:\n%s", srv.log())
		}
	})

	// Several nodes, each in a directory of its own as on its own host, on
	// one database of each engine.
	for _, eng := range engines(t) {
		t.Run("several-nodes/"+eng.name, func(t *testing.T) {
			dsn := eng.newDB(t)
			etc := filepath.Join(t.TempDir(), "etc-ipass")
			d := newDocShell(t, t.TempDir(), "/etc/ipass/", etc+"/",
				"'postgres://ipass:secret@db.internal:5432/ipass?sslmode=require'", "'"+dsn+"'")
			d.block(get(t, "cluster-keys"))
			tenants, err := os.ReadFile(filepath.Join(root, "tenants", "testdata", "spec-fixtures.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			keys := filepath.Join(root, "tenants", "testdata", "keys")
			if err := os.WriteFile(filepath.Join(etc, "tenants.yaml"), bytes.ReplaceAll(tenants, []byte("keys/"), []byte(keys+"/")), 0o600); err != nil {
				t.Fatal(err)
			}
			node := commands(get(t, "cluster-node").text)
			if len(node) != 1 {
				t.Fatalf("the several-nodes block has %d commands, want one", len(node))
			}
			var urls []string
			for i := range 2 {
				n := newDocShell(t, filepath.Join(d.dir, fmt.Sprintf("node%d", i+1)), "/etc/ipass/", etc+"/",
					"'postgres://ipass:secret@db.internal:5432/ipass?sslmode=require'", "'"+dsn+"'")
				srv := n.serve(node[0])
				defer srv.stop(t)
				if resp, body := httpGet(t, srv.url+"/readyz"); resp.StatusCode != http.StatusOK {
					t.Fatalf("node %d /readyz: %d %s", i+1, resp.StatusCode, body)
				}
				urls = append(urls, srv.url)
			}
			// A pass made on one node is changed on the other, every answer
			// verified with the one published key.
			call := func(url, op, file string, extra ...string) string {
				return fmt.Sprintf("ipass call %s --url %s --client-id 2110200000000044 --key %s --server-public-key %s --encrypt --server-encryption-key %s %s %s",
					op, url, filepath.Join(keys, "client-0044-rsa-v1.pem"), filepath.Join(etc, "server-signing.pub.pem"),
					filepath.Join(etc, "server-encryption.pub.pem"), strings.Join(extra, " "), file)
			}
			pass := strings.TrimSpace(d.run(call(urls[0], "createPass", filepath.Join(examples, "member-card-create.json"), "--field passId")))
			d.run(call(urls[1], "updatePass", filepath.Join(examples, "member-card-points.json"), "--set passId="+pass))
			if eng.name == "postgres" {
				for i, rows := range queryRows(t, "pgx", dsn, get(t, "sql-postgres").text) {
					if len(rows) == 0 || rows[0] == "" {
						t.Errorf("PostgreSQL query %d returned %v, want the pass's rows", i+1, rows)
					}
				}
			}
		})
	}
	if !used["sql-postgres"] {
		// Without IPASS_TEST_POSTGRES_URL the PostgreSQL queries cannot run.
		if os.Getenv("CI") == "true" {
			t.Error("the PostgreSQL queries of docs/operating.md did not run (set IPASS_TEST_POSTGRES_URL)")
		}
		used["sql-postgres"] = true
	}

	// Server key rotation, step by step, with a merchant that encrypts.
	t.Run("rotation", func(t *testing.T) {
		d := newDocShell(t, t.TempDir())
		srv := d.serve("ipass serve")
		v1 := []string{"--encrypt", "--server-encryption-key", "ipass-data/server-encryption.pub.pem", "--encryption-key-version", "1"}
		pass := strings.TrimSpace(d.run(demoCall(srv.url, "createPass", "ipass-data/server-signing.pub.pem", filepath.Join(examples, "member-card-create.json"), append(v1, "--field passId")...)))
		srv.stop(t)

		d.block(get(t, "rotate-keygen"))
		v2 := []string{"--encrypt", "--server-encryption-key", "server-encryption-v2.pub.pem", "--encryption-key-version", "2", "--set", "passId=" + pass}
		v1 = append(v1, "--set", "passId="+pass)
		query := filepath.Join(examples, "query.json")

		grace := commands(get(t, "rotate-grace").text)
		srv = d.serve(grace[0])
		d.run(demoCall(srv.url, "queryPass", "server-signing-v2.pub.pem", query, v1...))
		d.run(demoCall(srv.url, "queryPass", "server-signing-v2.pub.pem", query, v2...))
		srv.stop(t)

		done := commands(get(t, "rotate-done").text)
		srv = d.serve(done[0])
		d.run(demoCall(srv.url, "queryPass", "server-signing-v2.pub.pem", query, v2...))
		if out, err := d.try(demoCall(srv.url, "queryPass", "server-signing-v2.pub.pem", query, v1...)); err == nil || !strings.Contains(out, "KEY_NOT_FOUND") {
			t.Errorf("after the grace period a request encrypted to version 1: %v\n%s\nwant KEY_NOT_FOUND", err, out)
		}
		srv.stop(t)
	})

	t.Run("metrics-addr", func(t *testing.T) {
		addr := freeAddr(t)
		d := newDocShell(t, t.TempDir(), "127.0.0.1:9090", addr)
		cmds := commands(get(t, "metrics-addr").text)
		srv := d.serve(cmds[0])
		if resp, body := httpGet(t, "http://"+addr+"/metrics"); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("ipass_db_pool_open_connections")) {
			t.Errorf("GET /metrics on --metrics-addr: %d\n%.300s", resp.StatusCode, body)
		}
		if resp, _ := httpGet(t, srv.url+"/metrics"); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Signature") == "" {
			t.Errorf("GET /metrics on the API address: %d, Signature %q; want a signed 404", resp.StatusCode, resp.Header.Get("Signature"))
		}
		srv.stop(t)
	})

	// Installing the unit needs root and a running systemd; deploy's tests
	// run systemd-analyze verify on the unit it copies.
	t.Run("systemd", func(t *testing.T) {
		for _, c := range commands(get(t, "systemd").text) {
			for _, f := range strings.Fields(c) {
				if strings.HasPrefix(f, "deploy/") {
					if _, err := os.Stat(filepath.Join(root, f)); err != nil {
						t.Errorf("%s: %v", c, err)
					}
				}
			}
		}
		t.Log("not run: needs root and systemd")
	})

	for name, b := range blocks {
		if !used[name] {
			t.Errorf("docs/operating.md:%d: block %s is run by no step of this test", b.line, name)
		}
	}
}

// helpFlags runs `ipass ARGS --help` and returns each flag's usage line.
func helpFlags(t *testing.T, args ...string) map[string]string {
	t.Helper()
	out, _ := exec.Command(ipassBinary(t), append(args, "--help")...).CombinedOutput() // --help may exit 0 or 2
	flags := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)[^\n]*\n\s+\t([^\n]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = m[2]
	}
	if len(flags) == 0 && !slices.Equal(args, []string{"version"}) {
		t.Fatalf("ipass %s --help lists no flag:\n%s", strings.Join(args, " "), out)
	}
	return flags
}

// TestOperatingDocFlags: every flag docs/operating.md names is a flag of
// the binary, and the defaults it states are the binary's (issue 15, break
// 9: it gave a default for the encryption key the binary no longer had).
func TestOperatingDocFlags(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	all := map[string]bool{}
	serve := helpFlags(t, "serve")
	for _, args := range [][]string{{"serve"}, {"keygen"}, {"call"}, {"sign"}, {"verify"}, {"bench"}, {"version"},
		{"admin", "apply"}, {"admin", "export"}, {"admin", "passes", "list"}, {"admin", "passes", "show"},
		{"admin", "wallet-link"}, {"admin", "wallet-secret", "rotate"}, {"admin", "seed"}, {"admin", "requests"}} {
		for f := range helpFlags(t, args...) {
			all[f] = true
		}
	}
	// Flags of other programs the page shows (useradd, systemctl).
	foreign := map[string]bool{"system": true, "home": true, "shell": true, "now": true}
	named := 0
	for _, m := range regexp.MustCompile(`--([a-z][a-z0-9-]*)(\*?)`).FindAllStringSubmatch(doc, -1) {
		if m[2] != "" || foreign[m[1]] || m[1] == "help" {
			continue // --previous-* stands for a family of flags
		}
		named++
		if !all[m[1]] {
			t.Errorf("docs/operating.md names --%s, which no ipass command has", m[1])
		}
	}
	if named < 20 {
		t.Fatalf("only %d flags found in docs/operating.md: is the pattern broken?", named)
	}

	// What the page says of a default, and what --help says of it.
	for _, c := range []struct{ doc, flag, help string }{
		{"(the default, `--db sqlite:./ipass-data/ipass.db`)", "data-dir", `(default "./ipass-data")`},
		{"(the default, `--db sqlite:./ipass-data/ipass.db`)", "db", "(default sqlite:DATA_DIR/ipass.db)"},
		{"| `--signing-key` | generated once as `server-signing.pem` in `--data-dir` |", "signing-key", "generated in the data dir"},
		{"| `--encryption-key` | generated once as `server-encryption.pem`", "encryption-key", "server-encryption.pem, generated in the data dir"},
		{"`--server-key-version` (default 1)", "server-key-version", "(default 1)"},
		{"for up to `--shutdown-timeout` (15 s)", "shutdown-timeout", "(default 15s)"},
		{"| 1 MiB (`REQUEST_TOO_LARGE`, 413) | `--max-body-bytes` |", "max-body-bytes", "(default 1048576)"},
		{"| ±5 min (`REQUEST_TIME_EXPIRED`) | `--request-time-window` |", "request-time-window", "(default 5m0s)"},
		{"It is on by default, on the listen address;\n`--metrics=false` turns it off", "metrics", "(default true)"},
		{"`--request-log-retention` (default 7 days)", "request-log-retention", "(default 168h0m0s)"},
		{"`--request-log-max-rows` (default 100000)", "request-log-max-rows", "(default 100000)"},
	} {
		if !strings.Contains(doc, c.doc) {
			t.Errorf("docs/operating.md no longer says %q: update this test with it", c.doc)
		}
		if !strings.Contains(serve[c.flag], c.help) {
			t.Errorf("docs/operating.md says %q, but ipass serve --help for --%s says %q", c.doc, c.flag, serve[c.flag])
		}
	}
	admin := helpFlags(t, "admin", "passes", "list")
	if !strings.Contains(doc, "(or `IPASS_DB`; default `sqlite:./ipass-data/ipass.db`)") || !strings.Contains(admin["db"], `(default "sqlite:./ipass-data/ipass.db")`) {
		t.Errorf("the admin commands' --db default: the page and ipass admin passes list --help (%q) disagree", admin["db"])
	}
}
