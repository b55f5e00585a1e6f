package ipass

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// wantErr checks err against a wanted code and message fragment; code ""
// means success is expected.
func wantErr(t *testing.T, err error, code Code, fragment string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("got error %v, want success", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got success, want %s (%q)", code, fragment)
	}
	if got := ErrorCode(err); got != code {
		t.Fatalf("got code %s (%v), want %s", got, err, code)
	}
	msg := ErrorMessage(err)
	if !strings.Contains(msg, fragment) {
		t.Fatalf("got message %q, want it to contain %q", msg, fragment)
	}
	if n := utf8.RuneCountInString(msg); n > 512 {
		t.Fatalf("message is %d characters long, want ≤ 512", n)
	}
}

func TestDecodeBody(t *testing.T) {
	deep := func(n int) string { return `{"a":` + strings.Repeat(`[`, n-1) + strings.Repeat(`]`, n-1) + `}` }
	tests := []struct {
		name     string
		body     string
		code     Code
		fragment string
	}{
		{"OK", `{"merchantId":"1"}`, "", ""},
		{"OKWhitespace", " \r\n\t{ \"a\" : [1, 2.5e3, true, false, null, {}] }\n", "", ""},
		{"OKEmptyObject", `{}`, "", ""},
		{"OKEscapedKeysDiffer", `{"a":1,"b":2,"\u0063":3}`, "", ""},
		{"OKDepth32", deep(32), "", ""},
		{"OKSameKeyInSiblings", `{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}`, "", ""},
		{"OKAllSamples", body83Create, "", ""},
		{"ErrEmpty", ``, CodeParamIllegal, "body: empty"},
		{"ErrWhitespaceOnly", "  \n", CodeParamIllegal, "body: empty"},
		{"ErrArray", `[{"a":1}]`, CodeParamIllegal, "must be a JSON object"},
		{"ErrString", `"x"`, CodeParamIllegal, "must be a JSON object"},
		{"ErrNumber", `1`, CodeParamIllegal, "must be a JSON object"},
		{"ErrNull", `null`, CodeParamIllegal, "must be a JSON object"},
		{"ErrBOM", "\xEF\xBB\xBF{}", CodeParamIllegal, "byte-order mark"},
		{"ErrInvalidUTF8", "{\"a\":\"\xff\"}", CodeParamIllegal, "not valid UTF-8"},
		{"ErrInvalidUTF8Key", "{\"\xc3\x28\":1}", CodeParamIllegal, "not valid UTF-8"},
		{"ErrOverlongUTF8", "{\"a\":\"\xc0\xaf\"}", CodeParamIllegal, "not valid UTF-8"},
		{"ErrSurrogateUTF8", "{\"a\":\"\xed\xa0\x80\"}", CodeParamIllegal, "not valid UTF-8"},
		{"ErrDuplicateTopLevel", `{"merchantId":"2160120036095023","merchantId":"2160400000000022"}`, CodeParamIllegal, `body: duplicate key "merchantId"`},
		{"ErrDuplicateEscaped", `{"merchantId":"1","merchant\u0049d":"2"}`, CodeParamIllegal, `duplicate key "merchantId"`},
		{"ErrDuplicateDataInfo", `{"dataInfo":{"$points_zh_HK$":1,"$points_zh_HK$":2}}`, CodeParamIllegal, `body.dataInfo: duplicate key "$points_zh_HK$"`},
		{"ErrDuplicateNestedLocale", `{"dataInfo":{"en_US":{"$a$":1,"$a$":1}}}`, CodeParamIllegal, `body.dataInfo.en_US: duplicate key "$a$"`},
		{"ErrDuplicateCodeInfo", `{"codeInfo":{"$codevalue$":"1","$codevalue$":"2"}}`, CodeParamIllegal, `body.codeInfo: duplicate key`},
		{"ErrDuplicateInArray", `{"x":[1,{"k":1,"k":2}]}`, CodeParamIllegal, `body.x.[1]: duplicate key "k"`},
		{"ErrDepth33", deep(33), CodeParamIllegal, "nested deeper than 32 levels"},
		{"ErrDeepHostile", `{"a":` + strings.Repeat(`[`, 100000), CodeParamIllegal, "nested deeper than 32"},
		{"ErrNULValue", `{"a":"x\u0000y"}`, CodeParamIllegal, "body.a: string contains U+0000"},
		{"ErrNULNested", `{"dataInfo":{"$a_en_US$":["\u0000"]}}`, CodeParamIllegal, "U+0000"},
		{"ErrNULKey", `{"a\u0000":1}`, CodeParamIllegal, "a key contains U+0000"},
		{"ErrRawNUL", "{\"a\":\"\x00\"}", CodeParamIllegal, "invalid JSON"},
		{"ErrTrailingObject", `{}{}`, CodeParamIllegal, "unexpected data after the JSON object"},
		{"ErrTrailingGarbage", `{"a":1} x`, CodeParamIllegal, "unexpected data after"},
		{"ErrTrailingComma", `{"a":1,}`, CodeParamIllegal, "invalid JSON"},
		{"ErrUnterminated", `{"a":1`, CodeParamIllegal, "body"},
		{"ErrUnquotedKey", `{a:1}`, CodeParamIllegal, "invalid JSON"},
		{"ErrSingleQuotes", `{'a':1}`, CodeParamIllegal, "invalid JSON"},
		{"ErrLeadingZero", `{"a":01}`, CodeParamIllegal, "invalid JSON"},
		{"ErrNaN", `{"a":NaN}`, CodeParamIllegal, "invalid JSON"},
		{"ErrBadEscape", `{"a":"\x"}`, CodeParamIllegal, "invalid JSON"},
		{"ErrComment", `{"a":1 /* c */}`, CodeParamIllegal, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBody([]byte(tt.body))
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code == "" && b == nil {
				t.Fatal("got nil body on success")
			}
		})
	}
}

func TestDecodeBodyHugeKey(t *testing.T) {
	key := strings.Repeat("k", 1<<20)
	body := `{"` + key + `":1,"` + key + `":2}`
	_, err := DecodeBody([]byte(body))
	wantErr(t, err, CodeParamIllegal, "duplicate key")
	if len(ErrorMessage(err)) > 512 {
		t.Fatalf("message not clipped: %d bytes", len(ErrorMessage(err)))
	}
}

func TestDecodeBodyFields(t *testing.T) {
	b, err := DecodeBody([]byte(body81Create))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b["bizSerialId"]); got != `"1111128828"` {
		t.Fatalf("bizSerialId = %s", got)
	}
	if got := string(b["startDate"]); got != `1735689600000` {
		t.Fatalf("startDate = %s", got)
	}
	if len(b) != 12 {
		t.Fatalf("got %d fields, want 12", len(b))
	}
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range specBodies {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{}`, `{"a":{"a":{"a":[]}}}`, `{"a":1,"a":2}`, "\xEF\xBB\xBF{}", `{"a":"\u0000"}`, `{} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBody(data)
		if err != nil {
			if ErrorCode(err) != CodeParamIllegal {
				t.Fatalf("error %v is not PARAM_ILLEGAL", err)
			}
			if n := utf8.RuneCountInString(ErrorMessage(err)); n > 512 {
				t.Fatalf("message of %d characters", n)
			}
			return
		}
		// Accepted bodies are valid UTF-8 objects without NUL, so every
		// field extraction must answer without panicking.
		if !utf8.Valid(data) {
			t.Fatal("accepted invalid UTF-8")
		}
		_, _ = b.MerchantID()
		_, _ = ParseCreateRequest(b)
		_, _ = ParseQueryRequest(b)
		if r, err := ParseUpdateRequest(b, testNow); err == nil && r.Fingerprint() == "" {
			t.Fatal("accepted update without fingerprint")
		}
	})
}
