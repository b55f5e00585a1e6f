package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/gateway"
)

// documentedUnsigned returns the paths of SECURITY.md's "Unsigned answers"
// table: "/healthz", or "/wallet/…" for a prefix.
func documentedUnsigned(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Unsigned answers\n")
	if !ok {
		t.Fatal(`SECURITY.md has no "Unsigned answers" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var paths []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(/[^`]*)` \\|").FindAllStringSubmatch(section, -1) {
		paths = append(paths, m[1])
	}
	return paths
}

// surfaceOf is the documented path that covers path, or "".
func surfaceOf(documented []string, path string) string {
	for _, d := range documented {
		if prefix, ok := strings.CutSuffix(d, "…"); ok && strings.HasPrefix(path, prefix) || d == path {
			return d
		}
	}
	return ""
}

// TestUnsignedSurfacesDocumented: every answer of a running `ipass serve`
// (demo tenant, wallet, metrics) is either signed by the server's key or
// comes from a path SECURITY.md lists under "Unsigned answers", and every
// row there is needed (issue 15, break 9: /metrics, /openapi.json and the
// wallet were unsigned but undocumented).
func TestUnsignedSurfacesDocumented(t *testing.T) {
	documented := documentedUnsigned(t)
	if len(documented) == 0 {
		t.Fatal("the Unsigned answers table lists no path")
	}
	dataDir := t.TempDir()
	url, stdout, _ := startServe(t, dataDir)
	link := regexp.MustCompile(`http://\S+/wallet/(\S+)`).FindStringSubmatch(stdout.String())
	if link == nil {
		t.Fatalf("no wallet link in the banner:\n%s", stdout)
	}
	token := link[1]
	pub, err := loadPublicKey(filepath.Join(dataDir, "server-signing.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}

	const api = "/api/open/alipay/v1/ipass/pass/manage/"
	used := map[string]bool{}
	for _, c := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"HEAD", "/healthz"}, {"GET", "/readyz"}, {"HEAD", "/readyz"},
		{"GET", "/metrics"}, {"HEAD", "/metrics"}, {"GET", "/openapi.json"}, {"HEAD", "/openapi.json"},
		{"GET", "/wallet/" + token}, {"GET", "/wallet/" + token + "/passes/2025010112345678901234567890123"},
		{"GET", "/wallet/" + token + "/api/passes"}, {"GET", "/wallet/" + token + "/events"},
		{"GET", "/wallet/not-a-token"}, {"GET", "/wallet/" + token + "/nothing-here"},
		{"GET", "/static/wallet/wallet.css"}, {"GET", "/static/wallet/wallet.js"},
		{"GET", "/static/wallet/theme.css"}, {"GET", "/static/wallet/missing.png"},
		// Signed: the merchant API, and whatever is not one of the above.
		{"POST", api + "queryPass"}, {"GET", api + "queryPass"}, {"POST", api + "nope"},
		{"GET", "/"}, {"GET", "/favicon.ico"}, {"GET", "/robots.txt"}, {"GET", "/debug/pprof/"},
		{"GET", "/wallet"}, {"GET", "/static/"}, {"GET", "/static/wallet"}, {"POST", "/healthz"},
		{"POST", "/metrics"}, {"DELETE", "/readyz"}, {"PUT", "/openapi.json"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, err := http.NewRequestWithContext(ctx, c.method, url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		var body []byte
		if !strings.HasSuffix(c.path, "/events") { // a stream: its headers are enough
			body, err = io.ReadAll(resp.Body)
		}
		resp.Body.Close()
		cancel()
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		shown := strings.Replace(c.path, token, "TOKEN", 1)
		if sig := resp.Header.Get("Signature"); sig != "" {
			if _, err := gateway.VerifyMessage(pub, c.method, c.path, resp.Header.Get("Client-Id"), resp.Header.Get("Response-Time"), body, sig); err != nil {
				t.Errorf("%s %s: %d with a Signature that does not verify: %v", c.method, shown, resp.StatusCode, err)
			}
			continue
		}
		s := surfaceOf(documented, c.path)
		if s == "" {
			t.Errorf("%s %s: %d unsigned, and SECURITY.md's Unsigned answers do not name the path", c.method, shown, resp.StatusCode)
			continue
		}
		used[s] = true
	}
	for _, d := range documented {
		if !used[d] {
			t.Errorf("SECURITY.md lists %s as unsigned, but no probe got an unsigned answer there", d)
		}
	}
}
