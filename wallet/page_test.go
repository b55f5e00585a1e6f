package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// pageFixture is a holder's wallet at a fixed clock: templates by code, and
// links that say what they point at.
type pageFixture struct {
	now     time.Time
	tmpls   map[string]*ipass.Template
	lookups []string // template lookups, in order
}

func newPageFixture() *pageFixture {
	return &pageFixture{
		now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		tmpls: map[string]*ipass.Template{
			"member": {Code: "member", Type: ipass.TypeCard, Product: ipass.ProductMemberCard,
				Locales: []string{LocaleEN}, Title: map[string]string{LocaleEN: "Club card"},
				Placeholders: []string{"points"}, Labels: map[string]map[string]string{"points": {LocaleEN: "Points"}},
				Fields:      map[string]ipass.FieldSpec{"points": {Type: ipass.FieldInteger}},
				CodeDisplay: ipass.CodeQR, Style: map[string]string{"backgroundColor": "#2a2", "foregroundColor": "#ffffff"}},
			"ticket": {Code: "ticket", Type: ipass.TypeTicket, Product: ipass.ProductPass,
				Locales: []string{LocaleEN}, Title: map[string]string{LocaleEN: "Ticket"},
				CodeDisplay: ipass.CodeQR, Style: map[string]string{"backgroundColor": "#2F54EB", "foregroundColor": "#FFFFFF"}},
			"coupon": {Code: "coupon", Type: ipass.TypeCoupon, Product: ipass.ProductCoupon,
				Locales: []string{LocaleEN}, Title: map[string]string{LocaleEN: "Coupon"},
				CodeDisplay: ipass.CodeBarcode, Style: map[string]string{"backgroundColor": "red", "foregroundColor": "#FFFFFF"}},
			"gift": {Code: "gift", Type: ipass.TypeCard, Product: ipass.ProductGiftCard,
				Locales: []string{LocaleEN}, Title: map[string]string{LocaleEN: "Gift card"}, CodeDisplay: ipass.CodeNone},
		},
	}
}

// pass is a pass of template code ending end after the fixture's now.
func (f *pageFixture) pass(id, code string, status ipass.Status, end time.Duration) *ipass.Pass {
	tm := f.tmpls[code]
	return &ipass.Pass{ID: id, TemplateCode: code, Type: tm.Type, Product: tm.Product, Status: status, Version: 1,
		StartDate: f.now.Add(-24 * time.Hour).UnixMilli(), EndDate: f.now.Add(end).UnixMilli(),
		CodeInfo: ipass.CodeInfo{Value: "CODE-" + id}}
}

func (f *pageFixture) templates(p *ipass.Pass) (*ipass.Template, error) {
	f.lookups = append(f.lookups, p.ID)
	if tm, ok := f.tmpls[p.TemplateCode]; ok {
		return tm, nil
	}
	return nil, errors.New("no template " + p.TemplateCode)
}

func (f *pageFixture) view() View { return View{Lang: LocaleEN, Loc: time.UTC, Now: f.now} }

var testLinks = Links{
	Detail:  func(id string) string { return "detail:" + id },
	TabPage: func(tab, n int) string { return fmt.Sprintf("tab:%d:%d", tab, n) },
}

func firstPages(size int) Paging { return Paging{Size: size, Pages: [2]int{1, 1}} }

// cardsOf lists a tab's cards as "section/id/status/badge/code state".
func cardsOf(tp TabPage) []string {
	var out []string
	for _, s := range tp.Sections {
		for _, c := range s.Cards {
			code := "none"
			switch {
			case c.ShowCode && c.CodeVoid:
				code = "void"
			case c.ShowCode && c.CodeSVG != "":
				code = "image"
			}
			out = append(out, fmt.Sprintf("%s/%s/%s/%s/%s", s.Kind, c.ID, c.Status, c.BadgeKey, code))
		}
	}
	return out
}

// TestBuildPage: a wallet of every kind and state at a fixed now lands in
// the tabs, sections and badges of docs/wallet.md, with void codes off the
// Active tab and one colour class per colour pair.
func TestBuildPage(t *testing.T) {
	f := newPageFixture()
	member := f.pass("m1", "member", ipass.StatusActive, 24*time.Hour)
	member.DataInfo = ipass.DataInfo{"$points_en_US$": json.RawMessage(`1500`)}
	passes := []*ipass.Pass{
		member,
		f.pass("t1", "ticket", ipass.StatusActive, time.Hour),
		f.pass("t2", "ticket", ipass.StatusUsed, time.Hour),
		f.pass("c1", "coupon", ipass.StatusActive, -time.Millisecond), // past its endDate: expired
		f.pass("g1", "gift", ipass.StatusClosed, time.Hour),           // closed gift card: not shown
		f.pass("m2", "member", ipass.StatusClosed, time.Hour),
		f.pass("c2", "coupon", ipass.StatusRefund, time.Hour),
	}
	pg, err := BuildPage(f.view(), passes, f.templates, firstPages(30), testLinks)
	if err != nil {
		t.Fatal(err)
	}
	if pg.ActiveCount != 2 || pg.InactiveCount != 4 || pg.Paged || pg.FirstHref != "tab:-1:0" {
		t.Errorf("counts %d/%d paged %v first %q, want 2/4 false tab:-1:0", pg.ActiveCount, pg.InactiveCount, pg.Paged, pg.FirstHref)
	}
	if len(pg.Tabs) != 2 || pg.Tabs[0].Name != TabActive || pg.Tabs[0].Label != "Active" ||
		pg.Tabs[1].Name != TabInactive || pg.Tabs[1].Label != "Used / Expired" {
		t.Fatalf("tabs %+v", pg.Tabs)
	}
	want := [2][]string{
		{"CARD/m1/ACTIVE//image", "TICKET/t1/ACTIVE//image"},
		{"CARD/m2/CLOSED/terminated/void", "COUPON/c1/EXPIRED/expired/void", "COUPON/c2/REFUND/refunded/void", "TICKET/t2/USED/used/void"},
	}
	for i, tp := range pg.Tabs {
		if got := strings.Join(cardsOf(tp), " "); got != strings.Join(want[i], " ") {
			t.Errorf("tab %s:\n got %s\nwant %s", tp.Name, got, strings.Join(want[i], " "))
		}
		if tp.Page != 1 || tp.From != 1 || tp.To != len(want[i]) || tp.Total != len(want[i]) || tp.PrevHref != "" || tp.NextHref != "" {
			t.Errorf("tab %s range %d %d–%d/%d links %q %q", tp.Name, tp.Page, tp.From, tp.To, tp.Total, tp.PrevHref, tp.NextHref)
		}
	}
	if s := pg.Tabs[1].Sections; s[0].Label != "Cards" || s[1].Label != "Coupons" || s[2].Label != "Tickets" {
		t.Errorf("section labels %q %q %q", s[0].Label, s[1].Label, s[2].Label)
	}

	m1 := pg.Tabs[0].Sections[0].Cards[0]
	if m1.Title != "Club card" || m1.Theme != "c-22AA22-FFFFFF" || m1.DetailHref != "detail:m1" || m1.DetailLabel != "Details" ||
		m1.CodeValue != "CODE-m1" || m1.CodeMsg != "CODE-m1" || !strings.HasPrefix(string(m1.CodeSVG), "<svg") ||
		m1.ValidLabel != "Valid" || m1.Validity != "2026-02-28 12:00 UTC – 2026-03-02 12:00 UTC" {
		t.Errorf("member card %+v", m1)
	}
	if len(m1.Fields) != 1 || m1.Fields[0] != (Field{Name: "points", Label: "Points", Value: "1,500"}) {
		t.Errorf("member card fields %+v", m1.Fields)
	}
	t2 := pg.Tabs[1].Sections[2].Cards[0]
	if t2.Badge != "Used" || t2.VoidLabel != "Void" || t2.CodeSVG != "" || t2.Theme != "c-2F54EB-FFFFFF" {
		t.Errorf("used ticket %+v", t2)
	}
	c1 := pg.Tabs[1].Sections[1].Cards[0]
	if c1.Theme != "theme-default" { // "red" is no colour by ipass.Colour
		t.Errorf("coupon theme %q, want theme-default", c1.Theme)
	}
	if pg.ThemeHref != ThemePath+"?c=22AA22-FFFFFF.2F54EB-FFFFFF" {
		t.Errorf("theme href %q", pg.ThemeHref)
	}
	for _, id := range f.lookups {
		if id == "g1" {
			t.Error("the template of a pass not shown was looked up")
		}
	}
}

// TestBuildPageClock: placement and the card's status and code come from
// the one now of the render, so a pass at its endDate cannot be both in the
// Active tab and void.
func TestBuildPageClock(t *testing.T) {
	f := newPageFixture()
	p := f.pass("t1", "ticket", ipass.StatusActive, 0) // endDate == now: still ACTIVE
	for _, c := range []struct {
		at   time.Duration
		want string
	}{{0, "TICKET/t1/ACTIVE//image"}, {time.Millisecond, "TICKET/t1/EXPIRED/expired/void"}} {
		v := f.view()
		v.Now = v.Now.Add(c.at)
		pg, err := BuildPage(v, []*ipass.Pass{p}, f.templates, firstPages(30), testLinks)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(append(cardsOf(pg.Tabs[0]), cardsOf(pg.Tabs[1])...), " ")
		if got != c.want {
			t.Errorf("at now+%v: %s, want %s", c.at, got, c.want)
		}
	}
}

// TestBuildPagePaging: a later page, a page past the end and a pinned page,
// and only the passes of the page asked for are drawn.
func TestBuildPagePaging(t *testing.T) {
	f := newPageFixture()
	var passes []*ipass.Pass
	for i := range 5 {
		passes = append(passes, f.pass(fmt.Sprintf("t%d", i+1), "ticket", ipass.StatusActive, time.Hour))
	}
	passes = append(passes, f.pass("u1", "ticket", ipass.StatusUsed, time.Hour))
	ids := func(tp TabPage) string {
		var s []string
		for _, c := range cardsOf(tp) {
			s = append(s, strings.Split(c, "/")[1])
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		name               string
		pg                 Paging
		ids                string
		from, to           int
		prev, next, lookup string
	}{
		{"First", Paging{Size: 2, Pages: [2]int{1, 1}}, "t1,t2", 1, 2, "", "tab:0:2", "t1,t2,u1"},
		{"Second", Paging{Size: 2, Pages: [2]int{2, 1}}, "t3,t4", 3, 4, "tab:0:1", "tab:0:3", "t3,t4,u1"},
		{"Last", Paging{Size: 2, Pages: [2]int{3, 1}}, "t5", 5, 5, "tab:0:2", "", "t5,u1"},
		{"PastEnd", Paging{Size: 2, Pages: [2]int{9, 1}}, "", 0, 0, "tab:0:1", "", "u1"},
		{"Pinned", Paging{Size: 2, Pages: [2]int{2, 1}, Pinned: true, Pin: map[string]bool{"t5": true, "t1": true, "u1": true}},
			"t1,t5", 0, 0, "", "", "t1,t5,u1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.lookups = nil
			pg, err := BuildPage(f.view(), passes, f.templates, c.pg, testLinks)
			if err != nil {
				t.Fatal(err)
			}
			tp := pg.Tabs[0]
			if got := ids(tp); got != c.ids {
				t.Errorf("cards %q, want %q", got, c.ids)
			}
			if tp.Total != 5 || tp.From != c.from || tp.To != c.to || tp.PrevHref != c.prev || tp.NextHref != c.next {
				t.Errorf("range %d–%d/%d links %q %q, want %d–%d/5 %q %q", tp.From, tp.To, tp.Total, tp.PrevHref, tp.NextHref,
					c.from, c.to, c.prev, c.next)
			}
			if got := ids(pg.Tabs[1]); got != "u1" { // the other tab stays on its first page
				t.Errorf("inactive tab %q, want u1", got)
			}
			if got := strings.Join(f.lookups, ","); got != c.lookup {
				t.Errorf("drew %q, want %q", got, c.lookup)
			}
			if pg.Paged != (c.pg.Pages[0] > 1) {
				t.Errorf("paged %v", pg.Paged)
			}
		})
	}
}

// TestBuildPageTemplateError: a template that cannot be read fails the page.
func TestBuildPageTemplateError(t *testing.T) {
	f := newPageFixture()
	p := f.pass("x1", "ticket", ipass.StatusActive, time.Hour)
	p.TemplateCode = "gone"
	if _, err := BuildPage(f.view(), []*ipass.Pass{p}, f.templates, firstPages(30), testLinks); err == nil {
		t.Fatal("no error for a missing template")
	}
}

// TestBuildDetail: the detail card shows the detail-placed fields, and the
// history lines are newest first in the holder's words and time zone.
func TestBuildDetail(t *testing.T) {
	f := newPageFixture()
	tm := f.tmpls["member"]
	tm.Placeholders = []string{"points", "terms"}
	tm.Fields["terms"] = ipass.FieldSpec{Place: ipass.PlaceDetail}
	p := f.pass("m1", "member", ipass.StatusActive, 24*time.Hour)
	p.Version = 2
	p.DataInfo = ipass.DataInfo{"$points_en_US$": json.RawMessage(`1500`), "$terms_en_US$": json.RawMessage(`"No refunds"`)}
	created := f.now.Add(-2 * time.Hour)
	hist := []ipass.HistoryEntry{
		{Version: 1, Operation: "createPass", ChangedAt: created.UnixMilli(), Status: ipass.StatusActive,
			Changes: []ipass.FieldChange{{Field: "dataInfo.$points_en_US$", To: json.RawMessage(`1000`)}}},
		{Version: 2, Operation: "updatePass", ChangedAt: created.Add(time.Hour).UnixMilli(), Status: ipass.StatusActive,
			RequestStatus: "UPDATE", Changes: []ipass.FieldChange{{Field: "dataInfo.$points_en_US$", From: json.RawMessage(`1000`), To: json.RawMessage(`1500`)}}},
	}
	hk := time.FixedZone("HKT", 8*3600)
	v := View{Lang: LocaleEN, Loc: hk, Now: f.now}
	if !v.Shown(p) {
		t.Fatal("active pass not shown")
	}
	d := BuildDetail(v, p, tm, hist)
	if d.Removed || d.Card.DetailHref != "" || len(d.Card.Fields) != 2 || d.Card.Fields[1].Value != "No refunds" {
		t.Errorf("detail card %+v", d.Card)
	}
	if d.ThemeHref != ThemePath+"?c=22AA22-FFFFFF" {
		t.Errorf("theme href %q", d.ThemeHref)
	}
	want := []string{
		"v2 2026-03-01 19:00:00 HKT Updated [Points 1,000→1,500]",
		"v1 2026-03-01 18:00:00 HKT Created [Points →1,000]",
	}
	var got []string
	for _, h := range d.History {
		var cs []string
		for _, c := range h.Changes {
			cs = append(cs, c.Field+" "+c.From+"→"+c.To)
		}
		got = append(got, fmt.Sprintf("v%d %s %s [%s]", h.Version, h.When, h.What, strings.Join(cs, ";")))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	closed := f.pass("g1", "gift", ipass.StatusClosed, time.Hour)
	if v.Shown(closed) || !BuildDetail(v, closed, f.tmpls["gift"], nil).Removed {
		t.Error("a closed gift card is not removed")
	}
}

// TestHistoryPage: the detail page's history ranges and links.
func TestHistoryPage(t *testing.T) {
	for _, c := range []struct {
		version, before int
		want            HistoryRange
	}{
		{1, 0, HistoryRange{From: 1, Before: 2}},
		{25, 0, HistoryRange{From: 16, Before: 26, Older: true}},
		{25, 16, HistoryRange{From: 6, Before: 16, Older: true, Newest: true}},
		{25, 6, HistoryRange{From: 1, Before: 6, Newest: true}},
		{25, 99, HistoryRange{From: 16, Before: 26, Older: true}}, // past the newest: the newest page
		{25, 1, HistoryRange{From: 1, Before: 1, Newest: true}},   // nothing older than version 1
	} {
		if got := HistoryPage(c.version, c.before); got != c.want {
			t.Errorf("HistoryPage(%d, %d) = %+v, want %+v", c.version, c.before, got, c.want)
		}
	}
	if n := HistoryPage(25, 1).Versions(); n != 0 {
		t.Errorf("versions before 1: %d", n)
	}
}

// TestThemeCSS: the stylesheet defines exactly the classes Themes hands
// out, checked by ipass.Colour's rule, and no more than maxThemePairs.
func TestThemeCSS(t *testing.T) {
	var th Themes
	for _, s := range []map[string]string{
		{"backgroundColor": "#abc", "foregroundColor": "#000000"},
		{"backgroundColor": "#AABBCC", "foregroundColor": "#000"}, // the same pair
		{"backgroundColor": "#112233", "foregroundColor": "#fff"},
	} {
		th.Class(s)
	}
	c, ok := strings.CutPrefix(th.Href(), ThemePath+"?c=")
	if !ok || c != "AABBCC-000000.112233-FFFFFF" {
		t.Fatalf("href %q", th.Href())
	}
	if got, want := ThemeCSS(c), ".c-AABBCC-000000{background:#AABBCC;color:#000000}\n.c-112233-FFFFFF{background:#112233;color:#FFFFFF}\n"; got != want {
		t.Errorf("css %q, want %q", got, want)
	}
	for _, bad := range []string{"aabbcc-000000", "ABC-000", "AABBCC000000", "AABBCC-00000G", "AABBCC-0000000", "-", "", "}body{x:y"} {
		if got := ThemeCSS(bad); got != "" {
			t.Errorf("ThemeCSS(%q) = %q, want nothing", bad, got)
		}
	}
	many := strings.Repeat("AABBCC-000000.", 100)
	if n := strings.Count(ThemeCSS(many), "\n"); n != maxThemePairs {
		t.Errorf("%d rules, want %d", n, maxThemePairs)
	}
	if (&Themes{}).Href() != "" {
		t.Error("href of no classes")
	}
}
