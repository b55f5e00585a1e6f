package http_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestRenewalAPI: an UPDATE with an endDate in the future renews an EXPIRED
// member card (ACTIVE again, one new version marked as a renewal in
// queryPassHistory); every other UPDATE on an EXPIRED pass keeps its
// refusal, and a terminated pass is not renewable. Every answer passes the
// OpenAPI check of the harness.
func TestRenewalAPI(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, open(t))
			soon := h.clock.Now().Add(time.Hour).UnixMilli()
			pass := h.must(h.op("createPass", createWith("endDate", strconv.FormatInt(soon, 10))), ipass.CodeSuccess).passID
			h.clock.Add(2 * time.Hour)
			if p := h.query(merchantA, pass); p.Status != ipass.StatusExpired {
				t.Fatalf("status %s, want EXPIRED", p.Status)
			}
			base := `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + pass + `"`
			past := strconv.FormatInt(h.clock.Now().Add(-time.Minute).UnixMilli(), 10)
			future := h.clock.Now().Add(365 * 24 * time.Hour).UnixMilli()
			// Not renewals: no endDate, an endDate still in the past.
			h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":1}}`), ipass.CodePassStatusIllegal)
			h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":`+past+`}`), ipass.CodePassStatusIllegal)
			// The renewal.
			h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":`+strconv.FormatInt(future, 10)+`}`), ipass.CodeSuccess)
			p := h.query(merchantA, pass)
			if p.Status != ipass.StatusActive || p.EndDate != future {
				t.Fatalf("after renewal: %s until %d, want ACTIVE until %d", p.Status, p.EndDate, future)
			}
			_, page := historyOf(h, req{body: base + `}`})
			if page == nil || page.LatestVersion != 2 {
				t.Fatalf("history %+v: want 2 versions (the refused updates made none)", page)
			}
			v := page.Versions[1]
			if !v.Renewal || v.Status != ipass.StatusActive || len(v.Changes) != 1 || v.Changes[0].Field != "endDate" ||
				string(v.Changes[0].From) != strconv.FormatInt(soon, 10) || string(v.Changes[0].To) != strconv.FormatInt(future, 10) {
				t.Fatalf("version 2 = %+v: want a renewal changing endDate %d → %d", v, soon, future)
			}
			if page.Versions[0].Renewal {
				t.Error("version 1 is marked as a renewal")
			}
			// Ordinary updates work again; once terminated, no renewal.
			h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":5}}`), ipass.CodeSuccess)
			h.must(h.op("updatePass", base+`,"status":"CLOSED"}`), ipass.CodeSuccess)
			r := h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_VALIDITY","endDate":`+strconv.FormatInt(future+1, 10)+`}`), ipass.CodePassStatusIllegal)
			if !strings.Contains(r.message, "CLOSED") {
				t.Errorf("renewing a CLOSED pass: %q, want it to say CLOSED", r.message)
			}
		})
	}
}

// TestUnknownFieldHintAPI: a misspelt top-level field is still ignored,
// but a failure names it and the closest known field; a successful request
// is unchanged, and no value of the unknown field is echoed.
func TestUnknownFieldHintAPI(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			h := newHarness(t, open(t))
			// createPass whose dataInfo is misspelt: the template needs none,
			// so it succeeds, unchanged, and the misspelt field is ignored.
			ok := h.must(h.op("createPass", strings.Replace(createBody8_1, `"dataInfo"`, `"datainfo"`, 1)), ipass.CodeSuccess)
			if ok.message != "success" {
				t.Errorf("successful create with an unknown field: message %q, want the usual %q", ok.message, "success")
			}
			if p := h.query(merchantA, ok.passID); len(p.DataInfo) != 0 {
				t.Errorf("the misspelt datainfo was applied: %v", p.DataInfo)
			}
			// createPass failing for another reason names the ignored field.
			failing := createWith("templateCode", `"nope"`)
			r := h.must(h.op("createPass", `{"datainfo":{"x":"SECRET-VALUE"},`+failing[1:]), ipass.CodeParamIllegal)
			if want := "; ignored unknown field datainfo; did you mean dataInfo?"; !strings.HasSuffix(r.message, want) || strings.Contains(r.message, "SECRET") {
				t.Errorf("create message %q: want it to end %q and echo no value", r.message, want)
			}
			// updatePass: UPDATE with only a misspelt dataInfo has nothing to
			// update; the message says why.
			base := `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + ok.passID + `"`
			r = h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","datainfo":{"$points_en_US$":1}}`), ipass.CodeParamIllegal)
			if !strings.Contains(r.message, "nothing to update") || !strings.HasSuffix(r.message, "; ignored unknown field datainfo; did you mean dataInfo?") {
				t.Errorf("update message %q", r.message)
			}
			// Several unknown fields: at most three named, names cut, the rest counted.
			long := strings.Repeat("x", 300)
			r = h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","Status2":1,"enddate":2,"zz":3,"`+long+`":4,"aa bb":5}`), ipass.CodeParamIllegal)
			if strings.Contains(r.message, long) || !strings.Contains(r.message, "ignored unknown fields ") || !strings.Contains(r.message, " and 2 more") {
				t.Errorf("update message with five unknown fields %q: want three named, cut, and the rest counted", r.message)
			}
			// A successful update with an unknown field is unchanged.
			r = h.must(h.op("updatePass", base+`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$points_en_US$":2},"extra":true}`), ipass.CodeSuccess)
			if r.message != "success" {
				t.Errorf("successful update message %q", r.message)
			}
		})
	}
}
