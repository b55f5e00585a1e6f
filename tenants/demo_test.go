package tenants_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/tenants"
)

func mustDemo(tb testing.TB, dataDir string) (*ipass.Tenants, *tenants.DemoInfo) {
	tb.Helper()
	ten, info, err := tenants.Demo(dataDir)
	if err != nil {
		tb.Fatalf("Demo: %v", err)
	}
	return ten, info
}

func mode(tb testing.TB, path string) os.FileMode {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Mode().Perm()
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestDemo(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "ipass-data")
	ten, info := mustDemo(t, dataDir)

	if err := tenants.Validate(ten); err != nil {
		t.Fatalf("the demo tenant is invalid: %v", err)
	}
	if !info.KeyGenerated {
		t.Error("KeyGenerated = false on a new data dir")
	}
	if got := mode(t, dataDir); got != 0o700 {
		t.Errorf("data dir mode %v, want 0700", got)
	}
	if got := mode(t, info.PrivateKeyFile); got != 0o600 {
		t.Errorf("private key mode %v, want 0600", got)
	}
	for _, f := range []string{info.PrivateKeyFile, info.PublicKeyFile, info.PublicKeyB64File} {
		if filepath.Dir(f) != dataDir {
			t.Errorf("key file %s is not in the data dir", f)
		}
	}

	// The three files are one key pair, and the tenant holds its public half.
	priv, err := gateway.ParsePrivateKey([]byte(readFile(t, info.PrivateKeyFile)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(readFile(t, info.PrivateKeyFile), "-----BEGIN PRIVATE KEY-----\n") {
		t.Error("private key is not PKCS#8 PEM")
	}
	if alg, _ := gateway.AlgorithmOf(priv.Public()); alg != gateway.RSA256 {
		t.Errorf("demo key algorithm %s, want RSA256", alg)
	}
	wantPEM, _ := gateway.MarshalPublicKeyPEM(priv.Public())
	wantB64, _ := gateway.PublicKeyBase64(priv.Public())
	if got := readFile(t, info.PublicKeyFile); got != string(wantPEM) {
		t.Errorf("%s does not hold the private key's public half", info.PublicKeyFile)
	}
	if got := strings.TrimSpace(readFile(t, info.PublicKeyB64File)); got != wantB64 {
		t.Errorf("%s does not hold the private key's public half", info.PublicKeyB64File)
	}

	// the README quickstart and the fixtures of docs/api.md, "Worked examples".
	c := ten.Clients[0]
	if c.ID != "2110200000000044" || c.Name != "Demo merchant back end" || c.RateLimit != 200 || len(c.Keys) != 1 {
		t.Errorf("client %+v", c)
	}
	if k := c.Keys[0]; k != (ipass.ClientKey{Version: 1, Algorithm: "RSA256", PublicKey: string(wantPEM), Status: ipass.KeyActive}) {
		t.Errorf("client key %+v", k)
	}
	if want := []ipass.Merchant{{ID: "2160120036095023", ClientID: "2110200000000044", Name: "Demo Coffee"}}; !reflect.DeepEqual(ten.Merchants, want) {
		t.Errorf("merchants %+v, want %+v", ten.Merchants, want)
	}
	card, ticket := ten.Templates[0], ten.Templates[1]
	if card.Code != "temlate111001" || card.Type != ipass.TypeCard || card.Product != ipass.ProductMemberCard ||
		!reflect.DeepEqual(card.Placeholders, []string{"points", "level"}) || card.CodeDisplay != ipass.CodeQR ||
		card.Title["zh_HK"] != "會員卡" || card.Title["en_US"] != "Member card" {
		t.Errorf("card template %+v", card)
	}
	if ticket.Code != "22024120100135606000000001443495" || ticket.Type != ipass.TypeTicket || ticket.Product != ipass.ProductPass ||
		strings.Join(ticket.Placeholders, ",") != "ticketName,address,availableTimes,price,startTime,endTime,platformName,platformLogo" ||
		ticket.CodeDisplay != ipass.CodeQR {
		t.Errorf("ticket template %+v", ticket)
	}
	for _, tm := range ten.Templates {
		if tm.MerchantID != "2160120036095023" || !reflect.DeepEqual(tm.Locales, []string{"zh_HK", "en_US"}) {
			t.Errorf("template %s: merchant %s, locales %v", tm.Code, tm.MerchantID, tm.Locales)
		}
	}
	wantUsers := []ipass.User{
		{ID: "2160220037090534", OpenIDs: map[string]string{"2160120036095023": "fj398457jd8iue98d8w7w93j"}},
		{ID: "2160220043214225", OpenIDs: map[string]string{"2160120036095023": "k29dh38fj2l0s9d8f7g6h5j4"}},
		// The load tests' own holder, so a bench never fills the quickstart's wallet.
		{ID: "2160220099990001", OpenIDs: map[string]string{"2160120036095023": "bench-holder-not-a-person"}},
	}
	if !reflect.DeepEqual(ten.Users, wantUsers) {
		t.Errorf("users %+v, want %+v", ten.Users, wantUsers)
	}

	// DemoInfo describes the tenant it came with.
	if info.ClientID != c.ID || info.KeyVersion != 1 || info.Algorithm != "RSA256" || info.MerchantID != ten.Merchants[0].ID ||
		info.CardTemplate != card.Code || info.TicketTemplate != ticket.Code ||
		!reflect.DeepEqual(info.CardPlaceholders, card.Placeholders) || !reflect.DeepEqual(info.TicketPlaceholders, ticket.Placeholders) ||
		!reflect.DeepEqual(info.Locales, card.Locales) ||
		!reflect.DeepEqual(info.UserIDs, []string{"2160220037090534", "2160220043214225"}) ||
		!reflect.DeepEqual(info.OpenIDs, []string{"fj398457jd8iue98d8w7w93j", "k29dh38fj2l0s9d8f7g6h5j4"}) ||
		info.BenchUserID != "2160220099990001" || info.BenchOpenID != "bench-holder-not-a-person" {
		t.Errorf("info %+v does not match the tenant", info)
	}

	// It is exportable like any provisioned tenant.
	out, err := tenants.Marshal(ten)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := tenants.Parse(out, ""); err != nil || !reflect.DeepEqual(back, ten) {
		t.Errorf("Parse(Marshal(demo)) = %+v, %v; want the demo tenant", back, err)
	}
}

func TestDemoReusesKeys(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "ipass-data")
	first, info := mustDemo(t, dataDir)
	files := map[string]string{}
	for _, f := range []string{info.PrivateKeyFile, info.PublicKeyFile, info.PublicKeyB64File} {
		files[f] = readFile(t, f)
	}

	second, info2 := mustDemo(t, dataDir)
	if info2.KeyGenerated {
		t.Error("KeyGenerated = true on the second call")
	}
	if !reflect.DeepEqual(second, first) {
		t.Error("the second call returned a different tenant")
	}
	for f, want := range files {
		if readFile(t, f) != want {
			t.Errorf("%s changed on the second call", f)
		}
	}
	if got := mode(t, info.PrivateKeyFile); got != 0o600 {
		t.Errorf("private key mode %v, want 0600", got)
	}

	t.Run("MissingPublicFilesRewritten", func(t *testing.T) {
		os.Remove(info.PublicKeyFile)
		os.Remove(info.PublicKeyB64File)
		_, info3 := mustDemo(t, dataDir)
		if info3.KeyGenerated {
			t.Error("KeyGenerated = true although the private key was there")
		}
		for f, want := range files {
			if readFile(t, f) != want {
				t.Errorf("%s differs after being rewritten", f)
			}
		}
	})
	t.Run("StalePublicFilesReplaced", func(t *testing.T) {
		os.Remove(info.PrivateKeyFile)
		third, info4 := mustDemo(t, dataDir)
		if !info4.KeyGenerated {
			t.Error("KeyGenerated = false after the private key was removed")
		}
		if third.Clients[0].Keys[0].PublicKey == first.Clients[0].Keys[0].PublicKey {
			t.Fatal("a removed private key was not replaced by a new one")
		}
		if readFile(t, info.PublicKeyFile) != third.Clients[0].Keys[0].PublicKey {
			t.Errorf("%s still holds the old key", info.PublicKeyFile)
		}
	})
}

func TestDemoKeepsExistingDirMode(t *testing.T) {
	// The data dir may be one the operator made; Demo does not change it.
	dataDir := t.TempDir()
	if err := os.Chmod(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	_, info := mustDemo(t, dataDir)
	if got := mode(t, dataDir); got != 0o750 {
		t.Errorf("data dir mode %v, want it left at 0750", got)
	}
	if got := mode(t, info.PrivateKeyFile); got != 0o600 {
		t.Errorf("private key mode %v, want 0600", got)
	}
}

func TestDemoRefusesANonRSAKey(t *testing.T) {
	dataDir := t.TempDir()
	ecc := readFile(t, "testdata/keys/client-0044-ecc-v1.pem")
	if err := os.WriteFile(filepath.Join(dataDir, "demo-client.pem"), []byte(ecc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := tenants.Demo(dataDir)
	if err == nil || !strings.Contains(err.Error(), "not an RSA key") {
		t.Errorf("Demo: %v, want an error saying the key is not RSA", err)
	}
}
