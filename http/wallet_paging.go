package http

// Paging of the wallet page (docs/wallet.md "Pages"): each tab shows a page
// of its passes, newest change first, and links to its neighbouring pages.

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/wallet"
)

// DefaultWalletPageSize is the passes a tab shows at once when
// [Wallet.PageSize] is 0: a page of 512-character QR codes stays under
// 0.5 MB of HTML.
const DefaultWalletPageSize = 30

// tabParams are the query parameters that hold each tab's page number
// (1-based; absent means the first page), in tab order.
var tabParams = [2]string{"active", "inactive"}

// pinParam, repeated, asks for just those passes (of the holder's shown
// ones) in the tabs that are past their first page; a tab on its first page
// is shown as usual. The live script of a later page uses it to update in
// place the passes it shows.
const pinParam = "pass"

type placedPass struct {
	p  *ipass.Pass
	pl wallet.Placement
}

func tabIndex(t wallet.Tab) int {
	if t == wallet.TabInactive {
		return 1
	}
	return 0
}

// paging is what a page request asks to see.
type paging struct {
	size   int
	pages  [2]int          // page number of each tab, ≥ 1
	pinned bool            // tabs past their first page: only the passes in pin
	pin    map[string]bool // pass ids asked for by pinParam
}

func (wl *Wallet) paging(r *http.Request) paging {
	q := r.URL.Query()
	pg := paging{size: wl.PageSize, pages: [2]int{1, 1}}
	if pg.size <= 0 {
		pg.size = DefaultWalletPageSize
	}
	for i, name := range tabParams {
		if n, err := strconv.Atoi(q.Get(name)); err == nil && n > 1 {
			pg.pages[i] = n
		}
	}
	if ids, ok := q[pinParam]; ok {
		pg.pinned, pg.pin = true, map[string]bool{}
		for _, id := range ids {
			if len(pg.pin) < 2*pg.size { // bounded like a page of each tab
				pg.pin[id] = true
			}
		}
	}
	return pg
}

// later says whether a tab shows a page after its first.
func (pg paging) later() bool { return pg.pages[0] > 1 || pg.pages[1] > 1 }

// pinnedTab says whether tab i shows only the passes asked for.
func (pg paging) pinnedTab(i int) bool { return pg.pinned && pg.pages[i] > 1 }

// page returns the passes of tab i to draw (all of them, newest change
// first), and fills tv's range and links.
func (pg paging) page(r *http.Request, i int, all []placedPass, tv *tabView) []placedPass {
	tv.Total, tv.Page = len(all), pg.pages[i]
	if pg.pinnedTab(i) {
		var out []placedPass
		for _, pp := range all {
			if pg.pin[pp.p.ID] {
				out = append(out, pp)
			}
		}
		return out
	}
	from := len(all) // a page past the end (checked first: a huge number would overflow)
	if tv.Page-1 <= len(all)/pg.size {
		from = min((tv.Page-1)*pg.size, len(all))
	}
	to := min(from+pg.size, len(all))
	switch {
	case from < to:
		tv.From, tv.To = from+1, to
		if tv.Page > 1 {
			tv.PrevHref = pg.href(r, i, tv.Page-1)
		}
		if to < len(all) {
			tv.NextHref = pg.href(r, i, tv.Page+1)
		}
	case tv.Page > 1:
		tv.PrevHref = pg.href(r, i, 1) // past the end: back to the start
	}
	return all[from:to]
}

// href is the link to page n of tab i (n ≤ 1: its first page), keeping the
// other tab's page and the language; tab -1 is the first page of both.
func (pg paging) href(r *http.Request, i, n int) string {
	q := url.Values{}
	if l := r.URL.Query().Get("lang"); l == wallet.LocaleZH || l == wallet.LocaleEN {
		q.Set("lang", l)
	}
	for j, name := range tabParams {
		p := pg.pages[j]
		if j == i {
			p = n
		}
		if i >= 0 && p > 1 {
			q.Set(name, strconv.Itoa(p))
		}
	}
	u := r.URL.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if i >= 0 {
		u += "#" + tabParams[i]
	}
	return u
}
