package gateway

import (
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// vector is one case of testdata/vectors.json (see the README beside the
// shared copy in /work/shared/vectors). Nullable fields are pointers.
type vector struct {
	Name            string            `json:"name"`
	Kind            string            `json:"kind"`
	Expect          string            `json:"expect"`
	Description     string            `json:"description"`
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	ContentToSign   string            `json:"contentToSign"`
	TimeEpochMillis *int64            `json:"timeEpochMillis"`
	VerifyWith      *string           `json:"verifyWith"`
	SignedWith      *string           `json:"signedWith"`
	SignedContent   *string           `json:"signedContent"`
	Plaintext       *string           `json:"plaintext"`
	AESKeyHex       *string           `json:"aesKeyHex"`
	DecryptWith     *string           `json:"decryptWith"`
}

// timeHeader returns the Request-Time or Response-Time the case signs.
func (v vector) timeHeader() string {
	if v.Kind == "request" {
		return v.Headers["Request-Time"]
	}
	return v.Headers["Response-Time"]
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var vectorsOnce = sync.OnceValues(func() ([]vector, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		return nil, err
	}
	var vs []vector
	return vs, json.Unmarshal(b, &vs)
})

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	vs, err := vectorsOnce()
	if err != nil {
		tb.Fatalf("read vectors: %v", err)
	}
	return vs
}

// Keys are parsed once per path: RSA private keys are slow to validate and
// the vectors reuse a handful of files.
var keyCache sync.Map // path → crypto.Signer or crypto.PublicKey

func mustPrivate(tb testing.TB, name string) crypto.Signer {
	tb.Helper()
	if k, ok := keyCache.Load("priv:" + name); ok {
		return k.(crypto.Signer)
	}
	k, err := ParsePrivateKey(readTestdata(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	keyCache.Store("priv:"+name, k)
	return k
}

func mustPublic(tb testing.TB, name string) crypto.PublicKey {
	tb.Helper()
	if k, ok := keyCache.Load("pub:" + name); ok {
		return k
	}
	k, err := ParsePublicKey(readTestdata(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	keyCache.Store("pub:"+name, k)
	return k
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}
