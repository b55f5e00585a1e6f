package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fixture identifiers (tenants/testdata/spec-fixtures.yaml, docs/api.md, "Worked examples").
const (
	merchant44   = "2160120036095023" // owned by client 2110200000000044
	merchant55   = "2160400000000022" // owned by client 2110200000000055
	user0534     = "2160220037090534" // openId fj398457jd8iue98d8w7w93j at merchant44
	user4225     = "2160220043214225" // openId k29dh38fj2l0s9d8f7g6h5j4 at merchant44
	openID0534   = "fj398457jd8iue98d8w7w93j"
	memberTmpl   = "temlate111001"
	giftTmpl     = "82022031000135000000000000624234"
	ticketTmpl   = "22024120100135606000000001443495"
	memberSerial = "1111128828"
)

// createMember is the createPass body of docs/api.md, "A complete exchange", byte for byte.
const createMember = `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"1111128828","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD","codeInfo":{"$codemsg$":"81399940","$codevalue$":"81399940"},"dataInfo":{"$points_zh_HK$":100,"$points_en_US$":100,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}}`

// createGift is the COUPON / GIFT_CARD create of 8.3 (nested dataInfo).
const createGift = `{"merchantId":"2160120036095023","openId":"fj398457jd8iue98d8w7w93j",
 "templateCode":"82022031000135000000000000624234","bizSerialId":"GC-0001","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,
 "type":"COUPON","product":"GIFT_CARD",
 "codeInfo":{"$codevalue$":"9123912839123712893"},
 "dataInfo":{"en_US":{"$shopname$":"demo shop","$balance$":"HKD 500"},"zh_HK":{"$shopname$":"示範店","$balance$":"HKD 500"}}}`

// createTicket is the TICKET / PASS create of 8.4.
const createTicket = `{"merchantId":"2160120036095023","userId":"2160220043214225",
 "templateCode":"22024120100135606000000001443495","bizSerialId":"000000006","bizSerialType":"OUT_PLAT_FORM",
 "startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,"type":"TICKET","product":"PASS",
 "codeInfo":{"$codemsg$":"1","$codevalue$":"1"},
 "dataInfo":{"$ticketName_zh_HK$":"香港迪士尼樂園一日入場票","$ticketName_en_US$":"Hong Kong Disneyland 1-Day Ticket",
   "$address_zh_HK$":"香港九龍彌敦道792-804號協成行太子中心703室","$address_en_US$":"Room 703, Prince Edward Centre, Kowloon",
   "$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,
   "$price_zh_HK$":{"cent":800,"currency":"HKD"},"$price_en_US$":{"cent":800,"currency":"HKD"},
   "$startTime_zh_HK$":"1735279592000","$startTime_en_US$":"1735279592000"}}`

// passBody is an update/query body: merchant, user and pass, then rest.
func passBody(user, id, rest string) string {
	b := fmt.Sprintf(`{"merchantId":"%s","userId":"%s","passId":"%s"`, merchant44, user, id)
	if rest != "" {
		b += "," + rest
	}
	return b + "}"
}

func queryBody(id string) string {
	return fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, merchant44, id)
}

const (
	memberM2 = `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":19999,"$points_en_US$":19999,"billNo":"220230343242343442422333222","lastChangedPoints":"19899","pointsProvider":"ALIPAYHK"}`
	memberM3 = `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}`
	memberM4 = `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codemsg$":"81399941","$codevalue$":"81399941"}`
	giftC1   = `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735776000000,"dataInfo":{"$balance_en_US$":"HKD 320","$balance_zh_HK$":"HKD 320"}`
	giftC4   = `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735689600000,"dataInfo":{"$balance_en_US$":"HKD 999"}`
	giftC5   = `"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1735862400000,"dataInfo":{"$shopname_zh_HK$":null}`
)

// TestBlackBox runs the scenarios against a server that generates its own
// keys in the data dir, then restarts it on the same data dir.
func TestBlackBox(t *testing.T) {
	requireOpenSSL(t)
	srv := newServer(t) // builds the binary
	started := time.Now()
	srv.start(t)
	srv.rsaPub = filepath.Join(srv.dataDir, "server-signing.pub.pem")
	srv.eccPub = filepath.Join(srv.dataDir, "server-ecc-signing.pub.pem")
	srv.encPub = filepath.Join(srv.dataDir, "server-encryption.pub.pem") // generated separately from the signing key
	e := newEnv(t, srv)
	c44, c55 := fixtureClients(t)
	ok := want{code: "SUCCESS"}
	enc44 := func(code string, aesLen int) want { return want{code: code, encryptedFor: &c44, aesLen: aesLen} }
	var memberID, giftID, ticketID string
	run := t.Run

	// --- createPass, updatePass, queryPass: the membership card of 8.1/8.2.

	run("01_create_member_card", func(t *testing.T) {
		r := e.newRequest(t, c44, "createPass", createMember, opts{})
		resp := e.do(t, r, ok)
		memberID = passID(t, resp)
		// Guard against a verifier that accepts anything: the same response
		// with one body byte changed must not verify.
		params, _ := parseParams(resp.header.Get("Signature"))
		sig, _ := decodeB64Param(params["signature"])
		bad := signedContent("POST", r.path(), c44.id, resp.header.Get("Response-Time"), append(bytes.Clone(resp.body), ' '))
		if e.verify(t, srv.rsaPub, bad, sig) {
			t.Fatal("openssl verified a tampered response: the verification helper is broken")
		}
	})

	run("02_create_identical_retry_same_passId", func(t *testing.T) {
		need(t, memberID)
		// M1: same create, new Request-Time, openId instead of userId.
		body := strings.Replace(createMember, `"userId":"`+user0534+`"`, `"openId":"`+openID0534+`"`, 1)
		resp := e.do(t, e.newRequest(t, c44, "createPass", body, opts{}), ok)
		if got := passID(t, resp); got != memberID {
			t.Errorf("retried create returned passId %s, want %s", got, memberID)
		}
	})

	run("03_create_conflicting_bizSerialId", func(t *testing.T) {
		need(t, memberID)
		// E30: same bizSerialId, different endDate.
		body := strings.Replace(createMember, `"endDate":4102444800000`, `"endDate":4102444800001`, 1)
		resp := e.do(t, e.newRequest(t, c44, "createPass", body, opts{}), want{code: "PARAM_ILLEGAL"})
		if !strings.Contains(resp.message, memberSerial) {
			t.Errorf("resultMessage %q does not name bizSerialId %s", resp.message, memberSerial)
		}
	})

	run("04_update_points", func(t *testing.T) {
		need(t, memberID)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, memberM2), opts{}), ok)
	})

	run("05_update_level", func(t *testing.T) {
		need(t, memberID)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, memberM3), opts{}), ok)
	})

	run("06_update_exact_retry", func(t *testing.T) {
		need(t, memberID)
		// M3 again, re-signed with a fresh Request-Time and written with
		// openId: an exact retry, no new version (checked by 07).
		body := fmt.Sprintf(`{"merchantId":"%s","openId":"%s","passId":"%s",%s}`, merchant44, openID0534, memberID, memberM3)
		e.do(t, e.newRequest(t, c44, "updatePass", body, opts{}), ok)
	})

	var memberV3 string
	run("07_query_by_passId", func(t *testing.T) {
		need(t, memberID)
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{}), ok)
		p := checkPass(t, resp, map[string]string{
			"passId":       `"` + memberID + `"`,
			"merchantId":   `"` + merchant44 + `"`,
			"bizSerialId":  `"` + memberSerial + `"`,
			"templateCode": `"` + memberTmpl + `"`,
			"type":         `"CARD"`,
			"product":      `"MEMBER_CARD"`,
			"userId":       `"` + user0534 + `"`,
			"openId":       `"` + openID0534 + `"`,
			"status":       `"ACTIVE"`,
			"startDate":    `1735689600000`,
			"endDate":      `4102444800000`,
			"bizCreate":    `1735689600000`,
			// billNo, lastChangedPoints, pointsProvider are history only.
			"dataInfo":    `{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}`,
			"codeInfo":    `{"$codemsg$":"81399940","$codevalue$":"81399940"}`,
			"version":     `3`,
			"lastBizDate": absent, // no UPDATE carried a bizDate
		})
		for _, k := range []string{"createdAt", "updatedAt"} {
			if s := canon(p[k]); len(s) != 13 || strings.Trim(s, "0123456789") != "" {
				t.Errorf("pass.%s = %s, want 13-digit ms", k, s)
			}
		}
		memberV3 = canon(p)
	})

	run("08_query_by_bizSerialId", func(t *testing.T) {
		need(t, memberID, memberV3)
		// E45, with epoch-ms Request-Time (the other accepted form).
		body := fmt.Sprintf(`{"merchantId":"%s","bizSerialId":"%s"}`, merchant44, memberSerial)
		resp := e.do(t, e.newRequest(t, c44, "queryPass", body, opts{time: fmt.Sprint(e.requestTime().UnixMilli())}), ok)
		if got := canon(resp.doc["pass"]); got != memberV3 {
			t.Errorf("pass by bizSerialId:\n%s\nwant (by passId):\n%s", got, memberV3)
		}
	})

	run("09_ecc224_update_and_response", func(t *testing.T) {
		need(t, memberID)
		// M4 signed with the client's P-224 key; the response must be signed
		// with the server's P-224 key.
		r := e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, memberM4), opts{alg: "ECC224"})
		e.do(t, r, want{code: "SUCCESS", alg: "ECC224"})
	})

	run("10_ecc224_query", func(t *testing.T) {
		need(t, memberID)
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{alg: "ECC224"}), want{code: "SUCCESS", alg: "ECC224"})
		checkPass(t, resp, map[string]string{
			"version":  `4`,
			"codeInfo": `{"$codemsg$":"81399941","$codevalue$":"81399941"}`,
			"dataInfo": `{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}`,
		})
	})

	// --- RSA_AES: encrypted ticket create and query.

	run("11_encrypted_create_ticket", func(t *testing.T) {
		r := e.newRequest(t, c44, "createPass", createTicket, opts{encrypt: 32})
		resp := e.do(t, r, enc44("SUCCESS", 32))
		ticketID = passID(t, resp)
	})

	run("12_encrypted_query_aes128", func(t *testing.T) {
		need(t, ticketID)
		// The response key has the request key's length (16 bytes here).
		r := e.newRequest(t, c44, "queryPass", queryBody(ticketID), opts{encrypt: 16})
		resp := e.do(t, r, enc44("SUCCESS", 16))
		checkPass(t, resp, map[string]string{
			"templateCode": `"` + ticketTmpl + `"`,
			"type":         `"TICKET"`,
			"product":      `"PASS"`,
			"userId":       `"` + user4225 + `"`,
			"openId":       `"k29dh38fj2l0s9d8f7g6h5j4"`,
			"status":       `"ACTIVE"`,
			"version":      `1`,
			"codeInfo":     `{"$codemsg$":"1","$codevalue$":"1"}`,
			"dataInfo": `{"$ticketName_zh_HK$":"香港迪士尼樂園一日入場票","$ticketName_en_US$":"Hong Kong Disneyland 1-Day Ticket",
				"$address_zh_HK$":"香港九龍彌敦道792-804號協成行太子中心703室","$address_en_US$":"Room 703, Prince Edward Centre, Kowloon",
				"$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,
				"$price_zh_HK$":{"cent":800,"currency":"HKD"},"$price_en_US$":{"cent":800,"currency":"HKD"},
				"$startTime_zh_HK$":"1735279592000","$startTime_en_US$":"1735279592000"}`,
		})
	})

	run("13_another_users_pass", func(t *testing.T) {
		need(t, ticketID, memberID)
		// E39: the ticket belongs to user 2160220043214225.
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, ticketID, `"status":"USED","bizDate":1735948800000`), opts{}), want{code: "PASS_HAS_NOT_EXIST"})
		// The same through queryPass.
		e.do(t, e.newRequest(t, c44, "queryPass", passBody(user4225, memberID, ""), opts{}), want{code: "PASS_HAS_NOT_EXIST"})
	})

	run("14_ticket_used", func(t *testing.T) {
		need(t, ticketID)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user4225, ticketID, `"status":"USED","bizDate":1735948800000`), opts{}), ok)
	})

	run("15_ticket_used_again", func(t *testing.T) {
		need(t, ticketID)
		// T7: a second, different USED.
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user4225, ticketID, `"status":"USED","bizDate":1736035200000`), opts{}), want{code: "PASS_USED_OCCUPIED"})
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(ticketID), opts{}), ok)
		checkPass(t, resp, map[string]string{"status": `"USED"`, "version": `2`})
	})

	// --- Gift card (kept ACTIVE for the restart check).

	run("16_create_gift_card_nested_dataInfo", func(t *testing.T) {
		resp := e.do(t, e.newRequest(t, c44, "createPass", createGift, opts{}), ok)
		giftID = passID(t, resp)
		resp = e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{}), ok)
		checkPass(t, resp, map[string]string{
			"templateCode": `"` + giftTmpl + `"`,
			"type":         `"COUPON"`,
			"product":      `"GIFT_CARD"`,
			"userId":       `"` + user0534 + `"`,
			"dataInfo":     `{"$shopname_en_US$":"demo shop","$balance_en_US$":"HKD 500","$shopname_zh_HK$":"示範店","$balance_zh_HK$":"HKD 500"}`,
			"codeInfo":     `{"$codemsg$":"9123912839123712893","$codevalue$":"9123912839123712893"}`,
			"version":      `1`,
		})
	})

	run("17_gift_update_then_stale_update", func(t *testing.T) {
		need(t, giftID)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, giftID, giftC1), opts{}), ok)
		// C4: bizDate older than lastBizDate.
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, giftID, giftC4), opts{}), want{code: "PASS_STATUS_ILLEGAL"})
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{}), ok)
		checkPass(t, resp, map[string]string{
			"version":     `2`,
			"lastBizDate": `1735776000000`,
			"dataInfo":    `{"$shopname_en_US$":"demo shop","$balance_en_US$":"HKD 320","$shopname_zh_HK$":"示範店","$balance_zh_HK$":"HKD 320"}`,
		})
	})

	// --- Member card CLOSED, then UPDATE.

	run("18_closed_then_update", func(t *testing.T) {
		need(t, memberID)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, `"templateCode":"temlate111001","status":"CLOSED"`), opts{}), ok)
		// M12.
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, `"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1,"$points_en_US$":1}`), opts{}), want{code: "PASS_STATUS_ILLEGAL"})
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{}), ok)
		checkPass(t, resp, map[string]string{"status": `"CLOSED"`, "version": `5`, "dataInfo": `{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"鑽石卡","$level_en_US$":"Diamond Card"}`})
	})

	// --- Gateway errors.

	run("19_tampered_body", func(t *testing.T) {
		need(t, giftID)
		// E14: one byte of the body changed after signing.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		r.body = bytes.Replace(r.body, []byte(`"merchantId"`), []byte(`"merchantID"`), 1)
		e.do(t, r, want{code: "INVALID_SIGNATURE"})
	})

	run("20_replayed_request", func(t *testing.T) {
		need(t, giftID)
		// E16: the same bytes twice. The repeat is not executed; it gets
		// the first delivery's answer again, freshly signed (issue 17).
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		first := e.do(t, r, ok)
		if again := e.do(t, r, ok); !bytes.Equal(again.plain, first.plain) {
			t.Errorf("repeat answered %s; want the first's answer %s", again.plain, first.plain)
		}
	})

	run("21_request_time_outside_window", func(t *testing.T) {
		// E13: 6 minutes in the past, and 6 minutes ahead (window 5 min).
		for _, d := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
			rt := hkTime(e.requestTime().Add(d))
			e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{time: rt}), want{code: "REQUEST_TIME_EXPIRED"})
		}
	})

	run("22_request_time_unparsable", func(t *testing.T) {
		// E12.
		e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{time: "2025/01/01 08:00:00"}), want{code: "PARAM_ILLEGAL"})
	})

	run("23_unknown_client", func(t *testing.T) {
		// E7: signed correctly, but the Client-Id is not registered.
		c := client{id: "9999999999999999", rsaKey: c44.rsaKey}
		e.do(t, e.newRequest(t, c, "queryPass", queryBody(giftID), opts{}), want{code: "INVALID_CLIENT"})
	})

	run("24_no_client_id", func(t *testing.T) {
		// The response carries no Client-Id and is signed over an empty one.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		r.del("Client-Id")
		e.do(t, r, want{code: "INVALID_CLIENT"})
	})

	run("25_no_signature_header", func(t *testing.T) {
		// E8.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		r.del("Signature")
		e.do(t, r, want{code: "INVALID_SIGNATURE"})
	})

	run("26_unknown_key_version", func(t *testing.T) {
		// E10: a correct key-1 signature labelled keyVersion=9.
		e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{keyVersion: "9"}), want{code: "KEY_NOT_FOUND"})
	})

	run("27_ecc224_without_ec_key", func(t *testing.T) {
		// E11: client ...55 has only an RSA key 1 (its RSA signature is
		// sent labelled ECC224). The Signature header parsed, so the
		// response uses the request's algorithm, ECC224.
		body := fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, merchant55, giftID)
		r := e.newRequest(t, c55, "queryPass", body, opts{alg: "ECC224", signWith: c55.rsaKey})
		e.do(t, r, want{code: "KEY_NOT_FOUND", alg: "ECC224"})
	})

	run("28_get_method", func(t *testing.T) {
		// E1: 405 with Allow: POST, signed over "GET <path>".
		r := e.newRequest(t, c44, "updatePass", "", opts{method: "GET"})
		e.do(t, r, want{code: "METHOD_NOT_SUPPORTED"})
	})

	run("29_unknown_paths", func(t *testing.T) {
		// E2, E3 and an official template endpoint that is not served.
		for _, target := range []string{
			apiPrefix + "deletePass",
			apiPrefix + "createPass/",
			apiPrefix + "CreatePass",
			"/api/open/alipay/v1/ipass/template/manage/createTemplate",
		} {
			e.do(t, e.newRequest(t, c44, "", createMember, opts{target: target}), want{code: "NO_INTERFACE_DEF"})
		}
	})

	run("30_body_size_limit", func(t *testing.T) {
		need(t, giftID)
		// E4: 1 MiB is accepted (the unknown "pad" field is ignored),
		// 1 MiB + 1 byte is REQUEST_TOO_LARGE.
		prefix := fmt.Sprintf(`{"merchantId":"%s","passId":"%s","pad":"`, merchant44, giftID)
		pad := func(n int) string { return prefix + strings.Repeat("a", n-len(prefix)-2) + `"}` }
		e.do(t, e.newRequest(t, c44, "queryPass", pad(1<<20), opts{}), ok)
		e.do(t, e.newRequest(t, c44, "queryPass", pad(1<<20+1), opts{}), want{code: "REQUEST_TOO_LARGE"})
	})

	run("31_media_type", func(t *testing.T) {
		// E5, E6.
		for _, ct := range []string{"text/xml", "application/json; charset=GBK"} {
			r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
			r.set("Content-Type", ct)
			e.do(t, r, want{code: "MEDIA_TYPE_NOT_ACCEPTABLE"})
		}
	})

	run("32_header_case_and_sdk_content_type", func(t *testing.T) {
		need(t, giftID)
		// Header names are case-insensitive; the Go SDK's doubled
		// Content-Type is accepted; a query string is not signed.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{target: apiPrefix + "queryPass?trace=1"})
		for i, h := range r.headers {
			switch h.name {
			case "Client-Id":
				r.headers[i].name = "client-id"
			case "Request-Time":
				r.headers[i].name = "REQUEST-TIME"
			case "Signature":
				r.headers[i].name = "sIgNaTuRe"
			case "Content-Type":
				r.headers[i].value = "application/json"
			}
		}
		r.add("Content-Type", "application/json; charset=UTF-8")
		e.do(t, r, ok)
	})

	run("33_duplicated_client_id", func(t *testing.T) {
		// 2.1: a duplicated core header is PARAM_ILLEGAL; the first value is
		// echoed.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		r.add("Client-Id", c55.id)
		e.do(t, r, want{code: "PARAM_ILLEGAL"})
	})

	run("34_other_clients_merchant", func(t *testing.T) {
		// E20.
		body := fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, merchant55, giftID)
		e.do(t, e.newRequest(t, c44, "queryPass", body, opts{}), want{code: "ACCESS_DENIED"})
	})

	run("35_other_clients_pass", func(t *testing.T) {
		need(t, giftID)
		// Client ...55 asks for a pass of client ...44 through its own
		// merchant: it must not learn that the pass exists.
		body := fmt.Sprintf(`{"merchantId":"%s","passId":"%s"}`, merchant55, giftID)
		e.do(t, e.newRequest(t, c55, "queryPass", body, opts{}), want{code: "PASS_HAS_NOT_EXIST"})
	})

	run("36_duplicate_json_key", func(t *testing.T) {
		// E21.
		body := fmt.Sprintf(`{"merchantId":"%s","merchantId":"%s","passId":"%s"}`, merchant44, merchant55, giftID)
		e.do(t, e.newRequest(t, c44, "queryPass", body, opts{}), want{code: "PARAM_ILLEGAL"})
	})

	run("37_unknown_pass", func(t *testing.T) {
		// E38.
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, "2995228480402564890099", `"status":"CLOSED"`), opts{}), want{code: "PASS_HAS_NOT_EXIST"})
	})

	run("38_encrypt_wrong_rsa_key", func(t *testing.T) {
		need(t, giftID)
		// E17: the AES key wrapped for an RSA key that is not the server's.
		// The client is identified and has an RSA key, so the error response
		// is encrypted too, with a 32-byte key (the request key is lost).
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{encrypt: 16, wrapFor: strings.TrimSuffix(c44.rsaKey, ".pem") + ".pub.pem"})
		e.do(t, r, enc44("DECRYPT_FAILED", 32))
	})

	run("39_encrypted_signed_over_plaintext", func(t *testing.T) {
		need(t, giftID)
		// E15: the signature must cover the ciphertext.
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{encrypt: 32, signPlain: true})
		e.do(t, r, enc44("INVALID_SIGNATURE", 32))
	})

	run("40_encrypted_request_unknown_path", func(t *testing.T) {
		// Errors before the client is identified answer in plaintext.
		r := e.newRequest(t, c44, "", queryBody(giftID), opts{encrypt: 32, target: apiPrefix + "deletePass"})
		e.do(t, r, want{code: "NO_INTERFACE_DEF"})
	})

	// --- Restart on the same data dir and database.

	var giftBefore string
	var replayed *request
	run("41_restart_preserves_keys_and_passes", func(t *testing.T) {
		need(t, giftID)
		r := e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{})
		resp := e.do(t, r, ok)
		giftBefore = canon(resp.doc["pass"])
		replayed = r
		keyFiles := []string{"server-signing.pem", "server-signing.pub.pem", "server-ecc-signing.pem", "server-ecc-signing.pub.pem"}
		before := map[string][]byte{}
		for _, f := range keyFiles {
			b, err := os.ReadFile(filepath.Join(srv.dataDir, f))
			if err != nil {
				t.Fatal(err)
			}
			before[f] = b
		}

		srv.stop(t)
		srv.start(t)

		for _, f := range keyFiles {
			b, err := os.ReadFile(filepath.Join(srv.dataDir, f))
			if err != nil || !bytes.Equal(b, before[f]) {
				t.Errorf("%s changed across a restart (%v); generated keys must be reused", f, err)
			}
		}
		resp = e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{}), ok)
		if got := canon(resp.doc["pass"]); got != giftBefore {
			t.Errorf("pass after restart:\n%s\nbefore:\n%s", got, giftBefore)
		}
	})

	run("42_replay_after_restart", func(t *testing.T) {
		need(t, giftBefore)
		// The replay record, and the answer kept with it, live in the
		// database, not in process memory: the repeat gets the answer
		// given before the restart.
		resp := e.do(t, replayed, ok)
		if got := canon(resp.doc["pass"]); got != giftBefore {
			t.Errorf("repeat after restart answered:\n%s\nthe first answer:\n%s", got, giftBefore)
		}
	})

	run("43_history_continues_after_restart", func(t *testing.T) {
		need(t, giftBefore)
		e.do(t, e.newRequest(t, c44, "updatePass", passBody(user0534, giftID, giftC5), opts{}), ok)
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(giftID), opts{}), ok)
		checkPass(t, resp, map[string]string{
			"version":     `3`,
			"lastBizDate": `1735862400000`,
			"dataInfo":    `{"$shopname_en_US$":"demo shop","$balance_en_US$":"HKD 320","$balance_zh_HK$":"HKD 320"}`,
		})
		// Older passes survived too.
		resp = e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{alg: "ECC224"}), want{code: "SUCCESS", alg: "ECC224"})
		checkPass(t, resp, map[string]string{"status": `"CLOSED"`, "version": `5`})
	})

	run("44_graceful_stop", func(t *testing.T) { srv.stop(t) })
	t.Logf("scenarios took %v (without the build)", time.Since(started).Round(time.Millisecond))
}

// TestBlackBoxConfiguredKeys runs a server with the server keys given on the
// command line (the vectors' keys: a signing key distinct from the
// encryption key) and --server-key-version 2.
func TestBlackBoxConfiguredKeys(t *testing.T) {
	requireOpenSSL(t)
	keys := filepath.Join(moduleRoot(t), "gateway", "testdata", "keys")
	srv := newServer(t,
		"--signing-key", filepath.Join(keys, "server-rsa-sign.key.pem"),
		"--ecc-signing-key", filepath.Join(keys, "server-ec-p224-sign.key.pem"),
		"--encryption-key", filepath.Join(keys, "server-rsa-enc.key.pem"),
		"--server-key-version", "2")
	srv.rsaPub = filepath.Join(keys, "server-rsa-sign.pub.pem")
	srv.eccPub = filepath.Join(keys, "server-ec-p224-sign.pub.pem")
	srv.encPub = filepath.Join(keys, "server-rsa-enc.pub.pem")
	srv.keyVersion = "2"
	srv.start(t)
	e := newEnv(t, srv)
	c44, _ := fixtureClients(t)
	var memberID string

	t.Run("K1_create_rsa", func(t *testing.T) {
		resp := e.do(t, e.newRequest(t, c44, "createPass", createMember, opts{}), want{code: "SUCCESS"})
		memberID = passID(t, resp)
	})

	t.Run("K2_query_ecc224", func(t *testing.T) {
		need(t, memberID)
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{alg: "ECC224"}), want{code: "SUCCESS", alg: "ECC224"})
		checkPass(t, resp, map[string]string{"version": `1`, "status": `"ACTIVE"`})
	})

	t.Run("K3_encrypted_update_aes192", func(t *testing.T) {
		need(t, memberID)
		r := e.newRequest(t, c44, "updatePass", passBody(user0534, memberID, memberM2), opts{encrypt: 24})
		e.do(t, r, want{code: "SUCCESS", encryptedFor: &c44, aesLen: 24})
		resp := e.do(t, e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{encrypt: 32}), want{code: "SUCCESS", encryptedFor: &c44, aesLen: 32})
		checkPass(t, resp, map[string]string{"version": `2`, "dataInfo": `{"$points_zh_HK$":19999,"$points_en_US$":19999,"$level_zh_HK$":"銀卡","$level_en_US$":"Silver Card"}`})
	})

	t.Run("K4_encrypt_key_version_mismatch", func(t *testing.T) {
		need(t, memberID)
		// E18: Encrypt keyVersion 1 while the server's is 2.
		r := e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{encrypt: 32, encKeyVersion: "1"})
		e.do(t, r, want{code: "KEY_NOT_FOUND", encryptedFor: &c44, aesLen: 32})
	})

	t.Run("K5_symmetric_key_for_signing_key", func(t *testing.T) {
		need(t, memberID)
		// Vector req-neg-symmetric-key-wrong-rsa-key: wrapped for the
		// server's signing key, which is not its encryption key.
		r := e.newRequest(t, c44, "queryPass", queryBody(memberID), opts{encrypt: 16, wrapFor: srv.rsaPub})
		e.do(t, r, want{code: "DECRYPT_FAILED", encryptedFor: &c44, aesLen: 32})
	})

	t.Run("K6_graceful_stop", func(t *testing.T) { srv.stop(t) })
}
