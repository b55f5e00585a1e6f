package ipass

import (
	"context"
	"time"
)

// WrappedKeyStore records the wrapped AES keys (the Encrypt header's
// symmetricKey) of encrypted requests, server-wide and shared by every
// process through the database, so that each is accepted once.
//
// The Encrypt header is not signed, so without this client B could re-sign
// client A's captured ciphertext and symmetricKey as its own request and
// have the server decrypt A's body for B (the Encrypt header of docs/api.md, "Encryption", leaves the
// header unsigned; this closes the gap on the receiving side).
type WrappedKeyStore interface {
	// RecordWrappedKey stores digest (SHA-256 of the wrapped key bytes) for
	// clientID at instant at. It returns KeyFresh when the digest was not
	// recorded yet; otherwise, without error, who recorded it first.
	// Records are kept: a captured ciphertext can be re-signed at any later
	// time.
	RecordWrappedKey(ctx context.Context, clientID string, digest []byte, at time.Time) (KeyUse, error)
}

// KeyUse is what [WrappedKeyStore.RecordWrappedKey] found.
type KeyUse int

// Key uses.
const (
	// KeyFresh: the wrapped key was not used before; it is recorded now.
	KeyFresh KeyUse = iota
	// KeyUsedBySame: the same client used it before (for instance in the
	// first delivery of the request being repeated).
	KeyUsedBySame
	// KeyUsedByOther: another client used it first.
	KeyUsedByOther
)
