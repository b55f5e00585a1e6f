package wallet

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		name, raw, locale, want string
	}{
		{"String", `"Silver Card"`, LocaleEN, "Silver Card"},
		{"StringMarkupIsText", `"<b>x</b>"`, LocaleEN, "<b>x</b>"},
		{"Integer", `19999`, LocaleEN, "19999"},
		{"DecimalAsWritten", `12.50`, LocaleEN, "12.50"},
		{"MoneyHKD", `{"cent":800,"currency":"HKD"}`, LocaleEN, "HK$8.00"},
		{"MoneyOrderIrrelevant", `{"currency":"HKD","cent":5}`, LocaleEN, "HK$0.05"},
		{"MoneyNegative", `{"cent":-1234,"currency":"USD"}`, LocaleEN, "-US$12.34"},
		{"MoneyOtherCurrency", `{"cent":100,"currency":"JPY"}`, LocaleEN, "JPY 1.00"},
		{"NotMoneyExtraKey", `{"cent":800,"currency":"HKD","x":1}`, LocaleEN, `{"cent":800,"currency":"HKD","x":1}`},
		{"NotMoneyFractionalCent", `{"cent":8.5,"currency":"HKD"}`, LocaleEN, `{"cent":8.5,"currency":"HKD"}`},
		{"ObjectCompact", `{ "a" : [1, 2] }`, LocaleEN, `{"a":[1,2]}`},
		{"Array", `[1, "x"]`, LocaleEN, `[1,"x"]`},
		{"TrueEN", `true`, LocaleEN, "Yes"},
		{"FalseZH", `false`, LocaleZH, "否"},
		{"TrueZH", `true`, LocaleZH, "是"},
		{"Null", `null`, LocaleEN, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := FormatValue(json.RawMessage(c.raw), c.locale); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestFields(t *testing.T) {
	tm := &ipass.Template{
		Locales:      []string{"zh_HK", "en_US"},
		Placeholders: []string{"points", "level", "absent", "onlyZH"},
		Labels:       map[string]map[string]string{"points": {"zh_HK": "積分", "en_US": "Points"}},
	}
	p := &ipass.Pass{DataInfo: ipass.DataInfo{
		"$points_en_US$": json.RawMessage(`100`), "$points_zh_HK$": json.RawMessage(`100`),
		"$level_en_US$": json.RawMessage(`"Gold"`), "$level_zh_HK$": json.RawMessage(`"金卡"`),
		"$onlyZH_zh_HK$": json.RawMessage(`"只有中文"`),
	}}
	got := Fields(p, tm, "en_US", time.UTC, false)
	want := []Field{{"points", "Points", "100"}, {"level", "level", "Gold"}, {"onlyZH", "onlyZH", "只有中文"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if l := FaceLocale(tm, "fr_FR"); l != "zh_HK" {
		t.Errorf("FaceLocale of an unknown locale = %s, want the template's first (zh_HK)", l)
	}
}

func TestUILocale(t *testing.T) {
	for _, c := range []struct{ lang, accept, fallback, want string }{
		{"zh_HK", "en-US", "en_US", "zh_HK"},
		{"xx_XX", "zh-HK,zh;q=0.9", "en_US", "zh_HK"},
		{"", "fr-FR, en;q=0.5, zh-TW;q=0.8", "", "zh_HK"},
		{"", "en-GB", "zh_HK", "en_US"},
		{"", "fr-FR", "zh_HK", "zh_HK"},
		{"", "", "ja_JP", "en_US"},
	} {
		if got := UILocale(c.lang, c.accept, c.fallback); got != c.want {
			t.Errorf("UILocale(%q, %q, %q) = %s, want %s", c.lang, c.accept, c.fallback, got, c.want)
		}
	}
}

// TestTextsComplete: every UI string exists in both locales.
func TestTextsComplete(t *testing.T) {
	for key := range texts[LocaleEN] {
		if texts[LocaleZH][key] == "" {
			t.Errorf("%s has no zh_HK text", key)
		}
	}
	for key := range texts[LocaleZH] {
		if texts[LocaleEN][key] == "" {
			t.Errorf("%s has no en_US text", key)
		}
	}
}

func TestCodeSVG(t *testing.T) {
	for _, c := range []struct {
		name    string
		display ipass.CodeDisplay
		value   string
		class   string // "" = no image
	}{
		{"QR", ipass.CodeQR, "81399940", "qr"},
		{"QRUnicode", ipass.CodeQR, "會員 81399940", "qr"},
		{"Barcode", ipass.CodeBarcode, "81399940", "barcode"},
		{"BarcodeNotASCII", ipass.CodeBarcode, "會員", ""},
		{"None", ipass.CodeNone, "81399940", ""},
		{"Empty", ipass.CodeQR, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			svg := CodeSVG(c.display, c.value)
			if c.class == "" {
				if svg != "" {
					t.Fatalf("got an image, want none")
				}
				return
			}
			if len(svg) < 100 || !strings.Contains(svg, `class="`+c.class+`"`) || strings.Contains(svg, c.value) {
				t.Fatalf("image %q: want an SVG of class %s that does not contain the value", svg, c.class)
			}
		})
	}
}

// FuzzUILocale: any lang and Accept-Language header picks a supported locale.
func FuzzUILocale(f *testing.F) {
	f.Add("zh_HK", "en-US,en;q=0.9", "en_US")
	f.Add("", "zh-Hant-HK;q=0.8, *;q=0.1", "")
	f.Add("x", ";q=;,,q=1e999", "zh_HK")
	f.Fuzz(func(t *testing.T, lang, accept, fallback string) {
		if l := UILocale(lang, accept, fallback); l != LocaleZH && l != LocaleEN {
			t.Fatalf("UILocale(%q, %q, %q) = %q", lang, accept, fallback, l)
		}
	})
}
