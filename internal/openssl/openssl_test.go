//go:build openssl && cgo

package openssl

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipass-dev/ipass/gateway"
)

var vectorDir = filepath.Join("..", "..", "gateway", "testdata")

func loadKey(t testing.TB, rel string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir, rel))
	if err != nil {
		t.Fatal(err)
	}
	k, err := gateway.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wrapped returns the libcrypto key for the Go key, failing if Wrap fell back.
func wrapped(t testing.TB, k crypto.Signer) *rsaKey {
	t.Helper()
	if err := Available(); err != nil {
		t.Fatalf("libcrypto: %v", err)
	}
	w, ok := Wrap(k).(*rsaKey)
	if !ok {
		t.Fatal("Wrap fell back to Go for an RSA key")
	}
	return w
}

// TestVectors re-creates every RSA signature of the protocol vectors with
// the libcrypto signer (PKCS#1 v1.5 is deterministic, so the bytes must be
// equal) and unwraps every RSA_AES key with the libcrypto decrypter.
func TestVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(vectorDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name, Expect, SignedWith, SignedContent, DecryptWith, AESKeyHex string
		Headers                                                         map[string]string
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		t.Fatal(err)
	}
	signed, unwrapped := 0, 0
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.SignedWith != "" && v.SignedContent != "" {
				key := loadKey(t, v.SignedWith)
				if _, isRSA := key.(*rsa.PrivateKey); isRSA {
					params, err := gateway.ParseSignatureHeader(v.Headers["Signature"])
					want, goErr := gateway.Sign(key, gateway.RSA256, []byte(v.SignedContent))
					got, err2 := gateway.Sign(wrapped(t, key), gateway.RSA256, []byte(v.SignedContent))
					if goErr != nil || err2 != nil || !bytes.Equal(got, want) {
						t.Fatalf("libcrypto signature differs from Go's (%v, %v)", goErr, err2)
					}
					if err == nil && v.Expect == "valid" && !bytes.Equal(got, params.Signature) {
						t.Fatalf("libcrypto signature differs from the vector's")
					}
					signed++
				}
			}
			if v.DecryptWith != "" && v.Headers["Encrypt"] != "" {
				params, err := gateway.ParseEncryptHeader(v.Headers["Encrypt"])
				if err != nil {
					return // a malformed header never reaches the decrypter
				}
				key := loadKey(t, v.DecryptWith).(*rsa.PrivateKey)
				want, goErr := key.Decrypt(rand.Reader, params.WrappedKey, nil)
				got, err := wrapped(t, key).Decrypt(rand.Reader, params.WrappedKey, nil)
				if (goErr == nil) != (err == nil) || !bytes.Equal(got, want) {
					t.Fatalf("unwrap: libcrypto %x, %v; Go %x, %v", got, err, want, goErr)
				}
				unwrapped++
			}
		})
	}
	if signed < 20 || unwrapped < 8 {
		t.Fatalf("only %d signatures and %d unwraps compared", signed, unwrapped)
	}
}

// FuzzDifferential: for any digest the libcrypto signature equals Go's, and
// for any ciphertext the libcrypto decrypter gives Go's answer — the same
// plaintext or an error in both with nil options, and with SessionKeyLen the
// same key whenever Go's is not the random one (same random source).
func FuzzDifferential(f *testing.F) {
	key := loadKey(f, "keys/server-rsa-enc.key.pem").(*rsa.PrivateKey)
	w := wrapped(f, key)
	//lint:ignore SA1019 the wire protocol mandates PKCS#1 v1.5 key transport.
	good, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("content"), good, 32)
	f.Add([]byte{}, good[:100], 16)
	f.Add([]byte{1}, bytes.Repeat([]byte{0xff}, 256), 24)
	f.Add([]byte{2}, []byte{}, 0)
	f.Add([]byte{3}, key.N.Bytes(), 32)
	f.Fuzz(func(t *testing.T, content, ciphertext []byte, keyLen int) {
		digest := sha256.Sum256(content)
		want, err1 := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		got, err2 := w.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Fatalf("sign: libcrypto %x, %v; Go %x, %v", got, err2, want, err1)
		}

		want, err1 = key.Decrypt(rand.Reader, ciphertext, nil)
		got, err2 = w.Decrypt(rand.Reader, ciphertext, nil)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
			t.Fatalf("decrypt: libcrypto %x, %v; Go %x, %v", got, err2, want, err1)
		}

		keyLen = keyLen & 63
		seed := bytes.Repeat([]byte{0x5a}, 64)
		//lint:ignore SA1019 the implicit-rejection path callers use.
		opts := &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keyLen}
		want, err1 = key.Decrypt(bytes.NewReader(seed), ciphertext, opts)
		got, err2 = w.Decrypt(bytes.NewReader(seed), ciphertext, opts)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
			t.Fatalf("session key (len %d): libcrypto %x, %v; Go %x, %v", keyLen, got, err2, want, err1)
		}
	})
}

// TestFallback: keys libcrypto does not take stay Go's.
func TestFallback(t *testing.T) {
	ec := loadKey(t, "keys/server-ec-p224-sign.key.pem")
	if Wrap(ec) != ec {
		t.Fatal("an ECDSA key was wrapped")
	}
}

func BenchmarkSign(b *testing.B) {
	key := loadKey(b, "keys/server-rsa-sign.key.pem")
	digest := sha256.Sum256([]byte("x"))
	for name, k := range map[string]crypto.Signer{"go": key, "openssl": wrapped(b, key)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
