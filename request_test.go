package ipass

import (
	"encoding/json"
	"strings"
	"testing"
)

// withFields returns base with fields set (raw JSON values) or removed (nil).
func withFields(t *testing.T, base string, fields map[string]string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = json.RawMessage(v)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustBody(t *testing.T, data []byte) Body {
	t.Helper()
	b, err := DecodeBody(data)
	if err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	return b
}

func TestMillis(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  int64
		code  Code
	}{
		{"OKNumber", `1735689600000`, 1735689600000, ""},
		{"OKDigitString", `"1893456000000"`, 1893456000000, ""},
		{"OKSmallest", `1000000000000`, 1000000000000, ""},
		{"OKLargest", `9999999999999`, 9999999999999, ""},
		{"OKNullIsAbsent", `null`, 0, ""},
		{"OKEmptyStringIsAbsent", `""`, 0, ""},
		{"ErrSeconds", `1735689600`, 0, CodeParamIllegal},
		{"ErrSecondsString", `"1735689600"`, 0, CodeParamIllegal},
		{"ErrFourteenDigits", `17356896000000`, 0, CodeParamIllegal},
		{"ErrLeadingZero", `"0735689600000"`, 0, CodeParamIllegal},
		{"ErrFraction", `1735689600000.0`, 0, CodeParamIllegal},
		{"ErrFractionString", `"1735689600000.5"`, 0, CodeParamIllegal},
		{"ErrNegative", `-1735689600000`, 0, CodeParamIllegal},
		{"ErrPlus", `"+1735689600000"`, 0, CodeParamIllegal},
		{"ErrExponent", `1.7356896e12`, 0, CodeParamIllegal},
		{"ErrDateTime", `"2025-01-01 00:00:00"`, 0, CodeParamIllegal},
		{"ErrSpaces", `" 1735689600000"`, 0, CodeParamIllegal},
		{"ErrFullwidthDigits", `"１７３５６８９６００００００"`, 0, CodeParamIllegal},
		{"ErrBool", `true`, 0, CodeParamIllegal},
		{"ErrObject", `{}`, 0, CodeParamIllegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBody(t, []byte(`{"endDate":`+tt.value+`}`))
			got, err := b.millis("endDate")
			wantErr(t, err, tt.code, "endDate")
			if got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStringFields(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		want     string
		code     Code
		fragment string
	}{
		{"OK", `"2160120036095023"`, "2160120036095023", "", ""},
		{"OK64CodePoints", `"` + strings.Repeat("é", 64) + `"`, strings.Repeat("é", 64), "", ""},
		{"ErrMissingNull", `null`, "", CodeParamIllegal, "merchantId is required"},
		{"ErrMissingEmpty", `""`, "", CodeParamIllegal, "merchantId is required"},
		{"ErrNumber", `2160120036095023`, "", CodeParamIllegal, "merchantId: must be a JSON string, not a number"},
		{"ErrObject", `{"id":"1"}`, "", CodeParamIllegal, "merchantId: must be a JSON string, not an object"},
		{"ErrArray", `["1"]`, "", CodeParamIllegal, "not an array"},
		{"ErrBool", `true`, "", CodeParamIllegal, "not a boolean"},
		{"ErrTooLong", `"` + strings.Repeat("1", 65) + `"`, "", CodeParamIllegal, "merchantId: longer than 64 characters"},
		{"ErrControl", `"21601\n20036095023"`, "", CodeParamIllegal, "merchantId: contains a control character"},
		{"ErrDEL", `"2160\u007f"`, "", CodeParamIllegal, "control character"},
		{"ErrTab", `"2160\t"`, "", CodeParamIllegal, "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBody(t, []byte(`{"merchantId":`+tt.value+`}`))
			got, err := b.MerchantID()
			wantErr(t, err, tt.code, tt.fragment)
			if got != tt.want && tt.code == "" {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("ErrAbsent", func(t *testing.T) {
		_, err := mustBody(t, []byte(`{}`)).MerchantID()
		wantErr(t, err, CodeParamIllegal, "merchantId is required")
	})
}

func TestParseCreateRequest(t *testing.T) {
	tests := []struct {
		name     string
		set      map[string]string
		code     Code
		fragment string
	}{
		{"OK", nil, "", ""},
		{"OKOpenIdInstead", map[string]string{"userId": "", "openId": `"fj398457jd8iue98d8w7w93j"`}, "", ""},
		{"OKDatesAsStrings", map[string]string{"startDate": `"1735689600000"`, "endDate": `"4102444800000"`}, "", ""},
		{"OKTypeAndProductAbsent", map[string]string{"type": "", "product": `null`}, "", ""},
		{"OKDataInfoAsString", map[string]string{"dataInfo": `"{\"$points_zh_HK$\":1}"`}, "", ""},
		{"OKUnknownFieldIgnored", map[string]string{"templateId": `123`, "verifyType": `{}`}, "", ""},
		{"ErrMerchantIdNumber", map[string]string{"merchantId": `2160120036095023`}, CodeParamIllegal, "merchantId: must be a JSON string"},
		{"ErrNoUser", map[string]string{"userId": ""}, CodeParamIllegal, "userId or openId is required"}, // E22
		{"ErrUserIdTooLong", map[string]string{"userId": `"` + strings.Repeat("1", 33) + `"`}, CodeParamIllegal, "userId: longer than 32"},
		{"ErrOpenIdControl", map[string]string{"openId": `"a\u0001"`}, CodeParamIllegal, "openId: contains a control character"},
		{"ErrNoTemplateCode", map[string]string{"templateCode": `""`}, CodeParamIllegal, "templateCode is required"},
		{"ErrNoBizSerialId", map[string]string{"bizSerialId": ""}, CodeParamIllegal, "bizSerialId is required"},
		{"ErrBizSerialIdTooLong", map[string]string{"bizSerialId": `"` + strings.Repeat("x", 129) + `"`}, CodeParamIllegal, "bizSerialId: longer than 128"},
		{"ErrBizSerialTypeInPlatform", map[string]string{"bizSerialType": `"IN_PLAT_FORM"`}, CodeParamIllegal, "bizSerialType"}, // E28
		{"ErrBizSerialTypeLower", map[string]string{"bizSerialType": `"out_plat_form"`}, CodeParamIllegal, "bizSerialType"},
		{"ErrBizSerialTypeMissing", map[string]string{"bizSerialType": ""}, CodeParamIllegal, "bizSerialType is required"},
		{"ErrStartDateString", map[string]string{"startDate": `"2025-01-01 00:00:00"`}, CodeParamIllegal, "startDate"},                                                                                                        // E25
		{"ErrEndDateSeconds", map[string]string{"endDate": `1735689600`}, CodeParamIllegal, "endDate: must be epoch milliseconds with exactly 13 digits (got \"1735689600\"); it looks like Unix seconds: send milliseconds"}, // E26
		{"ErrStartDateSecondsString", map[string]string{"startDate": `"946684800"`}, CodeParamIllegal, "startDate: must be epoch milliseconds with exactly 13 digits (got \"946684800\"); it looks like Unix seconds"},
		{"ErrBizCreateMissing", map[string]string{"bizCreate": ""}, CodeParamIllegal, "bizCreate is required"},
		{"ErrTypeUnknown", map[string]string{"type": `"PASS"`}, CodeParamIllegal, "type"},
		{"ErrTypeLower", map[string]string{"type": `"card"`}, CodeParamIllegal, "type"},
		{"ErrProductUnknown", map[string]string{"product": `"VIP_CARD"`}, CodeParamIllegal, "product"},
		{"ErrCodeInfoArray", map[string]string{"codeInfo": `[]`}, CodeParamIllegal, "codeInfo: must be a JSON object"},
		{"ErrDataInfoNumber", map[string]string{"dataInfo": `5`}, CodeParamIllegal, "dataInfo: must be a JSON object"},
		{"ErrDataInfoNullValueOnCreate", map[string]string{"dataInfo": `{"$points_zh_HK$":null}`}, CodeParamIllegal, "null is not allowed"},
		{"ErrMetadataConflict", map[string]string{"dataInfo": `{"lastChangedPoints":"5","lastChangePoints":"6"}`}, CodeParamIllegal, "differ"}, // E43
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseCreateRequest(mustBody(t, withFields(t, body81Create, tt.set)))
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code == "" && (r.BizSerialID != "1111128828" || r.EndDate == 0) {
				t.Fatalf("parsed %+v", r)
			}
		})
	}
}

func TestParseCreateRequestValues(t *testing.T) {
	r, err := ParseCreateRequest(mustBody(t, []byte(body83Create)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Identity.OpenID != "fj398457jd8iue98d8w7w93j" || r.Identity.UserID != "" {
		t.Errorf("identity = %+v", r.Identity)
	}
	if r.Type != TypeCoupon || r.Product != ProductGiftCard || r.BizSerialType != BizSerialTypeOutPlatform {
		t.Errorf("type/product = %s/%s", r.Type, r.Product)
	}
	if r.CodeInfo == nil || r.CodeInfo.Msg != "9123912839123712893" {
		t.Errorf("codeInfo = %+v, want $codemsg$ defaulted", r.CodeInfo)
	}
	if got := string(r.DataInfo.Entries["$shopname_zh_HK$"]); got != `"示範店"` {
		t.Errorf("$shopname_zh_HK$ = %s", got)
	}
	if len(r.DataInfo.Entries) != 4 {
		t.Errorf("entries = %v", r.DataInfo.Entries)
	}
}

const updateBase = `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2995228480402564890018","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1}}`

func TestParseUpdateRequest(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		set      map[string]string
		code     Code
		fragment string
	}{
		{"OK", updateBase, nil, "", ""},
		{"OKSeedCase1", body82Case1, nil, "", ""},
		{"OKRealRefund", body84Refund, nil, "", ""},
		{"OKClosedWithoutKind", body25Closed, nil, "", ""},
		{"OKKindIgnoredForClosed", body25Closed, map[string]string{"updateDetailType": `"UPDATE_AIR_TICKET"`}, "", ""},
		{"OKCodeInfoOnly", updateBase, map[string]string{"dataInfo": "", "codeInfo": `{"$codevalue$":"1"}`}, "", ""},
		{"OKEndDateOnly", updateBase, map[string]string{"dataInfo": "", "endDate": `"1893456000000"`}, "", ""},
		{"OKEmptyDataInfoWithCode", updateBase, map[string]string{"dataInfo": `{}`, "codeInfo": `{"$codevalue$":"2"}`}, "", ""},
		{"OKNullRemoves", updateBase, map[string]string{"dataInfo": `{"$points_zh_HK$":null}`}, "", ""},
		{"OKBizDateIn24h", updateBase, map[string]string{"bizDate": "1736121600000"}, "", ""},
		{"ErrSeedWithoutPassId", body82Case1, map[string]string{"passId": "", "status": ""}, CodeParamIllegal, "passId is required"}, // E32
		{"ErrStatusMissing", updateBase, map[string]string{"status": ""}, CodeParamIllegal, "status is required"},
		{"ErrStatusDelete", updateBase, map[string]string{"status": `"DELETE"`}, CodeParamIllegal, "status"},  // E33
		{"ErrStatusLowerCase", updateBase, map[string]string{"status": `"used"`}, CodeParamIllegal, "status"}, // E34
		{"ErrStatusNumber", updateBase, map[string]string{"status": `1`}, CodeParamIllegal, "status: must be a JSON string"},
		{"ErrUpdateWithoutKind", updateBase, map[string]string{"updateDetailType": ""}, CodeParamIllegal, "updateDetailType is required"},  // E35
		{"ErrUnknownKind", updateBase, map[string]string{"updateDetailType": `"UPDATE_EVERYTHING"`}, CodeParamIllegal, "updateDetailType"}, // E36
		{"ErrUnknownKindOnClosed", body25Closed, map[string]string{"updateDetailType": `"UPDATE_EVERYTHING"`}, CodeParamIllegal, "updateDetailType"},
		{"ErrNothingToUpdate", updateBase, map[string]string{"dataInfo": ""}, CodeParamIllegal, "nothing to update"},
		{"ErrNothingEmptyDataInfo", updateBase, map[string]string{"dataInfo": `{}`}, CodeParamIllegal, "nothing to update"},
		{"ErrNothingMetadataOnly", updateBase, map[string]string{"dataInfo": `{"billNo":"1"}`}, CodeParamIllegal, "nothing to update"},
		{"ErrBizDateFuture", updateBase, map[string]string{"bizDate": "1736121600001"}, CodeParamIllegal, "bizDate: 1736121600001 (2025-01-06T00:00:00.001Z) is more than 24 hours after the server time 1736035200000 (2025-01-05T00:00:00Z)"},
		{"ErrBizDateSeconds", updateBase, map[string]string{"bizDate": "1736121600"}, CodeParamIllegal, "bizDate"},
		{"ErrEndDateFraction", updateBase, map[string]string{"endDate": "1893456000000.5"}, CodeParamIllegal, "endDate"},
		{"ErrPassIdTooLong", updateBase, map[string]string{"passId": `"` + strings.Repeat("9", 33) + `"`}, CodeParamIllegal, "passId: longer than 32"},
		{"ErrTemplateCodeNumber", updateBase, map[string]string{"templateCode": `1`}, CodeParamIllegal, "templateCode"},
		{"ErrPassVerifyCodeTooLong", updateBase, map[string]string{"passVerifyCode": `"` + strings.Repeat("v", 129) + `"`}, CodeParamIllegal, "passVerifyCode"},
		{"ErrMetadataConflict", updateBase, map[string]string{"dataInfo": `{"$points_zh_HK$":1,"lastChangedPoints":"5","lastChangePoints":"6"}`}, CodeParamIllegal, "lastChangedPoints 5 and lastChangePoints 6 differ"}, // E43
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseUpdateRequest(mustBody(t, withFields(t, tt.base, tt.set)), testNow)
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code == "" && r.Fingerprint() == "" {
				t.Fatal("no fingerprint")
			}
		})
	}
}

func TestParseQueryRequest(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		code     Code
		fragment string
	}{
		{"OKPassId", `{"merchantId":"m","passId":"1"}`, "", ""},
		{"OKBizSerialId", `{"merchantId":"m","bizSerialId":"1111128828"}`, "", ""}, // E45 syntax
		{"OKBothAndUser", `{"merchantId":"m","passId":"1","bizSerialId":"2","openId":"o"}`, "", ""},
		{"ErrNeither", `{"merchantId":"m","userId":"u"}`, CodeParamIllegal, "passId or bizSerialId is required"}, // E44
		{"ErrNeitherEmpty", `{"merchantId":"m","passId":"","bizSerialId":null}`, CodeParamIllegal, "passId or bizSerialId is required"},
		{"ErrPassIdNumber", `{"merchantId":"m","passId":1}`, CodeParamIllegal, "passId: must be a JSON string"},
		{"ErrNoMerchant", `{"passId":"1"}`, CodeParamIllegal, "merchantId is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQueryRequest(mustBody(t, []byte(tt.body)))
			wantErr(t, err, tt.code, tt.fragment)
		})
	}
}
