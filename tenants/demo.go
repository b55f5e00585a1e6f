package tenants

import (
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/internal/keyfile"
)

// DemoInfo is what a quickstart needs to know about the demo tenant.
type DemoInfo struct {
	ClientID           string   // Client-Id of the demo client
	KeyVersion         int      // keyVersion of its key
	Algorithm          string   // ipass.AlgorithmRSA256
	PrivateKeyFile     string   // PKCS#8 PEM, mode 0600: what `ipass call --key` takes
	PublicKeyFile      string   // SPKI PEM
	PublicKeyB64File   string   // bare base64 DER, the form the official SDKs take
	KeyGenerated       bool     // the key pair was created by this call rather than reused
	MerchantID         string   // the demo merchant, owned by ClientID
	CardTemplate       string   // templateCode of the CARD / MEMBER_CARD template
	CardPlaceholders   []string // its placeholders
	TicketTemplate     string   // templateCode of the TICKET / PASS template
	TicketPlaceholders []string // its placeholders
	Locales            []string // the locales of both templates
	UserIDs            []string // the demo users
	OpenIDs            []string // UserIDs[i]'s openId at MerchantID
	// BenchUserID is a user of its own for `ipass bench` and `ipass admin
	// seed`, so that load tests never fill the wallet of the users above
	// (the quickstart opens UserIDs[0]'s); BenchOpenID is its openId.
	BenchUserID, BenchOpenID string
}

// The bench user of every demo tenant (DemoInfo.BenchUserID): the default
// holder of the passes `ipass bench` and `ipass admin seed` make.
const (
	BenchUserID = "2160220099990001"
	benchOpenID = "bench-holder-not-a-person"
)

// Demo file names inside the data dir.
const (
	demoKeyFile    = "demo-client.pem"
	demoPubFile    = "demo-client.pub.pem"
	demoPubB64File = "demo-client.pub.b64"
)

// Demo returns the demo tenant (README, Quickstart) and what a quickstart
// needs to use it: a template for each of the ten pass kinds. Its client
// key pair lives in dataDir: generated (RSA 2048) on the first call and reused afterwards, so a merchant script written
// against the first run keeps working. The private key is written 0600 and a
// new dataDir is made 0700; an existing dataDir keeps its mode.
//
// Demo only builds values; storing them (on an empty database) is the
// caller's decision.
func Demo(dataDir string) (*ipass.Tenants, *DemoInfo, error) {
	info := &DemoInfo{
		ClientID:         "2110200000000044",
		KeyVersion:       1,
		Algorithm:        ipass.AlgorithmRSA256,
		PrivateKeyFile:   filepath.Join(dataDir, demoKeyFile),
		PublicKeyFile:    filepath.Join(dataDir, demoPubFile),
		PublicKeyB64File: filepath.Join(dataDir, demoPubB64File),
		MerchantID:       "2160120036095023",
		CardTemplate:     "temlate111001",
		CardPlaceholders: []string{"points", "level"},
		TicketTemplate:   "22024120100135606000000001443495",
		TicketPlaceholders: []string{
			"ticketName", "address", "availableTimes", "price",
			"startTime", "endTime", "platformName", "platformLogo",
		},
		Locales:     []string{"zh_HK", "en_US"},
		UserIDs:     []string{"2160220037090534", "2160220043214225"},
		OpenIDs:     []string{"fj398457jd8iue98d8w7w93j", "k29dh38fj2l0s9d8f7g6h5j4"},
		BenchUserID: BenchUserID,
		BenchOpenID: benchOpenID,
	}
	pub, generated, err := demoKey(dataDir, info)
	if err != nil {
		return nil, nil, err
	}
	info.KeyGenerated = generated
	pubPEM, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("demo key: %w", err)
	}

	_, cardFields, cardLabels := demoFields(demoCardFields)
	_, ticketFields, ticketLabels := demoFields(demoTicketFields)
	// The tenant gets its own copies of the lists, so neither value can
	// change the other.
	t := &ipass.Tenants{
		Clients: []ipass.Client{{
			ID:            info.ClientID,
			Name:          "Demo merchant back end",
			RateLimit:     200,
			HeaderCase:    ipass.HeaderLower,
			EncryptionKey: ipass.EncryptionKeyDedicated,
			Keys: []ipass.ClientKey{{
				Version:   info.KeyVersion,
				Algorithm: info.Algorithm,
				PublicKey: string(pubPEM),
				Status:    ipass.KeyActive,
			}},
		}},
		Merchants: []ipass.Merchant{{ID: info.MerchantID, ClientID: info.ClientID, Name: "Demo Coffee"}},
		Templates: []ipass.Template{
			{
				Code:         info.CardTemplate,
				MerchantID:   info.MerchantID,
				Type:         ipass.TypeCard,
				Product:      ipass.ProductMemberCard,
				Title:        map[string]string{"zh_HK": "會員卡", "en_US": "Member card"},
				Locales:      slices.Clone(info.Locales),
				Placeholders: slices.Clone(info.CardPlaceholders),
				CodeDisplay:  ipass.CodeQR,
				Style:        map[string]string{"backgroundColor": "#1677FF", "foregroundColor": "#FFFFFF"},
				Labels:       cardLabels,
				Fields:       cardFields,
			},
			{
				Code:         info.TicketTemplate,
				MerchantID:   info.MerchantID,
				Type:         ipass.TypeTicket,
				Product:      ipass.ProductPass,
				Title:        map[string]string{"zh_HK": "入場券", "en_US": "Admission ticket"},
				Locales:      slices.Clone(info.Locales),
				Placeholders: slices.Clone(info.TicketPlaceholders),
				CodeDisplay:  ipass.CodeQR,
				Style:        map[string]string{"backgroundColor": "#2F54EB", "foregroundColor": "#FFFFFF"},
				Labels:       ticketLabels,
				Fields:       ticketFields,
			},
		},
	}
	t.Templates = append(t.Templates, demoKindTemplates(info.MerchantID, info.Locales)...)
	for i, id := range info.UserIDs {
		t.Users = append(t.Users, ipass.User{ID: id, OpenIDs: map[string]string{info.MerchantID: info.OpenIDs[i]}})
	}
	t.Users = append(t.Users, ipass.User{ID: info.BenchUserID, OpenIDs: map[string]string{info.MerchantID: info.BenchOpenID}})
	return t, info, nil
}

// demoKey loads the demo client's key pair from dataDir, creating it first if
// there is none, and (re)writes missing public-key files. It returns the
// public key and whether the pair was generated now.
func demoKey(dataDir string, info *DemoInfo) (crypto.PublicKey, bool, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("demo key: %w", err)
	}
	generated := false
	data, err := os.ReadFile(info.PrivateKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		key, err := gateway.GenerateKey(gateway.RSA256)
		if err != nil {
			return nil, false, fmt.Errorf("demo key: %w", err)
		}
		pemBytes, err := gateway.MarshalPrivateKeyPEM(key)
		if err != nil {
			return nil, false, fmt.Errorf("demo key: %w", err)
		}
		created, err := keyfile.CreateOnce(info.PrivateKeyFile, pemBytes, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("demo key: %w", err)
		}
		generated = created
		// Another process may have won the race; its key is the one on disk.
		data, err = os.ReadFile(info.PrivateKeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("demo key: %w", err)
		}
	} else if err != nil {
		return nil, false, fmt.Errorf("demo key: %w", err)
	}
	key, err := gateway.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("demo key %s: %w", info.PrivateKeyFile, err)
	}
	pub := key.Public()
	if alg, err := gateway.AlgorithmOf(pub); err != nil || alg != gateway.RSA256 {
		return nil, false, fmt.Errorf("demo key %s: not an RSA key; remove it to have a new one generated", info.PrivateKeyFile)
	}

	pubPEM, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		return nil, false, fmt.Errorf("demo key: %w", err)
	}
	pubB64, err := gateway.PublicKeyBase64(pub)
	if err != nil {
		return nil, false, fmt.Errorf("demo key: %w", err)
	}
	// The public files are derived from the private key: rewritten when
	// missing or stale (a deleted private key regenerated), so they never
	// describe another key.
	for _, f := range []struct {
		path string
		data []byte
	}{
		{info.PublicKeyFile, pubPEM},
		{info.PublicKeyB64File, []byte(pubB64 + "\n")},
	} {
		if err := keyfile.WriteIfChanged(f.path, f.data, 0o644); err != nil {
			return nil, false, fmt.Errorf("demo key: %w", err)
		}
	}
	return pub, generated, nil
}
