package http_test

import (
	"fmt"
	"html"
	neturl "net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/browsertest"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// longCode is a code value of 512 Chinese characters, the size the wallet's
// worst case was reported with, new to the process (not yet in the code
// cache).
func longCode() string {
	s := fmt.Sprintf("%08d", serial.Add(1))
	return strings.Repeat("會員積分", 128)[:len("會")*(512-len(s))] + s
}

// bigWallet gives holder 300 passes, each with a QR code of 512 Chinese
// characters: 240 member cards (Active) and 60 tickets, used after they were
// all created (Used / Expired). It returns their ids, newest change first.
func bigWallet(t testing.TB, s *walletSite, holder string) (active, inactive []string) {
	t.Helper()
	for i := range 300 {
		if i%5 == 0 {
			inactive = append(inactive, s.create(t, holder, s.demo.TicketTemplate, longCode(), client.DataInfo{
				"$ticketName_en_US$": fmt.Sprint("Ticket ", i), "$ticketName_zh_HK$": fmt.Sprint("Ticket ", i),
			}, time.Now().Add(24*time.Hour)))
		} else {
			active = append(active, s.card(t, holder, i, longCode()))
		}
	}
	for _, id := range inactive {
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: id, Status: "USED"})
	}
	slices.Reverse(active)
	slices.Reverse(inactive)
	return active, inactive
}

var (
	tabRE    = regexp.MustCompile(`(?s)<section class="tab" id="[a-z]+" data-tab="([a-z]+)"[^>]*>(.*?)\n</section>`)
	passIDRE = regexp.MustCompile(`data-pass-id="([^"]+)"`)
	nextRE   = regexp.MustCompile(`<a href="([^"]+)" data-page="next">`)
	countRE  = regexp.MustCompile(`data-count="([a-z]+)">(\d+)<`)
)

// walletPage is what a wallet page shows: the pass ids of each tab in page
// order, each tab's count and next-page link.
type walletPage struct {
	ids    map[string][]string
	counts map[string]int
	next   map[string]string
	size   int
}

func readWalletPage(t *testing.T, url string) walletPage {
	t.Helper()
	resp, body := get(t, url)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
	p := walletPage{ids: map[string][]string{}, counts: map[string]int{}, next: map[string]string{}, size: len(body)}
	for _, m := range tabRE.FindAllStringSubmatch(body, -1) {
		for _, id := range passIDRE.FindAllStringSubmatch(m[2], -1) {
			p.ids[m[1]] = append(p.ids[m[1]], id[1])
		}
		if n := nextRE.FindStringSubmatch(m[2]); n != nil {
			p.next[m[1]] = html.UnescapeString(n[1])
		}
	}
	for _, m := range countRE.FindAllStringSubmatch(body, -1) {
		p.counts[m[1]], _ = strconv.Atoi(m[2])
	}
	return p
}

// TestWalletPaging: a wallet of 300 passes with 512-character QR codes shows one page of each tab, under 1 MB, with the
// tabs' true totals; following each tab's links reaches every pass of the
// tab exactly once, in order, newest change first, while the other tab stays
// on its page; and ?pass= shows just the passes asked for. On every engine.
func TestWalletPaging(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			s := newWalletSite(t, open(t))
			holder := s.demo.UserIDs[0]
			link := s.link(t, holder)
			active, inactive := bigWallet(t, s, holder)
			want := map[string][]string{"active": active, "inactive": inactive}
			size := ipasshttp.DefaultWalletPageSize

			first := readWalletPage(t, link+"?lang=en_US")
			if first.size > 1<<20 {
				t.Errorf("first page: %d bytes of HTML, want ≤ 1 MiB", first.size)
			}
			for tab, ids := range want {
				if got := first.ids[tab]; !slices.Equal(got, ids[:size]) {
					t.Errorf("%s tab of the first page: %d passes %v…, want the %d newest", tab, len(got), got[:min(3, len(got))], size)
				}
				if first.counts[tab] != len(ids) {
					t.Errorf("%s count %d, want the tab's total %d", tab, first.counts[tab], len(ids))
				}
			}

			for tab, ids := range want {
				other := map[string]string{"active": "inactive", "inactive": "active"}[tab]
				var seen []string
				page, url := first, link+"?lang=en_US"
				for n := 1; ; n++ {
					if len(page.ids[tab]) > size {
						t.Fatalf("%s page %d shows %d passes, want ≤ %d", tab, n, len(page.ids[tab]), size)
					}
					if !slices.Equal(page.ids[other], first.ids[other]) {
						t.Fatalf("%s page %d (%s): the %s tab left its first page", tab, n, url, other)
					}
					if !strings.Contains(url, "lang=en_US") {
						t.Fatalf("link %s lost the language", url)
					}
					seen = append(seen, page.ids[tab]...)
					if page.next[tab] == "" {
						break
					}
					if n > len(ids) {
						t.Fatalf("%s: more pages than passes", tab)
					}
					url = s.url + page.next[tab]
					page = readWalletPage(t, url)
				}
				if !slices.Equal(seen, ids) {
					t.Errorf("%s: the pages show %d passes, want each of the %d exactly once, newest first", tab, len(seen), len(ids))
				}
			}

			// Each tab's links keep the other tab's page.
			mid := readWalletPage(t, link+"?active=2")
			for _, c := range []struct{ tab, active, inactive string }{{"active", "3", ""}, {"inactive", "2", "2"}} {
				u, err := neturl.Parse(mid.next[c.tab])
				if err != nil || u.Query().Get("active") != c.active || u.Query().Get("inactive") != c.inactive || u.Fragment != c.tab {
					t.Errorf("%s's next link on ?active=2 is %q, want active=%s inactive=%q #%s", c.tab, mid.next[c.tab], c.active, c.inactive, c.tab)
				}
			}

			// Past the end: nothing, no next link.
			past := readWalletPage(t, link+"?active=999999999999999999")
			if len(past.ids["active"]) != 0 || past.next["active"] != "" || past.counts["active"] != len(active) {
				t.Errorf("a page past the end shows %d passes, next %q", len(past.ids["active"]), past.next["active"])
			}

			// The live script's request: just these passes in the tabs past
			// their first page; a tab on its first page as usual.
			pinned := readWalletPage(t, link+"?active=2&pass="+active[200]+"&pass="+inactive[50]+"&pass=nope")
			if !slices.Equal(pinned.ids["active"], []string{active[200]}) || !slices.Equal(pinned.ids["inactive"], first.ids["inactive"]) ||
				pinned.counts["active"] != len(active) || pinned.next["active"] != "" {
				t.Errorf("?active=2&pass=…: shows %v, counts %v; want the pinned active pass, the inactive tab's first page and the totals", pinned.ids, pinned.counts)
			}
		})
	}
}

// TestWalletPageLiveData: the change-feed events a later page's script reads
// name the changed passes by passId (the script's contract with the stream).
func TestWalletPageLiveData(t *testing.T) {
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t))
	holder := s.demo.UserIDs[0]
	link := s.link(t, holder)
	card := s.card(t, holder, 1, "C-1")
	resp := openStream(t, link+"/events", "")
	defer resp.Body.Close()
	s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
		DataInfo: client.DataInfo{"$points_en_US$": 2, "$points_zh_HK$": 2}})
	ev := nextEvent(t, resp)
	if !strings.Contains(ev.data, `"passId":"`+card+`"`) || !strings.Contains(ev.data, `"removed":[`) {
		t.Fatalf("event %s: want the changed pass's passId and a removed list", ev.data)
	}
}

// TestWalletPagingInBrowser: on a later page the script keeps the page: a
// changed pass shown there is updated in place, one that leaves the tab is
// taken off, and changes to passes not shown only update the counts and the
// notice that links to the first page, where they are at the top.
func TestWalletPagingInBrowser(t *testing.T) {
	browsertest.Browser(t)
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t))
	s.wl.PageSize = 3 // before any request
	holder := s.demo.UserIDs[0]
	link := s.link(t, holder) + "?lang=en_US"
	var cards []string // newest first
	for i := range 8 {
		cards = append([]string{s.card(t, holder, i, fmt.Sprintf("PAGE-%d", i))}, cards...)
	}
	ids := `[...document.querySelectorAll('[data-tab="active"] [data-pass-id]')].map(e => e.getAttribute("data-pass-id"))`
	ctx := browsertest.Tab(t)
	browsertest.OpenWallet(t, ctx, link)
	if got := browsertest.Eval[[]string](t, ctx, ids); !slices.Equal(got, cards[:3]) {
		t.Fatalf("first page shows %v, want %v", got, cards[:3])
	}
	browsertest.OpenWallet(t, ctx, browsertest.Eval[string](t, ctx, `document.querySelector('[data-pager="active"] [data-page="next"]').href`))
	if got := browsertest.Eval[[]string](t, ctx, ids); !slices.Equal(got, cards[3:6]) {
		t.Fatalf("second page shows %v, want %v", got, cards[3:6])
	}
	if got := browsertest.Eval[string](t, ctx, browsertest.Text(`[data-pager="active"] [data-range]`)); got != "4–6 / 8" {
		t.Errorf("range %q, want 4–6 / 8", got)
	}
	browsertest.Eval[any](t, ctx, `window.__notReloaded = 42`)

	// A pass on this page changes: updated where it is.
	s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: cards[4], Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
		DataInfo: client.DataInfo{"$points_en_US$": 777, "$points_zh_HK$": 777}})
	browsertest.WaitFor(t, ctx, "points 777 in place", fmt.Sprintf(`%s === "777"`, browsertest.Text(browsertest.PassSelector("active", cards[4])+` [data-field="points"] [data-field-value]`)), liveWithin)
	if got := browsertest.Eval[[]string](t, ctx, ids); !slices.Equal(got, cards[3:6]) {
		t.Errorf("after the update the page shows %v, want %v in place", got, cards[3:6])
	}

	// A new pass, not on this page: counted, not inserted.
	added := s.card(t, holder, 9, "PAGE-NEW")
	browsertest.WaitFor(t, ctx, "notice of 1 change and count 9", `!document.querySelector("[data-newer]").hidden && `+
		browsertest.Text("[data-newer-count]")+` === "1" && `+browsertest.Text(`[data-count="active"]`)+` === "9"`, liveWithin)
	if browsertest.Eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, browsertest.PassSelector("", added))) {
		t.Errorf("the new pass was inserted into the second page")
	}

	// A pass on this page leaves the tab (a terminated member card): it
	// goes to the other tab, shown here on its first page.
	s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: cards[5], Status: "CLOSED"})
	browsertest.WaitFor(t, ctx, "terminated card moved to Used / Expired", fmt.Sprintf(`!document.querySelector(%q) && !!document.querySelector(%q) && %s === "1" && %s === "1"`,
		browsertest.PassSelector("active", cards[5]), browsertest.PassSelector("inactive", cards[5]), browsertest.Text("[data-newer-count]"), browsertest.Text(`[data-count="inactive"]`)), liveWithin)
	if got := browsertest.Eval[[]string](t, ctx, ids); !slices.Equal(got, []string{cards[3], cards[4]}) {
		t.Errorf("the page shows %v, want %v", got, cards[3:5])
	}
	if got := browsertest.Eval[int](t, ctx, `window.__notReloaded || 0`); got != 42 {
		t.Errorf("the page was reloaded (marker %d)", got)
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("link[data-theme]").length`); n != 1 {
		t.Errorf("%d theme stylesheets after three updates, want the one (no new colours)", n)
	}
	browsertest.Screenshot(t, ctx, "wallet-paged")

	// The notice leads to the first page: newest change first.
	browsertest.OpenWallet(t, ctx, browsertest.Eval[string](t, ctx, `document.querySelector("[data-newer] a").href`))
	if got := browsertest.Eval[[]string](t, ctx, ids); !slices.Equal(got, []string{added, cards[4], cards[0]}) {
		t.Errorf("first page shows %v, want %v", got, []string{added, cards[4], cards[0]})
	}
}
