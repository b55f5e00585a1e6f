package http_test

import (
	"crypto/rsa"
	"path/filepath"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestServerKeyRotationGracePeriod: with a previous encryption key
// configured, requests wrapped for the old key version still decrypt, the
// current version still works, and any other version is KEY_NOT_FOUND.
func TestServerKeyRotationGracePeriod(t *testing.T) {
	h := newHarness(t, sqlstoretest.OpenSQLite(t))
	old := mustPrivateKey(t, filepath.Join(serverKeyDir, "client-rsa-v2.key.pem")).(*rsa.PrivateKey)
	h.srv.Keys.PreviousDecrypter, h.srv.Keys.PreviousKeyVersion = old, 3

	r := h.send(req{path: pathOf("createPass"), body: createBody8_1, encrypt: true, encVersion: 3, encWrapFor: &old.PublicKey})
	h.must(r, ipass.CodeSuccess)
	query := `{"merchantId":"2160120036095023","passId":"` + r.passID + `"}`
	h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true}), ipass.CodeSuccess)
	h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true, encVersion: 3}), ipass.CodeDecryptFailed)
	h.must(h.send(req{path: pathOf("queryPass"), body: query, encrypt: true, encVersion: 2, encWrapFor: &old.PublicKey}), ipass.CodeKeyNotFound)
}
