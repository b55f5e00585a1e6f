package ipass

import "time"

// testNow is the server clock of the pure tests: after every bizDate of
// section 8 minus 24 h, before every endDate used as "future".
var testNow = time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)

// Sample bodies and templates of docs/api.md, "Worked examples", shared by the
// table tests and used as fuzz seeds.

const (
	body81Create = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD","codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},"dataInfo":{"$points_zh_HK$":100,"$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}}`

	body82Case1 = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001",
 "passId":"2995228480402564890018","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD",
 "bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1640970061000,
 "endDate":4102444800000,"bizCreate":1640970061000,"type":"CARD","product":"MEMBER_CARD",
 "codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},
 "dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}}`

	body83Create = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j",
 "templateCode":"82022031000135000000000000624234","bizSerialId":"GC-0001","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,
 "type":"COUPON","product":"GIFT_CARD",
 "codeInfo":{"$codevalue$":"9123912839123712893"},
 "dataInfo":{"en_US":{"$shopname$":"demo shop","$balance$":"HKD 500"},"zh_HK":{"$shopname$":"示範店","$balance$":"HKD 500"}}}`

	body84Create = `{"merchantId":"2160120036095023","userId":"2160220043214225",
 "templateCode":"22024120100135606000000001443495","bizSerialId":"000000006","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,"type":"TICKET","product":"PASS",
 "codeInfo":{"$codemsg$":"1","$codevalue$":"1"},
 "dataInfo":{"$ticketName_zh_HK$":"香港迪士尼樂園一日入場票","$ticketName_en_US$":"Hong Kong Disneyland 1-Day Ticket",
   "$address_zh_HK$":"香港九龍彌敦道792-804號協成行太子中心703室","$address_en_US$":"Room 703, Prince Edward Centre, Kowloon",
   "$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,
   "$price_zh_HK$":{"cent":800,"currency":"HKD"},"$price_en_US$":{"cent":800,"currency":"HKD"},
   "$startTime_zh_HK$":"1735279592000","$startTime_en_US$":"1735279592000"}}`

	body84Refund = `{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"2024120219027102160229300021201","status":"REFUND","dataInfo":{"$availableTimes_zh_HK$":0,"$availableTimes_en_US$":0}}`

	body82M2 = `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2995228480402564890018","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"billNo":"220230343242343442422333222","lastChangedPoints":"19899","pointsProvider":"ALIPAYHK"}}`

	body25Closed = `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2995228480402564890018","status":"CLOSED"}`
)

// specBodies are every sample body above, for seeds and smoke tests.
var specBodies = []string{body81Create, body82Case1, body83Create, body84Create, body84Refund, body82M2, body25Closed}

var (
	tplMember = &Template{
		Code: "temlate111001", MerchantID: "2160120036095023", Type: TypeCard, Product: ProductMemberCard,
		Locales: []string{"zh_HK", "en_US"}, Placeholders: []string{"points", "level"}, CodeDisplay: CodeQR,
	}
	tplGift = &Template{
		Code: "82022031000135000000000000624234", MerchantID: "2160120036095023", Type: TypeCoupon, Product: ProductGiftCard,
		Locales: []string{"zh_HK", "en_US"}, Placeholders: []string{"shopname", "balance"}, CodeDisplay: CodeBarcode,
	}
	tplTicket = &Template{
		Code: "22024120100135606000000001443495", MerchantID: "2160120036095023", Type: TypeTicket, Product: ProductPass,
		Locales:      []string{"zh_HK", "en_US"},
		Placeholders: []string{"ticketName", "address", "availableTimes", "price", "startTime", "endTime"},
		CodeDisplay:  CodeQR,
	}
	tplAir = &Template{
		Code: "22024120100135606000000001443496", MerchantID: "2160120036095023", Type: TypeTicket, Product: ProductAirTicket,
		Locales:      []string{"zh_HK", "en_US"},
		Placeholders: []string{"airlineName", "flightNo", "from", "to", "startTime", "endTime"},
		CodeDisplay:  CodeNone,
	}
)
