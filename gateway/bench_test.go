package gateway

import (
	"bytes"
	"testing"
)

// benchContent is a typical signed request: path, ids, time and a 1 KiB body.
func benchContent() []byte {
	return Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "4R7Z2K9WSC31P804256",
		"2024-05-22T06:42:21+05:30", bytes.Repeat([]byte("x"), 1024))
}

func benchSign(b *testing.B, alg Algorithm, keyName string) {
	key := mustPrivate(b, "keys/"+keyName+".key.pem")
	content := benchContent()
	b.ReportAllocs()
	for b.Loop() {
		sig, err := Sign(key, alg, content)
		if err != nil {
			b.Fatal(err)
		}
		_ = FormatSignatureHeader(alg, 1, sig)
	}
}

func benchVerify(b *testing.B, alg Algorithm, keyName string) {
	key := mustPrivate(b, "keys/"+keyName+".key.pem")
	content := benchContent()
	sig, err := Sign(key, alg, content)
	if err != nil {
		b.Fatal(err)
	}
	header := FormatSignatureHeader(alg, 1, sig)
	pub := key.Public()
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseSignatureHeader(header)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(pub, p.Algorithm, content, p.Signature); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRSA256(b *testing.B)   { benchSign(b, RSA256, "client-rsa-v1") }
func BenchmarkVerifyRSA256(b *testing.B) { benchVerify(b, RSA256, "client-rsa-v1") }
func BenchmarkSignECC224(b *testing.B)   { benchSign(b, ECC224, "client-ec-p224") }
func BenchmarkVerifyECC224(b *testing.B) { benchVerify(b, ECC224, "client-ec-p224") }

func BenchmarkEncryptBody(b *testing.B) {
	key := mustHex(b, "3b8e1f6a9c2d47e05a91c3f8b26d0e4f7c15a9e3d8b2f6014e7a9c5d3b1f8e2a")
	plaintext := bytes.Repeat([]byte("x"), 1024)
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncryptBody(key, plaintext); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecryptBody(b *testing.B) {
	key := mustHex(b, "3b8e1f6a9c2d47e05a91c3f8b26d0e4f7c15a9e3d8b2f6014e7a9c5d3b1f8e2a")
	plaintext := bytes.Repeat([]byte("x"), 1024)
	body, err := EncryptBody(key, plaintext)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plaintext)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecryptBody(key, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepareRequest is the SDK's per-call preparation apart from the
// RSA operation: content, time and Signature header.
func BenchmarkPrepareRequest(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	sig := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		c := Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "4R7Z2K9WSC31P804256", "2024-05-22T06:42:21+05:30", body)
		_ = FormatSignatureHeader(RSA256, 1, sig)
		_ = c
	}
}
