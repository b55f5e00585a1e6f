package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var walletLinkRE = regexp.MustCompile(`http://[0-9.:]+/wallet/[A-Za-z0-9_-]+`)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWalletLinks: the first-start banner prints a working link to the demo
// user's wallet; `admin wallet-link` prints another for the same database;
// `admin wallet-secret rotate` retires both.
func TestWalletLinks(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	url, stdout, _ := startServe(t, dataDir)
	db := "sqlite:" + filepath.Join(dataDir, "ipass.db")

	banner := walletLinkRE.FindString(stdout.String())
	if banner == "" || !strings.HasPrefix(banner, url+"/wallet/") {
		t.Fatalf("banner has no wallet link under %s:\n%s", url, stdout.String())
	}
	if code, body := httpGet(t, banner); code != 200 || !strings.Contains(body, `data-tab="active"`) {
		t.Fatalf("banner link: %d\n%s", code, body)
	}

	r := mustAdmin(t, "", "admin", "wallet-link", "--user", "2160220037090534", "--base-url", url, "--ttl", "1h", "--db", db)
	link := strings.TrimSpace(r.stdout)
	if !walletLinkRE.MatchString(link) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("wallet-link printed %q, want one link on one line", r.stdout)
	}
	if code, _ := httpGet(t, link); code != 200 {
		t.Fatalf("admin link: %d", code)
	}

	mustAdmin(t, "", "admin", "wallet-secret", "rotate", "--db", db)
	for _, l := range []string{banner, link} {
		if code, _ := httpGet(t, l); code != 404 {
			t.Fatalf("link after rotation: %d, want 404", code)
		}
	}
	r = mustAdmin(t, "", "admin", "wallet-link", "--user", "2160220037090534", "--base-url", url, "--db", db)
	if code, _ := httpGet(t, strings.TrimSpace(r.stdout)); code != 200 {
		t.Fatalf("new link after rotation: %d", code)
	}
}

// TestAdminExportKeepsLabels: the demo templates' wallet labels come out of
// `admin export` and go back in with `admin apply` unchanged.
func TestAdminExportKeepsLabels(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	_, _, stop := startServe(t, dataDir)
	stop()
	first := mustAdmin(t, "", "admin", "export", "--db", "sqlite:"+filepath.Join(dataDir, "ipass.db")).stdout
	if !strings.Contains(first, "labels:") || !strings.Contains(first, "積分") {
		t.Fatalf("export has no labels:\n%s", first)
	}
	other := adminTempDB(t)
	mustAdmin(t, first, "admin", "apply", "-f", "-", "--db", other)
	if again := mustAdmin(t, "", "admin", "export", "--db", other).stdout; again != first {
		t.Fatalf("export → apply → export changed the file:\n%s\n---\n%s", first, again)
	}
}

func TestWalletLinkUsage(t *testing.T) {
	db := adminTempDB(t)
	mustAdmin(t, "", "admin", "apply", "-f", filepath.Join("..", "..", "tenants", "testdata", "spec-fixtures.yaml"), "--db", db)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrNoUser", []string{"admin", "wallet-link", "--db", db}, exitUsage, "--user USERID is required"},
		{"ErrBadTTL", []string{"admin", "wallet-link", "--user", "u", "--ttl", "-1h", "--db", db}, exitUsage, "--ttl"},
		{"ErrBadBaseURL", []string{"admin", "wallet-link", "--user", "u", "--base-url", "ftp://x", "--db", db}, exitUsage, "--base-url"},
		{"ErrUnknownUser", []string{"admin", "wallet-link", "--user", "nobody", "--db", db}, exitFailure, "no such user"},
		{"ErrNoAction", []string{"admin", "wallet-secret", "--db", db}, exitUsage, "wallet-secret rotate"},
		{"ErrBadTimezone", []string{"serve", "--wallet-timezone", "Mars/Olympus", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--db", db}, exitFailure, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cliRun(t, "", nil, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("%s\nwant exit %d and %q", r, c.code, c.want)
			}
		})
	}
	if r := cliRun(t, "", nil, "admin", "wallet-link", "--user", "2160220037090534", "--db", db); r.code != exitOK ||
		!strings.HasPrefix(r.stdout, "http://127.0.0.1:8080/wallet/") {
		t.Fatalf("default base URL: %s", r)
	}
}
