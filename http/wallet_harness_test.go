package http_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/browsertest"
	"github.com/ipass-dev/ipass/service"
	"github.com/ipass-dev/ipass/sqlstore"
	"github.com/ipass-dev/ipass/tenants"
	"github.com/ipass-dev/ipass/wallet"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

// walletSite is a real server with the wallet on a real store, provisioned
// with the demo tenant, and the merchant SDK pointed at it. It runs on the
// real clock: the wallet's expiry is about the passage of time.
type walletSite struct {
	url  string
	db   *sqlstore.DB
	sdk  *client.Client
	demo *tenants.DemoInfo
	wl   *ipasshttp.Wallet
}

var serial atomic.Int64

// newWalletSite starts the site; each option adjusts the wallet before it serves.
func newWalletSite(t testing.TB, db *sqlstore.DB, options ...func(*ipasshttp.Wallet)) *walletSite {
	t.Helper()
	ctx := context.Background()
	tn, info, err := tenants.Demo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, tn); err != nil {
		t.Fatal(err)
	}
	rsaSigner := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-rsa-sign.key.pem"))
	eccSigner := mustPrivateKey(t, filepath.Join(serverKeyDir, "server-ec-p224-sign.key.pem"))
	s := &walletSite{db: db, demo: info}
	s.wl = &ipasshttp.Wallet{Store: db, Passes: db, Tenants: db, Notifier: db}
	for _, o := range options {
		o(s.wl)
	}
	srv := &ipasshttp.Server{
		Service:           &service.Service{Tenants: db, Passes: db},
		Tenants:           db,
		Gate:              db,
		Pinger:            db,
		Keys:              ipasshttp.ServerKeys{RSASigner: rsaSigner, ECCSigner: eccSigner, Decrypter: rsaSigner.(*rsa.PrivateKey), KeyVersion: 1},
		RequestTimeWindow: 5 * time.Minute,
		Wallet:            s.wl,
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config = srv.HTTPServer()
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(s.wl.Shutdown) // runs first: end the event streams so Close need not wait
	s.url = ts.URL
	s.sdk, err = client.New(client.Config{
		BaseURL: ts.URL, ClientID: info.ClientID, PrivateKey: mustPrivateKey(t, info.PrivateKeyFile), KeyVersion: 1,
		ServerPublicKeys: map[gateway.Algorithm]crypto.PublicKey{gateway.RSA256: rsaSigner.Public()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// link is a wallet link for user, valid for an hour.
func (s *walletSite) link(t testing.TB, user string) string {
	t.Helper()
	secret, err := s.db.WalletSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := wallet.NewToken(secret, user, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return s.url + "/wallet/" + tok
}

// card creates a member card of user with points and a level.
func (s *walletSite) card(t testing.TB, user string, points int, code string) string {
	t.Helper()
	return s.create(t, user, s.demo.CardTemplate, code, client.DataInfo{
		"$points_en_US$": points, "$points_zh_HK$": points, "$level_en_US$": "Silver Card", "$level_zh_HK$": "銀卡",
	}, time.Now().Add(365*24*time.Hour))
}

// ticket creates a ticket of user valid until end.
func (s *walletSite) ticket(t testing.TB, user, name string, end time.Time) string {
	t.Helper()
	return s.create(t, user, s.demo.TicketTemplate, "T-"+name, client.DataInfo{
		"$ticketName_en_US$": name, "$ticketName_zh_HK$": name, "$price_en_US$": map[string]any{"cent": 800, "currency": "HKD"},
	}, end)
}

func (s *walletSite) create(t testing.TB, user, tmpl, code string, di client.DataInfo, end time.Time) string {
	t.Helper()
	now := time.Now()
	resp, err := s.sdk.CreatePass(context.Background(), &client.CreatePassRequest{
		MerchantID: s.demo.MerchantID, UserID: user, TemplateCode: tmpl,
		BizSerialID: fmt.Sprintf("wallet-%d-%d", now.UnixNano(), serial.Add(1)),
		StartDate:   now.Add(-time.Hour).UnixMilli(), EndDate: end.UnixMilli(), BizCreate: now.UnixMilli(),
		CodeInfo: &client.CodeInfo{Value: code}, DataInfo: di,
	})
	if err != nil {
		t.Fatalf("createPass: %v", err)
	}
	return resp.PassID
}

func (s *walletSite) update(t testing.TB, req *client.UpdatePassRequest) {
	t.Helper()
	req.MerchantID = s.demo.MerchantID
	if _, err := s.sdk.UpdatePass(context.Background(), req); err != nil {
		t.Fatalf("updatePass %s %s: %v", req.PassID, req.Status, err)
	}
}

// get fetches url and returns the response with its body read.
func get(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
