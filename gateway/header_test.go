package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// testSig's base64 "++//AQ==" holds every character URL-escaping changes.
var testSig = []byte{0xfb, 0xef, 0xff, 0x01}

const (
	testSigEscaped = "%2B%2B%2F%2FAQ%3D%3D"
	testSigPlain   = "++//AQ=="
)

func TestParseSignatureHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		alg     Algorithm
		version int
		reason  Reason // "" for success
		part    string
	}{
		{name: "OK", in: "algorithm=RSA256,keyVersion=1,signature=" + testSigEscaped, alg: RSA256, version: 1},
		{name: "OKNotURLEscaped", in: "algorithm=RSA256,keyVersion=1,signature=" + testSigPlain, alg: RSA256, version: 1},
		{name: "OKPlusStaysPlus", in: "signature=++//AQ%3D%3D", alg: RSA256, version: -1},
		{name: "OKLowerCaseEscapes", in: "signature=%2b%2b%2f%2fAQ%3d%3d", alg: RSA256, version: -1},
		{name: "OKSpacesAfterCommas", in: "algorithm=RSA256, keyVersion=1, signature=" + testSigEscaped, alg: RSA256, version: 1},
		{name: "OKTabsAndSpacesAroundNamesAndValues", in: " algorithm =\tRSA256\t,\tkeyVersion\t= 1 ,  signature =  " + testSigPlain + " \t", alg: RSA256, version: 1},
		{name: "OKMixedCaseNames", in: "Algorithm=ECC224,KEYVERSION=0,Signature=" + testSigEscaped, alg: ECC224, version: 0},
		{name: "OKAlgorithmLowerCase", in: "algorithm=ecc224,signature=" + testSigEscaped, alg: ECC224, version: -1},
		{name: "OKAliasSHA256withRSA", in: "algorithm=SHA256withRSA,keyVersion=2,signature=" + testSigEscaped, alg: RSA256, version: 2},
		{name: "OKAliasAnyCase", in: "algorithm=sha256WITHrsa,signature=" + testSigEscaped, alg: RSA256, version: -1},
		{name: "OKAlgorithmOmitted", in: "keyVersion=1,signature=" + testSigEscaped, alg: RSA256, version: 1},
		{name: "OKKeyVersionOmitted", in: "algorithm=RSA256,signature=" + testSigEscaped, alg: RSA256, version: -1},
		{name: "OKKeyVersionLeadingZeros", in: "keyVersion=007,signature=" + testSigEscaped, alg: RSA256, version: 7},
		{name: "OKUnknownNamesIgnored", in: "charset=utf-8,signature=" + testSigEscaped + ",nonce=a=b,nonce=c", alg: RSA256, version: -1},
		{name: "OKEmptyItemsSkipped", in: ",algorithm=RSA256,, ,\t,signature=" + testSigEscaped + ",", alg: RSA256, version: -1},
		{name: "OKSignatureNotLast", in: "signature=" + testSigEscaped + ",keyVersion=3", alg: RSA256, version: 3},

		{name: "ErrHeaderEmpty", in: "", reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrHeaderBlank", in: " \t ", reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrOnlyCommas", in: ",,,", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrDuplicateSignature", in: "signature=" + testSigEscaped + ",signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrDuplicateNameOtherCase", in: "keyVersion=1,KEYVERSION=1,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrDuplicateAlgorithm", in: "algorithm=RSA256,algorithm=ECC224,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrItemWithoutEquals", in: "algorithm=RSA256,garbage,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrEmptyName", in: "=RSA256,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
		{name: "ErrSignatureMissing", in: "algorithm=RSA256,keyVersion=1", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureEmpty", in: "algorithm=RSA256,keyVersion=1,signature=", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureBlank", in: "signature= \t ", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureNotBase64", in: "signature=***not~base64***", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureUnpadded", in: "signature=%2B%2B%2F%2FAQ", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureURLSafeAlphabet", in: "signature=--__AQ==", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureNonCanonicalBits", in: "signature=%2B%2B%2F%2FAR%3D%3D", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureBadPercent", in: "signature=%zz%2B%2F%2FAQ%3D%3D", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureEscapedSpace", in: "signature=%20%2B%2F%2FAQ%3D%3D", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureEscapedNewline", in: "signature=%2B%2B%0A%2F%2FAQ%3D%3D", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrSignatureInnerSpace", in: "signature=++// AQ==", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrAlgorithmUnsupported", in: "algorithm=MD5withRSA,keyVersion=1,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature.algorithm"},
		{name: "ErrAlgorithmSHA224", in: "algorithm=ECC256,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature.algorithm"},
		{name: "ErrAlgorithmEmpty", in: "algorithm=,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature.algorithm"},
		{name: "ErrKeyVersionNegative", in: "keyVersion=-1,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionPlusSign", in: "keyVersion=+1,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionFraction", in: "keyVersion=1.0,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionWord", in: "keyVersion=latest,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionEmpty", in: "keyVersion=,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionHex", in: "keyVersion=0x1,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionInnerSpace", in: "keyVersion=1 2,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionOverflow", in: "keyVersion=99999999999999999999,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		{name: "ErrKeyVersionArabicDigit", in: "keyVersion=\u0661,signature=" + testSigEscaped, reason: ReasonKeyNotFound, part: "Signature.keyVersion"},
		// INVALID_SIGNATURE conditions are checked before the key version.
		{name: "ErrOrderBadSignatureBeforeKeyVersion", in: "keyVersion=x,signature=***", reason: ReasonInvalidSignature, part: "Signature.signature"},
		{name: "ErrOrderBadAlgorithmBeforeKeyVersion", in: "algorithm=DSA,keyVersion=x,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature.algorithm"},
		{name: "ErrOrderDuplicateBeforeKeyVersion", in: "keyVersion=x,keyVersion=y,signature=" + testSigEscaped, reason: ReasonInvalidSignature, part: "Signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseSignatureHeader(tt.in)
			if tt.reason != "" {
				checkError(t, err, tt.reason, tt.part)
				return
			}
			if err != nil {
				t.Fatalf("ParseSignatureHeader(%q): %v", tt.in, err)
			}
			if p.Algorithm != tt.alg || p.KeyVersion != tt.version || !bytes.Equal(p.Signature, testSig) {
				t.Errorf("got %s/%d/%x, want %s/%d/%x", p.Algorithm, p.KeyVersion, p.Signature, tt.alg, tt.version, testSig)
			}
		})
	}
}

func TestParseEncryptHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		version int // also checked on a symmetricKey failure
		reason  Reason
		part    string
	}{
		{name: "OK", in: "algorithm=RSA_AES,keyVersion=1,symmetricKey=" + testSigEscaped, version: 1},
		{name: "OKAliasRSA", in: "algorithm=RSA, keyVersion=1, symmetricKey=" + testSigEscaped, version: 1},
		{name: "OKLowerCase", in: "ALGORITHM=rsa_aes,KeyVersion=3,SYMMETRICKEY=" + testSigPlain, version: 3},
		{name: "OKAlgorithmOmitted", in: "keyVersion=0,symmetricKey=" + testSigEscaped, version: 0},
		{name: "OKKeyVersionOmitted", in: "symmetricKey=" + testSigEscaped, version: -1},
		{name: "OKTabs", in: "\talgorithm\t=\tRSA_AES\t,symmetricKey\t=\t" + testSigEscaped, version: -1},
		{name: "OKUnknownIgnored", in: "mode=ECB,symmetricKey=" + testSigEscaped + ",", version: -1},

		{name: "ErrAlgorithmAES", in: "algorithm=AES,keyVersion=1,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt.algorithm"},
		{name: "ErrAlgorithmRSA256", in: "algorithm=RSA256,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt.algorithm"},
		{name: "ErrAlgorithmEmpty", in: "algorithm=,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt.algorithm"},
		{name: "ErrDuplicateSymmetricKey", in: "symmetricKey=" + testSigEscaped + ",SymmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt"},
		{name: "ErrDuplicateKeyVersion", in: "keyVersion=1,keyVersion=1,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt"},
		{name: "ErrItemWithoutEquals", in: "RSA_AES,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt"},
		{name: "ErrHeaderEmpty", in: "", version: -1, reason: ReasonDecryptFailed, part: "Encrypt.symmetricKey"},
		{name: "ErrSymmetricKeyMissing", in: "algorithm=RSA_AES,keyVersion=1", version: 1, reason: ReasonDecryptFailed, part: "Encrypt.symmetricKey"},
		{name: "ErrSymmetricKeyEmpty", in: "algorithm=RSA_AES,keyVersion=2,symmetricKey=", version: 2, reason: ReasonDecryptFailed, part: "Encrypt.symmetricKey"},
		{name: "ErrSymmetricKeyNotBase64", in: "keyVersion=7,symmetricKey=hex:00ff", version: 7, reason: ReasonDecryptFailed, part: "Encrypt.symmetricKey"},
		{name: "ErrSymmetricKeyQueryUnescaped", in: "symmetricKey=  //AQ==", version: -1, reason: ReasonDecryptFailed, part: "Encrypt.symmetricKey"},
		{name: "ErrKeyVersionWord", in: "keyVersion=one,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonKeyNotFound, part: "Encrypt.keyVersion"},
		{name: "ErrKeyVersionNegative", in: "keyVersion=-7,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonKeyNotFound, part: "Encrypt.keyVersion"},
		// Spec 2.10 G12: key version before decryption, syntax and algorithm before both.
		{name: "ErrOrderKeyVersionBeforeSymmetricKey", in: "keyVersion=x,symmetricKey=***", version: -1, reason: ReasonKeyNotFound, part: "Encrypt.keyVersion"},
		{name: "ErrOrderAlgorithmBeforeKeyVersion", in: "algorithm=DES,keyVersion=x,symmetricKey=" + testSigEscaped, version: -1, reason: ReasonDecryptFailed, part: "Encrypt.algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseEncryptHeader(tt.in)
			if p.KeyVersion != tt.version {
				t.Errorf("KeyVersion = %d, want %d", p.KeyVersion, tt.version)
			}
			if tt.reason != "" {
				checkError(t, err, tt.reason, tt.part)
				return
			}
			if err != nil {
				t.Fatalf("ParseEncryptHeader(%q): %v", tt.in, err)
			}
			if p.Algorithm != RSAAES || !bytes.Equal(p.WrappedKey, testSig) {
				t.Errorf("got %s/%x, want %s/%x", p.Algorithm, p.WrappedKey, RSAAES, testSig)
			}
		})
	}
}

// checkError asserts err is an *Error with the given reason and part.
func checkError(t *testing.T, err error, reason Reason, part string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s on %s", reason, part)
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Reason != reason || e.Part != part {
		t.Errorf("got %s on %q (%v), want %s on %q", e.Reason, e.Part, err, reason, part)
	}
	if !strings.HasPrefix(e.Error(), part+": ") {
		t.Errorf("Error() = %q, want prefix %q", e.Error(), part+": ")
	}
}

func TestFormatSignatureHeader(t *testing.T) {
	tests := []struct {
		name    string
		alg     Algorithm
		version int
		want    string
	}{
		{"RSA256", RSA256, 1, "algorithm=RSA256,keyVersion=1,signature=" + testSigEscaped},
		{"ECC224Version0", ECC224, 0, "algorithm=ECC224,keyVersion=0,signature=" + testSigEscaped},
		{"NoKeyVersion", RSA256, -1, "algorithm=RSA256,signature=" + testSigEscaped},
		{"BigKeyVersion", RSA256, 1234567890, "algorithm=RSA256,keyVersion=1234567890,signature=" + testSigEscaped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatSignatureHeader(tt.alg, tt.version, testSig); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got, want := FormatEncryptHeader(2, testSig), "algorithm=RSA_AES,keyVersion=2,symmetricKey="+testSigEscaped; got != want {
		t.Errorf("FormatEncryptHeader = %s, want %s", got, want)
	}
}

// The escaping must equal url.QueryEscape (what the SDKs use) and survive a
// parse, for every length including ones past the stack buffer.
func TestFormatRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 64, 256, 512, 767, 768, 769, 2000} {
		raw := make([]byte, n)
		rand.Read(raw)
		h := FormatSignatureHeader(ECC224, 5, raw)
		want := "algorithm=ECC224,keyVersion=5,signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw))
		if h != want {
			t.Fatalf("n=%d: got %s, want %s", n, h, want)
		}
		if n == 0 {
			continue // an empty signature is rejected by design
		}
		p, err := ParseSignatureHeader(h)
		if err != nil || p.Algorithm != ECC224 || p.KeyVersion != 5 || !bytes.Equal(p.Signature, raw) {
			t.Fatalf("n=%d: round trip = %+v, %v", n, p, err)
		}
		e, err := ParseEncryptHeader(FormatEncryptHeader(-1, raw))
		if err != nil || e.KeyVersion != -1 || !bytes.Equal(e.WrappedKey, raw) {
			t.Fatalf("n=%d: encrypt round trip = %+v, %v", n, e, err)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want Algorithm
	}{
		{"RSA256", RSA256}, {"rsa256", RSA256}, {"SHA256withRSA", RSA256}, {"SHA256WITHRSA", RSA256},
		{"ECC224", ECC224}, {"Ecc224", ECC224},
		{"", ""}, {"RSA", ""}, {"RSA2048", ""}, {"SHA256withECDSA", ""}, {" RSA256", ""}, {"MD5withRSA", ""},
	}
	for _, tt := range tests {
		got, err := ParseAlgorithm(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseAlgorithm(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && ReasonOf(err) != ReasonInvalidSignature {
			t.Errorf("ParseAlgorithm(%q) reason %q, want INVALID_SIGNATURE", tt.in, ReasonOf(err))
		}
	}
}
