package http

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

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

// requestTimeText is Request-Time as a message shows it: epoch milliseconds
// with their ISO 8601 date (a merchant sending 1970 should see it), RFC 3339
// as sent.
func requestTimeText(requestTime string, at time.Time) any {
	if requestTime != "" && strings.Trim(requestTime, "0123456789") == "" {
		return ipass.Millis(at.UnixMilli())
	}
	return truncate(requestTime, 64)
}
