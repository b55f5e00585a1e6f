package wallet

// The composition of the wallet's pages (docs/wallet.md): which cards a page
// shows, in which tab, section and page, with which badge, fields, code and
// colours, and the detail page's history lines. Everything here is decided
// from the passes, their templates, the locale, the time zone and one clock
// reading per render; the http layer reads the store, authenticates the link,
// makes the URLs (they carry the token) and renders the templates.

import (
	"html/template"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
)

// Card is one pass as a page shows it.
type Card struct {
	ID, Kind, Title string
	Theme           string // colour class (see Themes)
	Status          ipass.Status
	Version         int
	Badge, BadgeKey string // shown label and data-badge key; "" in the Active tab
	Fields          []Field
	ShowCode        bool
	CodeVoid        bool   // the pass is not ACTIVE: the code is text marked void, no image
	VoidLabel       string // "Void" in the page's locale
	CodeValue       string
	CodeMsg         string
	CodeSVG         template.HTML
	ValidLabel      string
	Validity        string
	DetailHref      string // "" on the detail page itself
	DetailLabel     string
	typ             ipass.PassType
}

// Section is the cards of one kind in a tab.
type Section struct {
	Kind, Label string
	Cards       []Card
}

// TabPage is one tab of the main page, showing a page of its passes.
type TabPage struct {
	Name     Tab
	Label    string
	Sections []Section
	// Passes From–To (1-based) of Total are shown; PrevHref and NextHref are
	// the tab's neighbouring pages ("" at either end).
	Page, From, To, Total int
	PrevHref, NextHref    string
}

// Page is the main page's content.
type Page struct {
	Tabs                       []TabPage
	ActiveCount, InactiveCount int    // every pass of each tab, not only those shown
	Paged                      bool   // a tab shows a page after its first
	FirstHref                  string // the first page of both tabs
	ThemeHref                  string // the colour classes' stylesheet, "" if none
}

// Templates returns the template of a pass (the http layer reads and caches
// them).
type Templates func(*ipass.Pass) (*ipass.Template, error)

// Links makes the URLs of a page, which carry the holder's token and the
// request's language.
type Links struct {
	Detail  func(passID string) string // a pass's detail page
	TabPage func(tab, n int) string    // page n of tab (its index in TabOrder); tab -1: first page of both
}

// TabOrder is the tabs in page order; a tab's index here is its page
// parameter's index.
var TabOrder = [2]Tab{TabActive, TabInactive}

// Paging is which page of each tab a request asks for.
type Paging struct {
	Size  int    // passes a tab shows at once (> 0)
	Pages [2]int // page number of each tab (TabOrder), ≥ 1
	// Pinned: tabs past their first page show only the passes in Pin (the
	// live script of a later page updates the passes it shows in place).
	Pinned bool
	Pin    map[string]bool
}

// View is what every card of a render shares: the UI locale, the time zone
// of dates and the one clock reading of the render, with the offsets of the
// merchants whose clocks a sandbox moved (docs/sandbox.md; nil elsewhere).
type View struct {
	Lang    string
	Loc     *time.Location
	Now     time.Time
	Offsets map[string]time.Duration
}

// At is now as p's merchant's clock reads it.
func (v View) At(p *ipass.Pass) time.Time { return v.Now.Add(v.Offsets[p.MerchantID]) }

type placed struct {
	p  *ipass.Pass
	pl Placement
}

var sectionKinds = []struct {
	typ   ipass.PassType
	label string
}{{ipass.TypeCard, "cards"}, {ipass.TypeCoupon, "coupons"}, {ipass.TypeTicket, "tickets"}}

// BuildPage composes the main page of passes (newest change first): every
// pass is placed (cheap), then only the passes of the pages asked for are
// drawn (fields, codes), which is what a page costs.
func BuildPage(v View, passes []*ipass.Pass, tmpl Templates, pg Paging, links Links) (Page, error) {
	var all [2][]placed
	for _, p := range passes {
		if pl, shown := Place(p, v.At(p)); shown {
			i := 0
			if pl.Tab == TabInactive {
				i = 1
			}
			all[i] = append(all[i], placed{p, pl})
		}
	}
	out := Page{ActiveCount: len(all[0]), InactiveCount: len(all[1]),
		Paged: pg.Pages[0] > 1 || pg.Pages[1] > 1, FirstHref: links.TabPage(-1, 0)}
	th := &Themes{}
	for i, tab := range TabOrder {
		tp := TabPage{Name: tab, Label: Text(v.Lang, string(tab))}
		cards := make([]Card, 0, pg.Size)
		for _, pp := range pg.page(i, all[i], &tp, links) {
			tm, err := tmpl(pp.p)
			if err != nil {
				return Page{}, err
			}
			c := v.card(pp.p, tm, pp.pl, th, false)
			c.DetailHref = links.Detail(pp.p.ID)
			cards = append(cards, c)
		}
		for _, kind := range sectionKinds {
			s := Section{Kind: string(kind.typ), Label: Text(v.Lang, kind.label)}
			for _, c := range cards {
				if c.typ == kind.typ {
					s.Cards = append(s.Cards, c)
				}
			}
			if len(s.Cards) > 0 {
				tp.Sections = append(tp.Sections, s)
			}
		}
		out.Tabs = append(out.Tabs, tp)
	}
	out.ThemeHref = th.Href()
	return out, nil
}

// page returns the passes of tab i to draw, and fills tp's range and links.
func (pg Paging) page(i int, all []placed, tp *TabPage, links Links) []placed {
	tp.Total, tp.Page = len(all), pg.Pages[i]
	if pg.Pinned && tp.Page > 1 {
		var out []placed
		for _, pp := range all {
			if pg.Pin[pp.p.ID] {
				out = append(out, pp)
			}
		}
		return out
	}
	from := len(all) // a page past the end (checked first: a huge number would overflow)
	if tp.Page-1 <= len(all)/pg.Size {
		from = min((tp.Page-1)*pg.Size, len(all))
	}
	to := min(from+pg.Size, len(all))
	switch {
	case from < to:
		tp.From, tp.To = from+1, to
		if tp.Page > 1 {
			tp.PrevHref = links.TabPage(i, tp.Page-1)
		}
		if to < len(all) {
			tp.NextHref = links.TabPage(i, tp.Page+1)
		}
	case tp.Page > 1:
		tp.PrevHref = links.TabPage(i, 1) // past the end: back to the start
	}
	return all[from:to]
}

// Detail is a pass's detail page: its card (with the fields placed on the
// detail page) and one page of its history, newest first.
type Detail struct {
	Removed   bool // the pass is no longer shown: the page says so, and nothing else
	Card      Card
	History   []HistoryLine
	ThemeHref string
}

// HistoryLine is one version on the detail page's timeline, in the holder's
// words: no operation, status or update kind names.
type HistoryLine struct {
	Version    int
	When, What string
	Renewal    string   // "Renewed until …", when the version renewed the pass
	Changes    []Change // at most MaxChangeLines
	More       int      // changed fields not listed
	Notes      []Change
}

// HistoryRange is the versions the detail page of a pass at version shows
// when asked for those before `before` (0: the newest): [from, before).
// Older and Newest say whether the page links to older versions and back to
// the newest page.
type HistoryRange struct {
	From, Before  int
	Older, Newest bool
}

// Versions is how many versions the range holds.
func (h HistoryRange) Versions() int { return h.Before - h.From }

// HistoryPage is the range of the history page asked for by before (0: the
// newest), HistoryPerPage versions at most; the newest page ends at the
// version the card shows.
func HistoryPage(version, before int) HistoryRange {
	if before == 0 || before > version+1 {
		before = version + 1
	}
	from := max(1, before-HistoryPerPage)
	return HistoryRange{From: from, Before: before, Older: from > 1, Newest: before <= version}
}

// Shown says whether p is still shown at v.Now: a detail page of a pass that
// is not is the removed page, and reads no history.
func (v View) Shown(p *ipass.Pass) bool {
	_, ok := Place(p, v.At(p))
	return ok
}

// BuildDetail composes the detail page of p with hist, a page of its
// history (oldest first, as PassStore.HistoryPage returns it).
func BuildDetail(v View, p *ipass.Pass, tm *ipass.Template, hist []ipass.HistoryEntry) Detail {
	pl, shown := Place(p, v.At(p))
	if !shown {
		return Detail{Removed: true}
	}
	th := &Themes{}
	d := Detail{Card: v.card(p, tm, pl, th, true)}
	d.ThemeHref = th.Href()
	for _, e := range Timeline(hist, tm, FaceLocale(tm, v.Lang), v.Loc) {
		d.History = append(d.History, HistoryLine{Version: e.Version, When: e.At.Format("2006-01-02 15:04:05") + " " + Zone(e.At),
			What: e.What, Renewal: e.Renewal, Changes: e.Changes, More: e.More, Notes: e.Notes})
	}
	return d
}

// card is p as a page shows it; detail: on its detail page, which also
// shows the fields placed there.
func (v View) card(p *ipass.Pass, tm *ipass.Template, pl Placement, th *Themes, detail bool) Card {
	face := FaceLocale(tm, v.Lang)
	c := Card{
		ID: p.ID, Kind: string(p.Type), Status: p.EffectiveStatus(v.At(p)), Version: p.Version,
		Title: Title(tm, face), Theme: th.Class(tm.Style), Fields: Fields(p, tm, face, v.Loc, detail),
		ValidLabel: Text(v.Lang, "valid"), DetailLabel: Text(v.Lang, "details"),
		Validity: FormatTime(p.StartDate, v.Loc) + " – " + FormatTime(p.EndDate, v.Loc),
		typ:      p.Type,
	}
	if pl.Badge != BadgeNone {
		c.BadgeKey, c.Badge = string(pl.Badge), Text(v.Lang, string(pl.Badge))
	}
	if tm.CodeDisplay != ipass.CodeNone && p.CodeInfo.Value != "" {
		c.ShowCode, c.CodeValue, c.CodeMsg = true, p.CodeInfo.Value, p.CodeInfo.Msg
		if c.CodeMsg == "" {
			c.CodeMsg = p.CodeInfo.Value
		}
		// A pass that is used, refunded, terminated or expired must not be
		// scanned: its code is shown as text marked void, never as an image
		// (as wallets grey or hide the barcode of a voided pass).
		if c.Status != ipass.StatusActive {
			c.CodeVoid, c.VoidLabel = true, Text(v.Lang, "void")
			return c
		}
		// Safe as markup: drawn from the symbol's modules, no merchant byte in it.
		c.CodeSVG = template.HTML(CodeSVG(tm.CodeDisplay, p.CodeInfo.Value))
	}
	return c
}

// ---- colours ----

// ThemePath is the stylesheet of the colour classes.
const ThemePath = "/static/wallet/theme.css"

// maxThemePairs bounds the classes one stylesheet request defines.
const maxThemePairs = 64

// Themes collects the colour pairs of a page's cards. Inline styles would
// need 'unsafe-inline' in the CSP, so each pair becomes a class, defined by
// ThemePath?c=BG-FG.… from the URL alone (ThemeCSS).
type Themes struct{ pairs []string }

// Class is the class of a template style's colours; "theme-default" when
// either is missing or not a colour. Checked with the tenants file's own
// rule (ipass.Colour): no stored value reaches a style unvalidated, and #RGB
// is drawn expanded.
func (t *Themes) Class(style map[string]string) string {
	bg, okBG := ipass.Colour(style["backgroundColor"])
	fg, okFG := ipass.Colour(style["foregroundColor"])
	if !okBG || !okFG {
		return "theme-default"
	}
	pair := bg[1:] + "-" + fg[1:]
	found := false
	for _, p := range t.pairs {
		found = found || p == pair
	}
	if !found {
		t.pairs = append(t.pairs, pair)
	}
	return "c-" + pair
}

// Href is the stylesheet defining the classes handed out, "" if none.
func (t *Themes) Href() string {
	if len(t.pairs) == 0 {
		return ""
	}
	return ThemePath + "?c=" + strings.Join(t.pairs, ".")
}

// ThemeCSS is the stylesheet for the c parameter of a Href: a rule for each
// pair Class could have made (RRGGBB-RRGGBB, as ipass.Colour writes them),
// the first maxThemePairs of them; anything else is skipped.
func ThemeCSS(c string) string {
	var b strings.Builder
	for i, pair := range strings.Split(c, ".") {
		if i >= maxThemePairs {
			break
		}
		bg, fg, ok := strings.Cut(pair, "-")
		if !ok || !canonical(bg) || !canonical(fg) {
			continue
		}
		b.WriteString(".c-" + pair + "{background:#" + bg + ";color:#" + fg + "}\n")
	}
	return b.String()
}

// canonical says whether h is a colour as Class writes it: six upper-case
// hex digits, which ipass.Colour returns unchanged.
func canonical(h string) bool {
	c, ok := ipass.Colour("#" + h)
	return ok && len(h) == 6 && c[1:] == h
}
