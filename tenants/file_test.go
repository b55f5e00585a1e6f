package tenants_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	"github.com/ipass-dev/ipass/tenants"
)

// pemOf returns the SPKI PEM the store keeps for a key file of testdata/keys.
func pemOf(tb testing.TB, name string) string {
	tb.Helper()
	pub, err := gateway.ParsePublicKey([]byte(mustReadKey(tb, name)))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := gateway.MarshalPublicKeyPEM(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestLoadFixtures(t *testing.T) {
	got := mustLoadFixtures(t)
	rsa44, ecc44, rsa55 := pemOf(t, "client-0044-rsa-v1.pub.pem"), pemOf(t, "client-0044-ecc-v1.pub.pem"), pemOf(t, "client-0055-rsa-v1.pub.pem")
	wantClients := []ipass.Client{
		// Fields left out are listed in Omitted (Apply keeps their stored
		// values), and a key without status keeps its stored one ("").
		{ID: "2110200000000044", Name: "Demo merchant back end", RateLimit: 200, Keys: []ipass.ClientKey{
			{Version: 1, Algorithm: "RSA256", PublicKey: rsa44},
			{Version: 1, Algorithm: "ECC224", PublicKey: ecc44},
		}, Omitted: []string{"headerCase", "encryptionKey"}},
		// Its key file is bare base64 DER; it is kept as PEM like the others.
		{ID: "2110200000000055", Name: "Other merchant back end", Keys: []ipass.ClientKey{
			{Version: 1, Algorithm: "RSA256", PublicKey: rsa55},
		}, Omitted: []string{"rateLimit", "headerCase", "encryptionKey"}},
	}
	if !reflect.DeepEqual(got.Clients, wantClients) {
		t.Errorf("clients:\n got %+v\nwant %+v", got.Clients, wantClients)
	}
	wantMerchants := []ipass.Merchant{
		{ID: "2160120036095023", ClientID: "2110200000000044", Name: "Demo Coffee"},
		{ID: "2160400000000022", ClientID: "2110200000000055", Name: "Other Tea House"},
	}
	if !reflect.DeepEqual(got.Merchants, wantMerchants) {
		t.Errorf("merchants:\n got %+v\nwant %+v", got.Merchants, wantMerchants)
	}
	// The fixtures of docs/api.md, "Worked examples", plus our two extra templates.
	type row struct {
		code, merchant string
		typ            ipass.PassType
		product        ipass.Product
		placeholders   string
		display        ipass.CodeDisplay
	}
	wantTemplates := []row{
		{"temlate111001", "2160120036095023", "CARD", "MEMBER_CARD", "points,level", "QRCODE"},
		{"82022031000135000000000000624234", "2160120036095023", "COUPON", "GIFT_CARD", "shopname,balance", "BARCODE"},
		{"22024120100135606000000001443495", "2160120036095023", "TICKET", "PASS", "ticketName,address,availableTimes,price,startTime,endTime", "QRCODE"},
		{"22024120100135606000000001443496", "2160120036095023", "TICKET", "AIR_TICKET", "airlineName,flightNo,from,to,startTime,endTime", "NONE"},
		{"tmpl-stored-value", "2160120036095023", "CARD", "GIFT_CARD", "shopname,balance", "QRCODE"},
		{"tmpl-other-card", "2160400000000022", "CARD", "MEMBER_CARD", "points,level", "QRCODE"},
	}
	if len(got.Templates) != len(wantTemplates) {
		t.Fatalf("%d templates, want %d", len(got.Templates), len(wantTemplates))
	}
	for i, w := range wantTemplates {
		tm := got.Templates[i]
		g := row{tm.Code, tm.MerchantID, tm.Type, tm.Product, strings.Join(tm.Placeholders, ","), tm.CodeDisplay}
		if g != w {
			t.Errorf("templates[%d] = %+v, want %+v", i, g, w)
		}
		if !reflect.DeepEqual(tm.Locales, []string{"zh_HK", "en_US"}) {
			t.Errorf("templates[%d].Locales = %v, want [zh_HK en_US]", i, tm.Locales)
		}
	}
	wantUsers := []ipass.User{
		{ID: "2160220037090534", OpenIDs: map[string]string{"2160120036095023": "fj398457jd8iue98d8w7w93j", "2160400000000022": "other-open-id-0534"}},
		{ID: "2160220043214225", OpenIDs: map[string]string{"2160120036095023": "k29dh38fj2l0s9d8f7g6h5j4"}},
	}
	if !reflect.DeepEqual(got.Users, wantUsers) {
		t.Errorf("users:\n got %+v\nwant %+v", got.Users, wantUsers)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	want := mustLoadFixtures(t)
	out, err := tenants.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// Keys are inline, so the export parses anywhere: no baseDir needed.
	got, err := tenants.Parse(out, t.TempDir())
	if err != nil {
		t.Fatalf("Parse(Marshal(fixtures)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(Marshal(t)) differs from t:\n got %+v\nwant %+v", got, want)
	}
	again, err := tenants.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, out) {
		t.Errorf("Marshal is not stable:\n%s\n---\n%s", out, again)
	}
}

func TestMarshalFormat(t *testing.T) {
	out, err := tenants.Marshal(mustLoadFixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	// The names and shapes of docs/tenants-file.md: ids quoted (they are
	// digits, and must stay strings), keys inline as PEM, defaults written.
	for _, want := range []string{
		"clients:\n  - clientId: \"2110200000000044\"\n    name: Demo merchant back end\n    rateLimit: 200\n    keys:\n      - keyVersion: 1\n        algorithm: RSA256\n        publicKey: |\n          -----BEGIN PUBLIC KEY-----\n",
		"merchants:\n  - merchantId: \"2160120036095023\"\n    clientId: \"2110200000000044\"\n    name: Demo Coffee\n",
		"    title: {en_US: Member card, zh_HK: 會員卡}\n    locales: [zh_HK, en_US]\n    placeholders: [points, level]\n    code: QRCODE\n",
		"    style: {backgroundColor: '#1677FF', foregroundColor: '#FFFFFF'}\n",
		"users:\n  - userId: \"2160220037090534\"\n    openIds:\n      \"2160120036095023\": fj398457jd8iue98d8w7w93j\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "publicKeyFile") {
		t.Errorf("output refers to key files:\n%s", s)
	}
}

func TestMarshalNormalisesBase64Keys(t *testing.T) {
	ten := &ipass.Tenants{Clients: []ipass.Client{{ID: "c", Keys: []ipass.ClientKey{
		{Version: 1, Algorithm: "RSA256", PublicKey: mustReadKey(t, "client-0044-rsa-v1.pub.b64"), Status: ipass.KeyActive},
	}}}}
	out, err := tenants.Marshal(ten)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tenants.Parse(out, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := pemOf(t, "client-0044-rsa-v1.pub.pem"); got.Clients[0].Keys[0].PublicKey != want {
		t.Errorf("exported key = %q, want the SPKI PEM %q", got.Clients[0].Keys[0].PublicKey, want)
	}
}

// copyFixtures puts the fixtures file and its keys under dir, as a user's
// provisioning folder would hold them.
func copyFixtures(tb testing.TB, dir string) string {
	tb.Helper()
	if err := os.CopyFS(filepath.Join(dir, "keys"), os.DirFS("testdata/keys")); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(fixtures)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestRelativeKeyPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "provisioning")
	path := copyFixtures(t, dir)
	want := mustLoadFixtures(t)

	t.Run("ResolvedAgainstTheFilesFolder", func(t *testing.T) {
		// The working directory (this package) has no keys/ folder.
		got, err := tenants.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%s) differs from the fixtures", path)
		}
	})
	t.Run("ResolvedAgainstBaseDir", func(t *testing.T) {
		data, _ := os.ReadFile(path)
		if _, err := tenants.Parse(data, dir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrWrongBaseDir", func(t *testing.T) {
		data, _ := os.ReadFile(path)
		_, err := tenants.Parse(data, t.TempDir())
		msg := ipass.ErrorMessage(err)
		if want := "clients[0] (2110200000000044).keys[0].publicKeyFile: open "; !strings.HasPrefix(msg, want) ||
			!strings.Contains(msg, "keys/client-0044-rsa-v1.pub.pem: no such file or directory") {
			t.Errorf("error %q, want one starting %q naming the missing file", msg, want)
		}
	})
	t.Run("AbsolutePathAsIs", func(t *testing.T) {
		abs := filepath.Join(dir, "keys", "client-0055-rsa-v1.pub.pem")
		yaml := "clients:\n  - clientId: c\n    keys:\n      - {keyVersion: 1, algorithm: RSA256, publicKeyFile: " + abs + "}\n"
		got, err := tenants.Parse([]byte(yaml), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if got.Clients[0].Keys[0].PublicKey != pemOf(t, "client-0055-rsa-v1.pub.pem") {
			t.Error("key read from the absolute path differs")
		}
	})
}

func TestInlineKeys(t *testing.T) {
	want := pemOf(t, "client-0044-rsa-v1.pub.pem")
	b64 := strings.TrimSpace(mustReadKey(t, "client-0044-rsa-v1.pub.b64"))
	indent := func(s string) string {
		return "          " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n          ")
	}
	tests := []struct{ name, publicKey string }{
		{"PEMBlock", "|\n" + indent(mustReadKey(t, "client-0044-rsa-v1.pub.pem"))},
		{"Base64OneLine", b64},
		{"Base64Quoted", `"` + b64 + `"`},
		{"Base64Wrapped", "|\n" + indent(b64[:64]+"\n"+b64[64:128]+"\n"+b64[128:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - keyVersion: 1\n        algorithm: RSA256\n        publicKey: " + tt.publicKey + "\n"
			got, err := tenants.Parse([]byte(yaml), "")
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, yaml)
			}
			if k := got.Clients[0].Keys[0].PublicKey; k != want {
				t.Errorf("key = %q, want %q", k, want)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	yaml := `
clients:
  - clientId: "c1"
    keys:
      - keyVersion: 0
        algorithm: ECC224
        publicKeyFile: keys/client-0044-ecc-v1.pub.pem
templates:
  - templateCode: t1
    merchantId: m1
    type: COUPON
    product: COUPON
    locales: [en_US]
    placeholders: [discount]
users:
  - userId: u1
`
	got, err := tenants.Parse([]byte(yaml), "testdata")
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Clients[0].Keys[0].Status; s != "" {
		t.Errorf("key status %q, want \"\" (keep the stored status; active for a new key)", s)
	}
	if o := got.Clients[0].Omitted; !reflect.DeepEqual(o, []string{"name", "rateLimit", "headerCase", "encryptionKey"}) {
		t.Errorf("client Omitted = %q", o)
	}
	if o := got.Templates[0].Omitted; !reflect.DeepEqual(o, []string{"title", "code", "style"}) {
		t.Errorf("template Omitted = %q", o)
	}
	if v := got.Clients[0].Keys[0].Version; v != 0 {
		t.Errorf("keyVersion %d, want 0", v)
	}
	if c := got.Templates[0].CodeDisplay; c != ipass.CodeQR {
		t.Errorf("template code %q, want QRCODE", c)
	}
	if got.Clients[0].RateLimit != 0 || got.Templates[0].Title != nil || got.Templates[0].Style != nil || got.Users[0].OpenIDs != nil {
		t.Errorf("absent fields are not zero: %+v", got)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "{}\n"} {
		got, err := tenants.Parse([]byte(in), "")
		if err != nil || !reflect.DeepEqual(got, &ipass.Tenants{}) {
			t.Errorf("Parse(%q) = %+v, %v; want empty tenants", in, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const client = "clients:\n  - clientId: \"2110200000000044\"\n    keys:\n      - "
	tests := []struct {
		name, yaml, want string
	}{
		{"ErrUnknownField", "clients:\n  - clientID: \"2110200000000044\"\n",
			"line 2: field clientID not found in type a client"},
		{"ErrUnknownTopLevel", "tenants: []\n",
			"line 1: field tenants not found in type the tenants file"},
		{"ErrUnknownKeyField", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem, state: active}\n",
			"line 4: field state not found in type a key"},
		{"ErrWrongType", "clients:\n  - clientId: c\n    rateLimit: fast\n",
			"clients[0] (c).rateLimit: fast is not a whole number"},
		// yaml.v3 would store 2.9 as 2 (issue 8, break 7).
		{"ErrKeyVersionFraction", client + "{keyVersion: 2.9, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: 2.9 is not a whole number"},
		{"ErrKeyVersionExponent", client + "{keyVersion: 1e3, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: 1e3 is not a whole number"},
		{"ErrKeyVersionQuoted", client + "{keyVersion: \"1\", algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: 1 is not a whole number"},
		{"ErrKeyVersionList", client + "{keyVersion: [1], algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: must be a whole number"},
		{"ErrRateLimitFraction", "clients:\n  - clientId: c\n    rateLimit: 0.5\n",
			"clients[0] (c).rateLimit: 0.5 is not a whole number"},
		{"ErrRateLimitTooLarge", "clients:\n  - clientId: c\n    rateLimit: 3000000000\n",
			"clients[0] (c).rateLimit: 3000000000 is larger than 2147483647"},
		{"ErrRateLimitBeyondInt64", "clients:\n  - clientId: c\n    rateLimit: 99999999999999999999\n",
			"clients[0] (c).rateLimit: 99999999999999999999 is "},
		{"ErrKeyVersionTooLarge", client + "{keyVersion: 3000000000, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: 3000000000 is larger than 2147483647"},
		// A key file that never ends must not be read into memory.
		{"ErrKeyFileDevice", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: /dev/zero}\n",
			"clients[0] (2110200000000044).keys[0].publicKeyFile: /dev/zero: not a regular file"},
		{"ErrDuplicateYAMLKey", "clients:\n  - clientId: a\n    clientId: b\n",
			`line 3: mapping key "clientId" already defined at line 2`},
		{"ErrSyntax", "clients: [\n", "line 1: did not find expected node content"},
		{"ErrTwoDocuments", "clients: []\n---\nclients: []\n",
			"the tenants file holds more than one YAML document; put everything in one"},
		{"ErrKeyVersionMissing", client + "{algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].keyVersion: is missing (0 is a legal version; write it out)"},
		{"ErrBothKeyFields", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem, publicKey: MIIB}\n",
			"clients[0] (2110200000000044).keys[0].publicKey: and publicKeyFile are both given; give one"},
		{"ErrNoKeyField", client + "{keyVersion: 1, algorithm: RSA256}\n",
			"clients[0] (2110200000000044).keys[0].publicKey: is missing; give publicKey (PEM or base64 DER) or publicKeyFile"},
		{"ErrKeyFileNotAKey", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/README.md}\n",
			"clients[0] (2110200000000044).keys[0].publicKeyFile: keys/README.md: public key: "},
		{"ErrKeyFileTooSmall", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/rsa-1024.pub.pem}\n",
			"clients[0] (2110200000000044).keys[0].publicKeyFile: keys/rsa-1024.pub.pem: public key: RSA key of 1024 bits: want 2048 to 4096"},
		{"ErrKeyFileWrongAlgorithm", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/client-0044-ecc-v1.pub.pem}\n",
			`clients[0] (2110200000000044).keys[0].algorithm: "RSA256" but the key is for ECC224`},
		{"ErrKeyFileMissing", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/nope.pem}\n",
			"clients[0] (2110200000000044).keys[0].publicKeyFile: open testdata/keys/nope.pem: no such file or directory"},
		{"ErrStatusUnknown", client + "{keyVersion: 1, algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem, status: revoked}\n",
			`clients[0] (2110200000000044).keys[0].status: "revoked" is not active or retired`},
		{"ErrTemplateDefaultsStillValidated", "templates:\n  - {templateCode: t, merchantId: m, type: CARD, product: PASS, locales: [en_US], placeholders: [p]}\n",
			`templates[0] (t).product: "PASS" is not a product of type CARD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tenants.Parse([]byte(tt.yaml), "testdata")
			if err == nil {
				t.Fatalf("Parse = %+v, nil; want error %q", got, tt.want)
			}
			if got != nil {
				t.Errorf("Parse returned tenants with its error: %+v", got)
			}
			var e *ipass.Error
			if !errors.As(err, &e) || e.Code != ipass.CodeParamIllegal {
				t.Fatalf("error %#v, want an *ipass.Error PARAM_ILLEGAL", err)
			}
			if !strings.HasPrefix(e.Message, tt.want) {
				t.Errorf("message:\n got %s\nwant %s", e.Message, tt.want)
			}
		})
	}
}

func TestParseReportsFileAndContentProblemsInOrder(t *testing.T) {
	yaml := `clients:
  - clientId: "2110200000000044"
    rateLimit: -1
    keys:
      - {algorithm: RSA256, publicKeyFile: keys/client-0044-rsa-v1.pub.pem}
      - {keyVersion: 1, algorithm: ECC224}
merchants:
  - {merchantId: "", clientId: "2110200000000044"}
`
	_, err := tenants.Parse([]byte(yaml), "testdata")
	want := `clients[0] (2110200000000044).rateLimit: -1 is negative (0 means unlimited)
clients[0] (2110200000000044).keys[0].keyVersion: is missing (0 is a legal version; write it out)
clients[0] (2110200000000044).keys[1].publicKey: is missing; give publicKey (PEM or base64 DER) or publicKeyFile
merchants[0].merchantId: is empty`
	if got := ipass.ErrorMessage(err); got != want {
		t.Errorf("message:\n got %s\nwant %s", got, want)
	}
}

// TestKeyFileSizeCap: a publicKeyFile larger than MaxKeyFileBytes is refused
// by name, without reading it whole (issue 8, break 7).
func TestKeyFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	key := mustReadKey(t, "client-0044-rsa-v1.pub.pem")
	for _, tt := range []struct {
		name string
		size int
		want string
	}{
		{"at the cap", tenants.MaxKeyFileBytes, ""},
		{"one byte over", tenants.MaxKeyFileBytes + 1, "big.pem: larger than 65536 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A real key padded with trailing blank lines up to size.
			data := key + strings.Repeat("\n", tt.size-len(key))
			if err := os.WriteFile(filepath.Join(dir, "big.pem"), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := tenants.Parse([]byte("clients:\n  - clientId: c\n    keys:\n      - {keyVersion: 1, algorithm: RSA256, publicKeyFile: big.pem}\n"), dir)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.want != "" && !strings.Contains(ipass.ErrorMessage(err), "clients[0] (c).keys[0].publicKeyFile: "):
				t.Fatalf("Parse: %v, want a problem naming the entry and field", err)
			case tt.want != "" && !strings.Contains(ipass.ErrorMessage(err), tt.want):
				t.Fatalf("Parse: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := tenants.Load(filepath.Join(t.TempDir(), "tenants.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load: %v, want an error wrapping os.ErrNotExist", err)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives Marshal and Parse unchanged.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(fixtures)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("users:\n  - userId: u\n    openIds: {m: o}\n"))
	f.Add([]byte("templates:\n  - {templateCode: \"1e3\", merchantId: 'yes', type: TICKET, product: MOVIE, locales: [en_US], placeholders: [a_1], title: {en_US: \"a: b # c\"}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ten, err := tenants.Parse(data, "testdata")
		if err != nil {
			return
		}
		out, err := tenants.Marshal(ten)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := tenants.Parse(out, "")
		if err != nil {
			t.Fatalf("Parse(Marshal(t)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, ten) {
			t.Fatalf("Parse(Marshal(t)) differs from t:\n got %+v\nwant %+v\n%s", back, ten, out)
		}
	})
}

// TestEncryptionKeyRoundTrip: encryptionKey is read, written back by
// Marshal (what admin export prints) and read again unchanged.
func TestEncryptionKeyRoundTrip(t *testing.T) {
	const yaml = `clients:
  - clientId: zoloz-client
    headerCase: canonical
    encryptionKey: signing
  - clientId: antom-client
    encryptionKey: encryption
`
	got, err := tenants.Parse([]byte(yaml), "testdata")
	if err != nil {
		t.Fatal(err)
	}
	if got.Clients[0].EncryptionKey != ipass.EncryptionKeySigning || got.Clients[1].EncryptionKey != ipass.EncryptionKeyDedicated {
		t.Fatalf("encryptionKey read as %q and %q", got.Clients[0].EncryptionKey, got.Clients[1].EncryptionKey)
	}
	out, err := tenants.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "encryptionKey: signing") {
		t.Fatalf("Marshal dropped encryptionKey:\n%s", out)
	}
	again, err := tenants.Parse(out, "testdata")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("Parse(Marshal(t)) = %+v, want %+v", again, got)
	}
}
