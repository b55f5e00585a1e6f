package ipass

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseDataInfo(t *testing.T) {
	many := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"$p%d_en_US$":%d`, i, i))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	nest := func(n int) string { return strings.Repeat(`[`, n) + strings.Repeat(`]`, n) }
	tests := []struct {
		name      string
		raw       string
		allowNull bool
		want      map[string]string // flattened entries expected on success
		meta      Metadata
		code      Code
		fragment  string
	}{
		{name: "OKFlat", raw: `{"$points_zh_HK$":100,"$level_en_US$":"Silver Card"}`,
			want: map[string]string{"$points_zh_HK$": `100`, "$level_en_US$": `"Silver Card"`}},
		{name: "OKValuesVerbatim", raw: `{"$price_en_US$":{"currency":"HKD", "cent":800.0},"$s_en_US$":"\u00e9"}`,
			want: map[string]string{"$price_en_US$": `{"currency":"HKD", "cent":800.0}`, "$s_en_US$": `"\u00e9"`}},
		{name: "OKAnyValueType", raw: `{"$a_en_US$":[1,"x"],"$b_en_US$":true,"$c_en_US$":-1.5e3}`,
			want: map[string]string{"$a_en_US$": `[1,"x"]`, "$b_en_US$": `true`, "$c_en_US$": `-1.5e3`}},
		{name: "OKNested", raw: `{"en_US":{"$shopname$":"demo shop"},"zh_HK":{"$shopname$":"示範店"}}`,
			want: map[string]string{"$shopname_en_US$": `"demo shop"`, "$shopname_zh_HK$": `"示範店"`}},
		{name: "OKNestedAndFlatMixed", raw: `{"en_US":{"$shopname$":"a"},"$balance_en_US$":"b"}`,
			want: map[string]string{"$shopname_en_US$": `"a"`, "$balance_en_US$": `"b"`}},
		{name: "OKNameWithUnderscore", raw: `{"$start_time_en_US$":"x"}`, want: map[string]string{"$start_time_en_US$": `"x"`}},
		{name: "OKAsString", raw: `"{\"$points_zh_HK$\":1}"`, want: map[string]string{"$points_zh_HK$": `1`}},
		{name: "OKEmptyObject", raw: `{}`, want: map[string]string{}},
		{name: "OKNullRemovesOnUpdate", raw: `{"$shopname_zh_HK$":null}`, allowNull: true, want: map[string]string{"$shopname_zh_HK$": `null`}},
		{name: "OKNestedNullOnUpdate", raw: `{"zh_HK":{"$shopname$":null}}`, allowNull: true, want: map[string]string{"$shopname_zh_HK$": `null`}},
		{name: "OKMetadata", raw: `{"$points_zh_HK$":19999,"billNo":"2202","lastChangedPoints":"19899","pointsProvider":"ALIPAYHK"}`,
			want: map[string]string{"$points_zh_HK$": `19999`},
			meta: Metadata{BillNo: "2202", LastChangedPoints: "19899", PointsProvider: "ALIPAYHK"}},
		{name: "OKMetadataAlias", raw: `{"lastChangePoints":-12.50}`, want: map[string]string{}, meta: Metadata{LastChangedPoints: "-12.5"}},
		{name: "OKMetadataAliasSameValue", raw: `{"lastChangedPoints":"5","lastChangePoints":5.0}`, want: map[string]string{}, meta: Metadata{LastChangedPoints: "5"}},
		{name: "OKMetadataAliasOneNull", raw: `{"lastChangedPoints":null,"lastChangePoints":"007"}`, want: map[string]string{}, meta: Metadata{LastChangedPoints: "7"}},
		{name: "OKMetadataNulls", raw: `{"billNo":null,"pointsProvider":null,"lastChangedPoints":null}`, want: map[string]string{}},
		{name: "OKMetadataNegativeZero", raw: `{"lastChangedPoints":"-0.0"}`, want: map[string]string{}, meta: Metadata{LastChangedPoints: "0"}},
		{name: "OK200Keys", raw: many(200), want: nil},
		{name: "OKDepth8", raw: `{"$a_en_US$":` + nest(7) + `}`, want: nil},
		{name: "OKString2048", raw: `{"$a_en_US$":"` + strings.Repeat("字", 2048) + `"}`, want: nil},

		{name: "ErrNumber", raw: `5`, code: CodeParamIllegal, fragment: "dataInfo: must be a JSON object (or a string holding one), not a number"},
		{name: "ErrArray", raw: `[]`, code: CodeParamIllegal, fragment: "not an array"},
		{name: "ErrStringNotObject", raw: `"[1]"`, code: CodeParamIllegal, fragment: "dataInfo: must be a JSON object"},
		{name: "ErrStringInvalidJSON", raw: `"{\"a\":"`, code: CodeParamIllegal, fragment: "dataInfo"},
		{name: "ErrStringDuplicateKey", raw: `"{\"$a_en_US$\":1,\"$a_en_US$\":2}"`, code: CodeParamIllegal, fragment: `dataInfo: duplicate key "$a_en_US$"`},
		{name: "ErrStringNUL", raw: `"{\"$a_en_US$\":\"\\u0000\"}"`, code: CodeParamIllegal, fragment: "U+0000"},
		{name: "ErrStringTrailing", raw: `"{} x"`, code: CodeParamIllegal, fragment: "unexpected data"},
		{name: "ErrNullOnCreate", raw: `{"$points_zh_HK$":null}`, code: CodeParamIllegal, fragment: "dataInfo.$points_zh_HK$: null is not allowed"},
		{name: "ErrNoLocale", raw: `{"$points$":1}`, code: CodeParamIllegal, fragment: `key "$points$" is neither`},
		{name: "ErrBadLocaleCase", raw: `{"$points_ZH_hk$":1}`, code: CodeParamIllegal, fragment: "is neither"},
		{name: "ErrNoDollars", raw: `{"points_zh_HK":1}`, code: CodeParamIllegal, fragment: "is neither"},
		{name: "ErrNameStartsWithDigit", raw: `{"$1points_zh_HK$":1}`, code: CodeParamIllegal, fragment: "is neither"},
		{name: "ErrNameTooLong", raw: `{"$` + strings.Repeat("a", 65) + `_zh_HK$":1}`, code: CodeParamIllegal, fragment: "is neither"},
		{name: "ErrUnknownKey", raw: `{"foo":1}`, code: CodeParamIllegal, fragment: `key "foo" is neither`},
		{name: "ErrKeyTooLong", raw: `{"` + strings.Repeat("k", 129) + `":1}`, code: CodeParamIllegal, fragment: "longer than 128 characters"},
		{name: "ErrHugeKey", raw: `{"` + strings.Repeat("k", 60000) + `":1}`, code: CodeParamIllegal, fragment: "longer than 128"},
		{name: "ErrNestedNotObject", raw: `{"en_US":"demo"}`, code: CodeParamIllegal, fragment: "dataInfo.en_US: a locale must hold an object of $name$ keys, not a string"},
		{name: "ErrNestedNull", raw: `{"en_US":null}`, allowNull: true, code: CodeParamIllegal, fragment: "dataInfo.en_US"},
		{name: "OKNestedNameWithLocaleSuffix", raw: `{"en_US":{"$shopname_en_US$":"x"}}`, // the template check refuses it
			want: map[string]string{"$shopname_en_US_en_US$": `"x"`}},
		{name: "ErrNestedNoDollars", raw: `{"en_US":{"shopname":"x"}}`, code: CodeParamIllegal, fragment: `dataInfo.en_US: key "shopname" is not $name$`},
		{name: "ErrNestedMetadata", raw: `{"en_US":{"billNo":"x"}}`, code: CodeParamIllegal, fragment: "is not $name$"},
		{name: "ErrNestedTwice", raw: `{"en_US":{"zh_HK":{"$a$":1}}}`, code: CodeParamIllegal, fragment: "is not $name$"},
		{name: "ErrFlatNestedCollision", raw: `{"$shopname_en_US$":"a","en_US":{"$shopname$":"b"}}`, code: CodeParamIllegal,
			fragment: "dataInfo.en_US.$shopname$: $shopname_en_US$ is also given as dataInfo.$shopname_en_US$"},
		{name: "ErrMetadataConflict", raw: `{"lastChangedPoints":"5","lastChangePoints":"6"}`, code: CodeParamIllegal, fragment: "differ"},
		{name: "ErrPointsExponent", raw: `{"lastChangedPoints":1e3}`, code: CodeParamIllegal, fragment: "dataInfo.lastChangedPoints"},
		{name: "OKPointsPlusSign", raw: `{"lastChangedPoints":"+49"}`, want: map[string]string{}, meta: Metadata{LastChangedPoints: "49"}},
		{name: "ErrPointsTwoSigns", raw: `{"lastChangedPoints":"+-1"}`, code: CodeParamIllegal, fragment: "not an integer or decimal"},
		{name: "ErrPointsWord", raw: `{"lastChangedPoints":"ten"}`, code: CodeParamIllegal, fragment: "not an integer or decimal"},
		{name: "ErrPointsBool", raw: `{"lastChangedPoints":true}`, code: CodeParamIllegal, fragment: "must be a number"},
		{name: "ErrPointsTooLong", raw: `{"lastChangedPoints":"` + strings.Repeat("9", 65) + `"}`, code: CodeParamIllegal, fragment: "lastChangedPoints"},
		{name: "ErrBillNoNumber", raw: `{"billNo":123}`, code: CodeParamIllegal, fragment: "dataInfo.billNo: must be a string or null"},
		{name: "ErrBillNoTooLong", raw: `{"billNo":"` + strings.Repeat("b", 129) + `"}`, code: CodeParamIllegal, fragment: "billNo: longer than 128"},
		{name: "ErrPointsProviderTooLong", raw: `{"pointsProvider":"` + strings.Repeat("p", 65) + `"}`, code: CodeParamIllegal, fragment: "pointsProvider: longer than 64"},
		{name: "Err201Keys", raw: many(201), code: CodeParamIllegal, fragment: "more than 200 keys"},
		{name: "ErrDepth9", raw: `{"$a_en_US$":` + nest(8) + `}`, code: CodeParamIllegal, fragment: "dataInfo.$a_en_US$: nested deeper than 8 levels"},
		{name: "ErrString2049", raw: `{"$a_en_US$":"` + strings.Repeat("字", 2049) + `"}`, code: CodeParamIllegal, fragment: "longer than 2048"},
		{name: "ErrDeepString", raw: `{"$a_en_US$":[{"x":["` + strings.Repeat("s", 2049) + `"]}]}`, code: CodeParamIllegal, fragment: "longer than 2048"},
		{name: "ErrInnerKeyTooLong", raw: `{"$a_en_US$":{"` + strings.Repeat("k", 129) + `":1}}`, code: CodeParamIllegal, fragment: "a key inside the value"},
		{name: "ErrTooLarge", raw: `{"$a_en_US$":"` + strings.Repeat("x", 2000) + `","$b_en_US$":[` + strings.Repeat(`"`+strings.Repeat("y", 2000)+`",`, 33) + `1]}`,
			code: CodeParamIllegal, fragment: "larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDataInfo(json.RawMessage(tt.raw), tt.allowNull)
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code != "" || tt.want == nil {
				return
			}
			if len(d.Entries) != len(tt.want) {
				t.Fatalf("got entries %v, want %v", d.Entries, tt.want)
			}
			for k, v := range tt.want {
				if got := string(d.Entries[k]); got != v {
					t.Errorf("%s = %s, want %s", k, got, v)
				}
			}
			if d.Meta != tt.meta {
				t.Errorf("got meta %+v, want %+v", d.Meta, tt.meta)
			}
		})
	}
}

func TestParseDataInfoEmptyStringIsAbsent(t *testing.T) {
	d, err := ParseDataInfo(json.RawMessage(`""`), false)
	if err != nil || d != nil {
		t.Fatalf("got %v, %v; want nil, nil", d, err)
	}
}

func TestDataInfoCheckTemplate(t *testing.T) {
	tests := []struct {
		name     string
		tpl      *Template
		raw      string
		code     Code
		fragment string
	}{
		{"OK", tplMember, `{"$points_zh_HK$":1,"$level_en_US$":"x"}`, "", ""},
		{"OKNested", tplGift, `{"en_US":{"$shopname$":"a"}}`, "", ""},
		{"ErrUndeclaredLocale", tplMember, `{"$points_fr_FR$":1}`, CodeParamIllegal,
			"dataInfo.$points_fr_FR$: locale fr_FR is not declared by template temlate111001"}, // E27
		{"ErrUndeclaredPlaceholder", tplTicket, `{"$seat_en_US$":"A1"}`, CodeParamIllegal,
			"dataInfo.$seat_en_US$: placeholder seat is not declared by template 22024120100135606000000001443495"}, // T5
		{"ErrUndeclaredNestedLocale", tplGift, `{"fr_FR":{"$shopname$":"a"}}`, CodeParamIllegal,
			"dataInfo.fr_FR.$shopname$: locale fr_FR is not declared"},
		{"ErrPlaceholderCase", tplMember, `{"$Points_zh_HK$":1}`, CodeParamIllegal, "placeholder Points"},
		{"ErrOtherTemplatesPlaceholder", tplMember, `{"$balance_zh_HK$":1}`, CodeParamIllegal, "placeholder balance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDataInfo(json.RawMessage(tt.raw), false)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, d.CheckTemplate(tt.tpl), tt.code, tt.fragment)
		})
	}
	var nilInput *DataInfoInput
	if err := nilInput.CheckTemplate(tplMember); err != nil {
		t.Fatalf("nil dataInfo: %v", err)
	}
}

func TestMerge(t *testing.T) {
	stored := DataInfo{
		"$points_zh_HK$": json.RawMessage(`100`), "$points_en_US$": json.RawMessage(`100`),
		"$level_zh_HK$": json.RawMessage(`"銀卡"`), "$level_en_US$": json.RawMessage(`"Silver Card"`),
	}
	big := func(n int) DataInfo {
		d := DataInfo{}
		for i := range n {
			d[fmt.Sprintf("$p%d_en_US$", i)] = json.RawMessage(`1`)
		}
		return d
	}
	tests := []struct {
		name     string
		stored   DataInfo
		raw      string
		want     DataInfo
		code     Code
		fragment string
	}{
		{"OKPointsOnlyKeepsLevel", stored, `{"$points_zh_HK$":19999,"$points_en_US$":19999,"billNo":"x"}`, DataInfo{
			"$points_zh_HK$": json.RawMessage(`19999`), "$points_en_US$": json.RawMessage(`19999`),
			"$level_zh_HK$": json.RawMessage(`"銀卡"`), "$level_en_US$": json.RawMessage(`"Silver Card"`)}, "", ""},
		{"OKNullRemoves", stored, `{"$level_zh_HK$":null,"$level_en_US$":null}`, DataInfo{
			"$points_zh_HK$": json.RawMessage(`100`), "$points_en_US$": json.RawMessage(`100`)}, "", ""},
		{"OKRemoveAbsentKey", DataInfo{}, `{"$level_zh_HK$":null}`, DataInfo{}, "", ""},
		{"OKIntoNil", nil, `{"$a_en_US$":1}`, DataInfo{"$a_en_US$": json.RawMessage(`1`)}, "", ""},
		{"OKNilInputKeeps", stored, ``, stored, "", ""},
		{"ErrResultOver200Keys", big(200), `{"$new_en_US$":1}`, nil, CodeParamIllegal, "the result would have more than 200 keys"},
		{"OKReplaceAt200Keys", big(200), `{"$p0_en_US$":2}`, nil, "", ""},
		{"ErrResultTooLarge", DataInfo{"$a_en_US$": json.RawMessage(`"` + strings.Repeat("x", 64000) + `"`)},
			`{"$b_en_US$":"` + strings.Repeat("y", 2000) + `"}`, nil, CodeParamIllegal, "the result would be larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d *DataInfoInput
			if tt.raw != "" {
				var err error
				if d, err = ParseDataInfo(json.RawMessage(tt.raw), true); err != nil {
					t.Fatal(err)
				}
			}
			before := len(tt.stored)
			got, err := d.Merge(tt.stored)
			wantErr(t, err, tt.code, tt.fragment)
			if len(tt.stored) != before {
				t.Fatal("Merge modified the stored map")
			}
			if tt.code != "" || tt.want == nil {
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if string(got[k]) != string(v) {
					t.Errorf("%s = %s, want %s", k, got[k], v)
				}
			}
		})
	}
}

func TestSerializedSize(t *testing.T) {
	for _, d := range []DataInfo{
		{},
		{"$a_en_US$": json.RawMessage(`1`)},
		{"$a_en_US$": json.RawMessage(`{"x": 1}`), "$b<&>_en_US$": json.RawMessage(`"é"`)},
	} {
		var parts []string
		for _, k := range sortedKeys(d) {
			var key strings.Builder
			enc := json.NewEncoder(&key)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(k)
			parts = append(parts, strings.TrimSpace(key.String())+":"+string(d[k]))
		}
		want := len("{" + strings.Join(parts, ",") + "}")
		if got := serializedSize(d); got != want {
			t.Errorf("serializedSize(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestParseCodeInfo(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		want     CodeInfo
		code     Code
		fragment string
	}{
		{"OK", `{"$codemsg$":"81399940","$codevalue$":"81399940"}`, CodeInfo{"81399940", "81399940"}, "", ""},
		{"OKMsgDefaults", `{"$codevalue$":"9123912839123712893"}`, CodeInfo{"9123912839123712893", "9123912839123712893"}, "", ""},
		{"OKMsgNullDefaults", `{"$codemsg$":null,"$codevalue$":"1"}`, CodeInfo{"1", "1"}, "", ""},
		{"OKMsgDiffers", `{"$codemsg$":"show","$codevalue$":"enc"}`, CodeInfo{"show", "enc"}, "", ""},
		{"OKEmptyStrings", `{"$codemsg$":"","$codevalue$":""}`, CodeInfo{}, "", ""},
		{"OKAsString", `"{\"$codevalue$\":\"1\"}"`, CodeInfo{"1", "1"}, "", ""},
		{"OK512", `{"$codevalue$":"` + strings.Repeat("é", 512) + `"}`, CodeInfo{strings.Repeat("é", 512), strings.Repeat("é", 512)}, "", ""},
		{"ErrUnknownKey", `{"$codevalue$":"1","$codetype$":"QR"}`, CodeInfo{}, CodeParamIllegal, `codeInfo: unknown key "$codetype$"`},
		{"ErrNumberValue", `{"$codevalue$":81399940}`, CodeInfo{}, CodeParamIllegal, "codeInfo.$codevalue$: must be a JSON string, not a number"},
		{"ErrTooLong", `{"$codevalue$":"` + strings.Repeat("1", 513) + `"}`, CodeInfo{}, CodeParamIllegal, "codeInfo.$codevalue$: longer than 512"},
		{"ErrMsgTooLong", `{"$codemsg$":"` + strings.Repeat("1", 513) + `","$codevalue$":"1"}`, CodeInfo{}, CodeParamIllegal, "codeInfo.$codemsg$: longer than 512"},
		{"ErrArray", `["1"]`, CodeInfo{}, CodeParamIllegal, "codeInfo: must be a JSON object"},
		{"ErrStringDuplicate", `"{\"$codevalue$\":\"1\",\"$codevalue$\":\"2\"}"`, CodeInfo{}, CodeParamIllegal, "duplicate key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCodeInfo(json.RawMessage(tt.raw))
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code == "" && *c != tt.want {
				t.Fatalf("got %+v, want %+v", *c, tt.want)
			}
		})
	}
}

func TestCheckCodeInfo(t *testing.T) {
	tests := []struct {
		name     string
		code     CodeInfo
		tpl      *Template
		want     Code
		fragment string
	}{
		{"OKQR", CodeInfo{"1", "1"}, tplMember, "", ""},
		{"OKNoneEmpty", CodeInfo{}, tplAir, "", ""},
		{"ErrQREmpty", CodeInfo{"shown", ""}, tplMember, CodeParamIllegal, "codeInfo.$codevalue$: must not be empty: template temlate111001 shows a QRCODE"},
		{"ErrBarcodeEmpty", CodeInfo{}, tplGift, CodeParamIllegal, "BARCODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, CheckCodeInfo(&tt.code, tt.tpl), tt.want, tt.fragment)
		})
	}
}

func FuzzDataInfo(f *testing.F) {
	for _, s := range specBodies {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &m) == nil && m["dataInfo"] != nil {
			f.Add([]byte(m["dataInfo"]), true)
			f.Add([]byte(m["dataInfo"]), false)
		}
	}
	for _, s := range []string{
		`{"en_US":{"$shopname$":null}}`, `{"$a_en_US$":"a","en_US":{"$a$":"b"}}`,
		`{"lastChangedPoints":"5","lastChangePoints":"6"}`, `"{\"$a_en_US$\":1}"`, `{"$a_en_US$":[[[[[[[[1]]]]]]]]}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, allowNull bool) {
		// Only what DecodeBody accepted can reach ParseDataInfo.
		body := append(append([]byte(`{"dataInfo":`), raw...), '}')
		b, err := DecodeBody(body)
		if err != nil {
			return
		}
		val, ok := b.present("dataInfo")
		if !ok {
			return
		}
		d, err := ParseDataInfo(val, allowNull)
		if err != nil {
			if ErrorCode(err) != CodeParamIllegal {
				t.Fatalf("error %v is not PARAM_ILLEGAL", err)
			}
			if n := utf8.RuneCountInString(ErrorMessage(err)); n > 512 {
				t.Fatalf("message of %d characters", n)
			}
			return
		}
		if d == nil {
			return
		}
		if len(d.Entries) > MaxDataInfoKeys {
			t.Fatalf("accepted %d keys", len(d.Entries))
		}
		for k, v := range d.Entries {
			if _, _, ok := splitFlatKey(k); !ok {
				t.Fatalf("accepted key %q", k)
			}
			if !json.Valid(v) {
				t.Fatalf("value of %q is not JSON: %q", k, v)
			}
			if !allowNull && string(v) == "null" {
				t.Fatalf("null accepted for %q", k)
			}
		}
		_ = d.CheckTemplate(tplTicket)
		merged, err := d.Merge(DataInfo{"$price_en_US$": json.RawMessage(`1`)})
		if err == nil {
			if serializedSize(merged) > MaxDataInfoBytes || len(merged) > MaxDataInfoKeys {
				t.Fatal("merge exceeded the limits")
			}
			for k, v := range merged {
				if string(v) == "null" {
					t.Fatalf("merged result keeps null for %q", k)
				}
			}
		}
		if _, err := createFingerprint("u", "t", "OUT_PLAT_FORM", 1, 2, 3, TypeCard, ProductMemberCard, d, CodeInfo{}); err != nil {
			t.Fatalf("fingerprint: %v", err)
		}
	})
}
