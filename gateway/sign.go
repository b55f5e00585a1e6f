package gateway

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Algorithm is a signature algorithm of the Signature header (spec 2.4).
type Algorithm string

// The supported signature algorithms, by their canonical wire names.
const (
	// RSA256 is RSASSA-PKCS1-v1_5 with SHA-256.
	RSA256 Algorithm = "RSA256"
	// ECC224 is ECDSA over NIST P-224 with SHA-256, DER-encoded (r, s).
	// The docs name ECC224 without defining it; this definition is the
	// spec's decision and matches `openssl dgst -sha256 -sign`.
	ECC224 Algorithm = "ECC224"
)

// ParseAlgorithm maps a wire algorithm name to its canonical form. Names are
// case-insensitive and SHA256withRSA is an alias of RSA256 because the
// official Java SDK and older documents spell it that way. Any other name is
// rejected with INVALID_SIGNATURE.
func ParseAlgorithm(name string) (Algorithm, error) {
	switch {
	case strings.EqualFold(name, string(RSA256)), strings.EqualFold(name, "SHA256withRSA"):
		return RSA256, nil
	case strings.EqualFold(name, string(ECC224)):
		return ECC224, nil
	}
	return "", newError(ReasonInvalidSignature, "Signature.algorithm",
		fmt.Sprintf("unsupported algorithm %.32q", name), nil)
}

// AlgorithmOf returns the algorithm a public key signs with: RSA256 for an
// *rsa.PublicKey, ECC224 for a P-224 *ecdsa.PublicKey. Other keys, including
// ECDSA keys on other curves, are an error: the protocol has no name for them.
func AlgorithmOf(key crypto.PublicKey) (Algorithm, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return RSA256, nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P224() {
			return ECC224, nil
		}
		return "", fmt.Errorf("ECDSA key on curve %s: only P-224 is supported", curveName(k.Curve))
	}
	return "", fmt.Errorf("unsupported key type %T: want RSA or ECDSA P-224", key)
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown"
	}
	return c.Params().Name
}

// Content builds the content to be signed (spec 2.5):
//
//	<METHOD> <PATH>\n<Client-Id>.<time>.<body>
//
// timeHeader is Request-Time for requests and Response-Time for responses,
// as sent: the text is signed, not the instant. body is the exact wire body
// (for an encrypted message, the base64 ciphertext). It allocates once.
func Content(method, path, clientID, timeHeader string, body []byte) []byte {
	n := len(method) + 1 + len(path) + 1 + len(clientID) + 1 + len(timeHeader) + 1 + len(body)
	b := make([]byte, 0, n)
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, clientID...)
	b = append(b, '.')
	b = append(b, timeHeader...)
	b = append(b, '.')
	b = append(b, body...)
	return b
}

// Sign signs content with signer under alg and returns the raw signature
// bytes (base64 and URL-escaping are the header's business).
//
// Both algorithms sign the SHA-256 digest: PKCS#1 v1.5 for RSA256, and for
// ECC224 an ASN.1 DER ECDSA signature over the full 32-byte digest, which
// ECDSA itself cuts to P-224's 224 bits (SHA-224 would not interoperate).
// The signer's key must match alg, so a misconfigured key fails here rather
// than at the peer.
func Sign(signer crypto.Signer, alg Algorithm, content []byte) ([]byte, error) {
	if alg != RSA256 && alg != ECC224 {
		return nil, fmt.Errorf("sign: unsupported algorithm %q", alg)
	}
	if signer == nil {
		return nil, errors.New("sign: no signing key")
	}
	have, err := AlgorithmOf(signer.Public())
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if have != alg {
		return nil, fmt.Errorf("sign: algorithm %s needs a %s key, have a %s key", alg, keyKind(alg), keyKind(have))
	}
	digest := sha256.Sum256(content)
	// crypto.SHA256 as opts selects PKCS#1 v1.5 (not PSS) for RSA keys;
	// ECDSA keys ignore it and return ASN.1 DER. Hardware and KMS signers
	// follow the same crypto.Signer contract.
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", alg, err)
	}
	return sig, nil
}

func keyKind(alg Algorithm) string {
	if alg == ECC224 {
		return "ECDSA P-224"
	}
	return "RSA"
}

// Verify checks sig over content with pub under alg. Every failure, including
// a key that does not fit alg, is INVALID_SIGNATURE: to the sender they all
// mean "this signature is not acceptable".
//
// ECDSA signatures are not required to be low-S: OpenSSL and the official
// SDKs do not normalise S, and replay protection keys on the signed content,
// not on the signature bytes, so malleability gains an attacker nothing.
func Verify(pub crypto.PublicKey, alg Algorithm, content, sig []byte) error {
	digest := sha256.Sum256(content)
	switch alg {
	case RSA256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return mismatch(alg, pub)
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig); err != nil {
			return newError(ReasonInvalidSignature, "Signature.signature", "RSA256 signature does not verify", err)
		}
		return nil
	case ECC224:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P224() {
			return mismatch(alg, pub)
		}
		if !ecdsa.VerifyASN1(k, digest[:], sig) {
			return newError(ReasonInvalidSignature, "Signature.signature", "ECC224 signature does not verify", nil)
		}
		return nil
	}
	return newError(ReasonInvalidSignature, "Signature.algorithm", fmt.Sprintf("unsupported algorithm %.32q", string(alg)), nil)
}

func mismatch(alg Algorithm, pub crypto.PublicKey) error {
	have, err := AlgorithmOf(pub)
	if err != nil {
		return newError(ReasonInvalidSignature, "Signature.algorithm", "no usable key for "+string(alg), err)
	}
	return newError(ReasonInvalidSignature, "Signature.algorithm",
		fmt.Sprintf("%s signature checked against a %s key", alg, have), nil)
}

// VerifyMessage is the whole receiver-side signature check on one message:
// parse the Signature header, rebuild the content from the wire values and
// verify it with pub. The SDK uses it on responses and `ipass verify` on
// anything. It returns the parsed header so the caller can check keyVersion.
//
// A server that picks the key from the header should use [VerifyMessageFunc].
func VerifyMessage(pub crypto.PublicKey, method, path, clientID, timeHeader string, body []byte, signatureHeader string) (SignatureParams, error) {
	return VerifyMessageFunc(func(Algorithm, int) (crypto.PublicKey, error) { return pub, nil },
		method, path, clientID, timeHeader, body, signatureHeader)
}

// KeyFunc returns the public key registered for (alg, keyVersion);
// keyVersion is -1 when the header names none (meaning the latest key).
// An error that is not an *Error is reported as KEY_NOT_FOUND.
type KeyFunc func(alg Algorithm, keyVersion int) (crypto.PublicKey, error)

// VerifyMessageFunc is VerifyMessage with the key chosen from the parsed
// header, in the order of spec 2.10: header syntax (INVALID_SIGNATURE), then
// the key (KEY_NOT_FOUND), then the signature itself (INVALID_SIGNATURE).
// It checks no times: spec 2.10 puts the Request-Time check between the key
// lookup and the verification, so a server that must keep that exact order
// composes ParseSignatureHeader, ParseTime, Content and Verify itself.
func VerifyMessageFunc(keys KeyFunc, method, path, clientID, timeHeader string, body []byte, signatureHeader string) (SignatureParams, error) {
	p, err := ParseSignatureHeader(signatureHeader)
	if err != nil {
		return p, err
	}
	pub, err := keys(p.Algorithm, p.KeyVersion)
	if err != nil {
		if ReasonOf(err) == "" {
			err = newError(ReasonKeyNotFound, "Signature.keyVersion", "no key for "+describeKey(p.Algorithm, p.KeyVersion), err)
		}
		return p, err
	}
	if pub == nil {
		return p, newError(ReasonKeyNotFound, "Signature.keyVersion", "no key for "+describeKey(p.Algorithm, p.KeyVersion), nil)
	}
	return p, Verify(pub, p.Algorithm, Content(method, path, clientID, timeHeader, body), p.Signature)
}

func describeKey(alg Algorithm, keyVersion int) string {
	if keyVersion < 0 {
		return string(alg) + " (latest version)"
	}
	return fmt.Sprintf("%s version %d", alg, keyVersion)
}
