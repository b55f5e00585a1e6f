package wallet

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// A token is base64url (no padding) of
//
//	version (1 byte, tokenV1) | expiry (8 bytes, Unix seconds, big endian) | userId | HMAC-SHA256 (32 bytes)
//
// with the MAC over everything before it, keyed by the wallet secret. The
// version byte lets the format change later; an unknown version is refused.
const (
	tokenV1     = 1
	macSize     = sha256.Size
	minTokenLen = 1 + 8 + 1 + macSize
	maxUserID   = 64
	// MaxTokenChars bounds the text ParseToken looks at, so a long URL costs
	// no work.
	MaxTokenChars = (1 + 8 + maxUserID + macSize + 2) * 4 / 3
)

// ErrBadToken is every reason a token is refused: malformed, unknown
// version, wrong MAC, expired. Callers answer all of them alike.
var ErrBadToken = errors.New("wallet: invalid or expired token")

// NewToken returns a token that names userID until expires.
func NewToken(secret []byte, userID string, expires time.Time) (string, error) {
	if userID == "" || len(userID) > maxUserID {
		return "", errors.New("wallet: userId must be 1 to 64 bytes")
	}
	if len(secret) == 0 {
		return "", errors.New("wallet: empty secret")
	}
	b := make([]byte, 0, 1+8+len(userID)+macSize)
	b = append(b, tokenV1)
	b = binary.BigEndian.AppendUint64(b, uint64(expires.Unix()))
	b = append(b, userID...)
	b = mac(secret, b).Sum(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseToken returns the userId a token names if its MAC verifies under
// secret (compared in constant time) and it has not expired at now.
func ParseToken(secret []byte, token string, now time.Time) (string, error) {
	c, err := ParseTokenClaims(secret, token, now)
	return c.UserID, err
}

// Claims are what a valid token says: whose wallet it opens, and until when.
type Claims struct {
	UserID  string
	Expires time.Time // the first instant the token no longer works
}

// ParseTokenClaims is [ParseToken] with the token's expiry too: a
// long-lived answer (an event stream) must end when its link does.
func ParseTokenClaims(secret []byte, token string, now time.Time) (Claims, error) {
	if len(token) > MaxTokenChars || len(secret) == 0 {
		return Claims{}, ErrBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < minTokenLen || b[0] != tokenV1 {
		return Claims{}, ErrBadToken
	}
	body, sum := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(mac(secret, body).Sum(nil), sum) {
		return Claims{}, ErrBadToken
	}
	exp := binary.BigEndian.Uint64(body[1:9])
	if exp > uint64(1<<62) || now.Unix() >= int64(exp) {
		return Claims{}, ErrBadToken
	}
	return Claims{UserID: string(body[9:]), Expires: time.Unix(int64(exp), 0)}, nil
}

func mac(secret, data []byte) interface {
	Sum([]byte) []byte
} {
	h := hmac.New(sha256.New, secret)
	h.Write(data)
	return h
}
