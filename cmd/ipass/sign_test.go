package main

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

// TestSignVectors signs every vector that carries an intact signature made
// by a known key over the content the case builds. RSA256 is deterministic,
// so the signature must be reproduced byte for byte; ECC224 is randomised,
// so ours must verify (through `ipass verify`).
func TestSignVectors(t *testing.T) {
	n := 0
	for i, v := range loadProtoVectors(t) {
		if v.SignedWith == nil || v.SignedContent == nil || *v.SignedContent != v.ContentToSign || v.Expect == "INVALID_SIGNATURE" {
			continue
		}
		hp, err := gateway.ParseSignatureHeader(v.Headers["Signature"])
		if err != nil {
			continue // e.g. the algorithm MD5withRSA case
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			parts, stdin := v.partsArgs(t, i)
			args := append([]string{"sign", "--key", vectorKey(*v.SignedWith), "--key-version", strconv.Itoa(hp.KeyVersion), "--verbose"}, parts...)
			r := cliRun(t, stdin, nil, args...)
			if r.code != exitOK {
				t.Fatalf("%v", r)
			}
			out := strings.TrimSuffix(r.stdout, "\n")
			if !strings.Contains(r.stderr, strconv.Quote(v.ContentToSign)) {
				t.Errorf("--verbose does not show the content signed:\n%s", r.stderr)
			}
			// The hash an INVALID_SIGNATURE message quotes can be compared with this one.
			if hash := fmt.Sprintf("SHA-256 %x", sha256.Sum256([]byte(v.ContentToSign))); !strings.Contains(r.stderr, hash) {
				t.Errorf("--verbose does not show the content's %s:\n%s", hash, r.stderr)
			}
			p, err := gateway.ParseSignatureHeader(out)
			if err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if p.Algorithm != hp.Algorithm || p.KeyVersion != hp.KeyVersion {
				t.Errorf("output %s, want algorithm %s keyVersion %d", out, hp.Algorithm, hp.KeyVersion)
			}
			switch hp.Algorithm {
			case gateway.RSA256:
				if string(p.Signature) != string(hp.Signature) {
					t.Errorf("RSA256 signature differs:\ngot  %s\nwant %s", out, v.Headers["Signature"])
				}
				// Headers written the canonical way must come out identical.
				if want := v.Headers["Signature"]; strings.HasPrefix(want, "algorithm=RSA256,keyVersion=") && strings.Contains(want, "%") && out != want {
					t.Errorf("header:\ngot  %s\nwant %s", out, want)
				}
			case gateway.ECC224:
				vr := cliRun(t, stdin, nil, append([]string{"verify", "--public-key", vectorKey(*v.VerifyWith), "--signature", out}, parts...)...)
				if vr.code != exitOK {
					t.Errorf("our ECC224 signature does not verify: %v", vr)
				}
			}
		})
	}
	if n < 30 {
		t.Errorf("only %d vectors signed", n)
	}
}

func TestSignUsage(t *testing.T) {
	rsaKey := vectorKey("keys/client-rsa-v1.key.pem")
	parts := []string{"--path", "/p", "--client-id", "c", "--time", "1716340341000", "--body-file", "-"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr ("" for stdout checks)
	}{
		{"Help", []string{"--help"}, exitOK, "<METHOD> <PATH>"},
		{"OKKeyVersionOmitted", append([]string{"--key", rsaKey, "--key-version", "-1"}, parts...), exitOK, ""},
		{"ErrKeyRequired", parts, exitUsage, "--key is required"},
		{"ErrPublicKeyGiven", append([]string{"--key", vectorKey("keys/client-rsa-v1.pub.pem")}, parts...), exitUsage, "got a PUBLIC KEY"},
		{"ErrAlgorithmMismatch", append([]string{"--key", rsaKey, "--algorithm", "ECC224"}, parts...), exitUsage, "does not fit the key"},
		{"ErrBodyFileRequired", []string{"--key", rsaKey, "--path", "/p", "--client-id", "c", "--time", "t"}, exitUsage, "--body-file is required"},
		{"ErrClientIDRequired", []string{"--key", rsaKey, "--path", "/p", "--time", "t", "--body-file", "-"}, exitUsage, "--client-id is required"},
		{"ErrRelativePath", []string{"--key", rsaKey, "--path", "p", "--client-id", "c", "--time", "t", "--body-file", "-"}, exitUsage, "starting with /"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliRun(t, "{}", nil, append([]string{"sign"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("got %v; want exit %d and %q on stderr", r, tc.code, tc.want)
			}
			if tc.name == "OKKeyVersionOmitted" && (strings.Contains(r.stdout, "keyVersion") || !strings.HasPrefix(r.stdout, "algorithm=RSA256,signature=")) {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
	// A full URL in --path is cut to its path.
	a := cliRun(t, "{}", nil, append([]string{"sign", "--key", rsaKey}, parts...)...)
	b := cliRun(t, "{}", nil, "sign", "--key", rsaKey, "--path", "http://h:1/p", "--client-id", "c", "--time", "1716340341000", "--body-file", "-")
	if a.code != exitOK || a.stdout != b.stdout {
		t.Errorf("--path URL: %v vs %v", a, b)
	}
}
