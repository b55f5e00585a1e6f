package ipass

import (
	"reflect"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"SortsKeys", `{"b":1,"a":{"d":2,"c":3}}`, `{"a":{"c":3,"d":2},"b":1}`},
		{"DropsWhitespace", " { \"a\" : [ 1 , 2 ] } ", `{"a":[1,2]}`},
		{"ReescapesStrings", `{"a":"\u00e9\/<&>"}`, `{"a":"é/<&>"}`},
		{"KeepsArrayOrder", `[3,1,2]`, `[3,1,2]`},
		{"Literals", `[true,false,null]`, `[true,false,null]`},
		{"EscapedKeysSortByMeaning", `{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := CanonicalJSON([]byte(`{`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestCanonicalNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0e10", "0"},
		{"1", "1"}, {"1.0", "1"}, {"1e0", "1"}, {"10E-1", "1"}, {"0.1e1", "1"},
		{"100", "100"}, {"1e2", "100"}, {"1.00e+2", "100"},
		{"0.5", "0.5"}, {"5e-1", "0.5"}, {"12.50", "12.5"}, {"-12.5", "-12.5"},
		{"0.001", "0.001"}, {"1e-3", "0.001"},
		{"19999", "19999"}, {"1735689600000", "1735689600000"},
		{"1e20", "100000000000000000000"}, {"1e21", "1e21"}, {"10e20", "1e21"},
		{"1e-21", "0.000000000000000000001"}, {"1e-22", "1e-22"},
		{"123456789012345678901234567890", "12345678901234567890123456789e1"},
		{"12345678901234567890123456789e1", "12345678901234567890123456789e1"},
		{"1e999999999999999999999", "1e999999999999999999999"}, // left as written
	}
	for _, tt := range tests {
		if got := canonicalNumber(tt.in); got != tt.want {
			t.Errorf("canonicalNumber(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCreateFingerprint(t *testing.T) {
	plan := func(t *testing.T, body []byte, userID string) *CreatePlan {
		t.Helper()
		r, err := ParseCreateRequest(mustBody(t, body))
		if err != nil {
			t.Fatal(err)
		}
		p, err := PlanCreate(r, tplMember, userID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := plan(t, []byte(body81Create), "2160220037090534")
	existing, _, err := base.Issue("2995228480402564890018", testNow, Caller{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		body     []byte
		userID   string
		code     Code
		fragment string
	}{
		{"OKIdentical", []byte(body81Create), "2160220037090534", "", ""},
		{"OKOpenIdInsteadOfUserId", withFields(t, body81Create, map[string]string{"userId": "", "openId": `"fj398457jd8iue98d8w7w93j"`}), "2160220037090534", "", ""}, // M1
		{"OKDigitStrings", withFields(t, body81Create, map[string]string{"startDate": `"1735689600000"`, "endDate": `"4102444800000"`, "bizCreate": `"1735689600000"`}), "2160220037090534", "", ""},
		{"OKKeyOrderAndWhitespace", withFields(t, body81Create, map[string]string{"dataInfo": `{ "$level_en_US$" : "Silver Card", "$level_zh_HK$":"\u9280\u5361", "$points_en_US$":100.0, "$points_zh_HK$":1e2 }`}), "2160220037090534", "", ""},
		{"OKTypeAndProductOmitted", withFields(t, body81Create, map[string]string{"type": "", "product": ""}), "2160220037090534", "", ""},
		{"OKCodeMsgDefaulted", withFields(t, body81Create, map[string]string{"codeInfo": `{"$codevalue$":"81399940"}`}), "2160220037090534", "", ""},
		{"OKUnknownFieldsIgnored", withFields(t, body81Create, map[string]string{"verifyType": `"x"`}), "2160220037090534", "", ""},
		{"ErrEndDate", withFields(t, body81Create, map[string]string{"endDate": `1893456000000`}), "2160220037090534", CodeParamIllegal,
			"bizSerialId 1111128828 is already used by pass 2995228480402564890018 with a different endDate"}, // E30
		{"ErrEndDateAndDataInfo", withFields(t, body81Create, map[string]string{"endDate": `1893456000000`, "dataInfo": `{"$points_zh_HK$":1}`}), "2160220037090534", CodeParamIllegal,
			"with a different endDate, dataInfo"},
		{"ErrOtherUser", []byte(body81Create), "2160220043214225", CodeParamIllegal, "with a different userId"},
		{"ErrMetadataDiffers", withFields(t, body81Create, map[string]string{"dataInfo": `{"$points_zh_HK$":100,"$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card","billNo":"1"}`}), "2160220037090534", CodeParamIllegal, "with a different dataInfo"},
		{"ErrCodeInfo", withFields(t, body81Create, map[string]string{"codeInfo": `{"$codevalue$":"81399941"}`}), "2160220037090534", CodeParamIllegal, "with a different codeInfo"},
		{"ErrNumberVsStringValue", withFields(t, body81Create, map[string]string{"dataInfo": `{"$points_zh_HK$":"100","$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}`}), "2160220037090534", CodeParamIllegal, "dataInfo"},
		{"ErrBizCreateAndStart", withFields(t, body81Create, map[string]string{"bizCreate": `1735689600001`, "startDate": `1735689600001`}), "2160220037090534", CodeParamIllegal, "with a different startDate, bizCreate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(t, tt.body, tt.userID)
			wantErr(t, p.SameAs(existing), tt.code, tt.fragment)
		})
	}
}

func TestDiffFingerprints(t *testing.T) {
	got := diffFingerprints(`{"userId":"a","x":1}`, `{"userId":"b","y":2}`)
	want := []string{"userId", "x", "y"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := diffFingerprints("", `{"endDate":1}`); !reflect.DeepEqual(got, []string{"endDate"}) {
		t.Fatalf("unparsable stored fingerprint: got %v", got)
	}
}

func TestUpdateFingerprint(t *testing.T) {
	print := func(t *testing.T, body []byte) string {
		t.Helper()
		r, err := ParseUpdateRequest(mustBody(t, body), testNow)
		if err != nil {
			t.Fatal(err)
		}
		return r.Fingerprint()
	}
	const c6 = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j","passId":"2020091119027102160530200000039","status":"USED","passVerifyCode":"9123912839123712893"}`
	const t1 = `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"1","status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"dataInfo":{"$availableTimes_zh_HK$":1,"$availableTimes_en_US$":1}}`
	base := print(t, []byte(c6))
	ticket := print(t, []byte(t1))
	tests := []struct {
		name string
		ref  string
		body []byte
		same bool
	}{
		{"SameIdentitySpelling", base, withFields(t, c6, map[string]string{"openId": "", "userId": `"2160220037090534"`}), true},
		{"SameWhitespaceAndOrder", base, []byte(`{ "status" : "USED", "passVerifyCode":"9123912839123712893", "passId":"2020091119027102160530200000039", "merchantId":"2160120036095023", "openId":"x"}`), true},
		{"SameKindIgnoredForUsed", base, withFields(t, c6, map[string]string{"updateDetailType": `"UPDATE_DATA_INFO"`}), true},
		{"SameUnknownFieldsIgnored", base, withFields(t, c6, map[string]string{"bizSerialId": `"GC-0001"`}), true},
		{"SameBizDateAsString", ticket, withFields(t, t1, map[string]string{"bizDate": `"1735776000000"`}), true},
		{"SameDataInfoKeyOrder", ticket, withFields(t, t1, map[string]string{"dataInfo": `{"$availableTimes_en_US$":1.0,"$availableTimes_zh_HK$":1}`}), true},
		{"SameNestedForm", ticket, withFields(t, t1, map[string]string{"dataInfo": `{"en_US":{"$availableTimes$":1},"zh_HK":{"$availableTimes$":1}}`}), true},
		{"DiffBizDate", base, withFields(t, c6, map[string]string{"bizDate": `1735776000000`}), false},
		{"DiffVerifyCode", base, withFields(t, c6, map[string]string{"passVerifyCode": ""}), false},
		{"DiffStatus", base, withFields(t, c6, map[string]string{"status": `"REFUND"`}), false},
		{"DiffPassId", base, withFields(t, c6, map[string]string{"passId": `"2"`}), false},
		{"DiffKind", ticket, withFields(t, t1, map[string]string{"updateDetailType": `"UPDATE_MOVIE"`}), false},
		{"DiffMetadata", ticket, withFields(t, t1, map[string]string{"dataInfo": `{"$availableTimes_zh_HK$":1,"$availableTimes_en_US$":1,"billNo":"x"}`}), false},
		{"DiffEmptyDataInfoVsAbsent", print(t, withFields(t, t1, map[string]string{"dataInfo": `{}`, "codeInfo": `{"$codevalue$":"2"}`})),
			withFields(t, t1, map[string]string{"dataInfo": "", "codeInfo": `{"$codevalue$":"2"}`}), false},
		{"SameCodeMsgDefaulted", print(t, withFields(t, t1, map[string]string{"codeInfo": `{"$codevalue$":"2"}`})),
			withFields(t, t1, map[string]string{"codeInfo": `{"$codemsg$":"2","$codevalue$":"2"}`}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := print(t, tt.body)
			if (got == tt.ref) != tt.same {
				t.Fatalf("fingerprints %s and %s: same = %v, want %v", got, tt.ref, got == tt.ref, tt.same)
			}
		})
	}
}
