package http_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"net/http"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// singleKeyTenants sets clientB to encrypt to the server's signing key, as
// an SDK that knows one server public key (ZOLOZ Java) does; clientA keeps
// the default.
const singleKeyTenants = `clients:
  - clientId: "2110200000000055"
    encryptionKey: signing
`

// TestEncryptionKeySigning: a client set to encryptionKey: signing opens
// requests whose AES key is wrapped to the signing key, under every
// property of RSA_AES on the dedicated key: the wrapped key is used once,
// and every decryption failure gets one answer. A client without the
// setting gets that one DECRYPT_FAILED answer for the same request.
func TestEncryptionKeySigning(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			set, err := tenants.Parse([]byte(singleKeyTenants), ".")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.db.Apply(context.Background(), set); err != nil {
				t.Fatal(err)
			}
			signPub := h.server.rsaPub.(*rsa.PublicKey)
			const createB = `{"merchantId":"2160400000000022","userId":"2160220037090534","templateCode":"tmpl-other-card","bizSerialId":"B-SK-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"B-CODE-1"},"dataInfo":{"$points_en_US$":7}}`

			// sealed is a request body encrypted under a fresh 32-byte AES
			// key and that key wrapped to pub, as the Encrypt header.
			sealed := func(pub *rsa.PublicKey, plain string) (body, encrypt string) {
				key, err := gateway.NewAESKey(32)
				if err != nil {
					t.Fatal(err)
				}
				b, err := gateway.EncryptBody(key, []byte(plain))
				if err != nil {
					t.Fatal(err)
				}
				w, err := gateway.WrapKey(pub, key)
				if err != nil {
					t.Fatal(err)
				}
				return string(b), gateway.FormatEncryptHeader(1, w)
			}
			sendSealed := func(clientID, path, body, encrypt string) reply {
				return h.send(req{clientID: clientID, path: path, body: body, contentType: textPlain,
					header: http.Header{"Encrypt": {encrypt}}})
			}

			// The client set to the signing key creates and reads a pass.
			body, enc := sealed(signPub, createB)
			created := h.must(sendSealed(clientB, pathOf("createPass"), body, enc), ipass.CodeSuccess)
			if created.header.Get("Encrypt") == "" {
				t.Fatal("the response to an encrypted request is not encrypted")
			}
			queryB := `{"merchantId":"2160400000000022","passId":"` + created.passID + `"}`
			qBody, qEnc := sealed(signPub, queryB)
			if r := h.must(sendSealed(clientB, pathOf("queryPass"), qBody, qEnc), ipass.CodeSuccess); r.pass == nil || r.pass.PassID != created.passID {
				t.Fatalf("queryPass answered %+v", r.pass)
			}

			// The same wrapped key again, re-signed at a later Request-Time:
			// used once, as on the dedicated key.
			r := sendSealed(clientB, pathOf("queryPass"), qBody, qEnc)
			if r.code != ipass.CodeRepeatRequest {
				t.Fatalf("a wrapped signing-key AES key used twice: %s (%s), want REPEAT_REQUEST", r.code, r.message)
			}

			// One answer for every decryption failure. The reference is a
			// failure on the dedicated key (a body under another AES key).
			type answer struct {
				code    ipass.Code
				message string
				size    int // response body bytes
			}
			of := func(r reply) answer { return answer{r.code, r.message, len(r.raw)} }
			queryA := `{"merchantId":"2160120036095023","passId":"` + ghostPass + `"}`
			otherKey := func(pub *rsa.PublicKey, plain string) (string, string) {
				body, _ := sealed(pub, plain)
				_, enc := sealed(pub, plain) // another AES key
				return body, enc
			}
			b, e := otherKey(h.server.encPub, queryA)
			want := of(sendSealed(clientA, pathOf("queryPass"), b, e))
			if want.code != ipass.CodeDecryptFailed {
				t.Fatalf("reference failure answered %+v, want DECRYPT_FAILED", want)
			}
			// A client without the setting, wrapping to the signing key.
			b, e = sealed(signPub, queryA)
			if got := of(sendSealed(clientA, pathOf("queryPass"), b, e)); got != want {
				t.Errorf("clientA (encryptionKey: encryption) with a key wrapped to the signing key: %+v, want %+v", got, want)
			}
			// The signing-key client: wrapped to the dedicated key (it has
			// one server key, not two), a body under another key, RSA junk.
			queryBGhost := `{"merchantId":"2160400000000022","passId":"` + ghostPass + `"}`
			b, e = sealed(h.server.encPub, queryBGhost)
			wantB := of(sendSealed(clientB, pathOf("queryPass"), b, e))
			if wantB.code != want.code || wantB.message != want.message {
				t.Errorf("clientB with a key wrapped to the encryption key: %+v, want the answer %+v", wantB, want)
			}
			b, e = otherKey(signPub, queryBGhost)
			if got := of(sendSealed(clientB, pathOf("queryPass"), b, e)); got != wantB {
				t.Errorf("clientB, body under another AES key: %+v, want %+v", got, wantB)
			}
			junk := bytes.Repeat([]byte{0x5a}, signPub.Size())
			b, _ = sealed(signPub, queryBGhost)
			if got := of(sendSealed(clientB, pathOf("queryPass"), b, gateway.FormatEncryptHeader(1, junk))); got != wantB {
				t.Errorf("clientB, RSA padding invalid: %+v, want %+v", got, wantB)
			}
		})
	}
}
