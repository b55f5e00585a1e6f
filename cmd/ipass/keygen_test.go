package main

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

func mustOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not on PATH; the key files must be checked with it")
	}
}

func openssl(t *testing.T, stdin []byte, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestKeygen(t *testing.T) {
	mustOpenSSL(t)
	for _, alg := range []string{"RSA256", "ECC224"} {
		t.Run(alg, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			prefix := filepath.Join(dir, "merchant")
			r := cliRun(t, "", nil, "keygen", "--algorithm", alg, "--out", prefix)
			if r.code != exitOK {
				t.Fatalf("keygen: %v", r)
			}
			for _, want := range []string{prefix + ".pem", prefix + ".pub.pem", prefix + ".pub.b64", "algorithm:   " + alg, "fingerprint: SHA256:"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			for file, mode := range map[string]os.FileMode{prefix + ".pem": 0o600, dir: 0o700 | os.ModeDir} {
				if st, err := os.Stat(file); err != nil || st.Mode() != mode {
					t.Errorf("%s: mode %v (%v), want %v", file, st.Mode(), err, mode)
				}
			}

			priv := mustReadKey(t, prefix+".pem")
			if got, _ := gateway.AlgorithmOf(priv.Public()); string(got) != alg {
				t.Errorf("key algorithm %s, want %s", got, alg)
			}
			fp := gateway.Fingerprint(priv.Public())
			if !strings.Contains(r.stdout, fp) {
				t.Errorf("output lacks the fingerprint %s", fp)
			}
			b64, err := os.ReadFile(prefix + ".pub.b64")
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsAny(b64, "\r\n -") {
				t.Errorf(".pub.b64 is not one bare base64 line: %q", b64)
			}
			for _, f := range []string{prefix + ".pub.pem", prefix + ".pub.b64"} {
				pub, err := loadPublicKey(f)
				if err != nil || gateway.Fingerprint(pub) != fp {
					t.Errorf("%s: %v, fingerprint %s; want %s", f, err, gateway.Fingerprint(pub), fp)
				}
			}

			// Independent check: OpenSSL reads all three.
			openssl(t, nil, "pkey", "-in", prefix+".pem", "-noout")
			openssl(t, nil, "pkey", "-pubin", "-in", prefix+".pub.pem", "-noout")
			der, err := base64.StdEncoding.DecodeString(string(b64))
			if err != nil {
				t.Fatal(err)
			}
			openssl(t, der, "pkey", "-pubin", "-inform", "DER", "-noout")

			// The pair signs and verifies through the CLI.
			body := filepath.Join(t.TempDir(), "body.json")
			os.WriteFile(body, []byte(`{"merchantId":"1"}`), 0o600)
			parts := []string{"--path", "/p", "--client-id", "c", "--time", "2025-01-01T00:00:00Z", "--body-file", body}
			s := cliRun(t, "", nil, append([]string{"sign", "--key", prefix + ".pem"}, parts...)...)
			if s.code != exitOK {
				t.Fatalf("sign: %v", s)
			}
			v := cliRun(t, "", nil, append([]string{"verify", "--public-key", prefix + ".pub.pem", "--signature", strings.TrimSpace(s.stdout)}, parts...)...)
			if v.code != exitOK || v.stdout != "valid\n" {
				t.Errorf("verify: %v", v)
			}

			// A second run never overwrites the pair.
			before, _ := os.ReadFile(prefix + ".pem")
			again := cliRun(t, "", nil, "keygen", "--algorithm", alg, "--out", prefix)
			after, _ := os.ReadFile(prefix + ".pem")
			if again.code != exitFailure || !strings.Contains(again.stderr, "already exists") || !bytes.Equal(before, after) {
				t.Errorf("second keygen: %v", again)
			}
		})
	}
}

func TestKeygenUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"Help", []string{"--help"}, exitOK, "PREFIX.pub.b64"},
		{"ErrOutRequired", nil, exitUsage, "--out PREFIX is required"},
		{"ErrAlgorithm", []string{"--algorithm", "DSA", "--out", out}, exitUsage, "want RSA256 or ECC224"},
		{"ErrArgument", []string{"--out", out, "extra"}, exitUsage, "unexpected argument"},
		{"ErrFlag", []string{"--bits", "4096"}, exitUsage, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliRun(t, "", nil, append([]string{"keygen"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("got %v; want exit %d and %q on stderr", r, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(out + ".pem"); err == nil {
		t.Error("a failed keygen wrote a key")
	}
}

func mustReadKey(t testing.TB, path string) crypto.Signer {
	t.Helper()
	k, err := loadKey(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k
}
