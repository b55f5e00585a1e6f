package gateway

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// The key registry of the vectors README. Signature keys are found by
// (algorithm, keyVersion); an absent keyVersion means the highest one.
type regKey struct {
	alg     Algorithm
	version int
}

const vectorClient = "4R7Z2K9WSC31P804256"

var (
	// request signatures, by Client-Id
	vectorClients = map[string]map[regKey]string{
		vectorClient: {
			{RSA256, 1}: "keys/client-rsa-v1.pub.pem",
			{RSA256, 2}: "keys/client-rsa-v2.pub.pem",
			{ECC224, 1}: "keys/client-ec-p224.pub.pem",
		},
	}
	// response signatures
	vectorServerSigning = map[regKey]string{
		{RSA256, 1}: "keys/server-rsa-sign.pub.pem",
		{ECC224, 1}: "keys/server-ec-p224-sign.pub.pem",
	}
	// request decryption (the server's current version is 1)
	vectorServerEncryption = map[int]string{1: "keys/server-rsa-enc.key.pem"}
	// response decryption, by Client-Id
	vectorClientDecryption = map[string]map[int]string{
		vectorClient: {1: "keys/client-rsa-v1.key.pem", 2: "keys/client-rsa-v2.key.pem"},
	}
)

func resolveSigning(keys map[regKey]string, alg Algorithm, version int) (string, bool) {
	if version < 0 {
		for k := range keys {
			if k.alg == alg && k.version > version {
				version = k.version
			}
		}
	}
	path, ok := keys[regKey{alg, version}]
	return path, ok
}

func resolveDecryption(keys map[int]string, version, current int) (string, bool) {
	if version < 0 {
		version = current
	}
	path, ok := keys[version]
	return path, ok
}

// received is what a receiver learnt from a message.
type received struct {
	outcome     string // "" or the rejection reason
	err         error
	verifyWith  string // key path the registry resolved for the signature
	decryptWith string // key path the registry resolved for the Encrypt header
	aesKey      []byte
	plaintext   []byte
}

// receive runs the receiver checks of the vectors README in their order:
// client, Signature header, signature key, time, signature, Encrypt header
// and its key, unwrap and decrypt. The registry is the test's; the rest is
// the package under test.
func receive(tb testing.TB, c vector) (r received) {
	tb.Helper()
	fail := func(err error) received {
		r.err = err
		r.outcome = string(ReasonOf(err))
		if r.outcome == "" {
			tb.Fatalf("error without a Reason: %v", err)
		}
		return r
	}
	h := c.Headers
	sigKeys := vectorServerSigning
	if c.Kind == "request" {
		keys, ok := vectorClients[h["Client-Id"]]
		if !ok {
			r.outcome = "INVALID_CLIENT"
			return r
		}
		sigKeys = keys
	}

	p, err := ParseSignatureHeader(h["Signature"]) // "" when missing
	if err != nil {
		return fail(err)
	}
	path, ok := resolveSigning(sigKeys, p.Algorithm, p.KeyVersion)
	if !ok {
		r.outcome = string(ReasonKeyNotFound)
		return r
	}
	r.verifyWith = path
	if _, err := ParseTime(c.timeHeader()); err != nil {
		return fail(err)
	}
	content := Content(c.Method, c.Path, h["Client-Id"], c.timeHeader(), []byte(c.Body))
	if err := Verify(mustPublic(tb, path), p.Algorithm, content, p.Signature); err != nil {
		return fail(err)
	}

	encHeader, encrypted := h["Encrypt"]
	if !encrypted {
		return r
	}
	ep, encErr := ParseEncryptHeader(encHeader)
	if encErr != nil && ReasonOf(encErr) == ReasonKeyNotFound {
		return fail(encErr)
	}
	if encErr != nil && !strings.HasPrefix(encErr.(*Error).Part, "Encrypt.symmetricKey") {
		return fail(encErr)
	}
	// A bad symmetricKey still leaves KeyVersion parsed: the key lookup
	// comes first (spec 2.10 G12).
	var decKey string
	if c.Kind == "request" {
		decKey, ok = resolveDecryption(vectorServerEncryption, ep.KeyVersion, 1)
	} else {
		decKey, ok = resolveDecryption(vectorClientDecryption[h["Client-Id"]], ep.KeyVersion, 2)
	}
	if !ok {
		r.outcome = string(ReasonKeyNotFound)
		return r
	}
	r.decryptWith = decKey
	if encErr != nil {
		return fail(encErr)
	}
	priv := mustPrivate(tb, decKey).(*rsa.PrivateKey)
	if r.aesKey, err = UnwrapKey(priv, ep.WrappedKey); err != nil {
		return fail(err)
	}
	if r.plaintext, err = DecryptBody(r.aesKey, []byte(c.Body)); err != nil {
		return fail(err)
	}
	return r
}

// headerSignatureText returns the raw text of the (last) signature item, as
// it stands in the header, for byte-exact comparison with what we produce.
func headerSignatureText(header string) string {
	var text string
	for _, item := range strings.Split(header, ",") {
		name, val, _ := strings.Cut(strings.Trim(item, " \t"), "=")
		if strings.EqualFold(strings.Trim(name, " \t"), "signature") {
			text = strings.Trim(val, " \t")
		}
	}
	return text
}

func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) != 63 {
		t.Fatalf("got %d vectors, want 63", len(vs))
	}
	valid := 0
	for _, c := range vs {
		if c.Expect == "valid" {
			valid++
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			t.Log(c.Description)

			// 1. Content.
			got := Content(c.Method, c.Path, c.Headers["Client-Id"], c.timeHeader(), []byte(c.Body))
			if string(got) != c.ContentToSign {
				t.Fatalf("Content:\ngot  %q\nwant %q", got, c.ContentToSign)
			}
			if c.TimeEpochMillis != nil {
				tm, err := ParseTime(c.timeHeader())
				if err != nil || tm.UnixMilli() != *c.TimeEpochMillis {
					t.Errorf("ParseTime(%q) = %v (%d ms), %v; want %d ms", c.timeHeader(), tm, tm.UnixMilli(), err, *c.TimeEpochMillis)
				}
			}

			// 2, 3. Receiver checks, verify and decrypt.
			r := receive(t, c)
			want := c.Expect
			if want == "valid" {
				want = ""
			}
			if r.outcome != want {
				t.Fatalf("outcome %q (%v), want %q", r.outcome, r.err, c.Expect)
			}
			if r.err != nil {
				t.Logf("rejected: %v", r.err)
			}
			if r.verifyWith != "" && r.verifyWith != str(c.VerifyWith) {
				t.Errorf("registry resolved %s, want verifyWith %s", r.verifyWith, str(c.VerifyWith))
			}
			if r.decryptWith != "" && r.decryptWith != str(c.DecryptWith) {
				t.Errorf("registry resolved %s, want decryptWith %s", r.decryptWith, str(c.DecryptWith))
			}
			if c.Expect == "valid" && c.AESKeyHex != nil {
				if hex.EncodeToString(r.aesKey) != *c.AESKeyHex {
					t.Errorf("unwrapped key %x, want %s", r.aesKey, *c.AESKeyHex)
				}
				if string(r.plaintext) != *c.Plaintext {
					t.Errorf("plaintext:\ngot  %q\nwant %q", r.plaintext, *c.Plaintext)
				}
			}

			// 4. Sender side.
			if c.SignedWith != nil {
				checkResign(t, c)
			}
			if c.Expect == "valid" && c.AESKeyHex != nil {
				key, _ := hex.DecodeString(*c.AESKeyHex)
				body, err := EncryptBody(key, []byte(*c.Plaintext))
				if err != nil || string(body) != c.Body {
					t.Errorf("EncryptBody = %q, %v; want %q", body, err, c.Body)
				}
				priv := mustPrivate(t, *c.DecryptWith).(*rsa.PrivateKey)
				wrapped, err := WrapKey(&priv.PublicKey, key)
				if err != nil {
					t.Fatal(err)
				}
				if back, err := UnwrapKey(priv, wrapped); err != nil || !bytes.Equal(back, key) {
					t.Errorf("UnwrapKey(WrapKey(k)) = %x, %v; want %x", back, err, key)
				}
			}
		})
	}
	if valid != 34 {
		t.Errorf("got %d valid vectors, want 34", valid)
	}
}

// checkResign re-creates the case's signature: byte for byte for RSA256
// (deterministic), by verification for ECC224 (randomised).
func checkResign(t *testing.T, c vector) {
	t.Helper()
	signer := mustPrivate(t, *c.SignedWith)
	alg, err := AlgorithmOf(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	switch alg {
	case RSA256:
		sig, err := Sign(signer, RSA256, []byte(*c.SignedContent))
		if err != nil {
			t.Fatal(err)
		}
		text := headerSignatureText(c.Headers["Signature"])
		std := base64.StdEncoding.EncodeToString(sig)
		if strings.Contains(text, "%") {
			if want := url.QueryEscape(std); text != want {
				t.Errorf("re-signed signature item:\ngot  %s\nwant %s", want, text)
			}
			header := FormatSignatureHeader(RSA256, 1, sig)
			if !strings.HasSuffix(header, ",signature="+text) {
				t.Errorf("FormatSignatureHeader = %s, want signature=%s last", header, text)
			}
		} else if text != std {
			t.Errorf("re-signed signature:\ngot  %s\nwant %s", std, text)
		}
	case ECC224:
		// The header's own ECDSA signature (not low-S normalised) verifies
		// over what was signed, and a fresh one of ours verifies too.
		p, err := ParseSignatureHeader(c.Headers["Signature"])
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(signer.Public(), ECC224, []byte(*c.SignedContent), p.Signature); err != nil {
			t.Errorf("header ECC224 signature over signedContent: %v", err)
		}
		sig, err := Sign(signer, ECC224, []byte(c.ContentToSign))
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(signer.Public(), ECC224, []byte(c.ContentToSign), sig); err != nil {
			t.Errorf("our ECC224 signature: %v", err)
		}
	}
}
