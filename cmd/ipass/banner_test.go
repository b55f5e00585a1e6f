package main

import (
	"errors"
	"strings"
	"testing"

	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/tenants"
)

// TestBannerNamesKeysInUse: after a server key rotation the first-start
// banner names the version and the public key files actually in use, and
// hands merchants the signing key that verifies today's responses.
func TestBannerNamesKeysInUse(t *testing.T) {
	keys := &serverKeySet{
		keys:    ipasshttp.ServerKeys{KeyVersion: 2},
		rsaSign: serverKeyFile{pubPEM: "/keys/v2-signing.pub.pem"},
		eccSign: serverKeyFile{pubPEM: "/keys/v2-ecc.pub.pem"},
		encrypt: serverKeyFile{pubPEM: "/keys/v2-encryption.pub.pem"},
	}
	demo := &tenants.DemoInfo{ClientID: "2110200000000044", PrivateKeyFile: "ipass-data/demo-client.pem",
		MerchantID: "2160120036095023", UserIDs: []string{"2160220037090534"}}
	var b strings.Builder
	printQuickstart(&b, demo, keys, "http://127.0.0.1:8080")
	for _, want := range []string{
		"server keys (version 2): RSA256 /keys/v2-signing.pub.pem, ECC224 /keys/v2-ecc.pub.pem, encryption /keys/v2-encryption.pub.pem",
		"--server-public-key /keys/v2-signing.pub.pem",
		"--encrypt --server-encryption-key /keys/v2-encryption.pub.pem",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, b.String())
		}
	}
}

// The banner's commands run this binary by its own path, or `go run
// ./cmd/ipass` when it was started that way (from the go command's cache).
func TestSelfCommand(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		err  error
		want string
	}{
		{"/usr/local/bin/ipass", nil, "/usr/local/bin/ipass"},
		{"/home/me/ipass/ipass", nil, "/home/me/ipass/ipass"},
		{"/tmp/go-build1234/b001/exe/ipass", nil, "go run ./cmd/ipass"},
		{"", errors.New("no /proc"), "go run ./cmd/ipass"},
	} {
		if got := selfCommandOf(tc.exe, tc.err); got != tc.want {
			t.Errorf("selfCommandOf(%q, %v) = %q, want %q", tc.exe, tc.err, got, tc.want)
		}
	}
}
