package tenants_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/tenants"
)

const fixtures = "testdata/spec-fixtures.yaml"

// mustLoadFixtures returns a fresh copy of the spec fixtures, which every
// validation case starts from and then breaks in one place.
func mustLoadFixtures(tb testing.TB) *ipass.Tenants {
	tb.Helper()
	t, err := tenants.Load(fixtures)
	if err != nil {
		tb.Fatalf("load fixtures: %v", err)
	}
	return t
}

func mustReadKey(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/keys/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestValidate(t *testing.T) {
	rsa1024 := mustReadKey(t, "rsa-1024.pub.pem")
	rsa4096 := mustReadKey(t, "rsa-4096.pub.pem")
	rsa4608 := mustReadKey(t, "rsa-4608.pub.pem")
	p256 := mustReadKey(t, "ec-p256.pub.pem")
	ed25519 := mustReadKey(t, "ed25519.pub.pem")
	rsaPrivate := mustReadKey(t, "client-0044-rsa-v1.pem")
	rsaB64 := mustReadKey(t, "client-0044-rsa-v1.pub.b64")
	long := func(n int) string { return strings.Repeat("a", n) }

	// In the fixtures: clients[0] 2110200000000044 has keys[0] RSA256 v1 and
	// keys[1] ECC224 v1; clients[1] 2110200000000055; merchants[0] of
	// client 0044; templates[0] temlate111001; users[0] 2160220037090534.
	tests := []struct {
		name   string
		change func(t *ipass.Tenants)
		want   string // a line of the error message; "" = valid
	}{
		{"OK", func(*ipass.Tenants) {}, ""},
		{"OKEmpty", func(t *ipass.Tenants) { *t = ipass.Tenants{} }, ""},
		{"OKKeyVersionZero", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Version = 0 }, ""},
		{"OKRetiredKey", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Status = ipass.KeyRetired }, ""},
		{"OKRSA4096", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = rsa4096 }, ""},
		{"OKBase64Key", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = rsaB64 }, ""},
		{"OKRateLimitZero", func(t *ipass.Tenants) { t.Clients[0].RateLimit = 0 }, ""},
		{"OKLargestRateLimit", func(t *ipass.Tenants) { t.Clients[0].RateLimit = 2147483647 }, ""},
		{"OKLargestKeyVersion", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Version = 2147483647 }, ""},
		// Past a 32-bit INTEGER column: refused here, not by the driver (issue 8, break 7).
		{"ErrRateLimitTooLarge", func(t *ipass.Tenants) { t.Clients[0].RateLimit = 3000000000 },
			"clients[0] (2110200000000044).rateLimit: 3000000000 is larger than 2147483647"},
		{"ErrKeyVersionTooLarge", func(t *ipass.Tenants) { t.Clients[0].Keys[1].Version = 3000000000 },
			"clients[0] (2110200000000044).keys[1].keyVersion: 3000000000 is larger than 2147483647"},
		{"OKClientIDMaxLength", func(t *ipass.Tenants) { t.Clients[1].ID = long(64); t.Merchants[1].ClientID = long(64) }, ""},
		{"OKReferencesOutsideFile", func(t *ipass.Tenants) {
			t.Merchants[0].ClientID = "9999999999999999"
			t.Templates[0].MerchantID = "2169999999999999"
			t.Users[0].OpenIDs = map[string]string{"2169999999999999": "x"}
		}, ""},
		{"OKSameTemplateCodeOtherMerchant", func(t *ipass.Tenants) { t.Templates[5].Code = t.Templates[0].Code }, ""},
		{"OKSameOpenIDOtherMerchant", func(t *ipass.Tenants) {
			t.Users[1].OpenIDs["2160400000000022"] = t.Users[0].OpenIDs["2160120036095023"]
		}, ""},
		{"OKShortColour", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColor"] = "#fff" }, ""},
		{"OKShortColourMixedCase", func(t *ipass.Tenants) { t.Templates[0].Style["foregroundColor"] = "#fA0" }, ""},
		{"OKNoTitleNoStyle", func(t *ipass.Tenants) { t.Templates[0].Title, t.Templates[0].Style = nil, nil }, ""},

		// clients
		{"ErrClientIDEmpty", func(t *ipass.Tenants) { t.Clients[0].ID = "" },
			"clients[0].clientId: is empty"},
		{"ErrClientIDTooLong", func(t *ipass.Tenants) { t.Clients[0].ID = long(65) },
			"clients[0] (" + long(65) + ").clientId: " + long(65) + " is 65 characters, more than 64"},
		{"ErrClientIDSpace", func(t *ipass.Tenants) { t.Clients[0].ID = "2110 44" },
			`clients[0] ("2110 44").clientId: "2110 44" has a character that is not visible ASCII`},
		{"ErrClientIDNonASCII", func(t *ipass.Tenants) { t.Clients[0].ID = "客戶" },
			`clients[0] (客戶).clientId: "客戶" has a character that is not visible ASCII`},
		{"ErrClientIDControl", func(t *ipass.Tenants) { t.Clients[0].ID = "2110\x00" },
			`clients[0] ("2110\x00").clientId: "2110\x00" has a character that is not visible ASCII`},
		{"ErrClientIDDuplicate", func(t *ipass.Tenants) { t.Clients[1].ID = t.Clients[0].ID },
			"clients[1] (2110200000000044).clientId: duplicate of clients[0]"},
		{"ErrClientNameControl", func(t *ipass.Tenants) { t.Clients[0].Name = "Demo\nmerchant" },
			`clients[0] (2110200000000044).name: "Demo\nmerchant" contains a control character`},
		{"ErrRateLimitNegative", func(t *ipass.Tenants) { t.Clients[0].RateLimit = -1 },
			"clients[0] (2110200000000044).rateLimit: -1 is negative (0 means unlimited)"},

		// keys
		{"ErrKeyVersionNegative", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Version = -1 },
			"clients[0] (2110200000000044).keys[0].keyVersion: -1 is negative"},
		{"ErrAlgorithmUnknown", func(t *ipass.Tenants) { t.Clients[0].Keys[1].Algorithm = "RSA512" },
			`clients[0] (2110200000000044).keys[1].algorithm: "RSA512" is not RSA256 or ECC224`},
		{"ErrAlgorithmAlias", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Algorithm = "SHA256withRSA" },
			`clients[0] (2110200000000044).keys[0].algorithm: "SHA256withRSA" is not RSA256 or ECC224`},
		{"ErrAlgorithmNotTheKeys", func(t *ipass.Tenants) {
			t.Clients[0].Keys[0].Algorithm = ipass.AlgorithmECC224
			t.Clients[0].Keys[0].Version = 2
		}, `clients[0] (2110200000000044).keys[0].algorithm: "ECC224" but the key is for RSA256`},
		{"ErrKeyDuplicate", func(t *ipass.Tenants) {
			t.Clients[0].Keys = append(t.Clients[0].Keys, t.Clients[0].Keys[0])
			t.Clients[0].Keys[2].Status = ipass.KeyRetired
		}, "clients[0] (2110200000000044).keys[2]: duplicate of keys[0] (RSA256 keyVersion 1)"},
		{"ErrKeyStatusUnknown", func(t *ipass.Tenants) { t.Clients[0].Keys[0].Status = "disabled" },
			`clients[0] (2110200000000044).keys[0].status: "disabled" is not active or retired`},
		{"ErrHeaderCaseUnknown", func(t *ipass.Tenants) { t.Clients[0].HeaderCase = "Canonical" },
			`clients[0] (2110200000000044).headerCase: "Canonical" is not lower or canonical`},
		{"ErrEncryptionKeyUnknown", func(t *ipass.Tenants) { t.Clients[0].EncryptionKey = "sign" },
			`clients[0] (2110200000000044).encryptionKey: "sign" is not encryption or signing`},
		{"ErrKeyEmpty", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = " \n" },
			"clients[0] (2110200000000044).keys[0].publicKey: is empty"},
		{"ErrKeyGarbage", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = "not a key!" },
			"clients[0] (2110200000000044).keys[0].publicKey: public key: neither PEM nor base64 DER"},
		{"ErrKeyPrivate", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = rsaPrivate },
			"clients[0] (2110200000000044).keys[0].publicKey: public key: got a PRIVATE KEY PEM block"},
		{"ErrKeyRSATooSmall", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = rsa1024 },
			"clients[0] (2110200000000044).keys[0].publicKey: public key: RSA key of 1024 bits: want 2048 to 4096"},
		{"ErrKeyRSATooLarge", func(t *ipass.Tenants) { t.Clients[0].Keys[0].PublicKey = rsa4608 },
			"clients[0] (2110200000000044).keys[0].publicKey: public key: RSA key of 4608 bits: want 2048 to 4096"},
		{"ErrKeyCurveP256", func(t *ipass.Tenants) { t.Clients[0].Keys[1].PublicKey = p256 },
			"clients[0] (2110200000000044).keys[1].publicKey: public key: ECDSA key on curve P-256: only P-224 is supported"},
		{"ErrKeyEd25519", func(t *ipass.Tenants) { t.Clients[0].Keys[1].PublicKey = ed25519 },
			"clients[0] (2110200000000044).keys[1].publicKey: public key: unsupported key type ed25519.PublicKey: want RSA or ECDSA P-224"},

		// merchants
		{"ErrMerchantIDEmpty", func(t *ipass.Tenants) { t.Merchants[0].ID = "" },
			"merchants[0].merchantId: is empty"},
		{"ErrMerchantIDTooLong", func(t *ipass.Tenants) { t.Merchants[0].ID = long(65) },
			"merchants[0] (" + long(65) + ").merchantId: " + long(65) + " is 65 characters, more than 64"},
		{"ErrMerchantIDControl", func(t *ipass.Tenants) { t.Merchants[0].ID = "2160\x7f" },
			`merchants[0] ("2160\x7f").merchantId: "2160\x7f" contains a control character`},
		{"ErrMerchantIDDuplicate", func(t *ipass.Tenants) { t.Merchants[1].ID = t.Merchants[0].ID },
			"merchants[1] (2160120036095023).merchantId: duplicate of merchants[0]"},
		{"ErrMerchantClientIDEmpty", func(t *ipass.Tenants) { t.Merchants[0].ClientID = "" },
			"merchants[0] (2160120036095023).clientId: is empty"},
		{"ErrMerchantClientIDInvalid", func(t *ipass.Tenants) { t.Merchants[0].ClientID = "a b" },
			`merchants[0] (2160120036095023).clientId: "a b" has a character that is not visible ASCII`},
		{"ErrMerchantNameControl", func(t *ipass.Tenants) { t.Merchants[0].Name = "Demo\tCoffee" },
			`merchants[0] (2160120036095023).name: "Demo\tCoffee" contains a control character`},

		// templates
		{"ErrTemplateCodeEmpty", func(t *ipass.Tenants) { t.Templates[0].Code = "" },
			"templates[0].templateCode: is empty"},
		{"ErrTemplateCodeTooLong", func(t *ipass.Tenants) { t.Templates[0].Code = long(65) },
			"templates[0] (" + long(65) + ").templateCode: " + long(65) + " is 65 characters, more than 64"},
		{"ErrTemplateCodeDuplicate", func(t *ipass.Tenants) { t.Templates[1].Code = t.Templates[0].Code },
			"templates[1] (temlate111001).templateCode: duplicate of templates[0] (same merchant 2160120036095023)"},
		{"ErrTemplateMerchantIDEmpty", func(t *ipass.Tenants) { t.Templates[0].MerchantID = "" },
			"templates[0] (temlate111001).merchantId: is empty"},
		{"ErrTemplateMerchantIDTooLong", func(t *ipass.Tenants) { t.Templates[0].MerchantID = long(65) },
			"templates[0] (temlate111001).merchantId: " + long(65) + " is 65 characters, more than 64"},
		{"ErrTypeUnknown", func(t *ipass.Tenants) { t.Templates[0].Type = "PASS" },
			`templates[0] (temlate111001).type: "PASS" is not CARD, COUPON or TICKET`},
		{"ErrTypeLowerCase", func(t *ipass.Tenants) { t.Templates[0].Type = "card" },
			`templates[0] (temlate111001).type: "card" is not CARD, COUPON or TICKET`},
		{"ErrProductNotOfType", func(t *ipass.Tenants) { t.Templates[0].Product = ipass.ProductAirTicket },
			`templates[0] (temlate111001).product: "AIR_TICKET" is not a product of type CARD`},
		{"ErrProductCouponOnCard", func(t *ipass.Tenants) { t.Templates[0].Product = ipass.ProductCoupon },
			`templates[0] (temlate111001).product: "COUPON" is not a product of type CARD`},
		{"ErrLocalesEmpty", func(t *ipass.Tenants) { t.Templates[0].Locales = nil; t.Templates[0].Title = nil },
			"templates[0] (temlate111001).locales: is empty; list at least one, e.g. [zh_HK, en_US]"},
		{"ErrLocaleMalformed", func(t *ipass.Tenants) { t.Templates[0].Locales[1] = "en-US"; t.Templates[0].Title = nil },
			`templates[0] (temlate111001).locales[1]: "en-US" is not a locale like zh_HK`},
		{"ErrLocaleCase", func(t *ipass.Tenants) { t.Templates[0].Locales[1] = "EN_us"; t.Templates[0].Title = nil },
			`templates[0] (temlate111001).locales[1]: "EN_us" is not a locale like zh_HK`},
		{"ErrLocaleDuplicate", func(t *ipass.Tenants) { t.Templates[0].Locales[1] = "zh_HK"; t.Templates[0].Title = nil },
			"templates[0] (temlate111001).locales[1]: zh_HK is listed twice"},
		{"ErrPlaceholdersEmpty", func(t *ipass.Tenants) { t.Templates[0].Placeholders = nil },
			"templates[0] (temlate111001).placeholders: is empty; list the names the card face shows, e.g. [points, level]"},
		{"ErrPlaceholderLeadingDigit", func(t *ipass.Tenants) { t.Templates[0].Placeholders[0] = "1points" },
			`templates[0] (temlate111001).placeholders[0]: "1points" is not a name matching [A-Za-z][A-Za-z0-9_]{0,63}`},
		{"ErrPlaceholderDollar", func(t *ipass.Tenants) { t.Templates[0].Placeholders[0] = "$points$" },
			`templates[0] (temlate111001).placeholders[0]: "$points$" is not a name matching [A-Za-z][A-Za-z0-9_]{0,63}`},
		{"ErrPlaceholderTooLong", func(t *ipass.Tenants) { t.Templates[0].Placeholders[0] = long(65) },
			`templates[0] (temlate111001).placeholders[0]: "` + long(65) + `" is not a name matching [A-Za-z][A-Za-z0-9_]{0,63}`},
		{"ErrPlaceholderDuplicate", func(t *ipass.Tenants) { t.Templates[0].Placeholders[1] = "points" },
			"templates[0] (temlate111001).placeholders[1]: points is listed twice"},
		{"ErrCodeUnknown", func(t *ipass.Tenants) { t.Templates[0].CodeDisplay = "QR" },
			`templates[0] (temlate111001).code: "QR" is not QRCODE, BARCODE or NONE`},
		{"ErrCodeEmpty", func(t *ipass.Tenants) { t.Templates[0].CodeDisplay = "" },
			`templates[0] (temlate111001).code: "" is not QRCODE, BARCODE or NONE`},
		{"ErrTitleLocaleUndeclared", func(t *ipass.Tenants) { t.Templates[0].Title["fr_FR"] = "Carte" },
			"templates[0] (temlate111001).title[fr_FR]: locale fr_FR is not in locales"},
		{"ErrTitleControl", func(t *ipass.Tenants) { t.Templates[0].Title["en_US"] = "Member\x1bcard" },
			`templates[0] (temlate111001).title[en_US]: "Member\x1bcard" contains a control character`},
		{"ErrStyleKey", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColour"] = "#000000" },
			`templates[0] (temlate111001).style[backgroundColour]: "backgroundColour" is not a colour name such as backgroundColor or foregroundColor`},
		{"ErrStyleColourName", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColor"] = "blue" },
			`templates[0] (temlate111001).style[backgroundColor]: "blue" is not a colour like #1677FF or #FFF`},
		{"ErrStyleColourLength", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColor"] = "#1677F" },
			`templates[0] (temlate111001).style[backgroundColor]: "#1677F" is not a colour like #1677FF or #FFF`},
		{"ErrStyleColourFourDigits", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColor"] = "#1234" },
			`templates[0] (temlate111001).style[backgroundColor]: "#1234" is not a colour like #1677FF or #FFF`},
		{"ErrStyleColourNoHash", func(t *ipass.Tenants) { t.Templates[0].Style["backgroundColor"] = "222" },
			`templates[0] (temlate111001).style[backgroundColor]: "222" is not a colour like #1677FF or #FFF`},

		// users
		{"ErrUserIDEmpty", func(t *ipass.Tenants) { t.Users[0].ID = "" },
			"users[0].userId: is empty"},
		{"ErrUserIDTooLong", func(t *ipass.Tenants) { t.Users[0].ID = long(33) },
			"users[0] (" + long(33) + ").userId: " + long(33) + " is 33 characters, more than 32"},
		{"ErrUserIDDuplicate", func(t *ipass.Tenants) { t.Users[1].ID = t.Users[0].ID },
			"users[1] (2160220037090534).userId: duplicate of users[0]"},
		{"ErrOpenIDEmpty", func(t *ipass.Tenants) { t.Users[0].OpenIDs["2160120036095023"] = "" },
			"users[0] (2160220037090534).openIds[2160120036095023]: is empty"},
		{"ErrOpenIDTooLong", func(t *ipass.Tenants) { t.Users[0].OpenIDs["2160120036095023"] = long(33) },
			"users[0] (2160220037090534).openIds[2160120036095023]: " + long(33) + " is 33 characters, more than 32"},
		{"ErrOpenIDControl", func(t *ipass.Tenants) { t.Users[0].OpenIDs["2160120036095023"] = "a\x00" },
			`users[0] (2160220037090534).openIds[2160120036095023]: "a\x00" contains a control character`},
		{"ErrOpenIDMerchantEmpty", func(t *ipass.Tenants) { t.Users[0].OpenIDs[""] = "x" },
			`users[0] (2160220037090534).openIds[""]: merchantId is empty`},
		{"ErrOpenIDMerchantTooLong", func(t *ipass.Tenants) { t.Users[0].OpenIDs[long(65)] = "x" },
			"users[0] (2160220037090534).openIds[" + long(65) + "]: merchantId " + long(65) + " is 65 characters, more than 64"},
		{"ErrOpenIDDuplicateAtMerchant", func(t *ipass.Tenants) {
			t.Users[1].OpenIDs["2160120036095023"] = t.Users[0].OpenIDs["2160120036095023"]
		}, "users[1] (2160220043214225).openIds[2160120036095023]: openId fj398457jd8iue98d8w7w93j at merchant 2160120036095023 is also users[0]'s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ten := mustLoadFixtures(t)
			tt.change(ten)
			err := tenants.Validate(ten)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			var e *ipass.Error
			if !errors.As(err, &e) || e.Code != ipass.CodeParamIllegal {
				t.Fatalf("Validate: %#v, want an *ipass.Error PARAM_ILLEGAL", err)
			}
			// Exactly the one problem that was introduced: no follow-on noise.
			if e.Message != tt.want {
				t.Errorf("message:\n got %s\nwant %s", e.Message, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	ten := mustLoadFixtures(t)
	ten.Clients[0].RateLimit = -5
	ten.Templates[2].Type = "TIKET"
	ten.Users[1].ID = ""
	err := tenants.Validate(ten)
	if err == nil {
		t.Fatal("Validate: nil, want three problems")
	}
	want := `clients[0] (2110200000000044).rateLimit: -5 is negative (0 means unlimited)
templates[2] (22024120100135606000000001443495).type: "TIKET" is not CARD, COUPON or TICKET
users[1].userId: is empty`
	if got := ipass.ErrorMessage(err); got != want {
		t.Errorf("message:\n got %s\nwant %s", got, want)
	}
}

func TestValidateCapsTheList(t *testing.T) {
	ten := &ipass.Tenants{}
	for range 60 {
		ten.Users = append(ten.Users, ipass.User{})
	}
	lines := strings.Split(ipass.ErrorMessage(tenants.Validate(ten)), "\n")
	if len(lines) != 51 || lines[50] != "... and 10 more problems" {
		t.Errorf("got %d lines ending %q, want 50 problems and \"... and 10 more problems\"", len(lines), lines[len(lines)-1])
	}
}
