package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
)

// step is one request of a worked-example sequence. {pass} in body is
// replaced by the pass the sequence works on.
type step struct {
	name  string
	op    string // createPass, updatePass, queryPass; default updatePass
	body  string
	want  ipass.Code
	check func(t *testing.T, p *ipass.PassView) // run on the pass read back afterwards
}

// runSteps sends each step in order; every step reads the pass back and
// checks its version moved only when the step was meant to change it.
func runSteps(t *testing.T, h *harness, merchant, passID string, steps []step) {
	t.Helper()
	for _, s := range steps {
		before := h.query(merchant, passID)
		op := s.op
		if op == "" {
			op = "updatePass"
		}
		r := h.op(op, strings.ReplaceAll(s.body, "{pass}", passID))
		if r.code != s.want {
			t.Fatalf("%s: got %s (%s), want %s", s.name, r.code, r.message, s.want)
		}
		after := h.query(merchant, passID)
		if s.want != ipass.CodeSuccess && !samePass(before, after) {
			t.Fatalf("%s: failed request changed the pass:\nbefore %+v\nafter  %+v", s.name, before, after)
		}
		if s.check != nil {
			s.check(t, after)
		}
	}
}

func samePass(a, b *ipass.PassView) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func wantVersion(v int) func(*testing.T, *ipass.PassView) {
	return func(t *testing.T, p *ipass.PassView) {
		t.Helper()
		if p.Version != v {
			t.Fatalf("version %d, want %d", p.Version, v)
		}
	}
}

func wantStatus(s ipass.Status, v int) func(*testing.T, *ipass.PassView) {
	return func(t *testing.T, p *ipass.PassView) {
		t.Helper()
		if p.Status != s || p.Version != v {
			t.Fatalf("status %s version %d, want %s version %d", p.Status, p.Version, s, v)
		}
	}
}

// wantData checks dataInfo values (as compact JSON) and, for a "-" value, absence.
func wantData(kv map[string]string, v int) func(*testing.T, *ipass.PassView) {
	return func(t *testing.T, p *ipass.PassView) {
		t.Helper()
		for k, want := range kv {
			got, ok := p.DataInfo[k]
			if want == "-" {
				if ok {
					t.Fatalf("dataInfo %s = %s, want absent", k, got)
				}
				continue
			}
			if !ok || string(got) != want {
				t.Fatalf("dataInfo %s = %s, want %s (all: %v)", k, got, want, dataString(p))
			}
		}
		if v > 0 && p.Version != v {
			t.Fatalf("version %d, want %d", p.Version, v)
		}
	}
}

func dataString(p *ipass.PassView) string {
	b, _ := json.Marshal(p.DataInfo)
	return string(b)
}

// createBody8_1 is the createPass of docs/api.md, "A complete exchange", byte for byte.
const createBody8_1 = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD","codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},"dataInfo":{"$points_zh_HK$":100,"$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}}`

func createMember(t *testing.T, h *harness) string {
	t.Helper()
	r := h.must(h.op("createPass", createBody8_1), ipass.CodeSuccess)
	if len(r.passID) != 31 || strings.Trim(r.passID, "0123456789") != "" {
		t.Fatalf("passId %q: want 31 decimal digits", r.passID)
	}
	return r.passID
}

func testWorkedExamples(t *testing.T, open opener) {
	t.Run("8.2 membership card", func(t *testing.T) {
		h := newHarness(t, open(t))
		pass := createMember(t, h)
		p := h.query(merchantA, pass)
		if p.Status != ipass.StatusActive || p.Version != 1 || p.Type != ipass.TypeCard || p.Product != ipass.ProductMemberCard ||
			p.UserID != user1 || p.OpenID != openID1 || p.CodeInfo.Value != "81399940" || string(p.DataInfo["$level_zh_HK$"]) != `"銀卡"` {
			t.Fatalf("created pass: %+v", p)
		}
		base := `"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{pass}"`
		m1 := strings.Replace(createBody8_1, `"userId":"2160220037090534"`, `"openId":"fj398457jd8iue98d8w7w93j"`, 1)
		m4 := `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codemsg$":"81399941","$codevalue$":"81399941"}}`
		m10 := `{` + base + `,"templateCode":"temlate111001","status":"CLOSED"}`
		runSteps(t, h, merchantA, pass, []step{
			{name: "M1", op: "createPass", body: m1, want: ipass.CodeSuccess, check: wantVersion(1)},
			{name: "M2", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"billNo":"220230343242343442422333222","lastChangedPoints":"19899","pointsProvider":"ALIPAYHK"}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$points_zh_HK$": "19999", "$level_en_US$": `"Silver Card"`, "billNo": "-", "lastChangedPoints": "-"}, 2)},
			{name: "M3", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$level_en_US$": `"Diamond Card"`, "$points_en_US$": "19999"}, 3)},
			{name: "M4", body: m4, want: ipass.CodeSuccess, check: func(t *testing.T, p *ipass.PassView) {
				if p.CodeInfo.Value != "81399941" || p.Version != 4 {
					t.Fatalf("M4: %+v", p)
				}
			}},
			{name: "M5 exact retry", body: m4, want: ipass.CodeSuccess, check: wantVersion(4)},
			{name: "M6", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":"1893456000000"}`, want: ipass.CodeSuccess,
				check: func(t *testing.T, p *ipass.PassView) {
					if p.EndDate != 1893456000000 || p.Version != 5 {
						t.Fatalf("M6: %+v", p)
					}
				}},
			{name: "M7", body: `{` + base + `,"status":"USED"}`, want: ipass.CodeBizNotSupport},
			{name: "M8", body: `{` + base + `,"status":"REFUND"}`, want: ipass.CodeBizNotSupport},
			{name: "M9", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","dataInfo":{"$points_zh_HK$":1}}`, want: ipass.CodeBizNotSupport},
			{name: "M10", body: m10, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusClosed, 6)},
			{name: "M11 exact retry", body: m10, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusClosed, 6)},
			{name: "M12", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1,"$points_en_US$":1}}`, want: ipass.CodePassStatusIllegal},
		})
		hist, err := h.db.History(t.Context(), pass)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 6 {
			t.Fatalf("history has %d entries, want 6", len(hist))
		}
		for i, v := range hist {
			if v.Version != i+1 || v.ClientID != clientA || v.MerchantID != merchantA || len(v.TracerID) != 32 {
				t.Fatalf("history[%d] = %+v", i, v)
			}
		}
		if !strings.Contains(string(hist[1].Metadata), "220230343242343442422333222") || !strings.Contains(string(hist[1].Metadata), "ALIPAYHK") {
			t.Fatalf("M2 metadata not in history: %s", hist[1].Metadata)
		}
	})

	t.Run("8.2 seed sample case1", func(t *testing.T) {
		h := newHarness(t, open(t))
		pass := createMember(t, h)
		case1 := `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001",
 "passId":"{pass}","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD",
 "bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1640970061000,
 "endDate":4102444800000,"bizCreate":1640970061000,"type":"CARD","product":"MEMBER_CARD",
 "codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},
 "dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}}`
		runSteps(t, h, merchantA, pass, []step{
			{name: "case1", body: case1, want: ipass.CodeSuccess,
				check: wantData(map[string]string{"$points_zh_HK$": "19999", "$level_zh_HK$": `"鑽石卡"`}, 2)},
			{name: "case1 as printed (no passId/status)", body: strings.Replace(strings.Replace(case1, `"passId":"{pass}","status":"UPDATE",`, "", 1), `"updateDetailType":"UPDATE_MEMBER_CARD",`, "", 1),
				want: ipass.CodeParamIllegal},
		})
	})

	t.Run("8.3 gift card", func(t *testing.T) {
		h := newHarness(t, open(t))
		create := func(serial string) string {
			body := `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j",
 "templateCode":"82022031000135000000000000624234","bizSerialId":"` + serial + `","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,
 "type":"COUPON","product":"GIFT_CARD",
 "codeInfo":{"$codevalue$":"9123912839123712893"},
 "dataInfo":{"en_US":{"$shopname$":"demo shop","$balance$":"HKD 500"},"zh_HK":{"$shopname$":"示範店","$balance$":"HKD 500"}}}`
			return h.must(h.op("createPass", body), ipass.CodeSuccess).passID
		}
		pass := create("GC-0001")
		p := h.query(merchantA, pass)
		if p.CodeInfo.Msg != "9123912839123712893" || string(p.DataInfo["$shopname_zh_HK$"]) != `"示範店"` || string(p.DataInfo["$balance_en_US$"]) != `"HKD 500"` || len(p.DataInfo) != 4 {
			t.Fatalf("gift card as created: %+v %s", p, dataString(p))
		}
		base := `"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j","passId":"{pass}"`
		c6 := `{` + base + `,"status":"USED","passVerifyCode":"9123912839123712893"}`
		runSteps(t, h, merchantA, pass, []step{
			{name: "C1", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"dataInfo":{"$balance_en_US$":"HKD 320","$balance_zh_HK$":"HKD 320"}}`,
				want: ipass.CodeSuccess, check: func(t *testing.T, p *ipass.PassView) {
					if p.LastBizDate != 1735776000000 || string(p.DataInfo["$balance_en_US$"]) != `"HKD 320"` {
						t.Fatalf("C1: %+v", p)
					}
				}},
			{name: "C1b", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"codeInfo":{"$codevalue$":"9123912839123712894"}}`,
				want: ipass.CodeSuccess, check: func(t *testing.T, p *ipass.PassView) {
					if p.CodeInfo.Value != "9123912839123712894" || p.CodeInfo.Msg != "9123912839123712894" {
						t.Fatalf("C1b: %+v", p.CodeInfo)
					}
				}},
			{name: "C2", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$balance_en_US$":"HKD 300"}}`, want: ipass.CodeParamIllegal},
			{name: "C3", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","bizDate":1735862400000,"dataInfo":{"$balance_en_US$":"HKD 300"}}`, want: ipass.CodeBizNotSupport},
			{name: "C4", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735689600000,"dataInfo":{"$balance_en_US$":"HKD 999"}}`, want: ipass.CodePassStatusIllegal},
			{name: "C5", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$shopname_zh_HK$":null}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$shopname_zh_HK$": "-", "$shopname_en_US$": `"demo shop"`}, 0)},
			{name: "C6", body: c6, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusUsed, 5)},
			{name: "C7 exact retry", body: c6, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusUsed, 5)},
			{name: "C8", body: `{` + base + `,"status":"REFUND"}`, want: ipass.CodePassUsedOccupied},
			{name: "C9", body: `{` + base + `,"status":"CLOSED"}`, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusClosed, 6)},
		})
		second := create("GC-0002")
		runSteps(t, h, merchantA, second, []step{
			{name: "GC-0002 REFUND", body: `{` + base + `,"status":"REFUND"}`, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusRefund, 2)},
			{name: "GC-0002 CLOSED after REFUND", body: `{` + base + `,"status":"CLOSED"}`, want: ipass.CodePassStatusIllegal},
		})
	})

	t.Run("8.4 admission ticket", func(t *testing.T) {
		h := newHarness(t, open(t))
		create := func(serial string) string {
			body := `{"merchantId":"2160120036095023","userId":"2160220043214225",
 "templateCode":"22024120100135606000000001443495","bizSerialId":"` + serial + `","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,"type":"TICKET","product":"PASS",
 "codeInfo":{"$codemsg$":"1","$codevalue$":"1"},
 "dataInfo":{"$ticketName_zh_HK$":"香港迪士尼樂園一日入場票","$ticketName_en_US$":"Hong Kong Disneyland 1-Day Ticket",
   "$address_zh_HK$":"香港九龍彌敦道792-804號協成行太子中心703室","$address_en_US$":"Room 703, Prince Edward Centre, Kowloon",
   "$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,
   "$price_zh_HK$":{"cent":800,"currency":"HKD"},"$price_en_US$":{"cent":800,"currency":"HKD"},
   "$startTime_zh_HK$":"1735279592000","$startTime_en_US$":"1735279592000"}}`
			return h.must(h.op("createPass", body), ipass.CodeSuccess).passID
		}
		pass := create("000000006")
		if p := h.query(merchantA, pass); string(p.DataInfo["$price_en_US$"]) != `{"cent":800,"currency":"HKD"}` {
			t.Fatalf("price not kept verbatim: %s", p.DataInfo["$price_en_US$"])
		}
		base := `"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{pass}"`
		runSteps(t, h, merchantA, pass, []step{
			{name: "T1", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"dataInfo":{"$availableTimes_zh_HK$":1,"$availableTimes_en_US$":1}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$availableTimes_en_US$": "1"}, 2)},
			{name: "T2", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`, want: ipass.CodeParamIllegal},
			{name: "T3", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{},"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`,
				want: ipass.CodeSuccess, check: func(t *testing.T, p *ipass.PassView) {
					if p.CodeInfo.Value != "2" || p.Version != 3 {
						t.Fatalf("T3: %+v", p)
					}
				}},
			{name: "T4", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_MOVIE","bizDate":1735862400000,"dataInfo":{"$availableTimes_en_US$":0}}`, want: ipass.CodeBizNotSupport},
			{name: "T5", body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{"$seat_en_US$":"A1"}}`, want: ipass.CodeParamIllegal},
			{name: "T6", body: `{` + base + `,"status":"USED","bizDate":1735948800000}`, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusUsed, 4)},
			{name: "T7", body: `{` + base + `,"status":"USED","bizDate":1736035200000}`, want: ipass.CodePassUsedOccupied},
			{name: "T8", body: `{` + base + `,"status":"REFUND"}`, want: ipass.CodePassUsedOccupied},
			{name: "T9", body: `{` + base + `,"status":"CLOSED"}`, want: ipass.CodeSuccess, check: wantStatus(ipass.StatusClosed, 5)},
		})
		second := create("000000007")
		runSteps(t, h, merchantA, second, []step{
			{name: "real-world REFUND with dataInfo", body: `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{pass}","status":"REFUND","dataInfo":{"$availableTimes_zh_HK$":0,"$availableTimes_en_US$":0}}`,
				want: ipass.CodeSuccess, check: func(t *testing.T, p *ipass.PassView) {
					wantStatus(ipass.StatusRefund, 2)(t, p)
					wantData(map[string]string{"$availableTimes_zh_HK$": "0"}, 2)(t, p)
				}},
			{name: "USED after REFUND", body: `{` + base + `,"status":"USED"}`, want: ipass.CodePassStatusIllegal},
		})
	})

	t.Run("8.5 air ticket out of order", func(t *testing.T) {
		h := newHarness(t, open(t))
		pass := h.must(h.op("createPass", `{"merchantId":"2160120036095023","userId":"2160220043214225","templateCode":"22024120100135606000000001443496",
 "bizSerialId":"CX888-0001","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,
 "codeInfo":{"$codemsg$":"","$codevalue$":""},"dataInfo":{"$flightNo_en_US$":"CX 888","$startTime_en_US$":"09:00"}}`), ipass.CodeSuccess).passID
		base := `"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{pass}","status":"UPDATE"`
		runSteps(t, h, merchantA, pass, []step{
			{name: "F1", body: `{` + base + `,"updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735862400000,"dataInfo":{"$startTime_en_US$":"10:30","$startTime_zh_HK$":"10:30"}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$startTime_en_US$": `"10:30"`}, 2)},
			{name: "F2 late older message", body: `{` + base + `,"updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735776000000,"dataInfo":{"$startTime_en_US$":"09:00","$startTime_zh_HK$":"09:00"}}`,
				want: ipass.CodePassStatusIllegal, check: wantData(map[string]string{"$startTime_en_US$": `"10:30"`}, 2)},
			{name: "F3 equal bizDate applies", body: `{` + base + `,"updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735862400000,"dataInfo":{"$startTime_en_US$":"10:45"}}`,
				want: ipass.CodeSuccess, check: wantData(map[string]string{"$startTime_en_US$": `"10:45"`}, 3)},
			{name: "F4", body: `{` + base + `,"updateDetailType":"UPDATE_VALIDITY","bizDate":1735948800000,"endDate":1735000000000}`, want: ipass.CodeBizNotSupport},
			{name: "F5", body: `{` + base + `,"updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735948800000,"dataInfo":{},"endDate":1735000000000}`, want: ipass.CodeParamIllegal},
		})
	})

	t.Run("8.6 encrypted call", func(t *testing.T) {
		h := newHarness(t, open(t))
		r := h.send(req{path: pathOf("createPass"), body: createBody8_1, encrypt: true})
		h.must(r, ipass.CodeSuccess)
		if r.header.Get("Encrypt") == "" || !strings.Contains(r.header.Get("Encrypt"), "keyVersion=1") || r.passID == "" {
			t.Fatalf("encrypted response: headers %v body %s", r.header, r.plain)
		}
		if strings.Contains(string(r.raw), "SUCCESS") {
			t.Fatalf("encrypted response body is plaintext: %s", r.raw)
		}
		// ECC224-signed, encrypted: the response is signed ECC224 and still encrypted to the client's RSA key.
		q := h.send(req{path: pathOf("queryPass"), body: `{"merchantId":"2160120036095023","passId":"` + r.passID + `"}`, encrypt: true, alg: "ECC224"})
		h.must(q, ipass.CodeSuccess)
		if !strings.HasPrefix(q.header.Get("Signature"), "algorithm=ECC224") || q.header.Get("Encrypt") == "" || q.pass == nil || q.pass.PassID != r.passID {
			t.Fatalf("ECC224 encrypted query: %v %s", q.header, q.plain)
		}
	})
}
