package client_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/openssl"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/tenants"
)

// Fixture identities of docs/api.md, "Worked examples" (tenants/testdata/spec-fixtures.yaml).
const (
	clientA    = "2110200000000044" // RSA256 key 1 and ECC224 key 1; owns merchantA
	merchantA  = "2160120036095023"
	user1      = "2160220037090534"
	user2      = "2160220043214225"
	tmplMember = "temlate111001"                    // CARD / MEMBER_CARD, QRCODE
	tmplTicket = "22024120100135606000000001443495" // TICKET / PASS, QRCODE
)

var (
	fixturesFile  = filepath.Join("..", "tenants", "testdata", "spec-fixtures.yaml")
	fixtureKeyDir = filepath.Join("..", "tenants", "testdata", "keys")
	serverKeyDir  = filepath.Join("..", "gateway", "testdata", "keys")
)

// keys are every key the tests use, parsed once.
type keys struct {
	clientRSA, clientECC crypto.Signer   // clientA's private keys
	serverRSA, serverECC crypto.Signer   // the server's response-signing keys
	serverEnc            *rsa.PrivateKey // the server's RSA_AES key
}

func loadKeys() (*keys, error) {
	var k keys
	var err error
	load := func(path string) crypto.Signer {
		if err != nil {
			return nil
		}
		var data []byte
		if data, err = os.ReadFile(path); err != nil {
			return nil
		}
		var s crypto.Signer
		if s, err = gateway.ParsePrivateKey(data); err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return s
	}
	k.clientRSA = load(filepath.Join(fixtureKeyDir, "client-0044-rsa-v1.pem"))
	k.clientECC = load(filepath.Join(fixtureKeyDir, "client-0044-ecc-v1.pem"))
	k.serverRSA = load(filepath.Join(serverKeyDir, "server-rsa-sign.key.pem"))
	k.serverECC = load(filepath.Join(serverKeyDir, "server-ec-p224-sign.key.pem"))
	enc := load(filepath.Join(serverKeyDir, "server-rsa-enc.key.pem"))
	if err != nil {
		return nil, err
	}
	k.serverEnc = enc.(*rsa.PrivateKey)
	return &k, nil
}

func mustKeys(tb testing.TB) *keys {
	tb.Helper()
	k, err := loadKeys()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// serverPublicKeys is what a merchant pins: the server's signing keys.
func (k *keys) serverPublicKeys() map[gateway.Algorithm]crypto.PublicKey {
	return map[gateway.Algorithm]crypto.PublicKey{
		gateway.RSA256: k.serverRSA.Public(),
		gateway.ECC224: k.serverECC.Public(),
	}
}

// ipassHandler is the real ipass server (gateway and service) on db, with
// the spec fixtures applied and the server keys of gateway/testdata. Its
// clock is the real one, like the SDK's.
func ipassHandler(ctx context.Context, db *sqlstore.DB, k *keys) (http.Handler, error) {
	fx, err := tenants.Load(fixturesFile)
	if err != nil {
		return nil, fmt.Errorf("load fixtures: %w", err)
	}
	if err := db.Apply(ctx, fx); err != nil {
		return nil, fmt.Errorf("apply fixtures: %w", err)
	}
	logger := slog.New(slog.DiscardHandler)
	srv := &ipasshttp.Server{
		Service:     &service.Service{Tenants: db, Passes: db, Logger: logger},
		Tenants:     db,
		Gate:        db,
		WrappedKeys: db,
		Pinger:      db,
		Keys: ipasshttp.ServerKeys{RSASigner: openssl.Wrap(k.serverRSA), ECCSigner: k.serverECC,
			Decrypter: openssl.Wrap(k.serverEnc).(crypto.Decrypter), KeyVersion: 1},
		Logger:            logger,
		RequestTimeWindow: 5 * time.Minute,
	}
	return srv.Handler(), nil
}

// startServer runs a real ipass server over HTTP on a fresh SQLite database.
func startServer(tb testing.TB, k *keys) string {
	tb.Helper()
	h, err := ipassHandler(context.Background(), sqlstoretest.OpenSQLite(tb), k)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return ts.URL
}

// exampleServer is startServer for examples, which have no testing.TB.
func exampleServer() (url string, k *keys, closeFn func()) {
	k, err := loadKeys()
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "ipass-example-")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "ipass.db"), nil)
	if err != nil {
		panic(err)
	}
	h, err := ipassHandler(ctx, db, k)
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(h)
	return ts.URL, k, func() {
		ts.Close()
		db.Close()
		os.RemoveAll(dir)
	}
}

// newClient returns an SDK client for clientA with RSA256 and DefaultRetries
// fast retries; edit adjusts the config first.
func newClient(tb testing.TB, url string, k *keys, edit func(*client.Config)) *client.Client {
	tb.Helper()
	cfg := client.Config{
		BaseURL:          url,
		ClientID:         clientA,
		PrivateKey:       k.clientRSA,
		KeyVersion:       1,
		ServerPublicKeys: k.serverPublicKeys(),
		Retries:          client.DefaultRetries,
		RetryBackoff:     time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		tb.Fatalf("client.New: %v", err)
	}
	return c
}
