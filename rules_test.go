package ipass

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTransition(t *testing.T) {
	ok := func(to Status) struct {
		to   Status
		code Code
	} {
		return struct {
			to   Status
			code Code
		}{to, CodeSuccess}
	}
	fail := func(c Code) struct {
		to   Status
		code Code
	} {
		return struct {
			to   Status
			code Code
		}{"", c}
	}
	// Every cell of the 5.3 table, row by row.
	tests := []struct {
		name      string
		current   Status
		requested RequestedStatus
		want      struct {
			to   Status
			code Code
		}
	}{
		{"ActiveUpdateOK", StatusActive, RequestUpdate, ok(StatusActive)},
		{"ActiveUsedOK", StatusActive, RequestUsed, ok(StatusUsed)},
		{"ActiveRefundOK", StatusActive, RequestRefund, ok(StatusRefund)},
		{"ActiveClosedOK", StatusActive, RequestClosed, ok(StatusClosed)},
		{"ExpiredUpdateIllegal", StatusExpired, RequestUpdate, fail(CodePassStatusIllegal)},
		{"ExpiredUsedIllegal", StatusExpired, RequestUsed, fail(CodePassStatusIllegal)},
		{"ExpiredRefundIllegal", StatusExpired, RequestRefund, fail(CodePassStatusIllegal)},
		{"ExpiredClosedOK", StatusExpired, RequestClosed, ok(StatusClosed)},
		{"UsedUpdateOccupied", StatusUsed, RequestUpdate, fail(CodePassUsedOccupied)},
		{"UsedUsedOccupied", StatusUsed, RequestUsed, fail(CodePassUsedOccupied)},
		{"UsedRefundOccupied", StatusUsed, RequestRefund, fail(CodePassUsedOccupied)},
		{"UsedClosedOK", StatusUsed, RequestClosed, ok(StatusClosed)},
		{"RefundUpdateIllegal", StatusRefund, RequestUpdate, fail(CodePassStatusIllegal)},
		{"RefundUsedIllegal", StatusRefund, RequestUsed, fail(CodePassStatusIllegal)},
		{"RefundRefundIllegal", StatusRefund, RequestRefund, fail(CodePassStatusIllegal)},
		{"RefundClosedIllegal", StatusRefund, RequestClosed, fail(CodePassStatusIllegal)},
		{"ClosedUpdateIllegal", StatusClosed, RequestUpdate, fail(CodePassStatusIllegal)},
		{"ClosedUsedIllegal", StatusClosed, RequestUsed, fail(CodePassStatusIllegal)},
		{"ClosedRefundIllegal", StatusClosed, RequestRefund, fail(CodePassStatusIllegal)},
		{"ClosedClosedIllegal", StatusClosed, RequestClosed, fail(CodePassStatusIllegal)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to, code, err := Transition(tt.current, tt.requested)
			if err != nil {
				t.Fatal(err)
			}
			if to != tt.want.to || code != tt.want.code {
				t.Fatalf("got (%s, %s), want (%s, %s)", to, code, tt.want.to, tt.want.code)
			}
		})
	}
	if len(transitions) != 5 {
		t.Fatalf("table has %d rows, want 5", len(transitions))
	}
	for st, row := range transitions {
		if len(row) != 4 {
			t.Errorf("row %s has %d cells, want 4", st, len(row))
		}
	}
	for _, bad := range []struct {
		name string
		cur  Status
		req  RequestedStatus
	}{
		{"ErrUnknownCurrent", "PENDING", RequestClosed},
		{"ErrLowerCaseCurrent", "active", RequestClosed},
		{"ErrEmptyCurrent", "", RequestUpdate},
		{"ErrUnknownRequested", StatusActive, "DELETE"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, _, err := Transition(bad.cur, bad.req)
			if err == nil || ErrorCode(err) != CodeUnknownException {
				t.Fatalf("got %v, want an internal error", err)
			}
		})
	}
}

func TestEffectiveStatus(t *testing.T) {
	now := testNow
	tests := []struct {
		name   string
		status Status
		end    int64
		want   Status
	}{
		{"ActiveBeforeEnd", StatusActive, now.UnixMilli() + 1, StatusActive},
		{"ActiveAtEnd", StatusActive, now.UnixMilli(), StatusActive},
		{"ActivePastEndIsExpired", StatusActive, now.UnixMilli() - 1, StatusExpired},
		{"UsedPastEndStaysUsed", StatusUsed, 1, StatusUsed},
		{"ClosedPastEnd", StatusClosed, 1, StatusClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pass{Status: tt.status, EndDate: tt.end}
			if got := p.EffectiveStatus(now); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheckTemplateTypeProduct(t *testing.T) {
	tests := []struct {
		name     string
		set      map[string]string
		code     Code
		fragment string
	}{
		{"OK", nil, "", ""},
		{"OKAbsent", map[string]string{"type": "", "product": ""}, "", ""},
		{"ErrType", map[string]string{"type": `"TICKET"`}, CodeParamIllegal, "type: TICKET does not match template temlate111001, which is CARD"}, // E29
		{"ErrProduct", map[string]string{"product": `"GIFT_CARD"`}, CodeParamIllegal, "product: GIFT_CARD does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseCreateRequest(mustBody(t, withFields(t, body81Create, tt.set)))
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, r.CheckTemplate(tplMember), tt.code, tt.fragment)
		})
	}
}

func TestPlanCreate(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		tpl      *Template
		set      map[string]string
		code     Code
		fragment string
	}{
		{"OKMember", body81Create, tplMember, nil, "", ""},
		{"OKGiftNested", body83Create, tplGift, nil, "", ""},
		{"OKTicket", body84Create, tplTicket, nil, "", ""},
		{"OKAirEmptyCode", body84Create, tplAir, map[string]string{"dataInfo": `{"$flightNo_en_US$":"CX 888"}`, "codeInfo": `{"$codemsg$":"","$codevalue$":""}`, "product": ""}, "", ""},
		{"OKNoneTemplateCardWithoutCode", body81Create, &Template{Code: "n", Type: TypeCard, Product: ProductMemberCard, Locales: []string{"zh_HK", "en_US"}, Placeholders: []string{"points", "level"}, CodeDisplay: CodeNone},
			map[string]string{"codeInfo": ""}, "", ""},
		{"OKStartEqualsEnd", body81Create, tplMember, map[string]string{"startDate": `4102444800000`}, "", ""},
		{"OKNoDataInfo", body81Create, tplMember, map[string]string{"dataInfo": ""}, "", ""},
		{"ErrUndeclaredLocale", body81Create, tplMember, map[string]string{"dataInfo": `{"$points_fr_FR$":1}`}, CodeParamIllegal, "locale fr_FR is not declared"}, // E27
		{"ErrTicketWithoutCode", body84Create, tplAir, map[string]string{"dataInfo": "", "codeInfo": ""}, CodeParamIllegal, "codeInfo is required for a TICKET pass"},
		{"ErrCardWithoutCode", body81Create, tplMember, map[string]string{"codeInfo": ""}, CodeParamIllegal, "codeInfo is required: template temlate111001 shows a QRCODE"},
		{"ErrEmptyCodeValue", body81Create, tplMember, map[string]string{"codeInfo": `{"$codemsg$":"x","$codevalue$":""}`}, CodeParamIllegal, "codeInfo.$codevalue$: must not be empty"},
		{"ErrEndBeforeStart", body81Create, tplMember, map[string]string{"endDate": `1735689599999`}, CodeParamIllegal, "endDate: 1735689599999 (2024-12-31T23:59:59.999Z) is before startDate 1735689600000 (2025-01-01T00:00:00Z)"},
		{"ErrDataInfoBeforeCodeInfo", body81Create, tplMember, map[string]string{"dataInfo": `{"$x_en_US$":1}`, "codeInfo": ""}, CodeParamIllegal, "placeholder x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseCreateRequest(mustBody(t, withFields(t, tt.base, tt.set)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = PlanCreate(r, tt.tpl, "u1")
			wantErr(t, err, tt.code, tt.fragment)
		})
	}
}

func TestCreatePlanCheckNew(t *testing.T) {
	tests := []struct {
		name string
		end  string
		iso  string // how the message shows end
		code Code
	}{
		{"OKFuture", "1736035200001", "", ""},
		{"ErrNow", "1736035200000", "2025-01-05T00:00:00Z", CodeParamIllegal},  // endDate must be later than now
		{"ErrPast", "1735689600000", "2025-01-01T00:00:00Z", CodeParamIllegal}, // E31
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseCreateRequest(mustBody(t, withFields(t, body81Create, map[string]string{"endDate": tt.end})))
			if err != nil {
				t.Fatal(err)
			}
			pl, err := PlanCreate(r, tplMember, "u1")
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, pl.CheckNew(testNow), tt.code, "endDate: "+tt.end+" ("+tt.iso+") is in the past")
		})
	}
}

func TestCreatePlanIssue(t *testing.T) {
	r, err := ParseCreateRequest(mustBody(t, withFields(t, body81Create, map[string]string{"dataInfo": `{"$points_zh_HK$":100,"billNo":"B1","lastChangePoints":"100"}`, "type": ""})))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := PlanCreate(r, tplMember, "2160220037090534")
	if err != nil {
		t.Fatal(err)
	}
	p, v, err := pl.Issue("2025010500000000000000000000001", testNow, Caller{ClientID: "c", TracerID: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "2025010500000000000000000000001" || p.Status != StatusActive || p.Version != 1 ||
		p.Type != TypeCard || p.Product != ProductMemberCard || p.UserID != "2160220037090534" ||
		p.CreatedAt != testNow.UnixMilli() || p.UpdatedAt != p.CreatedAt || p.LastBizDate != 0 {
		t.Errorf("pass = %+v", p)
	}
	if len(p.DataInfo) != 1 || string(p.DataInfo["$points_zh_HK$"]) != "100" {
		t.Errorf("dataInfo = %v (metadata must stay out)", p.DataInfo)
	}
	if p.CreateFingerprint == "" || p.CreateFingerprint != pl.Fingerprint() {
		t.Errorf("fingerprint = %q", p.CreateFingerprint)
	}
	if v.Operation != "createPass" || v.Version != 1 || v.ClientID != "c" || v.TracerID != "t" ||
		v.MerchantID != "2160120036095023" || v.Status != StatusActive || v.At != p.CreatedAt {
		t.Errorf("version = %+v", v)
	}
	if string(v.Metadata) != `{"billNo":"B1","lastChangedPoints":100}` {
		t.Errorf("metadata = %s", v.Metadata)
	}
	if !json.Valid(v.Changes) || !bytes.Contains(v.Changes, []byte(`"status":"ACTIVE"`)) {
		t.Errorf("changes = %s", v.Changes)
	}
}

// storedPass returns a pass as the 8.x examples have it after creation.
func storedPass(tpl *Template) *Pass {
	return &Pass{
		ID: "P1", MerchantID: "2160120036095023", BizSerialID: "S1", TemplateCode: tpl.Code,
		Type: tpl.Type, Product: tpl.Product, UserID: "U1", Status: StatusActive,
		StartDate: 1735689600000, EndDate: 4102444800000, BizCreate: 1735689600000,
		DataInfo: DataInfo{"$" + tpl.Placeholders[0] + "_en_US$": json.RawMessage(`"old"`), "$" + tpl.Placeholders[1] + "_en_US$": json.RawMessage(`"keep"`)},
		CodeInfo: CodeInfo{Msg: "1", Value: "1"}, Version: 1, CreatedAt: 1, UpdatedAt: 1,
		CreateFingerprint: "{}",
	}
}

func TestDecide(t *testing.T) {
	const mem = `{"merchantId":"2160120036095023","userId":"U1","passId":"P1",`
	caller := Caller{ClientID: "2110200000000044", TracerID: "trace"}
	tests := []struct {
		name     string
		tpl      *Template
		mutate   func(p *Pass) // state before the request
		body     string
		userID   string
		code     Code
		fragment string
		check    func(t *testing.T, p *Pass, v *PassVersion)
	}{
		{name: "OKMemberPointsOnly", tpl: tplMember,
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":19999,"billNo":"B"}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if string(p.DataInfo["$points_en_US$"]) != "19999" || string(p.DataInfo["$level_en_US$"]) != `"keep"` {
					t.Errorf("dataInfo = %v", p.DataInfo)
				}
				if p.Status != StatusActive || p.LastBizDate != 0 || p.LastUpdateFingerprint == "" || p.UpdatedAt != testNow.UnixMilli() {
					t.Errorf("pass = %+v", p)
				}
				if string(v.Metadata) != `{"billNo":"B"}` || v.RequestStatus != "UPDATE" || v.UpdateKind != UpdateMemberCard ||
					v.ClientID != "2110200000000044" || v.TracerID != "trace" || v.Operation != "updatePass" {
					t.Errorf("version = %+v", v)
				}
				if string(v.Changes) != `{"dataInfo":{"$points_en_US$":19999}}` {
					t.Errorf("changes = %s", v.Changes)
				}
			}},
		{name: "OKCardUpdateWithoutBizDate", tpl: tplMember, mutate: func(p *Pass) { p.LastBizDate = 1735862400000 },
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$points_en_US$":1}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.LastBizDate != 1735862400000 {
					t.Errorf("lastBizDate moved to %d", p.LastBizDate)
				}
			}},
		{name: "OKValidityInPast", tpl: tplMember,
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":"1735689600000"}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.EndDate != 1735689600000 || p.EffectiveStatus(testNow) != StatusExpired {
					t.Errorf("endDate %d, status %s", p.EndDate, p.EffectiveStatus(testNow))
				}
			}},
		{name: "OKCodeReplaced", tpl: tplMember,
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codevalue$":"81399941"}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.CodeInfo != (CodeInfo{"81399941", "81399941"}) {
					t.Errorf("codeInfo = %+v", p.CodeInfo)
				}
			}},
		{name: "OKClosedWithTemplateCode", tpl: tplMember, body: mem + `"templateCode":"temlate111001","status":"CLOSED","updateDetailType":"UPDATE_DATA_INFO"}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.Status != StatusClosed || v.Status != StatusClosed || string(v.Changes) != `{"status":"CLOSED"}` || v.UpdateKind != "" {
					t.Errorf("status %s, changes %s", p.Status, v.Changes)
				}
			}},
		{name: "OKGiftBizDateAdvances", tpl: tplGift, mutate: func(p *Pass) { p.LastBizDate = 1735776000000 },
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$shopname_en_US$":null}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.LastBizDate != 1735862400000 || v.BizDate != 1735862400000 {
					t.Errorf("lastBizDate %d", p.LastBizDate)
				}
				if _, ok := p.DataInfo["$shopname_en_US$"]; ok {
					t.Error("null did not remove the key")
				}
			}},
		{name: "OKEqualBizDateApplies", tpl: tplGift, mutate: func(p *Pass) { p.LastBizDate = 1735776000000 },
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"codeInfo":{"$codevalue$":"2"}}`}, // C1b
		{name: "OKUsedBizDateRecordedNotCompared", tpl: tplTicket, mutate: func(p *Pass) { p.LastBizDate = 1735862400000 },
			body: mem + `"status":"USED","bizDate":1735689600000,"passVerifyCode":"V"}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.Status != StatusUsed || p.LastBizDate != 1735862400000 || v.BizDate != 1735689600000 || v.PassVerifyCode != "V" {
					t.Errorf("pass %+v version %+v", p, v)
				}
			}},
		{name: "OKRefundWithDataInfo", tpl: tplTicket,
			body: mem + `"status":"REFUND","dataInfo":{"$availableTimes_zh_HK$":0}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.Status != StatusRefund || string(p.DataInfo["$availableTimes_zh_HK$"]) != "0" {
					t.Errorf("pass %+v", p)
				}
			}},
		{name: "OKExpiredRenewed", tpl: tplMember, mutate: func(p *Pass) { p.EndDate = 1735689600000 },
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":4102444800000}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.Status != StatusActive || p.EffectiveStatus(testNow) != StatusActive || p.EndDate != 4102444800000 || v.Status != StatusActive {
					t.Errorf("pass %s (effective %s) until %d, version status %s", p.Status, p.EffectiveStatus(testNow), p.EndDate, v.Status)
				}
				e, err := HistoryEntryOf(*v, map[string]json.RawMessage{"endDate": json.RawMessage("1735689600000")})
				if err != nil || !e.Renewal || len(e.Changes) != 1 || e.Changes[0].Field != "endDate" || string(e.Changes[0].From) != "1735689600000" || string(e.Changes[0].To) != "4102444800000" {
					t.Errorf("history entry %+v, %v: want a renewal changing endDate only", e, err)
				}
			}},
		{name: "OKCouponRenewedWithData", tpl: tplGift, mutate: func(p *Pass) { p.EndDate = 1735689600000 },
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"endDate":4102444800000,"dataInfo":{"$balance_en_US$":"HKD 1"}}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if p.EffectiveStatus(testNow) != StatusActive || !strings.Contains(string(v.Changes), `"renewal":true`) {
					t.Errorf("effective %s, changes %s", p.EffectiveStatus(testNow), v.Changes)
				}
			}},
		{name: "OKActiveEndDateIsNoRenewal", tpl: tplMember,
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":4102444800001}`,
			check: func(t *testing.T, p *Pass, v *PassVersion) {
				if strings.Contains(string(v.Changes), "renewal") {
					t.Errorf("changes %s: extending an ACTIVE pass is not a renewal", v.Changes)
				}
			}},
		{name: "OKExpiredClosed", tpl: tplMember, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"CLOSED"}`}, // E42
		{name: "OKUsedClosed", tpl: tplGift, mutate: func(p *Pass) { p.Status = StatusUsed }, body: mem + `"status":"CLOSED"}`},
		{name: "OKTicketEmptyDataInfo", tpl: tplTicket,
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{},"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`}, // T3
		{name: "OKByOpenIdUser", tpl: tplMember, userID: "U1", body: `{"merchantId":"2160120036095023","openId":"o","passId":"P1","status":"CLOSED"}`},

		{name: "ErrOtherUser", tpl: tplMember, userID: "U2", body: mem + `"status":"CLOSED"}`, code: CodePassHasNotExist, fragment: "passId P1: pass not found"}, // E39
		{name: "ErrOtherMerchant", tpl: tplMember, mutate: func(p *Pass) { p.MerchantID = "2160400000000022" }, body: mem + `"status":"CLOSED"}`, code: CodePassHasNotExist, fragment: "pass not found"},
		{name: "ErrTemplateCode", tpl: tplMember, body: mem + `"templateCode":"82022031000135000000000000624234","status":"CLOSED"}`, code: CodeParamIllegal, fragment: "templateCode: 82022031000135000000000000624234 is not the template of pass P1"}, // E40
		{name: "ErrPlaceholder", tpl: tplTicket, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{"$seat_en_US$":"A1"}}`, code: CodeParamIllegal, fragment: "placeholder seat"},                       // T5
		{name: "ErrEmptyCodeValue", tpl: tplMember, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codemsg$":"x"}}`, code: CodeParamIllegal, fragment: "codeInfo.$codevalue$"},
		{name: "ErrCardUsed", tpl: tplMember, body: mem + `"status":"USED"}`, code: CodeBizNotSupport, fragment: "status: USED is not supported for a CARD pass"},                                                                                                   // M7
		{name: "ErrCardRefund", tpl: tplMember, body: mem + `"status":"REFUND"}`, code: CodeBizNotSupport, fragment: "status: REFUND is not supported"},                                                                                                             // M8
		{name: "ErrCardRefundEvenClosed", tpl: tplMember, mutate: func(p *Pass) { p.Status = StatusClosed }, body: mem + `"status":"REFUND"}`, code: CodeBizNotSupport},                                                                                             // U1 before the state machine
		{name: "ErrKindForProduct", tpl: tplMember, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","dataInfo":{"$points_zh_HK$":1}}`, code: CodeBizNotSupport, fragment: "updateDetailType: UPDATE_PASS is not supported for product MEMBER_CARD"}, // M9
		{name: "ErrUpdateTemplate", tpl: tplMember, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_TEMPLATE","dataInfo":{"$points_zh_HK$":1}}`, code: CodeBizNotSupport, fragment: "UPDATE_TEMPLATE"},                                                    // E37
		{name: "ErrUpdateLevel", tpl: tplMember, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_LEVEL","dataInfo":{"$points_zh_HK$":1}}`, code: CodeBizNotSupport, fragment: "UPDATE_LEVEL"},
		{name: "ErrAirValidity", tpl: tplAir, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","bizDate":1735948800000,"endDate":1735000000000}`, code: CodeBizNotSupport},                                                                                         // F4
		{name: "ErrGiftMemberKind", tpl: tplGift, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","bizDate":1735862400000,"dataInfo":{"$balance_en_US$":"HKD 300"}}`, code: CodeBizNotSupport},                                                                 // C3
		{name: "ErrCouponNoBizDate", tpl: tplGift, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$balance_en_US$":"HKD 300"}}`, code: CodeParamIllegal, fragment: "bizDate is required for UPDATE on a COUPON pass"},                              // C2
		{name: "ErrTicketNoDataInfo", tpl: tplTicket, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`, code: CodeParamIllegal, fragment: "dataInfo is required for UPDATE on a TICKET pass"}, // T2
		{name: "ErrValidityNoEndDate", tpl: tplMember, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","dataInfo":{"$points_zh_HK$":1}}`, code: CodeParamIllegal, fragment: "endDate is required with UPDATE_VALIDITY"},
		{name: "ErrEndBeforeStart", tpl: tplAir, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735948800000,"dataInfo":{},"endDate":1735000000000}`, code: CodeParamIllegal, fragment: "endDate: 1735000000000 (2024-12-24T00:26:40Z) is before the pass's startDate 1735689600000 (2025-01-01T00:00:00Z)"}, // F5
		// E41: an EXPIRED pass refuses UPDATE, except a renewal (an endDate in the future).
		{name: "ErrExpiredUpdate", tpl: tplMember, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1}}`, code: CodePassStatusIllegal, fragment: "is EXPIRED"},
		{name: "ErrExpiredUpdatePastEndDate", tpl: tplMember, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":1735776000000}`, code: CodePassStatusIllegal, fragment: "is EXPIRED"},
		{name: "ErrExpiredUpdateEndDateNow", tpl: tplMember, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":1736035200000}`, code: CodePassStatusIllegal, fragment: "is EXPIRED"},
		{name: "ErrUsedRenewal", tpl: tplGift, mutate: func(p *Pass) { p.Status, p.EndDate = StatusUsed, 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","bizDate":1735862400000,"endDate":4102444800000}`, code: CodePassUsedOccupied},
		{name: "ErrRefundRenewal", tpl: tplGift, mutate: func(p *Pass) { p.Status, p.EndDate = StatusRefund, 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","bizDate":1735862400000,"endDate":4102444800000}`, code: CodePassStatusIllegal, fragment: "is REFUND"},
		{name: "ErrClosedRenewal", tpl: tplMember, mutate: func(p *Pass) { p.Status, p.EndDate = StatusClosed, 1735689600000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":4102444800000}`, code: CodePassStatusIllegal, fragment: "is CLOSED"},
		{name: "ErrExpiredUsedWithEndDate", tpl: tplGift, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"USED","endDate":4102444800000}`, code: CodePassStatusIllegal, fragment: "EXPIRED"},
		{name: "ErrRenewalStale", tpl: tplGift, mutate: func(p *Pass) { p.EndDate, p.LastBizDate = 1735689600000, 1735862400000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","bizDate":1735776000000,"endDate":4102444800000}`, code: CodePassStatusIllegal, fragment: "stale"},
		{name: "ErrExpiredUsed", tpl: tplGift, mutate: func(p *Pass) { p.EndDate = 1735689600000 }, body: mem + `"status":"USED"}`, code: CodePassStatusIllegal, fragment: "EXPIRED"},
		{name: "ErrUsedRefund", tpl: tplGift, mutate: func(p *Pass) { p.Status = StatusUsed }, body: mem + `"status":"REFUND"}`, code: CodePassUsedOccupied, fragment: "already USED"}, // C8
		{name: "ErrUsedUpdate", tpl: tplGift, mutate: func(p *Pass) { p.Status = StatusUsed }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$balance_en_US$":"0"}}`, code: CodePassUsedOccupied},
		{name: "ErrClosedUpdate", tpl: tplMember, mutate: func(p *Pass) { p.Status = StatusClosed }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1}}`, code: CodePassStatusIllegal, fragment: "is CLOSED and accepts no further change"}, // M12
		{name: "ErrRefundClosed", tpl: tplGift, mutate: func(p *Pass) { p.Status = StatusRefund }, body: mem + `"status":"CLOSED"}`, code: CodePassStatusIllegal, fragment: "REFUND"},
		{name: "ErrStale", tpl: tplGift, mutate: func(p *Pass) { p.LastBizDate = 1735776000000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735689600000,"dataInfo":{"$balance_en_US$":"HKD 999"}}`, code: CodePassStatusIllegal, fragment: "stale update: bizDate 1735689600000 (2025-01-01T00:00:00Z) is older than the last applied bizDate 1735776000000 (2025-01-02T00:00:00Z)"}, // C4
		{name: "ErrStaleCardWithBizDate", tpl: tplMember, mutate: func(p *Pass) { p.LastBizDate = 1735776000000 }, body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","bizDate":1735689600000,"dataInfo":{"$points_zh_HK$":1}}`, code: CodePassStatusIllegal, fragment: "stale"},
		{name: "ErrMergedTooManyKeys", tpl: &Template{Code: tplMember.Code, Type: TypeCard, Product: ProductMemberCard, Locales: []string{"en_US"}, Placeholders: append([]string{"points", "level"}, manyNames(250)...), CodeDisplay: CodeQR},
			mutate: func(p *Pass) {
				for _, n := range manyNames(198) { // 2 stored + 198 = 200
					p.DataInfo["$"+n+"_en_US$"] = json.RawMessage(`1`)
				}
			},
			body: mem + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$n249_en_US$":1}}`, code: CodeParamIllegal, fragment: "the result would have more than 200 keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := storedPass(tt.tpl)
			if tt.mutate != nil {
				tt.mutate(p)
			}
			before := *p
			before.DataInfo = cloneDataInfo(p.DataInfo)
			r, err := ParseUpdateRequest(mustBody(t, []byte(tt.body)), testNow)
			if err != nil {
				t.Fatal(err)
			}
			user := tt.userID
			if user == "" {
				user = "U1"
			}
			v, err := r.Decide(p, tt.tpl, user, testNow, caller)
			wantErr(t, err, tt.code, tt.fragment)
			if tt.code != "" {
				if !reflect.DeepEqual(*p, before) {
					t.Fatalf("a refused request changed the pass: %+v", p)
				}
				return
			}
			if v == nil {
				t.Fatal("got an exact retry, want a change")
			}
			if tt.check != nil {
				tt.check(t, p, v)
			}
		})
	}
}

func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "n" + strconv.Itoa(i)
	}
	return out
}

func TestDecideExactRetry(t *testing.T) {
	const m4 = `{"merchantId":"2160120036095023","userId":"U1","passId":"P1","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codemsg$":"81399941","$codevalue$":"81399941"}}`
	const m10 = `{"merchantId":"2160120036095023","userId":"U1","passId":"P1","templateCode":"temlate111001","status":"CLOSED"}`
	steps := []struct {
		name    string
		body    string
		code    Code
		applied bool // a new version
	}{
		{"M4Applied", m4, "", true},
		{"M5RetryNoChange", strings.Replace(m4, `"userId":"U1"`, `"openId":"o"`, 1), "", false},
		{"M10Closed", m10, "", true},
		{"M11RetryOnClosed", m10, "", false},
		{"M4AfterCloseNotLast", m4, CodePassStatusIllegal, false},
		{"M12UpdateOnClosed", `{"merchantId":"2160120036095023","userId":"U1","passId":"P1","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1,"$points_en_US$":1}}`, CodePassStatusIllegal, false},
		{"ClosedAgainStillRetry", m10, "", false},
	}
	p := storedPass(tplMember)
	version := 1
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r, err := ParseUpdateRequest(mustBody(t, []byte(st.body)), testNow)
			if err != nil {
				t.Fatal(err)
			}
			next := *p
			next.DataInfo = cloneDataInfo(p.DataInfo)
			v, err := r.Decide(&next, tplMember, "U1", testNow, Caller{})
			wantErr(t, err, st.code, "")
			if (v != nil) != st.applied {
				t.Fatalf("applied = %v, want %v", v != nil, st.applied)
			}
			if v != nil {
				version++
				next.Version = version
				*p = next
			}
		})
	}
	if version != 3 || p.Status != StatusClosed {
		t.Fatalf("version %d status %s", version, p.Status)
	}
}

func TestDecideUsedRetryAndRace(t *testing.T) {
	const used = `{"merchantId":"2160120036095023","userId":"U1","passId":"P1","status":"USED","bizDate":1735948800000}`
	p := storedPass(tplTicket)
	apply := func(body string) (*PassVersion, error) {
		r, err := ParseUpdateRequest(mustBody(t, []byte(body)), testNow)
		if err != nil {
			t.Fatal(err)
		}
		return r.Decide(p, tplTicket, "U1", testNow, Caller{})
	}
	if v, err := apply(used); err != nil || v == nil {
		t.Fatalf("T6: %v %v", v, err)
	}
	if v, err := apply(used); err != nil || v != nil {
		t.Fatalf("T6 retry: %v %v", v, err)
	}
	_, err := apply(strings.Replace(used, "1735948800000", "1736035200000", 1)) // T7
	wantErr(t, err, CodePassUsedOccupied, "already USED")
}

func TestDecideUnknownStoredStatus(t *testing.T) {
	p := storedPass(tplMember)
	p.Status = "SUSPENDED"
	r, err := ParseUpdateRequest(mustBody(t, []byte(body25Closed)), testNow)
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "2995228480402564890018"
	p.UserID = "2160220037090534"
	_, err = r.Decide(p, tplMember, "2160220037090534", testNow, Caller{})
	if err == nil || ErrorCode(err) != CodeUnknownException {
		t.Fatalf("got %v, want an internal error", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("internal error carries a result code: %v", e)
	}
}

func TestDecideWrongTemplate(t *testing.T) {
	p := storedPass(tplMember)
	r, err := ParseUpdateRequest(mustBody(t, []byte(`{"merchantId":"2160120036095023","userId":"U1","passId":"P1","status":"CLOSED"}`)), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Decide(p, tplGift, "U1", testNow, Caller{}); ErrorCode(err) != CodeUnknownException {
		t.Fatalf("got %v, want internal error for a template that is not the pass's", err)
	}
}

func TestNewPassID(t *testing.T) {
	re := regexp.MustCompile(`^20250105[0-9]{23}$`)
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewPassID(testNow.Add(23 * time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(id) {
			t.Fatalf("passId %q does not match %s", id, re)
		}
		if seen[id] {
			t.Fatalf("duplicate passId %s", id)
		}
		seen[id] = true
	}
	// The date is UTC even when the clock's location is not.
	hk := time.FixedZone("HKT", 8*3600)
	id, _ := NewPassID(time.Date(2025, 1, 5, 7, 0, 0, 0, hk))
	if !strings.HasPrefix(id, "20250104") {
		t.Fatalf("passId %s: date not UTC", id)
	}
	if _, err := newPassID(testNow, bytes.NewReader(nil)); err == nil {
		t.Fatal("a failing random source was ignored")
	}
	id, _ = newPassID(testNow, bytes.NewReader(make([]byte, 64)))
	if id != "20250105"+strings.Repeat("0", 23) {
		t.Fatalf("zero randomness gave %s", id)
	}
}

func TestNewPassView(t *testing.T) {
	p := storedPass(tplMember)
	p.EndDate = testNow.UnixMilli() - 1
	p.LastBizDate = 7
	v := NewPassView(p, "open", testNow)
	if v.Status != StatusExpired || v.OpenID != "open" || v.PassID != "P1" || v.LastBizDate != 7 || v.Version != 1 {
		t.Fatalf("view = %+v", v)
	}
	p.DataInfo = nil
	out, err := json.Marshal(NewPassView(p, "", testNow))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"dataInfo":{}`)) || bytes.Contains(out, []byte(`openId`)) {
		t.Fatalf("view JSON = %s", out)
	}
}
