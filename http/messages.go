package http

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// invalidSignature is the INVALID_SIGNATURE error of G9. It names the key
// the server used (algorithm, version, fingerprint) and the SHA-256 of the
// exact content it verified, so a merchant can compare it with the SHA-256
// of what they signed (`ipass sign` prints the content; `ipass verify
// --verbose` its hash) without either side revealing the content itself.
func invalidSignature(alg gateway.Algorithm, version int, pub crypto.PublicKey, content []byte) error {
	sum := sha256.Sum256(content)
	return ipass.Errorf(ipass.CodeInvalidSignature,
		"Signature: does not verify with the client's %s key version %d (%s) over the content received (%d bytes, SHA-256 %s)",
		alg, version, gateway.Fingerprint(pub), len(content), hex.EncodeToString(sum[:]))
}

// epochSecondsHint explains the commonest Request-Time mistake: Unix
// seconds where the protocol takes milliseconds (a 1970 instant).
func epochSecondsHint(requestTime string) string {
	if n := len(requestTime); n < 9 || n > 10 {
		return ""
	}
	for _, c := range requestTime {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return "; it looks like Unix seconds: send milliseconds (or RFC 3339)"
}
