package gateway

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// RSA key sizes the protocol accepts (spec 2.4). Below 2048 is weak; above
// 4096 makes every verification slow enough to be a denial-of-service lever.
const (
	MinRSABits = 2048
	MaxRSABits = 4096
)

// ParsePrivateKey reads a signing or decryption key: PEM (PKCS#8
// "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or the
// bare base64 DER of those, the form the official SDKs take as a key string.
// It tolerates what copying keys through consoles, YAML and environment
// variables does to them: surrounding whitespace, CRLF, lines wrapped at any
// width or not at all, and an "EC PARAMETERS" block before an EC key.
// Encrypted PEM is refused. RSA keys must be 2048–4096 bits and EC keys P-224.
//
// The result is a crypto.Signer so that callers that only sign never see the
// key material; for RSA it is an *rsa.PrivateKey, which callers that unwrap
// symmetric keys may assert.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	der, label, err := keyDER(data)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	switch label {
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("private key: got a %s PEM block", label)
	}
	var key any
	switch label {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(der)
	default:
		// A bare base64 key carries no label, so try each form; PKCS#8 first
		// because it is what the SDKs and our own tools write.
		key, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			if k, err1 := x509.ParsePKCS1PrivateKey(der); err1 == nil {
				key, err = k, nil
			} else if k, err2 := x509.ParseECPrivateKey(der); err2 == nil {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		if _, perr := x509.ParsePKIXPublicKey(der); perr == nil {
			return nil, errors.New("private key: got a public key")
		}
		return nil, fmt.Errorf("private key: not a PKCS#8, PKCS#1 or SEC 1 key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key: unsupported key type %T", key)
	}
	if err := checkKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return signer, nil
}

// ParsePublicKey reads a verification or encryption key: PEM (SPKI
// "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY") or the bare base64 DER of those,
// with the same tolerance as [ParsePrivateKey]. A private key is refused
// rather than reduced to its public half, so that a secret pasted into a
// public-key field is noticed. The result is an *rsa.PublicKey (2048–4096
// bits) or a P-224 *ecdsa.PublicKey.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	der, label, err := keyDER(data)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	var key any
	switch label {
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("public key: got a %s PEM block", label)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(der)
	default:
		key, err = x509.ParsePKIXPublicKey(der)
		if err != nil {
			if k, err1 := x509.ParsePKCS1PublicKey(der); err1 == nil {
				key, err = k, nil
			}
		}
	}
	if err != nil {
		if _, perr := x509.ParsePKCS8PrivateKey(der); perr == nil {
			return nil, errors.New("public key: got a private key")
		}
		return nil, fmt.Errorf("public key: not an SPKI or PKCS#1 key: %w", err)
	}
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return key, nil
}

// checkKey enforces the key types and sizes the protocol allows.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("RSA key of %d bits: want %d to %d", bits, MinRSABits, MaxRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P224() {
			return fmt.Errorf("ECDSA key on curve %s: only P-224 is supported", curveName(k.Curve))
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T: want RSA or ECDSA P-224", pub)
}

// keyDER extracts DER from PEM or bare base64. It scans for BEGIN/END
// markers itself instead of using encoding/pem because pem.Decode needs the
// markers on lines of their own, which keys flattened onto one line lack.
func keyDER(data []byte) (der []byte, label string, err error) {
	s := bytes.TrimSpace(data)
	if len(s) == 0 {
		return nil, "", errors.New("empty input")
	}
	const begin, dashes = "-----BEGIN ", "-----"
	if !bytes.Contains(s, []byte(begin)) {
		der, err := decodeLooseBase64(s)
		if err != nil {
			return nil, "", errors.New("neither PEM nor base64 DER")
		}
		return der, "", nil
	}
	for {
		i := bytes.Index(s, []byte(begin))
		if i < 0 {
			return nil, "", errors.New("no key in PEM input")
		}
		s = s[i+len(begin):]
		j := bytes.Index(s, []byte(dashes))
		if j < 0 {
			return nil, "", errors.New("malformed PEM BEGIN line")
		}
		label = string(s[:j])
		s = s[j+len(dashes):]
		end := []byte("-----END " + label + dashes)
		k := bytes.Index(s, end)
		if k < 0 {
			return nil, "", fmt.Errorf("PEM block %q has no END line", label)
		}
		body := s[:k]
		s = s[k+len(end):]
		if label == "EC PARAMETERS" {
			continue // written by `openssl ecparam -genkey` ahead of the key
		}
		if bytes.IndexByte(body, ':') >= 0 || label == "ENCRYPTED PRIVATE KEY" {
			return nil, "", fmt.Errorf("PEM block %q is encrypted or has headers: decrypt it first", label)
		}
		der, err := decodeLooseBase64(body)
		if err != nil {
			return nil, "", fmt.Errorf("PEM block %q: bad base64", label)
		}
		return der, label, nil
	}
}

// decodeLooseBase64 decodes standard base64 after removing all whitespace,
// with or without padding.
func decodeLooseBase64(s []byte) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for _, c := range s {
		switch c {
		case ' ', '\t', '\r', '\n', '\v', '\f':
		default:
			clean = append(clean, c)
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	if err != nil || n == 0 {
		return nil, errors.New("bad base64")
	}
	return out[:n], nil
}

// Fingerprint identifies a public key in logs and the admin UI without
// printing it: "SHA256:" followed by the lower-case hex SHA-256 of its SPKI
// DER (the same bytes as `openssl pkey -pubin -outform DER | sha256sum`).
// It returns "" for a key x509 cannot marshal.
func Fingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// GenerateKey creates a new key for alg: RSA 2048 bits for RSA256 (the
// size the official SDKs and docs use) or ECDSA P-224 for ECC224.
func GenerateKey(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case RSA256:
		return rsa.GenerateKey(rand.Reader, MinRSABits)
	case ECC224:
		return ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	}
	return nil, fmt.Errorf("generate key: unsupported algorithm %q", alg)
}

// MarshalPrivateKeyPEM encodes key as PKCS#8 PEM ("PRIVATE KEY"), the one
// form every SDK and OpenSSL reads for both RSA and EC keys.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, errors.New("marshal private key: no key")
	}
	if err := checkKey(key.Public()); err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKeyPEM encodes pub as SPKI PEM ("PUBLIC KEY").
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := marshalPublic(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// PublicKeyBase64 encodes pub as the bare base64 of its SPKI DER on one line,
// the form merchants paste into the AlipayHK console and SDK configuration.
func PublicKeyBase64(pub crypto.PublicKey) (string, error) {
	der, err := marshalPublic(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

func marshalPublic(pub crypto.PublicKey) ([]byte, error) {
	if err := checkKey(pub); err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return der, nil
}
