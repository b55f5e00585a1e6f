package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// Keys of the spec fixtures (tenants/testdata) and of the server
// (gateway/testdata).
var (
	callFixtureKeys = filepath.Join("..", "..", "tenants", "testdata", "keys")
	callServerKeys  = filepath.Join("..", "..", "gateway", "testdata", "keys")
	clientRSAKey    = filepath.Join(callFixtureKeys, "client-0044-rsa-v1.pem")
	clientRSAPub    = filepath.Join(callFixtureKeys, "client-0044-rsa-v1.pub.pem")
	clientECCKey    = filepath.Join(callFixtureKeys, "client-0044-ecc-v1.pem")
	serverRSAPub    = filepath.Join(callServerKeys, "server-rsa-sign.pub.pem")
	serverECCPub    = filepath.Join(callServerKeys, "server-ec-p224-sign.pub.pem")
	serverEncPub    = filepath.Join(callServerKeys, "server-rsa-enc.pub.pem")
)

// callServer runs the real ipass server over HTTP on a fresh SQLite
// database with the spec fixtures, on the real clock.
func callServer(t *testing.T) string {
	t.Helper()
	h, _ := callHandler(t)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// callHandler is the handler of callServer and its database.
func callHandler(t *testing.T) (http.Handler, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db := sqlstoretest.OpenSQLite(t)
	fx, err := tenants.Load(filepath.Join("..", "..", "tenants", "testdata", "spec-fixtures.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, fx); err != nil {
		t.Fatal(err)
	}
	rsaSigner := mustReadKey(t, filepath.Join(callServerKeys, "server-rsa-sign.key.pem"))
	eccSigner := mustReadKey(t, filepath.Join(callServerKeys, "server-ec-p224-sign.key.pem"))
	enc := mustReadKey(t, filepath.Join(callServerKeys, "server-rsa-enc.key.pem")).(*rsa.PrivateKey)
	logger := slog.New(slog.DiscardHandler)
	srv := &ipasshttp.Server{
		Service:           &service.Service{Tenants: db, Passes: db, Logger: logger},
		Tenants:           db,
		Gate:              db,
		WrappedKeys:       db,
		Keys:              ipasshttp.ServerKeys{RSASigner: rsaSigner, ECCSigner: eccSigner, Decrypter: enc, KeyVersion: 1},
		Logger:            logger,
		RequestTimeWindow: 5 * time.Minute,
	}
	return srv.Handler(), db
}

// writeBody writes a request body into the test's temp dir.
func writeBody(t *testing.T, name, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

const (
	createBody = `{
  "merchantId": "2160120036095023", "userId": "2160220037090534",
  "templateCode": "temlate111001", "bizSerialId": "CLI-0001", "bizSerialType": "OUT_PLAT_FORM",
  "startDate": 1735689600000, "endDate": 4102444800000, "bizCreate": 1735689600000,
  "codeInfo": {"$codemsg$": "81399940", "$codevalue$": "81399940"},
  "dataInfo": {"$points_en_US$": 100, "$level_en_US$": "Silver & <Gold>"}
}
`
	updateBody = `{"merchantId": "2160120036095023", "userId": "2160220037090534", "passId": "SET-WITH---set-passId",
  "status": "UPDATE", "updateDetailType": "UPDATE_MEMBER_CARD",
  "dataInfo": {"$points_en_US$": 19999, "billNo": "B-1", "lastChangedPoints": "19899"}}`
	queryBody = `{"merchantId": "2160120036095023", "passId": "SET-WITH---set-passId"}`
)

var passIDPattern = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)

func TestCallLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"RSA256", nil},
		{"RSA256/encrypted", []string{"--encrypt", "--server-encryption-key", serverEncPub}},
		{"ECC224", []string{"--key", clientECCKey, "--server-public-key", serverECCPub}},
		{"ECC224/encrypted", []string{"--key", clientECCKey, "--server-public-key", serverECCPub, "--algorithm", "ECC224",
			"--encrypt", "--server-encryption-key", serverEncPub, "--encryption-key-version", "1", "--decryption-key", clientRSAKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := callServer(t)
			// Later flags win, so tc.flags can replace --key.
			flags := append([]string{"--url", url, "--client-id", "2110200000000044", "--key", clientRSAKey,
				"--server-public-key", serverRSAPub}, tc.flags...)
			call := func(op string, args ...string) cliResult {
				return cliRun(t, "", nil, append(append([]string{"call", op}, flags...), args...)...)
			}

			created := call("createPass", "--field", "passId", writeBody(t, "create.json", createBody))
			passID := strings.TrimSuffix(created.stdout, "\n")
			if created.code != exitOK || !passIDPattern.MatchString(passID) {
				t.Fatalf("createPass: %v", created)
			}

			updated := call("updatePass", "--set", "passId="+passID, writeBody(t, "update.json", updateBody))
			if updated.code != exitOK {
				t.Fatalf("updatePass: %v", updated)
			}
			var env struct {
				ResultInfo struct{ ResultCode string } `json:"resultInfo"`
			}
			if err := json.Unmarshal([]byte(updated.stdout), &env); err != nil || env.ResultInfo.ResultCode != "SUCCESS" {
				t.Errorf("updatePass printed %q (%v)", updated.stdout, err)
			}

			queried := call("queryPass", "--set", "passId="+passID, "--field", "pass", writeBody(t, "query.json", queryBody))
			if queried.code != exitOK {
				t.Fatalf("queryPass: %v", queried)
			}
			var pass ipass.PassView
			if err := json.Unmarshal([]byte(queried.stdout), &pass); err != nil {
				t.Fatalf("--field pass printed %q: %v", queried.stdout, err)
			}
			if pass.PassID != passID || pass.Version != 2 || string(pass.DataInfo["$points_en_US$"]) != "19999" ||
				string(pass.DataInfo["$level_en_US$"]) != `"Silver & <Gold>"` {
				t.Errorf("pass %+v", pass)
			}

			// F: printed (it verified), exit 1, and the code on stderr.
			failed := call("updatePass", "--set", "passId=2995228480402564890099", writeBody(t, "update.json", updateBody))
			if failed.code != exitFailure || !strings.Contains(failed.stdout, `"resultCode":"PASS_HAS_NOT_EXIST"`) ||
				!strings.Contains(failed.stderr, "PASS_HAS_NOT_EXIST (F)") {
				t.Errorf("update of an unknown pass: %v", failed)
			}
			// With --field, a failure prints nothing on stdout.
			failed = call("createPass", "--field", "passId", "--set", "templateCode=nope", writeBody(t, "create.json", createBody))
			if failed.code != exitFailure || failed.stdout != "" || !strings.Contains(failed.stderr, "PARAM_ILLEGAL") {
				t.Errorf("failed create with --field: %v", failed)
			}
		})
	}
}

// TestCallVerificationFailure: a response that does not verify is exit 2
// with nothing on stdout, however good its result looks.
func TestCallVerificationFailure(t *testing.T) {
	url := callServer(t)
	body := writeBody(t, "create.json", createBody)
	for _, tc := range []struct {
		name string
		keys []string
		want string
	}{
		{"WrongServerKey", []string{"--server-public-key", clientRSAPub}, "response signature does not verify"},
		{"OnlyECCKeyForRSACall", []string{"--server-public-key", serverECCPub}, "no RSA256 key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"call", "createPass", "--url", url, "--client-id", "2110200000000044", "--key", clientRSAKey}, tc.keys...)
			r := cliRun(t, "", nil, append(args, body)...)
			if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("got %v; want exit 2, empty stdout, %q", r, tc.want)
			}
		})
	}
	// With --insecure-skip-verify the same response is shown, with a warning.
	r := cliRun(t, "", nil, "call", "createPass", "--url", url, "--client-id", "2110200000000044", "--key", clientRSAKey,
		"--insecure-skip-verify", "--field", "passId", body)
	if r.code != exitOK || !passIDPattern.MatchString(strings.TrimSpace(r.stdout)) || !strings.Contains(r.stderr, "not verified") {
		t.Errorf("insecure: %v", r)
	}
}

func TestCallEnvironmentAndStdin(t *testing.T) {
	url := callServer(t)
	environ := map[string]string{
		"IPASS_URL":               url,
		"IPASS_CLIENT_ID":         "2110200000000044",
		"IPASS_KEY":               clientRSAKey,
		"IPASS_SERVER_PUBLIC_KEY": serverRSAPub,
		"IPASS_FIELD":             "resultInfo", // not an environment flag: ignored
	}
	r := cliRun(t, createBody, environ, "call", "createPass", "-", "--field", "passId")
	if r.code != exitOK || !passIDPattern.MatchString(strings.TrimSpace(r.stdout)) {
		t.Fatalf("env + stdin: %v", r)
	}
	// The flag wins over the environment.
	environ["IPASS_URL"] = "http://127.0.0.1:1"
	r = cliRun(t, createBody, environ, "call", "--url", url, "createPass", "-")
	if r.code != exitOK || !strings.Contains(r.stdout, `"passId"`) {
		t.Errorf("flag over env: %v", r)
	}
}

func TestCallVerbose(t *testing.T) {
	url := callServer(t)
	r := cliRun(t, queryBody, nil, "call", "queryPass", "--verbose", "--url", url, "--client-id", "2110200000000044",
		"--key", clientRSAKey, "--server-public-key", serverRSAPub, "--encrypt", "--server-encryption-key", serverEncPub, "-")
	if r.code != exitFailure { // the placeholder passId does not exist
		t.Fatalf("%v", r)
	}
	for _, want := range []string{
		"> POST " + url + "/api/open/alipay/v1/ipass/pass/manage/queryPass",
		"> Signature: algorithm=RSA256,keyVersion=1,signature=",
		"> Encrypt: algorithm=RSA_AES,keyVersion=1,symmetricKey=",
		"> request body (plaintext; encrypted on the wire)",
		"> request signed content (",
		"quoted: \"POST /api/open/alipay/v1/ipass/pass/manage/queryPass\\n2110200000000044.",
		"< HTTP/1.1 200 OK",
		"< Response-Time: ",
		"< Tracer-Id: ",
		"< response content to verify (",
		"< response signature verified",
		"< response decrypted",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--verbose lacks %q", want)
		}
	}
	if !strings.Contains(r.stdout, "PASS_HAS_NOT_EXIST") {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestCallUsage(t *testing.T) {
	body := writeBody(t, "q.json", queryBody)
	base := []string{"--url", "http://127.0.0.1:1", "--client-id", "2110200000000044", "--key", clientRSAKey, "--server-public-key", serverRSAPub}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"Help", []string{"--help"}, exitOK, "--server-public-key"},
		{"ErrNoArguments", nil, exitUsage, "want OPERATION and BODY.json"},
		{"ErrNoBody", append([]string{"queryPass"}, base...), exitUsage, "want OPERATION and BODY.json"},
		{"ErrUnknownOperation", append([]string{"deletePass", body}, base...), exitUsage, "unknown operation"},
		{"ErrClientID", []string{"queryPass", body, "--key", clientRSAKey, "--server-public-key", serverRSAPub}, exitUsage, "--client-id is required"},
		{"ErrKey", []string{"queryPass", body, "--client-id", "c", "--server-public-key", serverRSAPub}, exitUsage, "--key is required"},
		{"ErrServerKey", []string{"queryPass", body, "--client-id", "c", "--key", clientRSAKey}, exitUsage, "--server-public-key is required"},
		{"ErrTwoRSAServerKeys", append([]string{"queryPass", body, "--server-public-key", serverEncPub}, base...), exitUsage, "a second RSA256 key"},
		{"ErrEncryptWithoutKey", append([]string{"queryPass", body, "--encrypt"}, base...), exitUsage, "--server-encryption-key"},
		{"ErrAlgorithm", append([]string{"queryPass", body, "--algorithm", "ECC224"}, base...), exitUsage, "does not fit --key"},
		{"ErrNoECCServerKey", append(base, "queryPass", body, "--key", clientECCKey, "--algorithm", "ECC224"), exitUsage, "--server-public-key: no ECC224 key to verify responses with: add --server-public-key with the server's ECC224 public key (server-ecc-signing.pub.pem"},
		{"ErrSetSyntax", append([]string{"queryPass", body, "--set", "passId"}, base...), exitUsage, "want NAME=VALUE"},
		{"ErrSetNotObject", append([]string{"queryPass", writeBody(t, "a.json", "[1]"), "--set", "a=b"}, base...), exitUsage, "not a JSON object"},
		{"ErrBodyMissing", append([]string{"queryPass", "/nonexistent.json"}, base...), exitUsage, "read body"},
		{"ErrTransport", append([]string{"queryPass", body, "--retries", "0"}, base...), exitUsage, "transport"},
		{"ErrEnvValue", []string{"queryPass", body}, exitUsage, "IPASS_KEY_VERSION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			environ := map[string]string{}
			if tc.name == "ErrEnvValue" {
				environ["IPASS_KEY_VERSION"] = "one"
			}
			r := cliRun(t, "", environ, append([]string{"call"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || (tc.code != exitOK && r.stdout != "") {
				t.Errorf("got %v; want exit %d and %q on stderr", r, tc.code, tc.want)
			}
		})
	}
}

// TestCallRetries: --retries N makes N+1 attempts against a server that
// answers U (its database is gone: a signed UNKNOWN_EXCEPTION, HTTP 500), and
// --retries 0 makes exactly one, like the SDK's zero Config; the default is
// client.DefaultRetries.
func TestCallRetries(t *testing.T) {
	h, db := callHandler(t)
	var attempts atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	body := writeBody(t, "q.json", queryBody)
	for _, tc := range []struct {
		name  string
		flags []string
		want  int32
	}{
		{"Zero", []string{"--retries", "0"}, 1},
		{"Default", nil, client.DefaultRetries + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts.Store(0)
			args := append([]string{"call", "queryPass", "--url", ts.URL, "--client-id", "2110200000000044", "--key", clientRSAKey,
				"--server-public-key", serverRSAPub, body}, tc.flags...)
			r := cliRun(t, "", nil, args...)
			if r.code != exitFailure || !strings.Contains(r.stdout, "UNKNOWN_EXCEPTION") {
				t.Fatalf("got %v; want exit %d with the U result", r, exitFailure)
			}
			if got := attempts.Load(); got != tc.want {
				t.Errorf("the server saw %d attempts, want %d", got, tc.want)
			}
		})
	}
}

func TestCallFieldMissing(t *testing.T) {
	url := callServer(t)
	r := cliRun(t, createBody, nil, "call", "createPass", "--url", url, "--client-id", "2110200000000044", "--key", clientRSAKey,
		"--server-public-key", serverRSAPub, "--field", "nope", "-")
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "--field nope: not in the response") {
		t.Errorf("%v", r)
	}
}

func TestSetFields(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		sets       []string
		want       string // "" means an error
	}{
		{"Replace", `{"a": 1, "passId": "x", "z": {"k": [1, 2]}}`, []string{"passId=42"}, `{"a":1,"passId":"42","z":{"k":[1,2]}}`},
		{"AppendKeepsOrder", "{\"b\":1,\n\"a\":2}", []string{"c=3", "b=x"}, `{"b":"x","a":2,"c":"3"}`},
		{"NoHTMLEscape", `{"s":"<&>"}`, []string{"t=a&b<c>"}, `{"s":"<&>","t":"a&b<c>"}`},
		{"ValueWithEquals", `{}`, []string{"k=a=b"}, `{"k":"a=b"}`},
		{"EscapesKept", `{"s":"\u00e9\/"}`, []string{"t=é"}, `{"s":"\u00e9\/","t":"é"}`},
		{"ErrDuplicateKey", `{"a":1,"a":2}`, []string{"b=1"}, ""},
		{"ErrNotObject", `[1]`, []string{"b=1"}, ""},
		{"ErrTrailing", `{} {}`, []string{"b=1"}, ""},
		{"ErrSyntax", `{"a":}`, []string{"b=1"}, ""},
		{"ErrEmptyName", `{}`, []string{"=1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := setFields([]byte(tc.body), tc.sets)
			if tc.want == "" {
				if err == nil {
					t.Errorf("got %s, want an error", got)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	var o callOptions
	fs := o.flagSet(new(strings.Builder))
	pos, err := parseInterspersed(fs, []string{"--url", "u", "createPass", "--verbose", "--set", "a=b", "body.json", "--field", "f", "--", "-x"})
	if err != nil || strings.Join(pos, " ") != "createPass body.json -x" || o.url != "u" || !o.verbose || o.field != "f" || len(o.sets) != 1 {
		t.Errorf("pos %q, err %v, opts %+v", pos, err, o)
	}
}
