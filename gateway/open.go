package gateway

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
)

// ErrRequestUndecryptable is the one answer [OpenRequest] gives for every
// failure: RSA padding, a wrapped key of the wrong length, a body that is not
// base64, not whole blocks, or badly padded. Telling them apart would be a
// padding oracle (Bleichenbacher on the wrapped key, Vaudenay on the body).
var ErrRequestUndecryptable = &Error{
	Reason: ReasonDecryptFailed,
	Part:   "Encrypt.symmetricKey",
	Msg:    "the body cannot be decrypted with it (RSA_AES: an AES key wrapped with RSA PKCS#1 v1.5 for the server's encryption key, the body base64 of AES-ECB with PKCS#7 padding)",
}

// OpenRequest is [Open] for a receiver facing untrusted input: it unwraps
// with implicit rejection and fails in one way only.
//
// Implicit rejection, as rsa.DecryptPKCS1v15SessionKey does it: when the
// RSA padding is invalid or the unwrapped key is not 16, 24 or 32 bytes, it
// carries on with a substitute key derived from the private key and the
// wrapped bytes (so the same wrapped bytes always give the same key) and
// lets the body decryption fail as it would under any wrong key. The work
// done is the same whichever way the unwrapping went, and the only error is
// ErrRequestUndecryptable. keySize is the request's AES key length on
// success and 0 on failure, so a response to any failure is sealed with the
// same key length.
func OpenRequest(priv *rsa.PrivateKey, p EncryptParams, body []byte) (plaintext []byte, keySize int, err error) {
	if priv == nil {
		return nil, 0, ErrRequestUndecryptable
	}
	key := unwrapImplicit(priv, p.WrappedKey)
	plaintext, err = decryptBodyUniform(key, body)
	if err != nil {
		return nil, 0, ErrRequestUndecryptable
	}
	return plaintext, len(key), nil
}

// unwrapImplicit returns the unwrapped AES key, or when there is none the
// substitute key. Both are computed every time.
func unwrapImplicit(priv *rsa.PrivateKey, wrapped []byte) []byte {
	mac := hmac.New(sha256.New, rejectionSecret(priv))
	mac.Write(wrapped)
	substitute := mac.Sum(nil)
	// The substitute's length is one of the three a real key can have, so a
	// response sealed after a lucky body decryption does not tell either.
	n := [3]int{16, 24, 32}[int(substitute[31])%3]

	// Decrypter with nil options is PKCS#1 v1.5; its padding check is
	// constant-time, and only the final valid/invalid is branched on.
	key, err := priv.Decrypt(rand.Reader, wrapped, nil)
	if err != nil || !validAESKeySize(len(key)) {
		return substitute[:n]
	}
	return key
}

// rejectionSecret keys the substitute-key derivation: a hash of the private
// exponent, so nobody without the private key can predict substitutes.
func rejectionSecret(priv *rsa.PrivateKey) []byte {
	h := sha256.New()
	h.Write([]byte("ipass RSA_AES implicit rejection\x00"))
	h.Write(priv.D.Bytes())
	return h.Sum(nil)
}

// decryptBodyUniform is DecryptBody with the padding check done without an
// early exit, for input whose key may be a substitute.
func decryptBodyUniform(key, body []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, b64.DecodedLen(len(body)))
	n, err := b64.Decode(buf, body)
	if err != nil {
		return nil, err
	}
	ct := buf[:n]
	const bs = aes.BlockSize
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, ErrRequestUndecryptable
	}
	for i := 0; i < len(ct); i += bs {
		block.Decrypt(ct[i:i+bs], ct[i:i+bs])
	}
	last := ct[len(ct)-bs:]
	pad := last[bs-1]
	good := subtle.ConstantTimeLessOrEq(1, int(pad)) & subtle.ConstantTimeLessOrEq(int(pad), bs)
	for i := range bs {
		// Byte i of the last block is padding iff i >= bs-pad.
		inPad := subtle.ConstantTimeLessOrEq(bs-int(pad), i)
		match := subtle.ConstantTimeByteEq(last[i], pad)
		good &= subtle.ConstantTimeSelect(inPad, match, 1)
	}
	if good != 1 {
		return nil, ErrRequestUndecryptable
	}
	return ct[:len(ct)-int(pad)], nil
}
