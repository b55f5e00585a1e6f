package gateway

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Interoperability with the openssl command-line tool, the reference the
// vectors were made with. Skipped only when openssl is not installed.

func requireOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
}

// openssl runs the openssl tool and returns its stdout, failing the test
// with stderr on a non-zero exit.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testdataPath(name string) string { return filepath.Join("testdata", filepath.FromSlash(name)) }

func TestOpenSSLSignatures(t *testing.T) {
	requireOpenSSL(t)
	content := Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "4R7Z2K9WSC31P804256",
		"2024-05-22T06:42:21+05:30", []byte("{\"level\":\"鑽石卡\",\r\n\t\"x\":\"\\u0026\"}\n"))
	for _, tt := range []struct {
		alg  Algorithm
		name string
		runs int // ECDSA is randomised: several runs cover high- and low-S
	}{
		{RSA256, "client-rsa-v1", 1},
		{ECC224, "client-ec-p224", 8},
	} {
		t.Run(string(tt.alg), func(t *testing.T) {
			dir := t.TempDir()
			signer := mustPrivate(t, "keys/"+tt.name+".key.pem")
			pub := testdataPath("keys/" + tt.name + ".pub.pem")
			contentFile := writeFile(t, dir, "content", content)
			for i := range tt.runs {
				// Ours, checked by openssl.
				sig, err := Sign(signer, tt.alg, content)
				if err != nil {
					t.Fatal(err)
				}
				sigFile := writeFile(t, dir, fmt.Sprintf("ours%d.bin", i), sig)
				openssl(t, nil, "dgst", "-sha256", "-verify", pub, "-signature", sigFile, contentFile)

				// openssl's, checked by us.
				theirs := openssl(t, nil, "dgst", "-sha256", "-sign", testdataPath("keys/"+tt.name+".key.pem"), contentFile)
				if err := Verify(signer.Public(), tt.alg, content, theirs); err != nil {
					t.Errorf("openssl signature %d: %v", i, err)
				}
				if tt.alg == RSA256 && !bytes.Equal(sig, theirs) {
					t.Error("RSA256 signatures differ from openssl's; PKCS#1 v1.5 is deterministic")
				}
			}
		})
	}
}

func TestOpenSSLAES(t *testing.T) {
	requireOpenSSL(t)
	plaintext := []byte(`{"merchantId":"2160120036095023","dataInfo":{"$level_zh_HK$":"鑽石卡"}}`)
	for _, size := range []int{16, 24, 32} {
		t.Run(fmt.Sprintf("AES%d", size*8), func(t *testing.T) {
			dir := t.TempDir()
			key, _ := NewAESKey(size)
			cipherName := fmt.Sprintf("-aes-%d-ecb", size*8)
			hexKey := hex.EncodeToString(key)

			// openssl enc | base64 -w0, as the vectors were made.
			raw := openssl(t, plaintext, "enc", cipherName, "-nosalt", "-K", hexKey)
			body := []byte(base64.StdEncoding.EncodeToString(raw))
			if _, err := exec.LookPath("base64"); err == nil {
				out, err := exec.Command("base64", "-w0", writeFile(t, dir, "ct.bin", raw)).Output()
				if err != nil {
					t.Fatal(err)
				}
				body = out
			}
			got, err := DecryptBody(key, body)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Fatalf("DecryptBody(openssl body) = %q, %v", got, err)
			}

			// Ours, decrypted by openssl enc -d (which reads the base64 with -a -A).
			ours, err := EncryptBody(key, plaintext)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, body) {
				t.Errorf("EncryptBody = %s, openssl %s", ours, body)
			}
			back := openssl(t, nil, "enc", "-d", cipherName, "-nosalt", "-K", hexKey, "-a", "-A", "-in", writeFile(t, dir, "body.b64", ours))
			if !bytes.Equal(back, plaintext) {
				t.Errorf("openssl enc -d = %q, want %q", back, plaintext)
			}
		})
	}
}

func TestOpenSSLKeyWrap(t *testing.T) {
	requireOpenSSL(t)
	dir := t.TempDir()
	priv := mustPrivate(t, "keys/server-rsa-enc.key.pem").(*rsa.PrivateKey)
	key, _ := NewAESKey(32)
	keyFile := writeFile(t, dir, "aes.bin", key)

	wrapped := openssl(t, nil, "pkeyutl", "-encrypt", "-pubin", "-inkey", testdataPath("keys/server-rsa-enc.pub.pem"),
		"-pkeyopt", "rsa_padding_mode:pkcs1", "-in", keyFile)
	got, err := UnwrapKey(priv, wrapped)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("UnwrapKey(openssl) = %x, %v; want %x", got, err, key)
	}

	ours, err := WrapKey(&priv.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	back := openssl(t, nil, "pkeyutl", "-decrypt", "-inkey", testdataPath("keys/server-rsa-enc.key.pem"),
		"-pkeyopt", "rsa_padding_mode:pkcs1", "-in", writeFile(t, dir, "wrapped.bin", ours))
	if !bytes.Equal(back, key) {
		t.Errorf("openssl unwrapped %x, want %x", back, key)
	}
}

func TestOpenSSLKeys(t *testing.T) {
	requireOpenSSL(t)
	for _, alg := range []Algorithm{RSA256, ECC224} {
		t.Run("Generated"+string(alg), func(t *testing.T) {
			dir := t.TempDir()
			key, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			privPEM, err := MarshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			keyFile := writeFile(t, dir, "key.pem", privPEM)
			openssl(t, nil, "pkey", "-in", keyFile, "-check", "-noout")
			pubPEM, _ := MarshalPublicKeyPEM(key.Public())
			if got := openssl(t, nil, "pkey", "-in", keyFile, "-pubout"); !bytes.Equal(got, pubPEM) {
				t.Errorf("openssl pkey -pubout:\n%s\nMarshalPublicKeyPEM:\n%s", got, pubPEM)
			}
			der := openssl(t, nil, "pkey", "-in", keyFile, "-pubout", "-outform", "DER")
			sum := sha256.Sum256(der)
			if want := "SHA256:" + hex.EncodeToString(sum[:]); Fingerprint(key.Public()) != want {
				t.Errorf("Fingerprint = %s, openssl DER gives %s", Fingerprint(key.Public()), want)
			}
		})
	}

	// Keys in the forms openssl writes by default or on request.
	rsaKey := testdataPath("keys/client-rsa-v1.key.pem")
	tests := []struct {
		name    string
		args    []string
		private bool
	}{
		{"GenpkeyP224", []string{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"}, true},
		{"EcparamGenkeySEC1", []string{"ecparam", "-name", "secp224r1", "-genkey"}, true},
		{"TraditionalRSA", []string{"pkey", "-in", rsaKey, "-traditional"}, true},
		{"TraditionalEC", []string{"pkey", "-in", testdataPath("keys/client-ec-p224.key.pem"), "-traditional"}, true},
		{"RSAPublicKeyPKCS1", []string{"rsa", "-in", rsaKey, "-RSAPublicKey_out"}, false},
		{"PublicDERBase64", []string{"pkey", "-in", rsaKey, "-pubout", "-outform", "DER"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := openssl(t, nil, tt.args...)
			if tt.args[len(tt.args)-1] == "DER" {
				out = []byte(base64.StdEncoding.EncodeToString(out))
			}
			var err error
			if tt.private {
				_, err = ParsePrivateKey(out)
			} else {
				_, err = ParsePublicKey(out)
			}
			if err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}
