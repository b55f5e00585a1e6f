package gateway

import (
	"bytes"
	"crypto/rsa"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Parsers of untrusted input must never panic, must fail only with the
// reasons they document, and what they accept must survive a round trip.

func FuzzParseSignatureHeader(f *testing.F) {
	for _, c := range loadVectors(f) {
		if h, ok := c.Headers["Signature"]; ok {
			f.Add(h)
		}
	}
	f.Add("")
	f.Add("algorithm=RSA256,,keyVersion=,signature=%zz")
	f.Add(" Signature\t=\t++//AQ==\t,KEYVERSION=0007 , algorithm = ecc224 ")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseSignatureHeader(s)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || (e.Reason != ReasonInvalidSignature && e.Reason != ReasonKeyNotFound) || !strings.HasPrefix(e.Part, "Signature") {
				t.Fatalf("ParseSignatureHeader(%q): unexpected error %T %v", s, err, err)
			}
			return
		}
		if len(p.Signature) == 0 || (p.Algorithm != RSA256 && p.Algorithm != ECC224) || p.KeyVersion < -1 {
			t.Fatalf("ParseSignatureHeader(%q) accepted %+v", s, p)
		}
		again, err := ParseSignatureHeader(FormatSignatureHeader(p.Algorithm, p.KeyVersion, p.Signature))
		if err != nil || again.Algorithm != p.Algorithm || again.KeyVersion != p.KeyVersion || !bytes.Equal(again.Signature, p.Signature) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, again, err, p)
		}
	})
}

func FuzzParseEncryptHeader(f *testing.F) {
	for _, c := range loadVectors(f) {
		if h, ok := c.Headers["Encrypt"]; ok {
			f.Add(h)
		}
	}
	f.Add("")
	f.Add("algorithm=RSA, keyVersion=1, symmetricKey=AAAA")
	f.Add("symmetricKey=a,SYMMETRICKEY=b")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseEncryptHeader(s)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || (e.Reason != ReasonDecryptFailed && e.Reason != ReasonKeyNotFound) || !strings.HasPrefix(e.Part, "Encrypt") {
				t.Fatalf("ParseEncryptHeader(%q): unexpected error %T %v", s, err, err)
			}
			return
		}
		if len(p.WrappedKey) == 0 || p.Algorithm != RSAAES || p.KeyVersion < -1 {
			t.Fatalf("ParseEncryptHeader(%q) accepted %+v", s, p)
		}
		again, err := ParseEncryptHeader(FormatEncryptHeader(p.KeyVersion, p.WrappedKey))
		if err != nil || again.KeyVersion != p.KeyVersion || !bytes.Equal(again.WrappedKey, p.WrappedKey) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, again, err, p)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, c := range loadVectors(f) {
		f.Add(c.timeHeader())
	}
	for _, s := range []string{"", "0", "9223372036854775807", "9999999999999999999", "2024-02-29t23:59:59.123456789z",
		"2024-05-22T06:44:22-0000", "2024-05-22T06:44:22.1234567890Z", "0000-01-01T00:00:00+23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if ReasonOf(err) != ReasonParamIllegal {
				t.Fatalf("ParseTime(%q): unexpected error %v", s, err)
			}
			return
		}
		if allDigits(s) {
			ms, err := strconv.ParseInt(s, 10, 64)
			if err != nil || len(s) > 19 || got.UnixMilli() != ms {
				t.Fatalf("ParseTime(%q) = %v, want epoch ms %d (%v)", s, got, ms, err)
			}
			return
		}
		// Normalise to the subset time.Parse reads and compare instants.
		norm := []byte(s)
		norm[10] = 'T'
		if last := len(norm) - 1; norm[last] == 'z' {
			norm[last] = 'Z'
		}
		if n := len(norm); norm[n-1] != 'Z' && norm[n-3] != ':' {
			norm = append(norm[:n-2:n-2], ':', norm[n-2], norm[n-1])
		}
		want, err := time.Parse(time.RFC3339Nano, string(norm))
		if err != nil || !want.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v; time.Parse(%q) = %v, %v", s, got, norm, want, err)
		}
		if y := got.UTC().Year(); y >= 0 && y <= 9999 {
			back, err := ParseTime(FormatTime(got))
			if err != nil || !back.Equal(got.Truncate(time.Millisecond)) {
				t.Fatalf("ParseTime(FormatTime(%v)) = %v, %v", got, back, err)
			}
		}
	})
}

// unwrapBit in FuzzDecrypt's selector byte turns on the UnwrapKey path.
const unwrapBit = 0x80

// FuzzDecrypt drives the receiver's decryption path, UnwrapKey and then
// DecryptBody, with arbitrary wrapped keys and bodies.
func FuzzDecrypt(f *testing.F) {
	keys := [][]byte{
		mustHex(f, "7f3c9a1be04d52866a0d19c4e2b8f531"),
		mustHex(f, "c41d8e03a7f25b6904e8d13c7a52f0b96e1d4a8c3f07b258"),
		mustHex(f, "3b8e1f6a9c2d47e05a91c3f8b26d0e4f7c15a9e3d8b2f6014e7a9c5d3b1f8e2a"),
		mustHex(f, "00112233445566778899"), // wrong length
	}
	priv := mustPrivate(f, "keys/server-rsa-enc.key.pem").(*rsa.PrivateKey)
	for _, c := range loadVectors(f) {
		h, ok := c.Headers["Encrypt"]
		if !ok {
			continue
		}
		var wrapped []byte
		if p, err := ParseEncryptHeader(h); err == nil {
			wrapped = p.WrappedKey
		}
		for i := range keys {
			f.Add([]byte(c.Body), wrapped, uint8(i))
			f.Add([]byte(c.Body), wrapped, uint8(i)|unwrapBit)
		}
	}
	f.Add([]byte(""), []byte{}, uint8(0))
	f.Add([]byte("AAAAAAAAAAAAAAAAAAAAAA=="), []byte{0, 2, 1}, uint8(2)|unwrapBit)
	f.Fuzz(func(t *testing.T, body, wrapped []byte, sel uint8) {
		key := keys[int(sel&^unwrapBit)%len(keys)]
		pt, err := DecryptBody(key, body)
		if err != nil {
			if ReasonOf(err) != ReasonDecryptFailed {
				t.Fatalf("DecryptBody: unexpected error %v", err)
			}
		} else if !bytes.ContainsAny(body, "\r\n") {
			// Accepted bodies are canonical: encrypting again gives them back.
			again, err := EncryptBody(key, pt)
			if err != nil || !bytes.Equal(again, body) {
				t.Fatalf("EncryptBody(DecryptBody(%q)) = %q, %v", body, again, err)
			}
		}

		// The RSA operation costs ~100 times the rest, so only inputs with
		// the high bit of sel take it and the body path keeps its pace.
		if sel&unwrapBit == 0 {
			return
		}
		aesKey, err := UnwrapKey(priv, wrapped)
		if err != nil {
			if ReasonOf(err) != ReasonDecryptFailed {
				t.Fatalf("UnwrapKey: unexpected error %v", err)
			}
			return
		}
		if !validAESKeySize(len(aesKey)) {
			t.Fatalf("UnwrapKey returned a %d-byte key", len(aesKey))
		}
		if _, err := DecryptBody(aesKey, body); err != nil && ReasonOf(err) != ReasonDecryptFailed {
			t.Fatalf("DecryptBody after unwrap: unexpected error %v", err)
		}
	})
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
