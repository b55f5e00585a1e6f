package gateway_test

import (
	"crypto"
	"fmt"
	"log"
	"os"

	"github.com/ipass-dev/ipass/gateway"
)

// Sign a request the way a merchant back end does: build the content from
// the exact bytes to be sent and put the signature into the Signature header.
// RSA256 is deterministic, so the header is always the same.
func ExampleSign() {
	pemBytes, err := os.ReadFile("testdata/keys/client-rsa-v1.key.pem")
	if err != nil {
		log.Fatal(err)
	}
	key, err := gateway.ParsePrivateKey(pemBytes)
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2995228480402564890018","status":"CLOSED"}`)
	content := gateway.Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass",
		"2110200000000044", "2025-01-02T10:00:00+08:00", body)
	sig, err := gateway.Sign(key, gateway.RSA256, content)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Signature:", gateway.FormatSignatureHeader(gateway.RSA256, 1, sig))
	// Output:
	// Signature: algorithm=RSA256,keyVersion=1,signature=XuO6zgZsFIqzJUUtvgxveBzQI9YpOv0Y4nlIezLdhs4%2FZansSyc8DVkVP3GJimj2pX%2FQcSR6Ab1C8NePiq3065RkOsgddF5p2iD6M1xalzYmTDuzW4%2FoxJDkLnH3Wg5eyG9miSErTd0ts%2FJZgH5DdeYAyIX%2FjEkF6LlwEymHn%2BTLZAPrdx%2FZ%2Fq2zZJi1hfyfBvezaYF7Yc%2FUdzHH7Xz7FBBd%2BzKgMX6WRvFGxqjldmHUYb6bTAMig17%2BsA%2Fkz6R0rQwWpQBnM6ZBbEzlY9k3Bm6YP1h%2BqiIBsmVbsHoIqxI3tjMU1W4TiISut5y1%2FLaNUbnLopF%2F5hei%2FJ96TU4b3Q%3D%3D
}

func ExampleParseSignatureHeader() {
	// Names are case-insensitive, spaces are trimmed, and an unescaped
	// base64 value keeps its '+'.
	p, err := gateway.ParseSignatureHeader("Algorithm=sha256withrsa, keyVersion=2, signature=++//AQ==")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Algorithm, p.KeyVersion, p.Signature)

	_, err = gateway.ParseSignatureHeader("algorithm=RSA256,keyVersion=latest,signature=AQ%3D%3D")
	fmt.Println(gateway.ReasonOf(err), err)
	// Output:
	// RSA256 2 [251 239 255 1]
	// KEY_NOT_FOUND Signature.keyVersion: "latest" is not a non-negative decimal integer
}

// The SDK checks a response with the server's public key, rebuilding the
// content from the request's method and path and the response's headers.
func ExampleVerifyMessage() {
	serverKey, err := gateway.ParsePrivateKey(must(os.ReadFile("testdata/keys/server-ec-p224-sign.key.pem")))
	if err != nil {
		log.Fatal(err)
	}
	serverPub, err := gateway.ParsePublicKey(must(os.ReadFile("testdata/keys/server-ec-p224-sign.pub.b64")))
	if err != nil {
		log.Fatal(err)
	}
	method, path, clientID := "POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "2110200000000044"
	respTime := "2026-11-21T23:12:02.123Z"
	respBody := []byte(`{"resultInfo":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"}}`)

	// Server side (ECDSA is randomised, so the header differs on every run).
	header := signedHeader(serverKey, gateway.Content(method, path, clientID, respTime, respBody))

	// Client side.
	p, err := gateway.VerifyMessage(serverPub, method, path, clientID, respTime, respBody, header)
	fmt.Println(p.Algorithm, p.KeyVersion, err)

	_, err = gateway.VerifyMessage(serverPub, method, path, clientID, respTime, []byte(`{"resultInfo":{}}`), header)
	fmt.Println(gateway.ReasonOf(err))
	// Output:
	// ECC224 1 <nil>
	// INVALID_SIGNATURE
}

func signedHeader(key crypto.Signer, content []byte) string {
	sig, err := gateway.Sign(key, gateway.ECC224, content)
	if err != nil {
		log.Fatal(err)
	}
	return gateway.FormatSignatureHeader(gateway.ECC224, 1, sig)
}

func must(b []byte, err error) []byte {
	if err != nil {
		log.Fatal(err)
	}
	return b
}
