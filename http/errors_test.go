package http_test

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// errorCase is one row of docs/api.md, "Error cases": an otherwise valid request with
// one defect, the expected code, and (optionally) words the message must
// contain so the offending field is named.
type errorCase struct {
	name    string
	req     req
	want    ipass.Code
	mention string
}

const ticketCreate = `{"merchantId":"2160120036095023","userId":"2160220043214225","templateCode":"22024120100135606000000001443495","bizSerialId":"T-ERR-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"1"},"dataInfo":{"$availableTimes_en_US$":2}}`

// createWith is a valid new member-card create with one field replaced,
// added, or (value "") removed.
func createWith(field, value string) string {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(`{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","bizSerialId":"E-NEW-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"81399940"}}`), &m); err != nil {
		panic(err)
	}
	if value == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(value)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// runRejected sends each case, checks its code and that its message names
// the offending part, and that none of them changed stored data.
func runRejected(t *testing.T, h *harness, cases []errorCase) {
	t.Helper()
	before := h.snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.in(t).send(c.req)
			if r.code != c.want {
				t.Fatalf("got %s (%s), want %s", r.code, r.message, c.want)
			}
			if c.mention != "" && !strings.Contains(r.message, c.mention) {
				t.Fatalf("message %q does not name %q", r.message, c.mention)
			}
			if r.code == ipass.CodeMethodNotSupported && r.header.Get("Allow") != "POST" {
				t.Fatalf("405 without Allow: POST: %v", r.header)
			}
		})
	}
	if after := h.snapshot(); after != before {
		t.Fatalf("rejected requests changed stored data")
	}
}

func testErrorCases(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	member := createMember(t, h)
	ticket := h.must(h.op("createPass", ticketCreate), ipass.CodeSuccess).passID
	upd := func(extra string) string {
		return `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + member + `"` + extra + `}`
	}
	valid := upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":5}}`)
	valid = strings.TrimSuffix(valid, "}")
	otherKey := mustPrivateKey(t, "../gateway/testdata/keys/client-rsa-v2.key.pem").Public().(*rsa.PublicKey)
	big := `{"merchantId":"` + strings.Repeat("x", 1048577-17) + `"}`

	cases := []errorCase{
		{"E1 GET", req{method: http.MethodGet, body: valid}, ipass.CodeMethodNotSupported, "GET"},
		{"E2 unknown path", req{path: "/api/open/alipay/v1/ipass/pass/manage/deletePass", body: valid}, ipass.CodeNoInterfaceDef, "deletePass"},
		{"E3 trailing slash", req{path: "/api/open/alipay/v1/ipass/pass/manage/createPass/", body: createBody8_1}, ipass.CodeNoInterfaceDef, ""},
		{"E3b other case", req{path: "/api/open/alipay/v1/ipass/pass/manage/CreatePass", body: createBody8_1}, ipass.CodeNoInterfaceDef, ""},
		{"E3c template API not served", req{path: "/api/open/alipay/v1/ipass/template/manage/createTemplate", body: valid}, ipass.CodeNoInterfaceDef, ""},
		{"E4 body too large", req{body: big}, ipass.CodeRequestTooLarge, "body"},
		{"E5 text/xml", req{body: valid, contentType: "text/xml"}, ipass.CodeMediaTypeNotAccept, "Content-Type"},
		{"E6 charset GBK", req{body: valid, contentType: "application/json; charset=GBK"}, ipass.CodeMediaTypeNotAccept, "charset"},
		{"E7 unknown client", req{body: valid, clientID: "9999999999999999", signAs: clientA + "/RSA256"}, ipass.CodeInvalidClient, "Client-Id"},
		{"E8 no Signature", req{body: valid, noSign: true}, ipass.CodeInvalidSignature, "Signature"},
		{"E9 MD5withRSA", req{body: valid, alg: "MD5withRSA", signAs: clientA + "/RSA256"}, ipass.CodeInvalidSignature, "algorithm"},
		{"E10 keyVersion 9", req{body: valid, keyVersion: 9}, ipass.CodeKeyNotFound, "keyVersion"},
		{"E11 ECC224 for an RSA-only client", req{body: `{"merchantId":"2160400000000022"}`, clientID: clientB, alg: gateway.ECC224, signAs: clientA + "/ECC224"}, ipass.CodeKeyNotFound, "ECC224"},
		{"E12 Request-Time format", req{body: valid, requestTime: "2025/01/01 08:00:00"}, ipass.CodeParamIllegal, "Request-Time"},
		{"E14 body changed after signing", req{body: valid, tamper: func(b []byte) []byte { return []byte(strings.Replace(string(b), `:5}`, `:6}`, 1)) }}, ipass.CodeInvalidSignature, "Signature"},
		{"E15 signed over plaintext", req{body: valid, encrypt: true, signPlain: true}, ipass.CodeInvalidSignature, ""},
		{"E17 symmetricKey for another key", req{body: valid, encrypt: true, encWrapFor: otherKey}, ipass.CodeDecryptFailed, ""},
		{"E18 Encrypt keyVersion 7", req{body: valid, encrypt: true, encVersion: 7}, ipass.CodeKeyNotFound, "Encrypt"},
		{"E20 another client's merchant", req{body: `{"merchantId":"2160400000000022","userId":"2160220037090534","passId":"` + member + `","status":"CLOSED"}`}, ipass.CodeAccessDenied, ""},
		{"E20b unknown merchant", req{body: `{"merchantId":"2160400000000099","userId":"2160220037090534","passId":"` + member + `","status":"CLOSED"}`}, ipass.CodeAccessDenied, ""},
		{"E21 duplicate key", req{body: `{"merchantId":"2160120036095023","merchantId":"2160400000000022","userId":"2160220037090534","passId":"` + member + `","status":"CLOSED"}`}, ipass.CodeParamIllegal, "merchantId"},
		{"E22 no user", req{path: pathOf("createPass"), body: createWith("userId", "")}, ipass.CodeParamIllegal, "userId"},
		{"E23 unknown user", req{path: pathOf("createPass"), body: createWith("userId", `"2160220000000000"`)}, ipass.CodeUserNotExist, "userId"},
		{"E24 userId and openId disagree", req{path: pathOf("createPass"), body: createWith("openId", `"k29dh38fj2l0s9d8f7g6h5j4"`)}, ipass.CodeParamIllegal, "openId"},
		{"E25 startDate text", req{path: pathOf("createPass"), body: createWith("startDate", `"2025-01-01 00:00:00"`)}, ipass.CodeParamIllegal, "startDate"},
		{"E26 endDate seconds", req{path: pathOf("createPass"), body: createWith("endDate", `1735689600`)}, ipass.CodeParamIllegal, "endDate: must be epoch milliseconds with exactly 13 digits (got \"1735689600\"); it looks like Unix seconds"},
		{"E27 undeclared locale", req{path: pathOf("createPass"), body: createWith("dataInfo", `{"$points_fr_FR$":1}`)}, ipass.CodeParamIllegal, "fr_FR"},
		{"E28 bizSerialType", req{path: pathOf("createPass"), body: createWith("bizSerialType", `"IN_PLAT_FORM"`)}, ipass.CodeParamIllegal, "bizSerialType"},
		{"E29 type differs from template", req{path: pathOf("createPass"), body: createWith("type", `"TICKET"`)}, ipass.CodeParamIllegal, "type"},
		{"E30 bizSerialId reused differently", req{path: pathOf("createPass"), body: strings.Replace(createBody8_1, "4102444800000", "4102444800001", 1)}, ipass.CodeParamIllegal, "endDate"},
		{"E31 endDate in the past", req{path: pathOf("createPass"), body: createWith("endDate", `1735700000000`)}, ipass.CodeParamIllegal, "endDate"},
		{"E32 update without passId", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","templateCode":"temlate111001","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_zh_HK$":1}}`}, ipass.CodeParamIllegal, "passId"},
		{"E33 status DELETE", req{body: upd(`,"status":"DELETE"`)}, ipass.CodeParamIllegal, "status"},
		{"E34 status lower case", req{body: upd(`,"status":"used"`)}, ipass.CodeParamIllegal, "status"},
		{"E35 UPDATE without kind", req{body: upd(`,"status":"UPDATE","dataInfo":{"$points_en_US$":1}`)}, ipass.CodeParamIllegal, "updateDetailType"},
		{"E36 unknown kind", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_EVERYTHING","dataInfo":{"$points_en_US$":1}`)}, ipass.CodeParamIllegal, "updateDetailType"},
		{"E37 UPDATE_TEMPLATE", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_TEMPLATE","dataInfo":{"$points_en_US$":1}`)}, ipass.CodeBizNotSupport, "UPDATE_TEMPLATE"},
		{"E38 unknown passId", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"2025010100000000000000000000000","status":"CLOSED"}`}, ipass.CodePassHasNotExist, "passId"},
		{"E39 another user's pass", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + ticket + `","status":"CLOSED"}`}, ipass.CodePassHasNotExist, ""},
		{"E40 other template", req{body: upd(`,"templateCode":"82022031000135000000000000624234","status":"CLOSED"`)}, ipass.CodeParamIllegal, "templateCode"},
		{"E43 both points aliases", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":1,"lastChangedPoints":"5","lastChangePoints":"6"}`)}, ipass.CodeParamIllegal, "lastChangePoints"},
		{"E44 query without ids", req{path: pathOf("queryPass"), body: `{"merchantId":"2160120036095023"}`}, ipass.CodeParamIllegal, "passId"},
	}
	runRejected(t, h, cases)

	t.Run("E13 Request-Time 6 minutes old", func(t *testing.T) {
		old := h.clock.Now().Add(-6 * time.Minute).UTC().Format(time.RFC3339)
		h := h.in(t)
		h.must(h.send(req{body: valid, requestTime: old}), ipass.CodeRequestTimeExpired)
	})
	t.Run("E16 replay", func(t *testing.T) {
		fixed := h.clock.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
		h := h.in(t)
		body := upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":77}`)
		h.must(h.send(req{body: body, requestTime: fixed}), ipass.CodeSuccess)
		// The repeat gets the first's answer; it is not executed again.
		before := h.query(merchantA, member).Version
		h.must(h.send(req{body: body, requestTime: fixed}), ipass.CodeSuccess)
		if after := h.query(merchantA, member).Version; after != before {
			t.Fatalf("E16: the repeat moved the pass from version %d to %d", before, after)
		}
	})
	t.Run("E45 query by bizSerialId", func(t *testing.T) {
		h := h.in(t)
		r := h.must(h.op("queryPass", `{"merchantId":"2160120036095023","bizSerialId":"1111128828"}`), ipass.CodeSuccess)
		if r.pass == nil || r.pass.PassID != member || r.pass.BizSerialID != "1111128828" {
			t.Fatalf("E45: %+v", r.pass)
		}
	})
}

func testExpiry(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	soon := h.clock.Now().Add(time.Hour).UnixMilli()
	body := createWith("endDate", strconv.FormatInt(soon, 10))
	pass := h.must(h.op("createPass", body), ipass.CodeSuccess).passID
	h.clock.Add(2 * time.Hour)
	if p := h.query(merchantA, pass); p.Status != ipass.StatusExpired {
		t.Fatalf("status %s, want EXPIRED", p.Status)
	}
	base := `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + pass + `"`
	h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":1}}`), ipass.CodePassStatusIllegal) // E41
	h.must(h.op("updatePass", base+`,"status":"CLOSED"}`), ipass.CodeSuccess)                                                                                   // E42
	if p := h.query(merchantA, pass); p.Status != ipass.StatusClosed {
		t.Fatalf("status %s, want CLOSED", p.Status)
	}
}

// testBadInput: malformed requests of every kind get the spec's code in a
// signed envelope, and nothing stored changes.
func testBadInput(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	member := createMember(t, h)
	upd := func(extra string) string {
		return `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + member + `"` + extra + `}`
	}
	points := `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":1}`
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	cases := []errorCase{
		{"empty body", req{body: ""}, ipass.CodeParamIllegal, "body"},
		{"truncated JSON", req{body: `{"merchantId":"2160120036095023"`}, ipass.CodeParamIllegal, "body"},
		{"array body", req{body: `[1,2]`}, ipass.CodeParamIllegal, "body"},
		{"two objects", req{body: upd(`,"status":"CLOSED"`) + `{}`}, ipass.CodeParamIllegal, "body"},
		{"invalid UTF-8", req{body: upd(`,"status":"CLOSED","x":"` + "\xff\xfe" + `"`)}, ipass.CodeParamIllegal, "UTF-8"},
		{"byte-order mark", req{body: "\uFEFF" + upd(`,"status":"CLOSED"`)}, ipass.CodeParamIllegal, ""},
		{"NUL in a string", req{body: upd(`,"status":"CLOSED","note":"a\u0000b"`)}, ipass.CodeParamIllegal, ""},
		{"control char in passId", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"12\u0001","status":"CLOSED"}`}, ipass.CodeParamIllegal, "passId"},
		{"merchantId as number", req{body: `{"merchantId":2160120036095023,"userId":"2160220037090534","passId":"` + member + `","status":"CLOSED"}`}, ipass.CodeParamIllegal, "merchantId"},
		{"merchantId missing", req{body: `{"userId":"2160220037090534","passId":"` + member + `","status":"CLOSED"}`}, ipass.CodeParamIllegal, "merchantId"},
		{"passId too long", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + strings.Repeat("1", 33) + `","status":"CLOSED"}`}, ipass.CodeParamIllegal, "passId"},
		{"SQL-looking passId", req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"1' OR '1'='1","status":"CLOSED"}`}, ipass.CodePassHasNotExist, ""},
		{"nesting too deep", req{body: upd(`,"status":"CLOSED","x":` + deep)}, ipass.CodeParamIllegal, "deeper"},
		{"unknown type enum", req{path: pathOf("createPass"), body: createWith("type", `"PASSPORT"`)}, ipass.CodeParamIllegal, "type"},
		{"dataInfo as array", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":[1]`)}, ipass.CodeParamIllegal, "dataInfo"},
		{"codeInfo unknown key", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","codeInfo":{"$codevalue$":"1","$x$":"2"}`)}, ipass.CodeParamIllegal, "codeInfo"},
		{"nothing to update", req{body: upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD"`)}, ipass.CodeParamIllegal, "nothing to update"},
		{"no Content-Type", req{body: upd(points), header: http.Header{"Content-Type": {}}}, ipass.CodeMediaTypeNotAccept, "Content-Type"},
		{"gzip Content-Encoding", req{body: upd(points), header: http.Header{"Content-Encoding": {"gzip"}}}, ipass.CodeMediaTypeNotAccept, "Content-Encoding"},
		{"text/plain without Encrypt", req{body: upd(points), contentType: "text/plain; charset=UTF-8"}, ipass.CodeMediaTypeNotAccept, "Content-Type"},
		{"no Client-Id", req{body: upd(points), header: http.Header{"Client-Id": {}}}, ipass.CodeInvalidClient, "Client-Id"},
		{"Client-Id too long", req{body: upd(points), clientID: strings.Repeat("9", 65), signAs: clientA + "/RSA256"}, ipass.CodeInvalidClient, "Client-Id"},
		{"Client-Id twice", req{body: upd(points), header: http.Header{"Client-Id": {clientA, clientA}}}, ipass.CodeParamIllegal, "Client-Id"},
		{"Signature twice", req{body: upd(points), header: http.Header{"Signature": {"algorithm=RSA256,signature=AA==", "algorithm=RSA256,signature=AA=="}}}, ipass.CodeParamIllegal, "Signature"},
		{"no Request-Time", req{body: upd(points), header: http.Header{"Request-Time": {}}}, ipass.CodeParamIllegal, "Request-Time"},
		{"Request-Time in the future", req{body: upd(points), requestTime: "2025-01-05T00:07:00Z"}, ipass.CodeRequestTimeExpired, "Request-Time"},
		{"signature not base64", req{body: upd(points), header: http.Header{"Signature": {"algorithm=RSA256,keyVersion=1,signature=%%%"}}}, ipass.CodeInvalidSignature, "signature"},
		{"keyVersion not a number", req{body: upd(points), header: http.Header{"Signature": {"algorithm=RSA256,keyVersion=one,signature=AAAA"}}}, ipass.CodeKeyNotFound, "keyVersion"},
		{"headers too large", req{body: upd(points), header: http.Header{"X-Padding": {strings.Repeat("p", 70<<10)}}}, ipass.CodeRequestTooLarge, "headers"},
		{"another client's key", req{body: upd(points), signAs: clientB + "/RSA256"}, ipass.CodeInvalidSignature, ""},
		{"RSA signature as ECC224", req{body: upd(points), alg: gateway.ECC224, signAs: clientA + "/RSA256"}, ipass.CodeInvalidSignature, ""},
	}
	runRejected(t, h, cases)
	t.Run("official Go SDK sends Content-Type twice", func(t *testing.T) {
		h := h.in(t)
		r := h.send(req{body: upd(points), header: http.Header{"Content-Type": {"application/json", "application/json; charset=UTF-8"}}})
		h.must(r, ipass.CodeSuccess)
	})
}
