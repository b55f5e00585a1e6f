package http

// Paging of the wallet page (docs/wallet.md "Pages"): each tab shows a page
// of its passes, newest change first, and links to its neighbouring pages.

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/ipass-dev/ipass/wallet"
)

// DefaultWalletPageSize is the passes a tab shows at once when
// [Wallet.PageSize] is 0: a page of 512-character QR codes stays under
// 0.5 MB of HTML.
const DefaultWalletPageSize = 30

// tabParams are the query parameters that hold each tab's page number
// (1-based; absent means the first page), in tab order (wallet.TabOrder):
// the tabs' own names.
var tabParams = [2]string{string(wallet.TabOrder[0]), string(wallet.TabOrder[1])}

// pinParam, repeated, asks for just those passes (of the holder's shown
// ones) in the tabs that are past their first page; a tab on its first page
// is shown as usual. The live script of a later page uses it to update in
// place the passes it shows.
const pinParam = "pass"

// paging is what a page request asks to see.
func (wl *Wallet) paging(r *http.Request) wallet.Paging {
	q := r.URL.Query()
	pg := wallet.Paging{Size: wl.PageSize, Pages: [2]int{1, 1}}
	if pg.Size <= 0 {
		pg.Size = DefaultWalletPageSize
	}
	for i, name := range tabParams {
		if n, err := strconv.Atoi(q.Get(name)); err == nil && n > 1 {
			pg.Pages[i] = n
		}
	}
	if ids, ok := q[pinParam]; ok {
		pg.Pinned, pg.Pin = true, map[string]bool{}
		for _, id := range ids {
			if len(pg.Pin) < 2*pg.Size { // bounded like a page of each tab
				pg.Pin[id] = true
			}
		}
	}
	return pg
}

// pageHref is the link to page n of tab i (n ≤ 1: its first page), keeping
// the other tab's page and the language; tab -1 is the first page of both.
func pageHref(r *http.Request, pg wallet.Paging, i, n int) string {
	q := url.Values{}
	if l := r.URL.Query().Get("lang"); l == wallet.LocaleZH || l == wallet.LocaleEN {
		q.Set("lang", l)
	}
	for j, name := range tabParams {
		p := pg.Pages[j]
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
