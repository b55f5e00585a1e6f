package gateway

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewAESKey(t *testing.T) {
	for _, n := range []int{16, 24, 32} {
		a, err := NewAESKey(n)
		if err != nil || len(a) != n {
			t.Fatalf("NewAESKey(%d) = %d bytes, %v", n, len(a), err)
		}
		b, _ := NewAESKey(n)
		if bytes.Equal(a, b) {
			t.Errorf("NewAESKey(%d) returned the same key twice", n)
		}
	}
	for _, n := range []int{0, 8, 15, 17, 64, -1} {
		if _, err := NewAESKey(n); err == nil {
			t.Errorf("NewAESKey(%d): no error", n)
		}
	}
}

func TestEncryptBodyRoundTrip(t *testing.T) {
	for _, size := range []int{16, 24, 32} {
		key, _ := NewAESKey(size)
		for n := 0; n <= 48; n++ {
			pt := bytes.Repeat([]byte{'x'}, n)
			body, err := EncryptBody(key, pt)
			if err != nil {
				t.Fatal(err)
			}
			if want := (n/16 + 1) * 16; base64.StdEncoding.DecodedLen(len(body)) < want {
				t.Fatalf("size %d, n %d: body %q too short", size, n, body)
			}
			got, err := DecryptBody(key, body)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("size %d, n %d: DecryptBody = %q, %v", size, n, got, err)
			}
		}
	}
	if _, err := EncryptBody(make([]byte, 8), []byte("{}")); err == nil {
		t.Error("EncryptBody with an 8-byte key: no error")
	}
}

// ecb encrypts raw blocks without padding, to build bad ciphertexts.
func ecb(t *testing.T, key, blocks []byte) []byte {
	t.Helper()
	c, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(blocks))
	for i := 0; i < len(blocks); i += 16 {
		c.Encrypt(out[i:i+16], blocks[i:i+16])
	}
	return []byte(base64.StdEncoding.EncodeToString(out))
}

func TestDecryptBodyRejects(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	good, _ := EncryptBody(key, []byte(`{"a":1}`))
	block := func(tail ...byte) []byte { // 16 bytes ending in tail
		b := bytes.Repeat([]byte{'a'}, 16-len(tail))
		return append(b, tail...)
	}
	tests := []struct {
		name string
		key  []byte
		body []byte
	}{
		{"Empty", key, nil},
		{"NotBase64", key, []byte("{\"a\":1}")},
		{"URLSafeBase64", key, []byte(strings.NewReplacer("+", "-", "/", "_").Replace(string(good)) + "-_")},
		{"Unpadded", key, bytes.TrimRight(good, "=")},
		{"NotWholeBlocks", key, []byte(base64.StdEncoding.EncodeToString(make([]byte, 20)))},
		{"OneByte", key, []byte("AA==")},
		{"PadZero", key, ecb(t, key, block(0))},
		{"PadSeventeen", key, ecb(t, key, block(17))},
		{"PadByteWrong", key, ecb(t, key, block(1, 3, 3))},
		{"PadFirstByteWrong", key, ecb(t, key, block(4, 3, 4, 4, 4))},
		{"PadLongerThanBlock", key, ecb(t, key, append(make([]byte, 16), block(0xff)...))},
		{"WrongKey", bytes.Repeat([]byte{8}, 16), good},
		{"KeyOf15Bytes", key[:15], good},
		{"NilKey", nil, good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := DecryptBody(tt.key, tt.body)
			if ReasonOf(err) != ReasonDecryptFailed {
				t.Errorf("DecryptBody = %q, %v; want DECRYPT_FAILED", pt, err)
			}
		})
	}
	// A full padding block (16 × 0x10) is valid and yields the empty plaintext.
	if pt, err := DecryptBody(key, ecb(t, key, bytes.Repeat([]byte{16}, 16))); err != nil || len(pt) != 0 {
		t.Errorf("full pad block: %q, %v", pt, err)
	}
	// Line-wrapped base64 (MIME style) is read.
	wrapped := append(append(append([]byte{}, good[:8]...), "\r\n"...), good[8:]...)
	if pt, err := DecryptBody(key, wrapped); err != nil || string(pt) != `{"a":1}` {
		t.Errorf("wrapped base64: %q, %v", pt, err)
	}
}

func TestWrapUnwrap(t *testing.T) {
	priv := mustPrivate(t, "keys/server-rsa-enc.key.pem").(*rsa.PrivateKey)
	other := mustPrivate(t, "keys/server-rsa-sign.key.pem").(*rsa.PrivateKey)
	for _, n := range []int{16, 24, 32} {
		key, _ := NewAESKey(n)
		w1, err := WrapKey(&priv.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		w2, _ := WrapKey(&priv.PublicKey, key)
		if bytes.Equal(w1, w2) {
			t.Error("WrapKey is deterministic; PKCS#1 v1.5 padding must be random")
		}
		got, err := UnwrapKey(priv, w1)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("UnwrapKey = %x, %v; want %x", got, err, key)
		}
		if _, err := UnwrapKey(other, w1); ReasonOf(err) != ReasonDecryptFailed {
			t.Errorf("UnwrapKey with another key: %v, want DECRYPT_FAILED", err)
		}
	}
	if _, err := WrapKey(&priv.PublicKey, make([]byte, 20)); err == nil {
		t.Error("WrapKey of a 20-byte key: no error")
	}
	if _, err := WrapKey(nil, make([]byte, 16)); err == nil {
		t.Error("WrapKey(nil): no error")
	}
	//lint:ignore SA1019 building a wrapped key of a wrong length on purpose.
	wrong, _ := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, make([]byte, 15))
	for name, in := range map[string][]byte{"WrongLength": wrong, "Garbage": bytes.Repeat([]byte{1}, 256), "Empty": nil, "Short": {1, 2, 3}} {
		if _, err := UnwrapKey(priv, in); ReasonOf(err) != ReasonDecryptFailed {
			t.Errorf("%s: UnwrapKey = %v, want DECRYPT_FAILED", name, err)
		}
	}
	if _, err := UnwrapKey(nil, wrong); ReasonOf(err) != ReasonDecryptFailed {
		t.Errorf("UnwrapKey(nil) = %v, want DECRYPT_FAILED", err)
	}
}

func TestSealOpen(t *testing.T) {
	priv := mustPrivate(t, "keys/client-rsa-v2.key.pem").(*rsa.PrivateKey)
	plaintext := []byte(`{"resultInfo":{"resultStatus":"S"}}`)
	body, header, err := Seal(&priv.PublicKey, 2, 24, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(header, "algorithm=RSA_AES,keyVersion=2,symmetricKey=") {
		t.Errorf("header %s", header)
	}
	p, err := ParseEncryptHeader(header)
	if err != nil {
		t.Fatal(err)
	}
	got, size, err := Open(priv, p, body)
	if err != nil || size != 24 || !bytes.Equal(got, plaintext) {
		t.Errorf("Open = %q, %d, %v", got, size, err)
	}
	if _, _, err := Seal(&priv.PublicKey, 2, 10, plaintext); err == nil {
		t.Error("Seal with a 10-byte key size: no error")
	}
}
