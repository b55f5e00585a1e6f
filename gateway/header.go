package gateway

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// b64 is the only base64 the headers and bodies use: standard alphabet,
// padded. Strict rejects non-zero trailing bits, so one value has one text.
var b64 = base64.StdEncoding.Strict()

// SignatureParams is a parsed Signature header (spec 2.4).
type SignatureParams struct {
	Algorithm  Algorithm // RSA256 when the item is absent
	KeyVersion int       // -1 when absent: the sender means its latest key of Algorithm
	Signature  []byte    // decoded raw signature bytes
}

// EncryptParams is a parsed Encrypt header (spec 2.6).
type EncryptParams struct {
	Algorithm  string // canonical "RSA_AES"
	KeyVersion int    // -1 when absent: the receiver's current (request) or latest (response) key
	WrappedKey []byte // decoded symmetricKey: the AES key under the receiver's RSA key
}

// RSAAES is the canonical name of the only body encryption scheme.
const RSAAES = "RSA_AES"

// Item names. Lookups are case-insensitive; these spellings are what we send.
var (
	signatureItems = [3]string{"algorithm", "keyVersion", "signature"}
	encryptItems   = [3]string{"algorithm", "keyVersion", "symmetricKey"}
)

// ParseSignatureHeader parses a Signature header value:
//
//	algorithm=RSA256,keyVersion=1,signature=<url-escaped base64>
//
// Items are split on ',' and then at their first '=' (base64 ends in '='),
// with spaces and tabs trimmed around names and values. Names are
// case-insensitive, unknown names are ignored and empty items are skipped;
// an item without '=' or a known name given twice makes the header malformed.
//
// Failures are INVALID_SIGNATURE (malformed header, unsupported algorithm,
// missing or empty signature, undecodable signature), checked before
// KEY_NOT_FOUND (keyVersion that is not a non-negative decimal integer), the
// order of spec 2.10 steps G6 and G7.
//
// The signature value is percent-decoded with url.PathUnescape semantics, so
// a literal '+' stays '+': senders that do not URL-escape (plain base64) are
// accepted, which url.QueryUnescape would break by turning '+' into ' '.
func ParseSignatureHeader(value string) (SignatureParams, error) {
	p := SignatureParams{Algorithm: RSA256, KeyVersion: -1}
	if trimSpaceTab(value) == "" {
		return p, newError(ReasonInvalidSignature, "Signature", "header is missing or empty", nil)
	}
	vals, set, problem := parseItems(value, &signatureItems)
	if problem != "" {
		return p, newError(ReasonInvalidSignature, "Signature", problem, nil)
	}
	if set[0] {
		alg, err := ParseAlgorithm(vals[0])
		if err != nil {
			return p, err
		}
		p.Algorithm = alg
	}
	if !set[2] || vals[2] == "" {
		return p, newError(ReasonInvalidSignature, "Signature.signature", "missing or empty", nil)
	}
	sig, problem := decodeItem(vals[2])
	if problem != "" {
		return p, newError(ReasonInvalidSignature, "Signature.signature", problem, nil)
	}
	if set[1] {
		v, ok := parseKeyVersion(vals[1])
		if !ok {
			return p, newError(ReasonKeyNotFound, "Signature.keyVersion",
				fmt.Sprintf("%.24q is not a non-negative decimal integer", vals[1]), nil)
		}
		p.KeyVersion = v
	}
	p.Signature = sig
	return p, nil
}

// FormatSignatureHeader builds a Signature header value. The signature item
// comes last because the official Go SDK takes everything after
// "signature=" as the value. keyVersion < 0 omits the keyVersion item.
// The base64 is escaped as url.QueryEscape would ('+', '/', '=' become
// %2B, %2F, %3D), the form the official SDKs send.
func FormatSignatureHeader(alg Algorithm, keyVersion int, sig []byte) string {
	return formatHeader(string(alg), keyVersion, "signature=", sig)
}

// ParseEncryptHeader parses an Encrypt header value:
//
//	algorithm=RSA_AES,keyVersion=1,symmetricKey=<url-escaped base64>
//
// The item syntax is that of [ParseSignatureHeader]. algorithm is
// case-insensitive, "RSA" (older documents) is an alias and absence means
// RSA_AES. Failures, in the order of spec 2.10 step G12: a malformed header
// or another algorithm is DECRYPT_FAILED; a keyVersion that is not a
// non-negative decimal integer is KEY_NOT_FOUND; a missing, empty or
// undecodable symmetricKey is DECRYPT_FAILED.
//
// On a symmetricKey failure the returned params still carry Algorithm and
// KeyVersion, so a receiver can report an unknown key version (KEY_NOT_FOUND)
// ahead of the decryption failure, as G12 orders them.
func ParseEncryptHeader(value string) (EncryptParams, error) {
	p := EncryptParams{Algorithm: RSAAES, KeyVersion: -1}
	vals, set, problem := parseItems(value, &encryptItems)
	if problem != "" {
		return p, newError(ReasonDecryptFailed, "Encrypt", problem, nil)
	}
	if set[0] && !strings.EqualFold(vals[0], RSAAES) && !strings.EqualFold(vals[0], "RSA") {
		return p, newError(ReasonDecryptFailed, "Encrypt.algorithm",
			fmt.Sprintf("unsupported algorithm %.32q", vals[0]), nil)
	}
	if set[1] {
		v, ok := parseKeyVersion(vals[1])
		if !ok {
			return p, newError(ReasonKeyNotFound, "Encrypt.keyVersion",
				fmt.Sprintf("%.24q is not a non-negative decimal integer", vals[1]), nil)
		}
		p.KeyVersion = v
	}
	if !set[2] || vals[2] == "" {
		return p, newError(ReasonDecryptFailed, "Encrypt.symmetricKey", "missing or empty", nil)
	}
	key, problem := decodeItem(vals[2])
	if problem != "" {
		return p, newError(ReasonDecryptFailed, "Encrypt.symmetricKey", problem, nil)
	}
	p.WrappedKey = key
	return p, nil
}

// FormatEncryptHeader builds an Encrypt header value for RSA_AES, escaping
// the wrapped key like [FormatSignatureHeader]. keyVersion < 0 omits the
// keyVersion item.
func FormatEncryptHeader(keyVersion int, wrappedKey []byte) string {
	return formatHeader(RSAAES, keyVersion, "symmetricKey=", wrappedKey)
}

// formatHeader writes "algorithm=<alg>[,keyVersion=<n>],<last><escaped base64>"
// into one exactly sized buffer.
func formatHeader(alg string, keyVersion int, last string, raw []byte) string {
	var vbuf [20]byte
	var version []byte
	if keyVersion >= 0 {
		version = strconv.AppendInt(vbuf[:0], int64(keyVersion), 10)
	}
	var ebuf [1024]byte // a 4096-bit RSA value is 684 base64 characters
	var enc []byte
	if n := b64.EncodedLen(len(raw)); n <= len(ebuf) {
		enc = ebuf[:n]
	} else {
		enc = make([]byte, n)
	}
	b64.Encode(enc, raw)
	n := len("algorithm=") + len(alg) + 1 + len(last) + len(enc)
	if version != nil {
		n += len("keyVersion=") + len(version) + 1
	}
	for _, c := range enc {
		if c == '+' || c == '/' || c == '=' {
			n += 2
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	sb.WriteString("algorithm=")
	sb.WriteString(alg)
	sb.WriteByte(',')
	if version != nil {
		sb.WriteString("keyVersion=")
		sb.Write(version)
		sb.WriteByte(',')
	}
	sb.WriteString(last)
	for _, c := range enc {
		switch c {
		case '+':
			sb.WriteString("%2B")
		case '/':
			sb.WriteString("%2F")
		case '=':
			sb.WriteString("%3D")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// parseItems splits a header value into the items named in names (matched
// case-insensitively). It reports a problem for an item without '=', an
// empty name, or a known name given twice: a repeated item could be read
// differently by two parsers, so it is refused rather than resolved.
func parseItems(header string, names *[3]string) (vals [3]string, set [3]bool, problem string) {
	rest := header
	for {
		item, tail, more := strings.Cut(rest, ",")
		if item = trimSpaceTab(item); item != "" {
			name, val, ok := strings.Cut(item, "=")
			name = trimSpaceTab(name)
			switch {
			case !ok:
				return vals, set, fmt.Sprintf("item %.24q has no '='", item)
			case name == "":
				return vals, set, "item with an empty name"
			}
			for i, n := range names {
				if strings.EqualFold(name, n) {
					if set[i] {
						return vals, set, "item " + n + " given twice"
					}
					vals[i], set[i] = trimSpaceTab(val), true
					break
				}
			}
		}
		if !more {
			return vals, set, ""
		}
		rest = tail
	}
}

// decodeItem percent-decodes (url.PathUnescape: '+' stays '+') and then
// base64-decodes a header item value. Line breaks are refused: Go's decoder
// would skip them, other parsers would not.
func decodeItem(v string) ([]byte, string) {
	if strings.IndexByte(v, '%') >= 0 {
		u, err := url.PathUnescape(v)
		if err != nil {
			return nil, "bad percent-encoding"
		}
		v = u
	}
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return nil, "not base64"
	}
	raw, err := b64.DecodeString(v)
	if err != nil {
		return nil, "not base64"
	}
	return raw, ""
}

// parseKeyVersion accepts a non-negative decimal integer of ASCII digits
// (strconv.Atoi alone would also take signs).
func parseKeyVersion(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

func trimSpaceTab(s string) string {
	return strings.Trim(s, " \t")
}
