package service

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
)

// The bodies of section 8.
const (
	create81 = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD","codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},"dataInfo":{"$points_zh_HK$":100,"$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}}`

	create83 = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j",
 "templateCode":"82022031000135000000000000624234","bizSerialId":"GC-0001","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,
 "type":"COUPON","product":"GIFT_CARD",
 "codeInfo":{"$codevalue$":"9123912839123712893"},
 "dataInfo":{"en_US":{"$shopname$":"demo shop","$balance$":"HKD 500"},"zh_HK":{"$shopname$":"示範店","$balance$":"HKD 500"}}}`

	create84 = `{"merchantId":"2160120036095023","userId":"2160220043214225",
 "templateCode":"22024120100135606000000001443495","bizSerialId":"000000006","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,"type":"TICKET","product":"PASS",
 "codeInfo":{"$codemsg$":"1","$codevalue$":"1"},
 "dataInfo":{"$ticketName_zh_HK$":"香港迪士尼樂園一日入場票","$ticketName_en_US$":"Hong Kong Disneyland 1-Day Ticket",
   "$address_zh_HK$":"香港九龍彌敦道792-804號協成行太子中心703室","$address_en_US$":"Room 703, Prince Edward Centre, Kowloon",
   "$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,
   "$price_zh_HK$":{"cent":800,"currency":"HKD"},"$price_en_US$":{"cent":800,"currency":"HKD"},
   "$startTime_zh_HK$":"1735279592000","$startTime_en_US$":"1735279592000"}}`

	create85 = `{"merchantId":"2160120036095023","userId":"2160220043214225","templateCode":"22024120100135606000000001443496",
 "bizSerialId":"CX888-20250103","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,
 "codeInfo":{"$codemsg$":"","$codevalue$":""},
 "dataInfo":{"$airlineName_en_US$":"Cathay Pacific","$flightNo_en_US$":"CX 888","$flightNo_zh_HK$":"CX 888",
   "$from_en_US$":"HKG","$to_en_US$":"YVR","$startTime_en_US$":"09:00","$startTime_zh_HK$":"09:00"}}`

	// seedCase1 is the 8.2 "case1" sample made valid (passId, status added).
	seedCase1 = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001",
 "passId":"{id:card}","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD",
 "bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1640970061000,
 "endDate":4102444800000,"bizCreate":1640970061000,"type":"CARD","product":"MEMBER_CARD",
 "codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},
 "dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}}`
)

// card, gift, ticket and air prefixes: the identity part of an update body.
const (
	cardUpd   = `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"{id:card}",`
	giftUpd   = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j","passId":"{id:gift}",`
	gift2Upd  = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j","passId":"{id:gift2}",`
	ticketUpd = `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{id:ticket}",`
	airUpd    = `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{id:air}",`
)

// replace returns s with each old→new pair replaced once.
func replace(s string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("replace: " + pairs[i] + " not in body")
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestExample82MemberCard(t *testing.T) {
	e := newEnv(t)
	m4 := cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codemsg$":"81399941","$codevalue$":"81399941"}}`
	m10 := cardUpd + `"templateCode":"temlate111001","status":"CLOSED"}`
	e.run(t, []step{
		{name: "Create81", op: "create", body: create81, save: "card",
			check: expect("card", 1, ipass.StatusActive, map[string]string{"$points_zh_HK$": "100", "$level_zh_HK$": `"銀卡"`})},
		{name: "M1IdenticalRetryByOpenId", op: "create", body: replace(create81, `"userId":"2160220037090534"`, `"openId":"fj398457jd8iue98d8w7w93j"`), same: "card",
			check: expect("card", 1, ipass.StatusActive, nil)},
		{name: "M2PointsWithMetadata", op: "update",
			body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"billNo":"220230343242343442422333222","lastChangedPoints":"19899","pointsProvider":"ALIPAYHK"}}`,
			check: func(t *testing.T, e *env) {
				expect("card", 2, ipass.StatusActive, map[string]string{
					"$points_zh_HK$": "19999", "$points_en_US$": "19999", "$level_zh_HK$": `"銀卡"`, "$level_en_US$": `"Silver Card"`,
					"billNo": "", "lastChangedPoints": "", "pointsProvider": ""})(t, e)
				h := e.history(t, "card")[1]
				if h.Version != 2 || h.Operation != "updatePass" || h.ClientID != client44 || h.MerchantID != merchant23 ||
					h.Status != ipass.StatusActive || h.RequestStatus != "UPDATE" || h.UpdateKind != ipass.UpdateMemberCard ||
					h.TracerID != "tracer-M2PointsWithMetadata" || h.At != baseNow.UnixMilli() {
					t.Errorf("history entry = %+v", h)
				}
				var meta map[string]any
				if err := json.Unmarshal(h.Metadata, &meta); err != nil || meta["billNo"] != "220230343242343442422333222" ||
					meta["pointsProvider"] != "ALIPAYHK" || meta["lastChangedPoints"] != 19899.0 {
					t.Errorf("metadata = %s (%v)", h.Metadata, err)
				}
				if !bytes.Contains(h.Changes, []byte(`"$points_zh_HK$":19999`)) {
					t.Errorf("changes = %s", h.Changes)
				}
			}},
		{name: "M3LevelOnly", op: "update",
			body:  cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}}`,
			check: expect("card", 3, ipass.StatusActive, map[string]string{"$points_zh_HK$": "19999", "$level_en_US$": `"Diamond Card"`})},
		{name: "E45QueryByBizSerialId", op: "query", body: `{"merchantId":"2160120036095023","bizSerialId":"1111128828"}`,
			view: func(t *testing.T, e *env, v *ipass.PassView) {
				if v.PassID != e.ids["card"] || v.OpenID != open534 || v.UserID != user534 || v.Version != 3 ||
					v.Status != ipass.StatusActive || v.Type != ipass.TypeCard || v.Product != ipass.ProductMemberCard ||
					v.TemplateCode != tplMember || v.BizSerialID != "1111128828" || v.LastBizDate != 0 ||
					v.StartDate != 1735689600000 || v.EndDate != 4102444800000 || v.BizCreate != 1735689600000 ||
					v.CodeInfo != (ipass.CodeInfo{Msg: "81399940", Value: "81399940"}) || len(v.DataInfo) != 4 {
					t.Errorf("view = %+v", v)
				}
			}},
		{name: "M4Code", op: "update", body: m4, check: func(t *testing.T, e *env) {
			expect("card", 4, ipass.StatusActive, nil)(t, e)
			if c := e.pass(t, "card").CodeInfo; c != (ipass.CodeInfo{Msg: "81399941", Value: "81399941"}) {
				t.Errorf("codeInfo = %+v", c)
			}
		}},
		{name: "M5ExactRetry", op: "update", body: m4, check: expect("card", 4, ipass.StatusActive, nil)},
		{name: "M6Validity", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":"1893456000000"}`,
			check: func(t *testing.T, e *env) {
				expect("card", 5, ipass.StatusActive, nil)(t, e)
				if end := e.pass(t, "card").EndDate; end != 1893456000000 {
					t.Errorf("endDate = %d", end)
				}
			}},
		{name: "M7Used", op: "update", body: cardUpd + `"status":"USED"}`, code: ipass.CodeBizNotSupport, check: expect("card", 5, ipass.StatusActive, nil)},
		{name: "M8Refund", op: "update", body: cardUpd + `"status":"REFUND"}`, code: ipass.CodeBizNotSupport, check: expect("card", 5, ipass.StatusActive, nil)},
		{name: "M9UpdatePassKind", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","dataInfo":{"$points_zh_HK$":1}}`,
			code: ipass.CodeBizNotSupport, check: expect("card", 5, ipass.StatusActive, map[string]string{"$points_zh_HK$": "19999"})},
		{name: "M10Closed", op: "update", body: m10, check: expect("card", 6, ipass.StatusClosed, nil)},
		{name: "M11ExactRetry", op: "update", body: m10, check: expect("card", 6, ipass.StatusClosed, nil)},
		{name: "M12UpdateOnClosed", op: "update", body: cardUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1,"$points_en_US$":1}}`,
			code: ipass.CodePassStatusIllegal, check: expect("card", 6, ipass.StatusClosed, map[string]string{"$points_zh_HK$": "19999"})},
		{name: "M1AgainOnClosedPass", op: "create", body: create81, same: "card", check: expect("card", 6, ipass.StatusClosed, nil)},
	})
}

func TestExample82SeedCase1(t *testing.T) {
	e := newEnv(t)
	e.run(t, []step{
		{name: "Create81", op: "create", body: create81, save: "card"},
		{name: "Case1AsPrinted", op: "update", body: replace(seedCase1, `"passId":"{id:card}","status":"UPDATE",`, ``), code: ipass.CodeParamIllegal, fragment: "passId is required"}, // E32
		{name: "Case1Valid", op: "update", body: seedCase1, check: func(t *testing.T, e *env) {
			expect("card", 2, ipass.StatusActive, map[string]string{"$points_en_US$": "19999", "$level_zh_HK$": `"鑽石卡"`})(t, e)
			p := e.pass(t, "card")
			if p.StartDate != 1735689600000 || p.BizCreate != 1735689600000 || p.EndDate != 4102444800000 {
				t.Errorf("create-only fields changed: %+v", p)
			}
		}},
	})
}

func TestExample83GiftCard(t *testing.T) {
	e := newEnv(t)
	c6 := giftUpd + `"status":"USED","passVerifyCode":"9123912839123712893"}`
	e.run(t, []step{
		{name: "Create", op: "create", body: create83, save: "gift", check: func(t *testing.T, e *env) {
			expect("gift", 1, ipass.StatusActive, map[string]string{
				"$shopname_en_US$": `"demo shop"`, "$balance_en_US$": `"HKD 500"`,
				"$shopname_zh_HK$": `"示範店"`, "$balance_zh_HK$": `"HKD 500"`})(t, e)
			p := e.pass(t, "gift")
			if len(p.DataInfo) != 4 || p.CodeInfo.Msg != "9123912839123712893" || p.UserID != user534 {
				t.Errorf("pass = %+v", p)
			}
		}},
		{name: "C1Balance", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"dataInfo":{"$balance_en_US$":"HKD 320","$balance_zh_HK$":"HKD 320"}}`,
			check: func(t *testing.T, e *env) {
				expect("gift", 2, ipass.StatusActive, map[string]string{"$balance_en_US$": `"HKD 320"`, "$shopname_en_US$": `"demo shop"`})(t, e)
				if lb := e.pass(t, "gift").LastBizDate; lb != 1735776000000 {
					t.Errorf("lastBizDate = %d", lb)
				}
			}},
		{name: "C1bEqualBizDate", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"codeInfo":{"$codevalue$":"9123912839123712894"}}`,
			check: func(t *testing.T, e *env) {
				expect("gift", 3, ipass.StatusActive, nil)(t, e)
				if c := e.pass(t, "gift").CodeInfo; c != (ipass.CodeInfo{Msg: "9123912839123712894", Value: "9123912839123712894"}) {
					t.Errorf("codeInfo = %+v", c)
				}
			}},
		{name: "C2NoBizDate", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","dataInfo":{"$balance_en_US$":"HKD 300"}}`,
			code: ipass.CodeParamIllegal, fragment: "bizDate is required", check: expect("gift", 3, ipass.StatusActive, nil)},
		{name: "C3MemberKind", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","bizDate":1735862400000,"dataInfo":{"$balance_en_US$":"HKD 300"}}`,
			code: ipass.CodeBizNotSupport, check: expect("gift", 3, ipass.StatusActive, nil)},
		{name: "C4Stale", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735689600000,"dataInfo":{"$balance_en_US$":"HKD 999"}}`,
			code: ipass.CodePassStatusIllegal, fragment: "stale update", check: expect("gift", 3, ipass.StatusActive, map[string]string{"$balance_en_US$": `"HKD 320"`})},
		{name: "C5RemoveKey", op: "update", body: giftUpd + `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$shopname_zh_HK$":null}}`,
			check: expect("gift", 4, ipass.StatusActive, map[string]string{"$shopname_zh_HK$": "", "$shopname_en_US$": `"demo shop"`})},
		{name: "C6Used", op: "update", body: c6, check: func(t *testing.T, e *env) {
			expect("gift", 5, ipass.StatusUsed, nil)(t, e)
			if h := e.history(t, "gift")[4]; h.PassVerifyCode != "9123912839123712893" || h.RequestStatus != "USED" || h.Status != ipass.StatusUsed {
				t.Errorf("history = %+v", h)
			}
		}},
		{name: "C7ExactRetry", op: "update", body: c6, check: expect("gift", 5, ipass.StatusUsed, nil)},
		{name: "C8Refund", op: "update", body: giftUpd + `"status":"REFUND"}`, code: ipass.CodePassUsedOccupied, check: expect("gift", 5, ipass.StatusUsed, nil)},
		{name: "C9Closed", op: "update", body: giftUpd + `"status":"CLOSED"}`, check: expect("gift", 6, ipass.StatusClosed, nil)},
		{name: "GC0002Create", op: "create", body: replace(create83, `"GC-0001"`, `"GC-0002"`), save: "gift2"},
		{name: "GC0002Refund", op: "update", body: gift2Upd + `"status":"REFUND"}`, check: expect("gift2", 2, ipass.StatusRefund, nil)},
		{name: "GC0002ClosedAfterRefund", op: "update", body: gift2Upd + `"status":"CLOSED"}`, code: ipass.CodePassStatusIllegal, check: expect("gift2", 2, ipass.StatusRefund, nil)},
	})
}

func TestExample84Ticket(t *testing.T) {
	e := newEnv(t)
	t6 := ticketUpd + `"status":"USED","bizDate":1735948800000}`
	e.run(t, []step{
		{name: "Create", op: "create", body: create84, save: "ticket", check: func(t *testing.T, e *env) {
			expect("ticket", 1, ipass.StatusActive, map[string]string{"$price_en_US$": `{"cent":800,"currency":"HKD"}`, "$availableTimes_zh_HK$": "2"})(t, e)
		}},
		{name: "T1", op: "update", body: ticketUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"dataInfo":{"$availableTimes_zh_HK$":1,"$availableTimes_en_US$":1}}`,
			check: expect("ticket", 2, ipass.StatusActive, map[string]string{"$availableTimes_zh_HK$": "1", "$availableTimes_en_US$": "1"})},
		{name: "T2NoDataInfo", op: "update", body: ticketUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`,
			code: ipass.CodeParamIllegal, fragment: "dataInfo is required", check: expect("ticket", 2, ipass.StatusActive, nil)},
		{name: "T3EmptyDataInfo", op: "update", body: ticketUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{},"codeInfo":{"$codemsg$":"2","$codevalue$":"2"}}`,
			check: func(t *testing.T, e *env) {
				expect("ticket", 3, ipass.StatusActive, map[string]string{"$availableTimes_zh_HK$": "1"})(t, e)
				if c := e.pass(t, "ticket").CodeInfo; c.Value != "2" {
					t.Errorf("codeInfo = %+v", c)
				}
			}},
		{name: "T4MovieKind", op: "update", body: ticketUpd + `"status":"UPDATE","updateDetailType":"UPDATE_MOVIE","bizDate":1735862400000,"dataInfo":{"$availableTimes_en_US$":0}}`,
			code: ipass.CodeBizNotSupport, check: expect("ticket", 3, ipass.StatusActive, nil)},
		{name: "T5UnknownPlaceholder", op: "update", body: ticketUpd + `"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{"$seat_en_US$":"A1"}}`,
			code: ipass.CodeParamIllegal, fragment: "placeholder seat", check: expect("ticket", 3, ipass.StatusActive, nil)},
		{name: "T6Used", op: "update", body: t6, check: expect("ticket", 4, ipass.StatusUsed, nil)},
		{name: "T6Retry", op: "update", body: t6, check: expect("ticket", 4, ipass.StatusUsed, nil)},
		{name: "T7UsedOtherBizDate", op: "update", body: ticketUpd + `"status":"USED","bizDate":1736035200000}`, code: ipass.CodePassUsedOccupied, check: expect("ticket", 4, ipass.StatusUsed, nil)},
		{name: "T8Refund", op: "update", body: ticketUpd + `"status":"REFUND"}`, code: ipass.CodePassUsedOccupied},
		{name: "T9Closed", op: "update", body: ticketUpd + `"status":"CLOSED"}`, check: expect("ticket", 5, ipass.StatusClosed, nil)},
		{name: "SecondTicketCreate", op: "create", body: replace(create84, `"000000006"`, `"000000007"`), save: "ticket2"},
		{name: "SecondTicketRealRefund", op: "update",
			body:  `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{id:ticket2}","status":"REFUND","dataInfo":{"$availableTimes_zh_HK$":0,"$availableTimes_en_US$":0}}`,
			check: expect("ticket2", 2, ipass.StatusRefund, map[string]string{"$availableTimes_zh_HK$": "0", "$availableTimes_en_US$": "0", "$ticketName_en_US$": `"Hong Kong Disneyland 1-Day Ticket"`})},
		{name: "SecondTicketUsedAfterRefund", op: "update", body: `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"{id:ticket2}","status":"USED"}`,
			code: ipass.CodePassStatusIllegal, check: expect("ticket2", 2, ipass.StatusRefund, nil)},
	})
}

func TestExample85AirTicket(t *testing.T) {
	e := newEnv(t)
	e.run(t, []step{
		{name: "Create", op: "create", body: create85, save: "air", check: func(t *testing.T, e *env) {
			expect("air", 1, ipass.StatusActive, map[string]string{"$flightNo_en_US$": `"CX 888"`})(t, e)
			if c := e.pass(t, "air").CodeInfo; c != (ipass.CodeInfo{}) {
				t.Errorf("codeInfo = %+v", c)
			}
		}},
		{name: "F1Delay", op: "update", body: airUpd + `"status":"UPDATE","updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735862400000,"dataInfo":{"$startTime_en_US$":"10:30","$startTime_zh_HK$":"10:30"}}`,
			check: expect("air", 2, ipass.StatusActive, map[string]string{"$startTime_en_US$": `"10:30"`})},
		{name: "F2OlderArrivesLate", op: "update", body: airUpd + `"status":"UPDATE","updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735776000000,"dataInfo":{"$startTime_en_US$":"09:00","$startTime_zh_HK$":"09:00"}}`,
			code: ipass.CodePassStatusIllegal, fragment: "stale", check: expect("air", 2, ipass.StatusActive, map[string]string{"$startTime_en_US$": `"10:30"`})},
		{name: "F3EqualBizDate", op: "update", body: airUpd + `"status":"UPDATE","updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735862400000,"dataInfo":{"$startTime_en_US$":"10:45","$startTime_zh_HK$":"10:45"}}`,
			check: expect("air", 3, ipass.StatusActive, map[string]string{"$startTime_zh_HK$": `"10:45"`})},
		{name: "F4ValidityKind", op: "update", body: airUpd + `"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","bizDate":1735948800000,"endDate":1735000000000}`,
			code: ipass.CodeBizNotSupport, check: expect("air", 3, ipass.StatusActive, nil)},
		{name: "F5EndBeforeStart", op: "update", body: airUpd + `"status":"UPDATE","updateDetailType":"UPDATE_AIR_TICKET","bizDate":1735948800000,"dataInfo":{},"endDate":1735000000000}`,
			code: ipass.CodeParamIllegal, fragment: "before the pass's startDate 1735689600000", check: expect("air", 3, ipass.StatusActive, nil)},
	})
}
