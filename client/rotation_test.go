package client_test

import (
	"crypto"
	"errors"
	"testing"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
)

// TestServerKeyVersions: during a server key rotation a response is verified
// with the key of the keyVersion it names, whatever ServerPublicKeys holds.
func TestServerKeyVersions(t *testing.T) {
	k := mustKeys(t)
	url := startServer(t, k) // answers with keyVersion=1, signed by serverRSA
	other := map[gateway.Algorithm]crypto.PublicKey{gateway.RSA256: k.serverEnc.Public()}
	query := []byte(`{"merchantId":"2160120036095023","bizSerialId":"none"}`)

	tests := []struct {
		name      string
		current   map[gateway.Algorithm]crypto.PublicKey
		versioned map[int]map[gateway.Algorithm]crypto.PublicKey
		wantOK    bool
	}{
		{"OKVersionedKeyNamedByResponse", other, map[int]map[gateway.Algorithm]crypto.PublicKey{1: k.serverPublicKeys()}, true},
		{"OKFallbackToCurrent", k.serverPublicKeys(), map[int]map[gateway.Algorithm]crypto.PublicKey{7: other}, true},
		{"ErrVersionedKeyWins", k.serverPublicKeys(), map[int]map[gateway.Algorithm]crypto.PublicKey{1: other}, false},
		{"ErrWrongCurrentKey", other, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, url, k, func(c *client.Config) {
				c.ServerPublicKeys, c.ServerKeyVersions = tt.current, tt.versioned
			})
			_, err := c.Call(t.Context(), "queryPass", query)
			var pe *client.ProtocolError
			verifyFailed := errors.As(err, &pe) && pe.Check == client.CheckSignatureInvalid
			if tt.wantOK && verifyFailed {
				t.Fatalf("response did not verify: %v", err)
			}
			if !tt.wantOK && !verifyFailed {
				t.Fatalf("err = %v, want a %q protocol error", err, client.CheckSignatureInvalid)
			}
		})
	}
	if _, err := client.New(client.Config{BaseURL: url, ClientID: "x", PrivateKey: k.clientRSA,
		ServerPublicKeys:  k.serverPublicKeys(),
		ServerKeyVersions: map[int]map[gateway.Algorithm]crypto.PublicKey{2: {gateway.ECC224: k.serverRSA.Public()}}}); err == nil {
		t.Fatal("New accepted an RSA key filed as ECC224 in ServerKeyVersions")
	}
}
