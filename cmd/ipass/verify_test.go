package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

// protoVector is one case of gateway/testdata/vectors.json (see the README
// of the shared vectors); nullable fields are pointers.
type protoVector struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Expect        string            `json:"expect"`
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	ContentToSign string            `json:"contentToSign"`
	VerifyWith    *string           `json:"verifyWith"`
	SignedWith    *string           `json:"signedWith"`
	SignedContent *string           `json:"signedContent"`
}

var vectorDir = filepath.Join("..", "..", "gateway", "testdata")

func loadProtoVectors(t *testing.T) []protoVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []protoVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 63 {
		t.Fatalf("%d vectors, want 63", len(vs))
	}
	return vs
}

func vectorKey(name string) string { return filepath.Join(vectorDir, filepath.FromSlash(name)) }

func (v protoVector) timeHeader() string {
	if v.Kind == "request" {
		return v.Headers["Request-Time"]
	}
	return v.Headers["Response-Time"]
}

// partsArgs are the message-part flags of v; the body goes through a file
// or, for every other case, stdin, so both paths are exercised.
func (v protoVector) partsArgs(t *testing.T, i int) (args []string, stdin string) {
	args = []string{"--method", v.Method, "--path", v.Path, "--client-id", v.Headers["Client-Id"], "--time", v.timeHeader()}
	if i%2 == 1 {
		return append(args, "--body-file", "-"), v.Body
	}
	f := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(f, []byte(v.Body), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(args, "--body-file", f), ""
}

// TestVerifyVectors runs `ipass verify` on every vector. Request cases are
// verified with the key the registry resolves (verifyWith), responses with
// the server keys. Cases with no resolvable key (no or unusable Signature
// header, unknown client or key version) use the client's (or server's)
// RSA key 1: the header decides those before any key is used.
//
// Exit 0 for every valid case; 1 for every signature-level rejection
// (INVALID_SIGNATURE); 0 for the rest, whose signatures are intact and
// which fail at a step `verify` does not judge (client or key registry,
// Request-Time form, decryption).
func TestVerifyVectors(t *testing.T) {
	for i, v := range loadProtoVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			key := "keys/client-rsa-v1.pub.pem"
			if v.Kind == "response" {
				key = "keys/server-rsa-sign.pub.pem"
			}
			if v.VerifyWith != nil {
				key = *v.VerifyWith
			}
			want := exitOK
			if v.Expect == "INVALID_SIGNATURE" {
				want = exitFailure
			}
			parts, stdin := v.partsArgs(t, i)
			sig, ok := v.Headers["Signature"]
			if !ok && v.Expect == "valid" {
				t.Fatal("valid case without Signature")
			}
			args := append([]string{"verify", "--public-key", vectorKey(key), "--signature", sig}, parts...)
			r := cliRun(t, stdin, nil, args...)
			if r.code != want {
				t.Fatalf("%s (expect %s): %v", v.Name, v.Expect, r)
			}
			if want == exitOK {
				if r.stdout != "valid\n" {
					t.Errorf("stdout %q, want valid", r.stdout)
				}
				return
			}
			pub, err := loadPublicKey(vectorKey(key))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"invalid: ", strconv.Quote(v.ContentToSign), gateway.Fingerprint(pub)} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, r.stdout)
				}
			}
			t.Logf("\n%s", r.stdout)
		})
	}
}

// TestVerifyReasons checks that the report says why, in the words of the
// product contract, and gives the hints it can.
func TestVerifyReasons(t *testing.T) {
	byName := map[string]protoVector{}
	for _, v := range loadProtoVectors(t) {
		byName[v.Name] = v
	}
	for _, tc := range []struct {
		vector string
		key    string // default verifyWith
		edit   func(*protoVector)
		want   []string
	}{
		{vector: "req-neg-signature-header-missing", want: []string{"invalid: header unparsable: no Signature header"}},
		{vector: "req-neg-signature-param-repeated", want: []string{"invalid: header unparsable", "given twice"}},
		{vector: "req-neg-algorithm-unsupported", key: "keys/client-rsa-v1.pub.pem", want: []string{"invalid: header unparsable", "MD5withRSA"}},
		{vector: "req-neg-signature-garbage-base64", want: []string{"invalid: signature base64 invalid"}},
		{vector: "req-neg-signature-empty", want: []string{"invalid: header unparsable", "missing or empty"}},
		{vector: "req-neg-rsa-signature-as-ecc224", key: "keys/client-rsa-v1.pub.pem",
			want: []string{"invalid: algorithm does not match the key: the header says ECC224, the key is for RSA256"}},
		{vector: "req-neg-body-one-byte", want: []string{"invalid: does not verify", "made with this key, over other content", "key version: 1", "algorithm:   RSA256"}},
		{vector: "req-neg-signature-wrong-key", want: []string{"invalid: does not verify", "not made with this key"}},
		{vector: "req-neg-signature-truncated", want: []string{"invalid: does not verify", "the signature is 192 bytes; this key's signatures are 256"}},
		{vector: "req-neg-key-version-2-signature-as-1", want: []string{"not made with this key"}},
		{vector: "req-neg-ecc224-body-altered", want: []string{"invalid: does not verify", "ECDSA signatures cannot tell"}},
		{vector: "req-rsa256-pretty-printed", edit: func(v *protoVector) { v.Body = strings.TrimSuffix(v.Body, "\n") },
			want: []string{"made with this key, over other content", "a newline added after the body"}},
		{vector: "req-rsa256-pretty-printed", edit: func(v *protoVector) { v.Body = strings.ReplaceAll(v.Body, "\n", "\r\n") },
			want: []string{"CRLF line ends as LF"}},
		{vector: "req-ecc224-pretty-epoch-millis", edit: func(v *protoVector) { v.Body += "\n" },
			want: []string{"the body's trailing newline removed"}},
		{vector: "req-rsa256-time-fraction-offset", edit: func(v *protoVector) { v.Method = "post" },
			want: []string{"the method in upper case"}},
	} {
		t.Run(tc.vector, func(t *testing.T) {
			v := byName[tc.vector]
			if tc.edit != nil {
				tc.edit(&v)
			}
			key := tc.key
			if key == "" && v.VerifyWith != nil {
				key = *v.VerifyWith
			} else if key == "" {
				key = "keys/client-rsa-v1.pub.pem"
			}
			parts, stdin := v.partsArgs(t, 0)
			r := cliRun(t, stdin, nil, append([]string{"verify", "--public-key", vectorKey(key), "--signature", v.Headers["Signature"]}, parts...)...)
			if r.code != exitFailure {
				t.Fatalf("%v", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

func TestVerifyUsage(t *testing.T) {
	key := vectorKey("keys/client-rsa-v1.pub.pem")
	parts := []string{"--path", "/p", "--client-id", "c", "--time", "1716340341000", "--body-file", "-"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"Help", []string{"--help"}, exitOK, "Exit status"},
		{"ErrSignatureRequired", append([]string{"--public-key", key}, parts...), exitUsage, "--signature are required"},
		{"ErrKeyRequired", append([]string{"--signature", "x"}, parts...), exitUsage, "--public-key and --signature"},
		{"ErrPrivateKeyGiven", append([]string{"--public-key", vectorKey("keys/client-rsa-v1.key.pem"), "--signature", "x"}, parts...),
			exitUsage, "got a PRIVATE KEY"},
		{"ErrPathRequired", []string{"--public-key", key, "--signature", "x", "--client-id", "c", "--time", "t", "--body-file", "-"}, exitUsage, "--path is required"},
		{"ErrTimeRequired", []string{"--public-key", key, "--signature", "x", "--path", "/p", "--client-id", "c", "--body-file", "-"}, exitUsage, "--time is required"},
		{"ErrQueryInPath", []string{"--public-key", key, "--signature", "x", "--path", "/p?a=1", "--client-id", "c", "--time", "t", "--body-file", "-"},
			exitUsage, "query string"},
		{"ErrBodyFile", []string{"--public-key", key, "--signature", "x", "--path", "/p", "--client-id", "c", "--time", "t", "--body-file", "/nonexistent"},
			exitUsage, "--body-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliRun(t, "{}", nil, append([]string{"verify"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("got %v; want exit %d and %q on stderr", r, tc.code, tc.want)
			}
		})
	}
}

// TestVerifyTimeNote: an unacceptable time form is noted on stderr but
// does not change the verdict, which is about the signature.
func TestVerifyTimeNote(t *testing.T) {
	for _, v := range loadProtoVectors(t) {
		if v.Name != "req-neg-request-time-space" {
			continue
		}
		parts, stdin := v.partsArgs(t, 1)
		r := cliRun(t, stdin, nil, append([]string{"verify", "--verbose", "--public-key", vectorKey(*v.VerifyWith), "--signature", v.Headers["Signature"]}, parts...)...)
		if r.code != exitOK || !strings.Contains(r.stderr, "note: --time") || !strings.Contains(r.stdout, "quoted: ") {
			t.Errorf("%v", r)
		}
		return
	}
	t.Fatal("vector req-neg-request-time-space not found")
}
