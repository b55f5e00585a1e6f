package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// The request and response handling of each official SDK as its source
// shows it (docs/sdks.md names the files), run against a real server: the
// header names and their case as each SDK sends them, its Request-Time
// form, the private key form it parses, its encryption, and how it reads
// the response headers (case-sensitively where it does). docs/sdks.md
// promises what this test checks.

// The openssl commands of docs/sdks.md that turn the PKCS#8 key ipass
// writes into the one-line forms the SDKs take. The test runs them as the
// guide shows them, in a folder holding ipass-data/demo-client.pem.
const (
	opensslPKCS1 = `openssl pkey -in ipass-data/demo-client.pem -traditional | grep -v -- ----- | tr -d '\n' > client-key.pkcs1.b64`
	opensslPKCS8 = `openssl pkcs8 -topk8 -nocrypt -in ipass-data/demo-client.pem | grep -v -- ----- | tr -d '\n' > client-key.pkcs8.b64`
)

// sdkKeys are clientA's private key in the two one-line forms and the
// server's signing public key as one line (alipayPublicKey).
type sdkKeys struct {
	pkcs1, pkcs8, serverSigning string
}

func makeSDKKeys(t *testing.T, h *harness) sdkKeys {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not on PATH; the guide's key conversions must be run")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ipass-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	pemKey, err := os.ReadFile(filepath.Join(fixtureKeyDir, clientKeyFiles[clientA+"/RSA256"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemKey, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Fatal("test setup: the client key file is not PKCS#8, as ipass writes keys")
	}
	if err := os.WriteFile(filepath.Join(dir, "ipass-data", "demo-client.pem"), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(command, out string) string {
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", command, err, b)
		}
		b, err := os.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(b, "\n -") {
			t.Fatalf("%s: not one base64 line: %q", command, b)
		}
		return string(b)
	}
	guide, err := os.ReadFile(filepath.Join("..", "docs", "sdks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{opensslPKCS1, opensslPKCS8} {
		if !bytes.Contains(guide, []byte(c)) {
			t.Fatalf("docs/sdks.md does not show the command this test runs:\n%s", c)
		}
	}
	k := sdkKeys{pkcs1: run(opensslPKCS1, "client-key.pkcs1.b64"), pkcs8: run(opensslPKCS8, "client-key.pkcs8.b64")}
	if k.serverSigning, err = gateway.PublicKeyBase64(h.server.rsaPub); err != nil {
		t.Fatal(err)
	}
	return k
}

// parsePKCS1 and parsePKCS8 read a one-line key as the SDKs do: Python and
// PHP put it between RSA PRIVATE KEY markers (PKCS#1); Go, Java, .NET and
// ZOLOZ decode it as PKCS#8.
func parsePKCS1(t *testing.T, b64 string) *rsa.PrivateKey {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatalf("PKCS#1 key: %v", err)
	}
	return k
}

func parsePKCS8(t *testing.T, b64 string) *rsa.PrivateKey {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("PKCS#8 key: %v", err)
	}
	return k.(*rsa.PrivateKey)
}

func signB64(t *testing.T, k *rsa.PrivateKey, content string) string {
	t.Helper()
	d := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func verifyB64(serverPubB64, content, sigB64 string) error {
	der, err := base64.StdEncoding.DecodeString(serverPubB64)
	if err != nil {
		return err
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("signature base64: %w", err)
	}
	d := sha256.Sum256([]byte(content))
	return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig)
}

// rawResponse is a response with its header names exactly as sent.
type rawResponse struct {
	status  int
	headers [][2]string // name as on the wire, value
	body    []byte
}

// exact returns the first value of a header looked up case-sensitively,
// as the Python, PHP and ZOLOZ SDKs look them up.
func (r rawResponse) exact(name string) (string, bool) {
	for _, h := range r.headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// anyCase is a case-insensitive lookup (Go, Java, .NET).
func (r rawResponse) anyCase(name string) string {
	for _, h := range r.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// rawPost sends one HTTP/1.1 request with the header names spelled as
// given (in order) and reads the response without canonicalising names,
// which net/http's client would do.
func rawPost(t *testing.T, serverURL, target string, headers [][2]string, body []byte) rawResponse {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", target, u.Host)
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	b.Write(body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no end of headers in %q", raw)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{status: resp.StatusCode}
	if out.body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		name, value, _ := strings.Cut(line, ":")
		out.headers = append(out.headers, [2]string{name, strings.TrimSpace(value)})
	}
	return out
}

// sdkCall is one API call made the way one SDK makes it; it returns the
// response body (decrypted if encrypted) after the SDK's own checks.
type sdkCall func(t *testing.T, path, body string) (resultCode string, plain []byte)

// resultCodeOf reads result.resultCode, which every Antom SDK requires.
func resultCodeOf(t *testing.T, plain []byte) string {
	t.Helper()
	var env struct {
		Result *struct{ ResultCode string } `json:"result"`
	}
	if err := json.Unmarshal(plain, &env); err != nil || env.Result == nil {
		t.Fatalf("response without result (the SDK throws): %v: %s", err, plain)
	}
	return env.Result.ResultCode
}

// requireStatus200 is what the Python, Java, PHP and .NET SDKs (and ZOLOZ,
// through HttpURLConnection) require before they read anything.
func requireStatus200(t *testing.T, r rawResponse) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d: the SDK raises before reading the body: %s", r.status, r.body)
	}
}

// TestSDKShapes runs createPass, updatePass, queryPass and queryPassHistory
// as each official SDK sends and checks them.
func TestSDKShapes(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			keys := makeSDKKeys(t, h)
			// The server runs on real time here: the SDKs stamp Request-Time
			// with the wall clock.
			h.clock.Set(time.Now())
			set, err := tenants.Parse([]byte(`clients:
  - clientId: "2110200000000055"
    headerCase: canonical
    encryptionKey: signing
`), ".")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.db.Apply(context.Background(), set); err != nil {
				t.Fatal(err)
			}
			sdks := []struct {
				name, clientID, merchant, template string
				call                               sdkCall
			}{
				{"antom-python", clientA, merchantA, tmplMember, pythonSDK(h, keys)},
				{"antom-go", clientA, merchantA, tmplMember, goSDK(h, keys)},
				{"antom-java", clientA, merchantA, tmplMember, javaSDK(h, keys)},
				{"antom-php", clientA, merchantA, tmplMember, phpSDK(h, keys)},
				{"antom-dotnet", clientA, merchantA, tmplMember, dotnetSDK(h, keys)},
				{"zoloz-java", clientB, merchantB, "tmpl-other-card", zolozSDK(h, keys)},
			}
			for i, s := range sdks {
				t.Run(s.name, func(t *testing.T) {
					create := fmt.Sprintf(`{"merchantId":"%s","userId":"%s","templateCode":"%s","bizSerialId":"SDK-%d","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"C-%d"},"dataInfo":{"$points_en_US$":1}}`,
						s.merchant, user1, s.template, i, i)
					code, plain := s.call(t, pathOf("createPass"), create)
					if code != string(ipass.CodeSuccess) {
						t.Fatalf("createPass: %s: %s", code, plain)
					}
					var created struct{ PassID string }
					if err := json.Unmarshal(plain, &created); err != nil || created.PassID == "" {
						t.Fatalf("createPass answer: %s", plain)
					}
					upd := fmt.Sprintf(`{"merchantId":"%s","userId":"%s","passId":"%s","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":2}}`, s.merchant, user1, created.PassID)
					if code, plain := s.call(t, pathOf("updatePass"), upd); code != string(ipass.CodeSuccess) {
						t.Fatalf("updatePass: %s: %s", code, plain)
					}
					q := fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, s.merchant, created.PassID)
					code, plain = s.call(t, pathOf("queryPass"), q)
					var got struct{ Pass ipass.PassView }
					if code != string(ipass.CodeSuccess) || json.Unmarshal(plain, &got) != nil || got.Pass.Version != 2 {
						t.Fatalf("queryPass: %s: %s", code, plain)
					}
					code, plain = s.call(t, pathOf("queryPassHistory"), q)
					var hist ipass.HistoryPage
					if code != string(ipass.CodeSuccess) || json.Unmarshal(plain, &hist) != nil || len(hist.Versions) != 2 {
						t.Fatalf("queryPassHistory: %s: %s", code, plain)
					}
				})
			}

			// Request-Time to the second: the same call three times within
			// one second is one signed content; the second and third are
			// repeats, answered with the first's answer (issue 17: they
			// used to be refused REPEAT_REQUEST), freshly signed.
			t.Run("seconds precision repeats", func(t *testing.T) {
				q := `{"merchantId":"` + merchantA + `","passId":"` + ghostPass + `"}`
				for {
					start := time.Now().Unix()
					reqTime := time.Unix(start, 0).UTC().Format("2006-01-02T15:04:05+00:00")
					first := pythonRequest(t, h, keys, pathOf("queryPass"), q, reqTime)
					second := pythonRequest(t, h, keys, pathOf("queryPass"), q, reqTime)
					third := pythonRequest(t, h, keys, pathOf("queryPass"), q, reqTime)
					if time.Now().Unix() != start {
						continue // the clock turned over; the SDK would have stamped another second
					}
					for _, r := range []rawResponse{second, third} {
						if first.status != http.StatusOK || r.status != http.StatusOK || !bytes.Equal(r.body, first.body) {
							t.Fatalf("identical calls in one second: HTTP %d %s then HTTP %d %s; want the first's answer again", first.status, first.body, r.status, r.body)
						}
						sigHeader, _ := r.exact("signature")
						respTime, _ := r.exact("response-time")
						sig, err := url.QueryUnescape(strings.SplitN(sigHeader, "signature=", 2)[1])
						if err != nil {
							t.Fatal(err)
						}
						if err := verifyB64(keys.serverSigning, "POST "+pathOf("queryPass")+"\n"+clientA+"."+respTime+"."+string(r.body), sig); err != nil {
							t.Fatalf("the repeat's answer is not signed afresh: %v", err)
						}
					}
					return
				}
			})

			// The ZOLOZ SDK reads Signature, Response-Time and Encrypt in
			// canonical case only: a client left at the default gets names
			// it does not find.
			t.Run("zoloz needs headerCase canonical", func(t *testing.T) {
				r := pythonRequest(t, h, keys, pathOf("queryPass"), `{"merchantId":"`+merchantA+`","passId":"`+ghostPass+`"}`, time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
				if _, ok := r.exact("Signature"); ok {
					t.Fatal("a client at the default headerCase got a canonical Signature header")
				}
				if _, ok := r.exact("signature"); !ok {
					t.Fatal("a client at the default headerCase got no lower-case signature header")
				}
			})
		})
	}
}

// pythonRequest sends one request as the Antom Python SDK builds it
// (default_alipay_client.py execute): PKCS#1 key, Request-Time from
// datetime.isoformat() of whole seconds, "client-id" in lower case, the
// body json.dumps(indent=3), and the full URL as the request target
// (http.client's request(url)); the SDK always dials https on port 443.
func pythonRequest(t *testing.T, h *harness, keys sdkKeys, path, body, reqTime string) rawResponse {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		t.Fatal(err)
	}
	k := parsePKCS1(t, keys.pkcs1)
	sig := url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientA+"."+reqTime+"."+string(indented)))
	u, _ := url.Parse(h.url)
	return rawPost(t, h.url, "https://"+u.Host+path, [][2]string{
		{"Content-type", "application/json; charset=UTF-8"},
		{"Accept", "text/plain,text/xml,text/javascript,text/html"},
		{"Cache-Control", "no-cache"},
		{"User-Agent", "global-open-sdk-python"},
		{"Request-Time", reqTime},
		{"client-id", clientA},
		{"Signature", "algorithm=RSA256,keyVersion=1,signature=" + sig},
	}, indented)
}

func pythonSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		reqTime := time.Unix(time.Now().Unix(), 0).UTC().Format("2006-01-02T15:04:05+00:00")
		r := pythonRequest(t, h, keys, path, body, reqTime)
		requireStatus200(t, r)
		// __parse_header: exact lower-case names.
		sigHeader, ok1 := r.exact("signature")
		respTime, ok2 := r.exact("response-time")
		respClient, ok3 := r.exact("client-id")
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("response header exception: %v", r.headers)
		}
		sig, err := url.QueryUnescape(strings.SplitN(sigHeader, "signature=", 2)[1]) // unquote_plus
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+respClient+"."+respTime+"."+string(r.body), sig); err != nil {
			t.Fatalf("response signature verify failed: %v", err)
		}
		return resultCodeOf(t, r.body), r.body
	}
}

// goSDK is defaultAlipayClient.go Execute/httpDo: PKCS#8 key, epoch
// milliseconds, Go-canonical header names, Content-Type twice, an empty
// Agent-Token, and response headers read case-insensitively; the status is
// not checked.
func goSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		reqTime := fmt.Sprint(time.Now().UnixMilli())
		k := parsePKCS8(t, keys.pkcs8)
		sig := url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientA+"."+reqTime+"."+body))
		r := rawPost(t, h.url, path, [][2]string{
			{"Content-Type", "application/json"},
			{"Content-Type", "application/json; charset=UTF-8"},
			{"Request-Time", reqTime},
			{"Client-Id", clientA},
			{"Key-Version", "1"},
			{"Signature", "algorithm=RSA256,keyVersion=1,signature=" + sig},
			{"User-Agent", "global-open-sdk-go"},
			{"Sdk-Version", "global-open-sdk-go"},
			{"Agent-Token", ""},
		}, []byte(body))
		sigHeader := r.anyCase("Signature")
		parts := strings.Split(sigHeader, "signature=")
		if len(parts) < 2 {
			t.Fatalf("empty notify signature: %v", r.headers)
		}
		raw, err := url.QueryUnescape(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+r.anyCase("Client-id")+"."+r.anyCase("response-time")+"."+string(r.body), raw); err != nil {
			t.Fatalf("check signature fail: %v", err)
		}
		return resultCodeOf(t, r.body), r.body
	}
}

// javaSDK is BaseAlipayClient/DefaultHttpRPC: PKCS#8 key, epoch
// milliseconds, "client-id" lower case, HTTPS only; the response signature
// is the third comma-separated item of the signature header (looked up
// case-insensitively), URL-decoded, verified with the request's client id.
func javaSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		reqTime := fmt.Sprint(time.Now().UnixMilli())
		k := parsePKCS8(t, keys.pkcs8)
		sig := url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientA+"."+reqTime+"."+body))
		r := rawPost(t, h.url, path, [][2]string{
			{"Accept", "text/plain,text/xml,text/javascript,text/html"},
			{"User-Agent", "global-open-sdk-java"},
			{"Content-Type", "application/json; charset=UTF-8"},
			{"Connection", "keep-alive"},
			{"Request-Time", reqTime},
			{"client-id", clientA},
			{"Signature", "algorithm=RSA256,keyVersion=1,signature=" + sig},
		}, []byte(body))
		requireStatus200(t, r)
		items := strings.Split(r.anyCase("signature"), ",")
		if len(items) < 3 {
			t.Fatalf("signature header %q: fewer than 3 items", r.anyCase("signature"))
		}
		kv := strings.Split(items[2], "=")
		if len(kv) != 2 {
			t.Fatalf("signature item %q: not one name=value", items[2])
		}
		raw, err := url.QueryUnescape(kv[1]) // URLDecoder.decode
		if err != nil {
			t.Fatal(err)
		}
		code := resultCodeOf(t, r.body)
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+clientA+"."+r.anyCase("response-time")+"."+string(r.body), raw); err != nil {
			t.Fatalf("Response signature verify fail: %v", err)
		}
		return code, r.body
	}
}

// phpSDK is BaseAlipayClient.php/DefaultAlipayClient.php: PKCS#1 key
// wrapped at 64 columns between RSA PRIVATE KEY markers, Request-Time
// date(DATE_ISO8601) (seconds, ±hhmm), "client-id" lower case; response
// header lines found by a case-sensitive search for "response-time" and
// "signature", the signature taken after the line's last "=".
func phpSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		reqTime := time.Unix(time.Now().Unix(), 0).UTC().Format("2006-01-02T15:04:05-0700")
		k := parsePKCS1(t, keys.pkcs1)
		sig := url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientA+"."+reqTime+"."+body))
		r := rawPost(t, h.url, path, [][2]string{
			{"Content-Type", "application/json; charset=UTF-8"},
			{"User-Agent", "global-open-sdk-php"},
			{"Request-Time", reqTime},
			{"client-id", clientA},
			{"Signature", "algorithm=RSA256,keyVersion=1,signature=" + sig},
			{"Accept", "*/*"},
		}, []byte(body))
		requireStatus200(t, r)
		var respTime, respSig string
		for _, hd := range r.headers {
			line := hd[0] + ": " + hd[1]
			switch {
			case strings.Contains(line, "response-time"):
				respTime = strings.TrimSpace(line[strings.Index(line, ":")+1:])
			case strings.Contains(line, "signature"):
				respSig = line[strings.LastIndex(line, "=")+1:]
			}
		}
		code := resultCodeOf(t, r.body)
		if respTime == "" || respSig == "" {
			t.Fatalf("no response-time or signature line (the SDK then skips verification): %v", r.headers)
		}
		raw, err := url.QueryUnescape(respSig)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+clientA+"."+respTime+"."+string(r.body), raw); err != nil {
			t.Fatalf("Response signature verify fail: %v", err)
		}
		return code, r.body
	}
}

// dotnetSDK is AMSRequest.cs/AMSResponse.cs/SignatureUtil.cs: PKCS#8 key,
// Request-Time DateTime.UtcNow.ToString("o") (seven fraction digits),
// lower-case header names, HttpUtility.UrlEncode (lower-case %xx) on the
// signature; response headers read case-insensitively, status 200 required.
func dotnetSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		reqTime := time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z")
		k := parsePKCS8(t, keys.pkcs8)
		sig := lowerHexEscapes(url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientA+"."+reqTime+"."+body)))
		r := rawPost(t, h.url, path, [][2]string{
			{"client-id", clientA},
			{"signature", "algorithm=RSA256,keyVersion=1,signature=" + sig},
			{"request-time", reqTime},
			{"User-Agent", "global-open-sdk-dotnet"},
			{"X-sdkVersion", "ams-dotnet.20201113"},
			{"Content-Type", "application/json; charset=UTF-8"},
		}, []byte(body))
		requireStatus200(t, r)
		respTime, sigHeader := r.anyCase("response-time"), r.anyCase("signature")
		if respTime == "" || sigHeader == "" {
			t.Fatalf("response-time or signature missing: %v", r.headers)
		}
		raw, err := url.QueryUnescape(strings.Split(sigHeader, "signature=")[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+clientA+"."+respTime+"."+string(r.body), raw); err != nil {
			t.Fatalf("AMS API response signature invalid: %v", err)
		}
		return resultCodeOf(t, r.body), r.body
	}
}

// lowerHexEscapes writes %2B as %2b, as .NET's HttpUtility.UrlEncode does.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = bytes.ToLower(b[i+1 : i+2])[0], bytes.ToLower(b[i+2 : i+3])[0]
		}
	}
	return string(b)
}

// zolozSDK is the ZOLOZ API SDK's TwoWayAuthProtocol with encryption on
// (its default): PKCS#8 key, Request-Time yyyy-MM-dd'T'HH:mm:ssZ (seconds,
// ±hhmm), Signature and Encrypt without keyVersion and with ", " between
// items, the request's AES-256 key wrapped to the one server public key it
// knows (the signing key), and the response's Signature, Response-Time and
// Encrypt looked up case-sensitively in canonical case. The body is read
// line by line and joined (BufferedReader.readLine), and the response key
// is unwrapped with the client's own private key.
func zolozSDK(h *harness, keys sdkKeys) sdkCall {
	return func(t *testing.T, path, body string) (string, []byte) {
		// clientB's key is not the converted demo key: take its PKCS#8 form.
		der, err := x509.MarshalPKCS8PrivateKey(h.keys[clientB+"/RSA256"])
		if err != nil {
			t.Fatal(err)
		}
		k := parsePKCS8(t, base64.StdEncoding.EncodeToString(der))
		reqTime := time.Unix(time.Now().Unix(), 0).In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05-0700")
		aesKey := make([]byte, 32)
		_, _ = rand.Read(aesKey)
		ct, err := gateway.EncryptBody(aesKey, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		pubDER, _ := base64.StdEncoding.DecodeString(keys.serverSigning)
		pub, _ := x509.ParsePKIXPublicKey(pubDER)
		wrapped, err := rsa.EncryptPKCS1v15(rand.Reader, pub.(*rsa.PublicKey), aesKey) //lint:ignore SA1019 RSA/ECB/PKCS1Padding, as the SDK
		if err != nil {
			t.Fatal(err)
		}
		sig := url.QueryEscape(signB64(t, k, "POST "+path+"\n"+clientB+"."+reqTime+"."+string(ct)))
		r := rawPost(t, h.url, path, [][2]string{
			{"Client-Id", clientB},
			{"Content-Type", "text/plain; charset=UTF-8"},
			{"Encrypt", "algorithm=RSA_AES, symmetricKey=" + url.QueryEscape(base64.StdEncoding.EncodeToString(wrapped))},
			{"Signature", "algorithm=RSA256, signature=" + sig},
			{"Request-Time", reqTime},
		}, ct)
		requireStatus200(t, r)
		items := func(v string) map[string]string {
			m := map[string]string{}
			for _, pair := range strings.Split(v, ",") {
				if kv := strings.Split(strings.TrimSpace(pair), "="); len(kv) == 2 {
					m[strings.TrimSpace(kv[0])] = strings.TrimSpace(kv[1])
				}
			}
			return m
		}
		sigHeader, ok1 := r.exact("Signature")
		respTime, ok2 := r.exact("Response-Time")
		encHeader, ok3 := r.exact("Encrypt")
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("Signature, Response-Time or Encrypt not found in canonical case: %v", r.headers)
		}
		joined := strings.ReplaceAll(string(r.body), "\n", "") // readLine, appended
		raw, err := url.QueryUnescape(items(sigHeader)["signature"])
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyB64(keys.serverSigning, "POST "+path+"\n"+clientB+"."+respTime+"."+joined, raw); err != nil {
			t.Fatalf("signature validation failed: %v", err)
		}
		wk, err := url.QueryUnescape(items(encHeader)["symmetricKey"])
		if err != nil {
			t.Fatal(err)
		}
		wkRaw, err := base64.StdEncoding.DecodeString(wk)
		if err != nil {
			t.Fatal(err)
		}
		respKey, err := gateway.UnwrapKey(k, wkRaw)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := gateway.DecryptBody(respKey, []byte(joined))
		if err != nil {
			t.Fatal(err)
		}
		return resultCodeOf(t, plain), plain
	}
}
