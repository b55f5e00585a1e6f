package main

import (
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

// settingsKeys parses the two key sections client-settings prints: for
// each, the one-line base64 and the PEM block, which must be one key.
func settingsKeys(t *testing.T, out string) (sign, request string) {
	t.Helper()
	var b64s []string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "base64: "); ok {
			b64s = append(b64s, v)
		}
	}
	rest := []byte(out)
	var pems []*pem.Block
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		pems = append(pems, b)
	}
	if len(b64s) != 2 || len(pems) != 2 {
		t.Fatalf("want 2 base64 lines and 2 PEM blocks, got %d and %d:\n%s", len(b64s), len(pems), out)
	}
	for i := range 2 {
		der, err := base64.StdEncoding.DecodeString(b64s[i])
		if err != nil {
			t.Fatalf("base64 line %d: %v", i, err)
		}
		if string(der) != string(pems[i].Bytes) || pems[i].Type != "PUBLIC KEY" {
			t.Fatalf("key %d: the base64 line and the PEM block (%s) differ", i, pems[i].Type)
		}
	}
	return b64s[0], b64s[1]
}

// fileKeyBase64 is the one-line base64 DER of a public key file.
func fileKeyBase64(t *testing.T, path string) string {
	t.Helper()
	pub, err := loadPublicKey(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gateway.PublicKeyBase64(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAdminClientSettings: the printed keys are the server's key files, in
// both forms; a client's encryptionKey: signing makes the key to encrypt to
// the signing key, and a request encrypted to the printed key succeeds.
func TestAdminClientSettings(t *testing.T) {
	dataDir := t.TempDir()
	url, _, _ := startServe(t, dataDir)
	const demoClient = "2110200000000044"
	addr := strings.TrimPrefix(url, "http://")
	settings := func() string {
		t.Helper()
		r := cliRun(t, "", nil, "admin", "client-settings", "--client", demoClient, "--data-dir", dataDir, "--addr", addr)
		if r.code != exitOK {
			t.Fatalf("client-settings: %s", r)
		}
		return r.stdout
	}
	signFile := filepath.Join(dataDir, "server-signing.pub.pem")
	encFile := filepath.Join(dataDir, "server-encryption.pub.pem")

	out := settings()
	sign, request := settingsKeys(t, out)
	if sign != fileKeyBase64(t, signFile) || request != fileKeyBase64(t, encFile) {
		t.Fatalf("printed keys are not the data dir's signing and encryption keys:\n%s", out)
	}
	for _, want := range []string{"gateway URL: " + url + "\n", "client keys (algorithm keyVersion, active): RSA256 1\n",
		"server key version: 1\n", "headerCase: lower", "encryptionKey: encryption"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	tenantsFile := filepath.Join(t.TempDir(), "zoloz.yaml")
	if err := os.WriteFile(tenantsFile, []byte("clients:\n  - clientId: \""+demoClient+"\"\n    headerCase: canonical\n    encryptionKey: signing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cliRun(t, "", nil, "admin", "apply", "--db", "sqlite:"+filepath.Join(dataDir, "ipass.db"), "-f", tenantsFile); r.code != exitOK {
		t.Fatalf("apply: %s", r)
	}
	out = settings()
	sign2, request2 := settingsKeys(t, out)
	if sign2 != sign || request2 != sign {
		t.Fatalf("with encryptionKey: signing the key for requests must be the signing key:\n%s", out)
	}
	for _, want := range []string{"headerCase: canonical", "encryptionKey: signing"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// The printed one-line key, as an SDK would take it, encrypts a request.
	keyFile := filepath.Join(t.TempDir(), "request-key.b64")
	if err := os.WriteFile(keyFile, []byte(request2), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cliRun(t, `{"merchantId":"2160120036095023","passId":"2025010599999999999999999999999"}`, nil, "call", "queryPass",
		"--url", url, "--client-id", demoClient, "--key", filepath.Join(dataDir, "demo-client.pem"),
		"--server-public-key", signFile, "--encrypt", "--server-encryption-key", keyFile, "--retries", "0", "-")
	if !strings.Contains(r.stdout, `"resultCode":"PASS_HAS_NOT_EXIST"`) {
		t.Fatalf("a query encrypted to the printed key was not decrypted (want PASS_HAS_NOT_EXIST): %s", r)
	}

	if r := cliRun(t, "", nil, "admin", "client-settings", "--client", "nobody", "--data-dir", dataDir); r.code != exitFailure || !strings.Contains(r.stderr, `client "nobody" is not registered`) {
		t.Fatalf("unknown client: %s", r)
	}
}
