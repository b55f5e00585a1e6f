package gateway

import (
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
)

// NewAESKey returns a fresh random AES key of size bytes (16, 24 or 32).
func NewAESKey(size int) ([]byte, error) {
	if !validAESKeySize(size) {
		return nil, fmt.Errorf("AES key: size %d, want 16, 24 or 32", size)
	}
	key := make([]byte, size)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("AES key: %w", err)
	}
	return key, nil
}

func validAESKeySize(n int) bool { return n == 16 || n == 24 || n == 32 }

// WrapKey encrypts aesKey to the receiver's RSA key with RSAES-PKCS1-v1_5,
// as RSA_AES prescribes (RSA/ECB/PKCS1Padding in the Java SDK). Each call
// gives a different ciphertext.
func WrapKey(pub *rsa.PublicKey, aesKey []byte) ([]byte, error) {
	if pub == nil {
		return nil, errors.New("wrap key: no RSA key")
	}
	if !validAESKeySize(len(aesKey)) {
		return nil, fmt.Errorf("wrap key: AES key of %d bytes, want 16, 24 or 32", len(aesKey))
	}
	// PKCS#1 v1.5 encryption is deprecated in Go for its decryption oracle,
	// but RSA_AES is defined with it and every peer expects it.
	//lint:ignore SA1019 the wire protocol mandates PKCS#1 v1.5 key transport.
	wrapped, err := rsa.EncryptPKCS1v15(rand.Reader, pub, aesKey)
	if err != nil {
		return nil, fmt.Errorf("wrap key: %w", err)
	}
	return wrapped, nil
}

// UnwrapKey decrypts a symmetricKey with the receiver's RSA key. Any failure,
// and an unwrapped key that is not 16, 24 or 32 bytes, is DECRYPT_FAILED.
//
// PKCS#1 v1.5 decryption errors are a padding oracle (Bleichenbacher), and
// its distinct errors say which step failed. That is fine for a client
// opening a response whose signature it verified; a server facing requests
// from any registered client must use [OpenRequest], which rejects
// implicitly and fails in one way only.
func UnwrapKey(priv *rsa.PrivateKey, wrapped []byte) ([]byte, error) {
	if priv == nil {
		return nil, newError(ReasonDecryptFailed, "Encrypt.symmetricKey", "no RSA key to unwrap with", nil)
	}
	// Decrypter with nil options is PKCS#1 v1.5 and, unlike
	// rsa.DecryptPKCS1v15, not deprecated API.
	key, err := priv.Decrypt(rand.Reader, wrapped, nil)
	if err != nil {
		return nil, newError(ReasonDecryptFailed, "Encrypt.symmetricKey", "cannot be decrypted with the receiver's key", err)
	}
	if !validAESKeySize(len(key)) {
		return nil, newError(ReasonDecryptFailed, "Encrypt.symmetricKey",
			"unwrapped key is "+strconv.Itoa(len(key))+" bytes, want 16, 24 or 32", nil)
	}
	return key, nil
}

// EncryptBody returns base64(AES-ECB(PKCS#7-padded plaintext)), the wire body
// of an encrypted message: standard padded base64, one line. ECB without an
// IV is weak (equal plaintext blocks give equal ciphertext blocks), but it is
// what RSA_AES is; a fresh key per message at least keeps messages unlinkable.
func EncryptBody(aesKey, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(aesKey)
	if err != nil || !validAESKeySize(len(aesKey)) {
		return nil, fmt.Errorf("encrypt body: AES key of %d bytes, want 16, 24 or 32", len(aesKey))
	}
	const bs = aes.BlockSize
	pad := bs - len(plaintext)%bs
	n := len(plaintext) + pad
	ct := make([]byte, n)
	copy(ct, plaintext)
	for i := len(plaintext); i < n; i++ {
		ct[i] = byte(pad)
	}
	for i := 0; i < n; i += bs {
		block.Encrypt(ct[i:i+bs], ct[i:i+bs])
	}
	out := make([]byte, b64.EncodedLen(n))
	b64.Encode(out, ct)
	return out, nil
}

// DecryptBody reverses [EncryptBody]. Each of these is DECRYPT_FAILED: body
// not base64, empty, not a whole number of 16-byte blocks, or PKCS#7 padding
// that is not n bytes of value n (1 ≤ n ≤ 16; every pad byte is checked).
// Line breaks inside the base64 are skipped, for senders whose encoder wraps
// lines (MIME style); the signature covers the bytes as sent either way.
func DecryptBody(aesKey, body []byte) ([]byte, error) {
	block, err := aes.NewCipher(aesKey)
	if err != nil || !validAESKeySize(len(aesKey)) {
		return nil, newError(ReasonDecryptFailed, "Encrypt.symmetricKey",
			"AES key is "+strconv.Itoa(len(aesKey))+" bytes, want 16, 24 or 32", err)
	}
	buf := make([]byte, b64.DecodedLen(len(body)))
	n, err := b64.Decode(buf, body)
	if err != nil {
		return nil, newError(ReasonDecryptFailed, "body", "not base64", err)
	}
	ct := buf[:n]
	const bs = aes.BlockSize
	switch {
	case len(ct) == 0:
		return nil, newError(ReasonDecryptFailed, "body", "empty ciphertext", nil)
	case len(ct)%bs != 0:
		return nil, newError(ReasonDecryptFailed, "body",
			"ciphertext of "+strconv.Itoa(len(ct))+" bytes is not a whole number of 16-byte blocks", nil)
	}
	for i := 0; i < len(ct); i += bs {
		block.Decrypt(ct[i:i+bs], ct[i:i+bs])
	}
	pad := int(ct[len(ct)-1])
	if pad == 0 || pad > bs {
		return nil, newError(ReasonDecryptFailed, "body", "bad padding (wrong key or corrupted ciphertext)", nil)
	}
	for _, c := range ct[len(ct)-pad:] {
		if int(c) != pad {
			return nil, newError(ReasonDecryptFailed, "body", "bad padding (wrong key or corrupted ciphertext)", nil)
		}
	}
	return ct[:len(ct)-pad], nil
}

// Seal encrypts plaintext for the holder of pub: a fresh AES key of
// keySize bytes, the wire body and the Encrypt header naming keyVersion.
func Seal(pub *rsa.PublicKey, keyVersion, keySize int, plaintext []byte) (body []byte, encryptHeader string, err error) {
	key, err := NewAESKey(keySize)
	if err != nil {
		return nil, "", err
	}
	wrapped, err := WrapKey(pub, key)
	if err != nil {
		return nil, "", err
	}
	body, err = EncryptBody(key, plaintext)
	if err != nil {
		return nil, "", err
	}
	return body, FormatEncryptHeader(keyVersion, wrapped), nil
}

// Open unwraps the key of a parsed Encrypt header with priv and decrypts
// body. It also returns the AES key length, which a server needs to pick the
// size of the fresh key for its response (spec 2.6).
func Open(priv *rsa.PrivateKey, p EncryptParams, body []byte) (plaintext []byte, keySize int, err error) {
	key, err := UnwrapKey(priv, p.WrappedKey)
	if err != nil {
		return nil, 0, err
	}
	plaintext, err = DecryptBody(key, body)
	return plaintext, len(key), err
}
