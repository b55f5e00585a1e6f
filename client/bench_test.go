package client

import (
	"context"
	"crypto"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// fakeSigner returns a fixed 256-byte "signature" for an RSA public key, so
// the benchmark measures the SDK's own work and not the RSA operation
// (about 1 ms for RSA-2048, which would drown everything else).
type fakeSigner struct{ pub crypto.PublicKey }

var fakeSig = make([]byte, 256)

func (s fakeSigner) Public() crypto.PublicKey { return s.pub }
func (s fakeSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return fakeSig, nil
}

func benchClient(b *testing.B) *Client {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "gateway", "testdata", "keys", "client-rsa-v1.pub.pem"))
	if err != nil {
		b.Fatal(err)
	}
	pub, err := gateway.ParsePublicKey(data)
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{
		BaseURL: "http://127.0.0.1:8080", ClientID: "2110200000000044",
		PrivateKey: fakeSigner{pub}, KeyVersion: 1,
		ServerPublicKeys: map[gateway.Algorithm]crypto.PublicKey{gateway.RSA256: pub},
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkPrepareCall is one updatePass up to the point of sending: marshal
// the typed request, Request-Time, content, signature (trivial signer),
// Signature header and the *http.Request with its headers.
func BenchmarkPrepareCall(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	ep := c.ops[OpUpdatePass]
	req := &UpdatePassRequest{
		MerchantID: "2160120036095023", UserID: "2160220037090534", PassID: "2995228480402564890018",
		Status: ipass.RequestUpdate, UpdateDetailType: ipass.UpdateMemberCard,
		DataInfo: DataInfo{
			"$points_zh_HK$": 19999, "$points_en_US$": 19999,
			"$level_zh_HK$": "鑽石卡", "$level_en_US$": "Diamond Card",
		},
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.prepare(ctx, ep, body, "", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepareRaw is the same for Call with ready bytes (the CLI's path).
func BenchmarkPrepareRaw(b *testing.B) {
	c := benchClient(b)
	ctx := context.Background()
	ep := c.ops[OpUpdatePass]
	body := []byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2995228480402564890018","status":"CLOSED"}`)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.prepare(ctx, ep, body, "", now); err != nil {
			b.Fatal(err)
		}
	}
}
