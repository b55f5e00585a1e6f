package gateway

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func TestContent(t *testing.T) {
	// Spec 2.5's example, byte for byte.
	got := Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "2110200000000044",
		"2025-01-02T10:00:00+08:00", []byte(`{"merchantId":"2160120036095023","status":"CLOSED"}`))
	want := "POST /api/open/alipay/v1/ipass/pass/manage/updatePass\n2110200000000044.2025-01-02T10:00:00+08:00." +
		`{"merchantId":"2160120036095023","status":"CLOSED"}`
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Content("GET", "/x", "", "1", nil); string(got) != "GET /x\n.1." {
		t.Errorf("empty Client-Id and body: got %q", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		Content("POST", "/api/open/alipay/v1/ipass/pass/manage/updatePass", "2110200000000044", "2025-01-02T10:00:00+08:00", make([]byte, 0))
	}); n > 1 {
		t.Errorf("Content: %v allocs, want 1", n)
	}
}

func TestSignVerify(t *testing.T) {
	content := []byte("POST /p\nc.1716340341000.{}")
	rsaKey := mustPrivate(t, "keys/client-rsa-v1.key.pem")
	ecKey := mustPrivate(t, "keys/client-ec-p224.key.pem")
	otherRSA := mustPublic(t, "keys/client-rsa-v2.pub.pem")
	otherEC := mustPublic(t, "keys/server-ec-p224-sign.pub.pem")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	rsaSig, err := Sign(rsaKey, RSA256, content)
	if err != nil {
		t.Fatal(err)
	}
	ecSig, err := Sign(ecKey, ECC224, content)
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), content...)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name    string
		pub     crypto.PublicKey
		alg     Algorithm
		content []byte
		sig     []byte
		ok      bool
	}{
		{"RSA256OK", rsaKey.Public(), RSA256, content, rsaSig, true},
		{"ECC224OK", ecKey.Public(), ECC224, content, ecSig, true},
		{"ECC224HighS", ecKey.Public(), ECC224, content, flipS(t, ecSig), true},
		{"RSA256Tampered", rsaKey.Public(), RSA256, tampered, rsaSig, false},
		{"ECC224Tampered", ecKey.Public(), ECC224, tampered, ecSig, false},
		{"RSA256OtherKey", otherRSA, RSA256, content, rsaSig, false},
		{"ECC224OtherKey", otherEC, ECC224, content, ecSig, false},
		{"RSA256Truncated", rsaKey.Public(), RSA256, content, rsaSig[:192], false},
		{"RSA256Empty", rsaKey.Public(), RSA256, content, nil, false},
		{"ECC224Empty", ecKey.Public(), ECC224, content, nil, false},
		{"RSASignatureAsECC224", ecKey.Public(), ECC224, content, rsaSig, false},
		{"ECC224SignatureAsRSA256", rsaKey.Public(), RSA256, content, ecSig, false},
		{"RSAKeyForECC224", rsaKey.Public(), ECC224, content, ecSig, false},
		{"ECKeyForRSA256", ecKey.Public(), RSA256, content, rsaSig, false},
		{"P256KeyForECC224", &p256.PublicKey, ECC224, content, ecSig, false},
		{"NilKey", nil, RSA256, content, rsaSig, false},
		{"UnknownAlgorithm", rsaKey.Public(), "SHA1withRSA", content, rsaSig, false},
		{"ECC224TrailingGarbage", ecKey.Public(), ECC224, content, append(append([]byte(nil), ecSig...), 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.pub, tt.alg, tt.content, tt.sig)
			if tt.ok {
				if err != nil {
					t.Errorf("Verify: %v", err)
				}
				return
			}
			if ReasonOf(err) != ReasonInvalidSignature {
				t.Errorf("Verify = %v, want INVALID_SIGNATURE", err)
			}
		})
	}

	// The signer must fit the algorithm.
	if _, err := Sign(rsaKey, ECC224, content); err == nil {
		t.Error("Sign(RSA key, ECC224): no error")
	}
	if _, err := Sign(ecKey, RSA256, content); err == nil {
		t.Error("Sign(EC key, RSA256): no error")
	}
	if _, err := Sign(p256, ECC224, content); err == nil {
		t.Error("Sign(P-256 key, ECC224): no error")
	}
	if _, err := Sign(nil, RSA256, content); err == nil {
		t.Error("Sign(nil): no error")
	}
	if _, err := Sign(rsaKey, "SHA1withRSA", content); err == nil || !strings.Contains(err.Error(), "unsupported algorithm") {
		t.Errorf("Sign(unknown algorithm) = %v, want unsupported algorithm", err)
	}
}

// flipS turns an ECDSA signature (r, s) into the equally valid (r, n-s), so
// exactly one of the two is high-S.
func flipS(t *testing.T, sig []byte) []byte {
	t.Helper()
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		t.Fatal(err)
	}
	rs.S.Sub(elliptic.P224().Params().N, rs.S)
	out, err := asn1.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyMessage(t *testing.T) {
	key := mustPrivate(t, "keys/server-rsa-sign.key.pem")
	method, path, client, tm, body := "POST", "/api/open/alipay/v1/ipass/pass/manage/queryPass", "4R7Z2K9WSC31P804256", "2024-05-22T01:14:29.377Z", []byte(`{"a":1}`)
	sig, err := Sign(key, RSA256, Content(method, path, client, tm, body))
	if err != nil {
		t.Fatal(err)
	}
	header := FormatSignatureHeader(RSA256, 3, sig)

	p, err := VerifyMessage(key.Public(), method, path, client, tm, body, header)
	if err != nil || p.KeyVersion != 3 || p.Algorithm != RSA256 {
		t.Fatalf("VerifyMessage = %+v, %v", p, err)
	}
	if _, err := VerifyMessage(key.Public(), method, path, client, tm, []byte(`{"a":2}`), header); ReasonOf(err) != ReasonInvalidSignature {
		t.Errorf("altered body: %v, want INVALID_SIGNATURE", err)
	}
	if _, err := VerifyMessage(key.Public(), method, path, client, tm, body, ""); ReasonOf(err) != ReasonInvalidSignature {
		t.Errorf("missing header: %v, want INVALID_SIGNATURE", err)
	}

	keys := func(alg Algorithm, v int) (crypto.PublicKey, error) {
		switch {
		case alg == RSA256 && v == 3:
			return key.Public(), nil
		case v == 4:
			return nil, nil
		case v == 5:
			return nil, &Error{Reason: ReasonInvalidSignature, Part: "Signature.keyVersion", Msg: "retired"}
		}
		return nil, errors.New("no such key")
	}
	if _, err := VerifyMessageFunc(keys, method, path, client, tm, body, header); err != nil {
		t.Errorf("VerifyMessageFunc: %v", err)
	}
	for v, want := range map[int]Reason{9: ReasonKeyNotFound, 4: ReasonKeyNotFound, 5: ReasonInvalidSignature} {
		h := FormatSignatureHeader(RSA256, v, sig)
		if _, err := VerifyMessageFunc(keys, method, path, client, tm, body, h); ReasonOf(err) != want {
			t.Errorf("keyVersion %d: %v, want %s", v, err, want)
		}
	}
	h := strings.Replace(header, "keyVersion=3", "keyVersion=x", 1)
	if _, err := VerifyMessageFunc(keys, method, path, client, tm, body, h); ReasonOf(err) != ReasonKeyNotFound {
		t.Errorf("bad keyVersion: %v, want KEY_NOT_FOUND", err)
	}
}

func TestErrorType(t *testing.T) {
	cause := errors.New("crypto/rsa: verification error")
	e := &Error{Reason: ReasonInvalidSignature, Part: "Signature.signature", Msg: "RSA256 signature does not verify", Err: cause}
	if got, want := e.Error(), "Signature.signature: RSA256 signature does not verify"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("verify request: %w", e)
	if ReasonOf(wrapped) != ReasonInvalidSignature || !errors.Is(wrapped, cause) {
		t.Errorf("ReasonOf/Is through wrapping failed: %v", wrapped)
	}
	if ReasonOf(cause) != "" || ReasonOf(nil) != "" {
		t.Error("ReasonOf of a plain error is not empty")
	}
}
