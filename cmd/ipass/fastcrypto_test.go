package main

import (
	"crypto/rsa"
	"io"
	"log/slog"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
)

// TestFastCryptoSigningDecrypter: in either build (go test, and go test
// -tags openssl, where the keys move to libcrypto) the signing key still
// opens requests for clients set to encryptionKey: signing.
func TestFastCryptoSigningDecrypter(t *testing.T) {
	sign, err := gateway.GenerateKey(gateway.RSA256)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := gateway.GenerateKey(gateway.RSA256)
	if err != nil {
		t.Fatal(err)
	}
	keys := withFastCrypto(ipasshttp.ServerKeys{RSASigner: sign, Decrypter: enc.(*rsa.PrivateKey),
		SigningDecrypter: sign.(*rsa.PrivateKey), KeyVersion: 1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if keys.SigningDecrypter == nil {
		t.Fatal("no signing decrypter after withFastCrypto")
	}
	body, header, err := gateway.Seal(&sign.(*rsa.PrivateKey).PublicKey, 1, 32, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := gateway.ParseEncryptHeader(header)
	if err != nil {
		t.Fatal(err)
	}
	plain, n, err := gateway.OpenRequest(keys.SigningDecrypter, p, body)
	if err != nil || string(plain) != `{"a":1}` || n != 32 {
		t.Fatalf("OpenRequest with the signing key (%T): %q, %d, %v", keys.SigningDecrypter, plain, n, err)
	}
	// And the dedicated key does not open it.
	if _, _, err := gateway.OpenRequest(keys.Decrypter, p, body); err == nil {
		t.Fatal("the encryption key opened a request wrapped to the signing key")
	}
}
