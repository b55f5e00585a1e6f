//go:build !openssl || !cgo

package openssl

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
)

// TestWithoutOpenSSL: a default build reports libcrypto unavailable and
// leaves keys to Go.
func TestWithoutOpenSSL(t *testing.T) {
	if Available() == nil {
		t.Fatal("Available() = nil in a build without -tags openssl")
	}
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if Wrap(k) != k {
		t.Fatal("Wrap changed the key")
	}
}
