package http_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestQueryPassHistory: the [ext] history operation on every engine.
func TestQueryPassHistory(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("ExactHistory", func(t *testing.T) { testHistoryExact(t, open) })
			t.Run("Paging", func(t *testing.T) { testHistoryPaging(t, open) })
			t.Run("Tenancy", func(t *testing.T) { testHistoryTenancy(t, open) })
		})
	}
}

// historyOf sends queryPassHistory and decodes the page.
func historyOf(h *harness, r req) (reply, *ipass.HistoryPage) {
	h.t.Helper()
	r.path = pathOf("queryPassHistory")
	rep := h.send(r)
	if rep.code != ipass.CodeSuccess {
		return rep, nil
	}
	var page ipass.HistoryPage
	if err := json.Unmarshal(rep.plain, &page); err != nil {
		h.t.Fatalf("history page: %v: %s", err, rep.plain)
	}
	return rep, &page
}

const historyTicketCreate = `{"merchantId":"2160120036095023","userId":"2160220043214225","templateCode":"22024120100135606000000001443495",` +
	`"bizSerialId":"%s","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":1893456000000,"bizCreate":1735689600000,` +
	`"codeInfo":{"$codevalue$":"T-1"},"dataInfo":{"$ticketName_zh_HK$":"海洋公園一日門票","$ticketName_en_US$":"Ocean Park 1-Day Ticket",` +
	`"$availableTimes_zh_HK$":2,"$availableTimes_en_US$":2,"$price_en_US$":{"cent":49800,"currency":"HKD"}}}`

func testHistoryExact(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	created := h.must(h.op("createPass", fmt.Sprintf(historyTicketCreate, "HIST-1")), ipass.CodeSuccess)
	pass := created.passID
	base := `"merchantId":"2160120036095023","userId":"2160220043214225","passId":"` + pass + `"`
	type sent struct {
		body string
		r    reply
		at   int64
	}
	steps := []sent{
		{body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735776000000,"dataInfo":{"$availableTimes_zh_HK$":1,"$availableTimes_en_US$":1,"billNo":"B-0001","lastChangedPoints":"-1"}}`},
		{body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{},"codeInfo":{"$codemsg$":"T-2 (reissued)","$codevalue$":"T-2"}}`},
		{body: `{` + base + `,"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":1735862400000,"dataInfo":{"$price_en_US$":null,"$ticketName_en_US$":"Ocean Park 1-Day Ticket (Child)"},"endDate":1800000000000}`},
		{body: `{` + base + `,"status":"USED","bizDate":1735948800000,"passVerifyCode":"GATE-7"}`},
	}
	createdAt := h.clock.Now().UnixMilli()
	for i := range steps {
		steps[i].r = h.must(h.op("updatePass", steps[i].body), ipass.CodeSuccess)
		steps[i].at = h.clock.Now().UnixMilli()
	}
	tr := func(r reply) string { return r.header.Get("Tracer-Id") }
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	want := []ipass.HistoryEntry{
		{Version: 1, Operation: "createPass", ChangedAt: createdAt, Status: "ACTIVE", TracerID: tr(created), Changes: []ipass.FieldChange{
			{Field: "status", To: raw(`"ACTIVE"`)},
			{Field: "startDate", To: raw(`1735689600000`)},
			{Field: "endDate", To: raw(`1893456000000`)},
			{Field: "bizCreate", To: raw(`1735689600000`)},
			{Field: "codeInfo", To: raw(`{"$codemsg$":"T-1","$codevalue$":"T-1"}`)},
			{Field: "dataInfo.$availableTimes_en_US$", To: raw(`2`)},
			{Field: "dataInfo.$availableTimes_zh_HK$", To: raw(`2`)},
			{Field: "dataInfo.$price_en_US$", To: raw(`{"cent":49800,"currency":"HKD"}`)},
			{Field: "dataInfo.$ticketName_en_US$", To: raw(`"Ocean Park 1-Day Ticket"`)},
			{Field: "dataInfo.$ticketName_zh_HK$", To: raw(`"海洋公園一日門票"`)},
		}},
		{Version: 2, Operation: "updatePass", ChangedAt: steps[0].at, RequestStatus: "UPDATE", UpdateDetailType: "UPDATE_PASS", Status: "ACTIVE",
			BizDate: 1735776000000, TracerID: tr(steps[0].r), Metadata: raw(`{"billNo":"B-0001","lastChangedPoints":-1}`), Changes: []ipass.FieldChange{
				{Field: "dataInfo.$availableTimes_en_US$", From: raw(`2`), To: raw(`1`)},
				{Field: "dataInfo.$availableTimes_zh_HK$", From: raw(`2`), To: raw(`1`)},
			}},
		{Version: 3, Operation: "updatePass", ChangedAt: steps[1].at, RequestStatus: "UPDATE", UpdateDetailType: "UPDATE_PASS", Status: "ACTIVE",
			BizDate: 1735862400000, TracerID: tr(steps[1].r), Changes: []ipass.FieldChange{
				{Field: "codeInfo", From: raw(`{"$codemsg$":"T-1","$codevalue$":"T-1"}`), To: raw(`{"$codemsg$":"T-2 (reissued)","$codevalue$":"T-2"}`)},
			}},
		{Version: 4, Operation: "updatePass", ChangedAt: steps[2].at, RequestStatus: "UPDATE", UpdateDetailType: "UPDATE_PASS", Status: "ACTIVE",
			BizDate: 1735862400000, TracerID: tr(steps[2].r), Changes: []ipass.FieldChange{
				{Field: "endDate", From: raw(`1893456000000`), To: raw(`1800000000000`)},
				{Field: "dataInfo.$price_en_US$", From: raw(`{"cent":49800,"currency":"HKD"}`)},
				{Field: "dataInfo.$ticketName_en_US$", From: raw(`"Ocean Park 1-Day Ticket"`), To: raw(`"Ocean Park 1-Day Ticket (Child)"`)},
			}},
		{Version: 5, Operation: "updatePass", ChangedAt: steps[3].at, RequestStatus: "USED", Status: "USED",
			BizDate: 1735948800000, PassVerifyCode: "GATE-7", TracerID: tr(steps[3].r), Changes: []ipass.FieldChange{
				{Field: "status", From: raw(`"ACTIVE"`), To: raw(`"USED"`)},
			}},
	}
	_, page := historyOf(h, req{body: `{"merchantId":"2160120036095023","passId":"` + pass + `"}`})
	if page == nil {
		t.Fatal("queryPassHistory did not succeed")
	}
	if page.PassID != pass || page.LatestVersion != 5 || page.NextFromVersion != 0 {
		t.Fatalf("page: passId %s latestVersion %d next %d", page.PassID, page.LatestVersion, page.NextFromVersion)
	}
	for i := range want {
		if i >= len(page.Versions) {
			t.Fatalf("only %d versions", len(page.Versions))
		}
		got, _ := json.Marshal(page.Versions[i])
		exp, _ := json.Marshal(want[i])
		if string(got) != string(exp) {
			t.Errorf("version %d:\n got  %s\n want %s", i+1, got, exp)
		}
	}
	if len(page.Versions) != len(want) {
		t.Fatalf("%d versions, want %d", len(page.Versions), len(want))
	}
	// The same page by bizSerialId, and with the owner's openId.
	_, bySerial := historyOf(h, req{body: `{"merchantId":"2160120036095023","bizSerialId":"HIST-1","openId":"k29dh38fj2l0s9d8f7g6h5j4"}`})
	if a, b := mustJSON(t, page), mustJSON(t, bySerial); a != b {
		t.Fatalf("by bizSerialId:\n%s\nby passId:\n%s", b, a)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testHistoryPaging(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	pass := h.must(h.op("createPass", fmt.Sprintf(historyTicketCreate, "HIST-P")), ipass.CodeSuccess).passID
	for i := 1; i <= 4; i++ {
		h.must(h.op("updatePass", fmt.Sprintf(`{"merchantId":"2160120036095023","userId":"2160220043214225","passId":"%s",`+
			`"status":"UPDATE","updateDetailType":"UPDATE_PASS","bizDate":%d,"dataInfo":{"$availableTimes_en_US$":%d}}`,
			pass, 1735776000000+int64(i), 10+i)), ipass.CodeSuccess)
	}
	q := func(extra string) string {
		return `{"merchantId":"2160120036095023","passId":"` + pass + `"` + extra + `}`
	}
	var seen []int
	from := `1`
	for pages := 0; from != "0"; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		_, page := historyOf(h, req{body: q(`,"pageSize":2,"fromVersion":` + from)})
		if page == nil || page.LatestVersion != 5 || len(page.Versions) > 2 {
			t.Fatalf("page from %s: %+v", from, page)
		}
		for _, v := range page.Versions {
			seen = append(seen, v.Version)
		}
		from = fmt.Sprint(page.NextFromVersion)
	}
	if fmt.Sprint(seen) != "[1 2 3 4 5]" {
		t.Fatalf("versions over all pages: %v", seen)
	}
	// A digit string works like a number; past the end is an empty page.
	if _, page := historyOf(h, req{body: q(`,"pageSize":"1","fromVersion":"5"`)}); page == nil || len(page.Versions) != 1 || page.Versions[0].Version != 5 || page.NextFromVersion != 0 {
		t.Fatalf("last page: %+v", page)
	}
	if _, page := historyOf(h, req{body: q(`,"fromVersion":6`)}); page == nil || len(page.Versions) != 0 || page.LatestVersion != 5 {
		t.Fatalf("past the end: %+v", page)
	}
	if _, page := historyOf(h, req{body: q(``)}); page == nil || len(page.Versions) != 5 {
		t.Fatalf("default page: %+v", page)
	}
	for _, bad := range []string{`,"pageSize":0`, `,"pageSize":101`, `,"pageSize":2.5`, `,"pageSize":"two"`, `,"fromVersion":0`,
		`,"fromVersion":-1`, `,"fromVersion":true`, `,"fromVersion":1e2`} {
		r, _ := historyOf(h, req{body: q(bad)})
		field := "pageSize"
		if strings.Contains(bad, "from") {
			field = "fromVersion"
		}
		if r.code != ipass.CodeParamIllegal || !strings.Contains(r.message, field) {
			t.Errorf("%s: got %s (%s), want PARAM_ILLEGAL naming %s", bad, r.code, r.message, field)
		}
	}
}

func testHistoryTenancy(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	pass := h.must(h.op("createPass", fmt.Sprintf(historyTicketCreate, "HIST-T")), ipass.CodeSuccess).passID
	missing := "2025010100000000000000000000001"
	cases := []struct {
		name, client, body string
		want               ipass.Code
		msg                string
	}{
		{"other client's pass via own merchant", clientB, `{"merchantId":"2160400000000022","passId":"%s"}`, ipass.CodePassHasNotExist, "passId %s: pass not found"},
		{"missing pass via own merchant", clientB, `{"merchantId":"2160400000000022","passId":"` + missing + `"}`, ipass.CodePassHasNotExist, "passId " + missing + ": pass not found"},
		{"other client's bizSerialId", clientB, `{"merchantId":"2160400000000022","bizSerialId":"HIST-T"}`, ipass.CodePassHasNotExist, "bizSerialId HIST-T: pass not found"},
		{"other client's merchant", clientB, `{"merchantId":"2160120036095023","passId":"%s"}`, ipass.CodeAccessDenied, "merchantId 2160120036095023 is not a merchant of this client"},
		{"other user of the same merchant", clientA, `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"%s"}`, ipass.CodePassHasNotExist, "passId %s: pass not found"},
		{"no pass named", clientA, `{"merchantId":"2160120036095023"}`, ipass.CodeParamIllegal, "passId or bizSerialId is required"},
	}
	for _, c := range cases {
		body, msg := c.body, c.msg
		if strings.Contains(body, "%s") {
			body = fmt.Sprintf(body, pass)
		}
		if strings.Contains(msg, "%s") {
			msg = fmt.Sprintf(msg, pass)
		}
		r, _ := historyOf(h, req{clientID: c.client, body: body})
		if r.code != c.want || r.message != msg {
			t.Errorf("%s: got %s (%s), want %s (%s)", c.name, r.code, r.message, c.want, msg)
		}
	}
}
