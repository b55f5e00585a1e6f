package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/client"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/internal/browsertest"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// liveWithin is the wallet's promise: a committed change shows on an open
// page within this long, without a reload (docs/wallet.md "Live").
const liveWithin = time.Second

// TestWalletInBrowser drives the wallet pages in headless chromium through
// the DOM contract of docs/wallet.md: one server, one browser, one tab per
// scenario.
func TestWalletInBrowser(t *testing.T) {
	browsertest.Browser(t) // skip (locally) or fail (CI) before provisioning anything
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t))
	holder, other := s.demo.UserIDs[0], s.demo.UserIDs[1]
	link := s.link(t, holder)
	cardID := s.card(t, holder, 100, "81399940")

	t.Run("DemoCardInBothLocales", func(t *testing.T) {
		ctx := browsertest.Tab(t)
		browsertest.OpenWallet(t, ctx, link)
		card := browsertest.PassSelector("active", cardID)
		for _, c := range []struct{ expr, want string }{
			{browsertest.Text(card + ` [data-field="points"] [data-field-value]`), "100"},
			{browsertest.Text(card + ` [data-field="level"] [data-field-value]`), "Silver Card"},
			{browsertest.Text(card + ` .pass-title`), "Member card"},
			{fmt.Sprintf(`document.querySelector(%q).getAttribute("data-status")`, card), "ACTIVE"},
			{fmt.Sprintf(`document.querySelector(%q).getAttribute("data-kind")`, card), "CARD"},
			{fmt.Sprintf(`document.querySelector(%q).getAttribute("data-version")`, card), "1"},
			{fmt.Sprintf(`document.querySelector(%q).getAttribute("data-code-value")`, card+" [data-code-value]"), "81399940"},
			{fmt.Sprintf(`String(document.querySelectorAll(%q).length)`, card+" [data-code-value] svg.qr"), "1"},
			{`document.documentElement.lang`, "en-US"},
		} {
			if got := browsertest.Eval[string](t, ctx, c.expr); got != c.want {
				t.Errorf("%s = %q, want %q", c.expr, got, c.want)
			}
		}
		browsertest.Screenshot(t, ctx, "wallet-en_US")
		// Follow the language switch.
		browsertest.OpenWallet(t, ctx, browsertest.Eval[string](t, ctx, `document.querySelector('a[data-lang="zh_HK"]').href`))
		browsertest.WaitFor(t, ctx, "page in zh_HK", fmt.Sprintf(`document.documentElement.lang === "zh-HK" && %s === "銀卡"`, browsertest.Text(card+` [data-field="level"] [data-field-value]`)), 10*time.Second)
		if got := browsertest.Eval[string](t, ctx, browsertest.Text(card+" .pass-title")); got != "會員卡" {
			t.Errorf("zh_HK title = %q, want 會員卡", got)
		}
		if got := browsertest.Eval[string](t, ctx, browsertest.Text(card+` [data-field="points"] [data-field-value]`)); got != "100" {
			t.Errorf("zh_HK points = %q, want 100", got)
		}
		browsertest.Screenshot(t, ctx, "wallet-zh_HK")
	})

	t.Run("LiveUpdateWithoutReload", func(t *testing.T) {
		ctx := browsertest.Tab(t)
		browsertest.OpenWallet(t, ctx, link)
		browsertest.Eval[any](t, ctx, `window.__notReloaded = 42`)
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: cardID, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
			DataInfo: client.DataInfo{"$points_en_US$": 19999, "$points_zh_HK$": 19999, "billNo": "B-20250101-1", "lastChangedPoints": "19899"}})
		// The deadline starts after the SDK returned, i.e. after the commit.
		browsertest.WaitFor(t, ctx, "points 19,999 on the open page", fmt.Sprintf(`%s === "19,999"`, browsertest.Text(browsertest.PassSelector("active", cardID)+` [data-field="points"] [data-field-value]`)), liveWithin)
		if got := browsertest.Eval[int](t, ctx, `window.__notReloaded || 0`); got != 42 {
			t.Errorf("the page was reloaded (marker %d)", got)
		}
		if got := browsertest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).getAttribute("data-version")`, browsertest.PassSelector("", cardID))); got != "2" {
			t.Errorf("data-version = %s, want 2", got)
		}
	})

	t.Run("StatusesMoveBetweenTabs", func(t *testing.T) {
		used := s.ticket(t, holder, "Used ticket", time.Now().Add(24*time.Hour))
		refunded := s.ticket(t, holder, "Refunded ticket", time.Now().Add(24*time.Hour))
		closed := s.ticket(t, holder, "Closed ticket", time.Now().Add(24*time.Hour))
		terminated := s.card(t, holder, 5, "TERM-1")
		ctx := browsertest.Tab(t)
		expiresIn := 8 * time.Second // long enough to see it active first on a loaded machine
		expiring := s.ticket(t, holder, "Expiring ticket", time.Now().Add(expiresIn))
		browsertest.OpenWallet(t, ctx, link+"?lang=en_US")
		for _, id := range []string{used, refunded, closed, terminated, expiring} {
			if !browsertest.Eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, browsertest.PassSelector("active", id))) {
				t.Fatalf("pass %s not in the active tab at first", id)
			}
		}
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: used, Status: "USED"})
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: refunded, Status: "REFUND"})
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: terminated, Status: "CLOSED"})
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: closed, Status: "CLOSED"})
		for _, c := range []struct{ id, status, badge string }{
			{used, "USED", "Used"}, {refunded, "REFUND", "Refunded"}, {terminated, "CLOSED", "Terminated"},
		} {
			css := browsertest.PassSelector("inactive", c.id)
			browsertest.WaitFor(t, ctx, c.status+" pass in Used / Expired", fmt.Sprintf(`!!document.querySelector(%q) && document.querySelector(%q).getAttribute("data-status") === %q && %s === %q`,
				css, css, c.status, browsertest.Text(css+" [data-badge]"), c.badge), liveWithin)
		}
		browsertest.WaitFor(t, ctx, "CLOSED ticket gone", fmt.Sprintf(`!document.querySelector(%q)`, browsertest.PassSelector("", closed)), liveWithin)
		// No API call: the page moves the pass when its endDate passes.
		css := browsertest.PassSelector("inactive", expiring)
		browsertest.WaitFor(t, ctx, "expired ticket in Used / Expired", fmt.Sprintf(`!!document.querySelector(%q) && document.querySelector(%q).getAttribute("data-status") === "EXPIRED" && %s === "Expired"`,
			css, css, browsertest.Text(css+" [data-badge]")), expiresIn+liveWithin)
		browsertest.Eval[any](t, ctx, `document.getElementById("inactive").scrollIntoView()`)
		browsertest.Screenshot(t, ctx, "wallet-both-tabs")

		browsertest.OpenWallet(t, ctx, link+"/passes/"+closed+"?lang=en_US")
		if got := browsertest.Eval[string](t, ctx, browsertest.Text("[data-removed]")); got != "This pass was removed from the wallet." {
			t.Errorf("detail of the CLOSED ticket says %q", got)
		}
		if browsertest.Eval[bool](t, ctx, `!!document.querySelector("[data-pass-id]") || document.body.innerText.includes("Closed ticket")`) {
			t.Error("detail of the CLOSED ticket shows face data")
		}
	})

	t.Run("DetailListsEveryVersion", func(t *testing.T) {
		ctx := browsertest.Tab(t)
		browsertest.OpenWallet(t, ctx, link+"/passes/"+cardID+"?lang=en_US")
		got := browsertest.Eval[[]string](t, ctx, `[...document.querySelectorAll("[data-history-version]")].map(e => e.getAttribute("data-history-version"))`)
		if !slices.Equal(got, []string{"2", "1"}) {
			t.Fatalf("history versions %v, want [2 1] (newest first)", got)
		}
		v2 := browsertest.Eval[string](t, ctx, browsertest.Text(`[data-history-version="2"]`))
		for _, want := range []string{"Updated", "Points", "100", "19,999", "B-20250101-1", "HKT"} {
			if !strings.Contains(v2, want) {
				t.Errorf("version 2 entry %q lacks %q", v2, want)
			}
		}
		for _, api := range []string{"UPDATE_MEMBER_CARD", "UPDATE", "ACTIVE", "updatePass"} {
			if strings.Contains(v2, api) {
				t.Errorf("version 2 entry %q shows the API name %s", v2, api)
			}
		}
		v1 := browsertest.Eval[string](t, ctx, browsertest.Text(`[data-history-version="1"]`))
		if !strings.Contains(v1, "Silver Card") || !strings.Contains(v1, "81399940") {
			t.Errorf("version 1 entry %q lacks the created values", v1)
		}
		browsertest.Screenshot(t, ctx, "wallet-detail")
	})

	t.Run("MerchantTextRunsNothing", func(t *testing.T) {
		// Only text fields take text: the typed ones refuse it.
		payloads := map[string]string{
			"ticketName":   `<script>window.__xss="script";ipassXSS("script")</script></style><script>document.title="pwned";ipassXSS("style")</script>`,
			"address":      `"><img src=x onerror="window.__xss='img';ipassXSS('img')">{{.}}<svg onload="ipassXSS('svg')"></svg>`,
			"platformName": `javascript:alert(1)' onmouseover='ipassXSS("attr")`,
		}
		di := client.DataInfo{}
		for k, v := range payloads {
			di["$"+k+"_en_US$"] = v
		}
		id := s.create(t, holder, s.demo.TicketTemplate, `"><script>ipassXSS("code")</script>`, di, time.Now().Add(24*time.Hour))
		ctx := browsertest.Tab(t)
		var mu sync.Mutex
		var calls []string
		if err := chromedp.Do(ctx, chromedp.ExposeFunc("ipassXSS", func(_ context.Context, arg string) (bool, error) {
			mu.Lock()
			calls = append(calls, arg)
			mu.Unlock()
			return true, nil
		})); err != nil {
			t.Fatal(err)
		}
		browsertest.OpenWallet(t, ctx, link+"?lang=en_US")
		if !browsertest.Eval[bool](t, ctx, `typeof window.ipassXSS === "function"`) {
			t.Fatal("the probe binding is not installed; the test could not see a script run")
		}
		// Go through the live path too: the script swaps in server HTML.
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: id, Status: "UPDATE", UpdateDetailType: "UPDATE_PASS", BizDate: time.Now().UnixMilli(),
			DataInfo: client.DataInfo{"$platformName_en_US$": `<iframe src="javascript:ipassXSS('iframe')"></iframe>`}})
		payloads["platformName"] = `<iframe src="javascript:ipassXSS('iframe')"></iframe>`
		browsertest.WaitFor(t, ctx, "update shown", fmt.Sprintf(`document.querySelector(%q).getAttribute("data-version") === "2"`, browsertest.PassSelector("", id)), liveWithin)
		for name, want := range payloads {
			if got := browsertest.Eval[string](t, ctx, browsertest.Text(browsertest.PassSelector("", id)+fmt.Sprintf(` [data-field=%q] [data-field-value]`, name))); got != want {
				t.Errorf("field %s shows %q, want the text %q", name, got, want)
			}
		}
		if got := browsertest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).getAttribute("data-code-value")`, browsertest.PassSelector("", id)+" [data-code-value]")); got != `"><script>ipassXSS("code")</script>` {
			t.Errorf("data-code-value = %q", got)
		}
		browsertest.OpenWallet(t, ctx, link+"/passes/"+id+"?lang=en_US")
		time.Sleep(200 * time.Millisecond) // let any injected handler (onerror, onload) fire
		if got := browsertest.Eval[string](t, ctx, `String(window.__xss)`); got != "undefined" {
			t.Errorf("an injected script ran: window.__xss = %s", got)
		}
		if got := browsertest.Eval[string](t, ctx, `document.title`); got == "pwned" {
			t.Error("an injected script set the title")
		}
		if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("main img, main iframe, main script, [data-pass-id] svg:not(.qr):not(.barcode)").length`); n != 0 {
			t.Errorf("%d injected elements in the page", n)
		}
		scripts := browsertest.Eval[[]string](t, ctx, `[...document.scripts].map(s => s.src)`)
		if len(scripts) != 1 || !strings.HasSuffix(scripts[0], "/static/wallet/wallet.js") {
			t.Errorf("scripts on the page: %v, want only wallet.js", scripts)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(calls) > 0 {
			t.Errorf("injected scripts called the probe: %v", calls)
		}
	})

	t.Run("OtherHoldersAndBadLinks", func(t *testing.T) {
		theirs := s.ticket(t, other, "Not yours", time.Now().Add(24*time.Hour))
		_, random404 := get(t, s.url+"/wallet/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		resp, body := get(t, link+"/passes/"+theirs)
		if resp.StatusCode != 404 || body != random404 {
			t.Errorf("another holder's pass in a valid link: %d %q, want the 404 of a random token", resp.StatusCode, body)
		}
		ctx := browsertest.Tab(t)
		if err := chromedp.Do(ctx, chromedp.Navigate(link+"/passes/"+theirs)); err != nil {
			t.Fatal(err)
		}
		if browsertest.Eval[bool](t, ctx, `!!document.querySelector("[data-pass-id]") || document.body.innerText.includes("Not yours")`) {
			t.Error("the page shows another holder's pass")
		}
		_, feed := get(t, link+"/api/passes")
		if strings.Contains(feed, theirs) {
			t.Error("the change feed lists another holder's pass")
		}
	})
}

// feedOf decodes a change-feed answer.
func feedOf(t testing.TB, body string) (passes []ipass.PassView, removed []string, cursor string) {
	t.Helper()
	var f struct {
		Passes  []ipass.PassView `json:"passes"`
		Removed []string         `json:"removed"`
		Cursor  string           `json:"cursor"`
	}
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("feed %q: %v", body, err)
	}
	return f.Passes, f.Removed, f.Cursor
}

// TestWalletRefusedStreamInBrowser: a page whose event stream is refused
// (the holder already has every stream they may have) shows it is not live,
// tries again later by itself, and once it is back shows what changed while
// it was refused, without a reload.
func TestWalletRefusedStreamInBrowser(t *testing.T) {
	browsertest.Browser(t)
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t), func(wl *ipasshttp.Wallet) { wl.MaxStreamsPerHolder = 1 })
	holder := s.demo.UserIDs[0]
	link := s.link(t, holder)
	cardID := s.card(t, holder, 100, "81399940")
	// Another page of the holder holds their one stream.
	taken := openStream(t, link+"/events", "")

	ctx := browsertest.Tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(link+"?lang=en_US")); err != nil {
		t.Fatal(err)
	}
	browsertest.Eval[any](t, ctx, `window.__notReloaded = 42`)
	// Refused: EventSource gives up on a 429; the page stays not live.
	time.Sleep(time.Second)
	if live := browsertest.Eval[bool](t, ctx, `document.querySelector("[data-live]").hidden === false`); live {
		t.Fatal("the page shows it is live while its stream is refused")
	}

	taken.Body.Close()
	s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: cardID, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
		DataInfo: client.DataInfo{"$points_en_US$": 777, "$points_zh_HK$": 777}})
	points := browsertest.Text(browsertest.PassSelector("active", cardID) + ` [data-field="points"] [data-field-value]`)
	// The first retry comes 5 s after the refusal.
	browsertest.WaitFor(t, ctx, "the change made while refused, after the retry", points+` === "777"`, 10*time.Second)
	if got := browsertest.Eval[bool](t, ctx, `window.__notReloaded === 42 && document.querySelector("[data-live]").hidden === false`); !got {
		t.Fatal("the page reloaded, or does not show it is live again")
	}
}

// TestWalletVoidAndRenewalInBrowser: on an open page, a ticket marked USED
// through the SDK turns its code void (text marked void, no image) without
// a reload; and a member card that expired on the page moves back to Active
// without a reload when it is renewed.
func TestWalletVoidAndRenewalInBrowser(t *testing.T) {
	browsertest.Browser(t)
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t))

	t.Run("UsedTicketCodeTurnsVoid", func(t *testing.T) {
		holder := s.demo.UserIDs[1]
		ticket := s.ticket(t, holder, "Harbour cruise", time.Now().Add(24*time.Hour))
		ctx := browsertest.Tab(t)
		browsertest.OpenWallet(t, ctx, s.link(t, holder)+"?lang=en_US")
		code := browsertest.PassSelector("", ticket) + " [data-code-value]"
		if got := browsertest.Eval[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).getAttribute("data-code-state") + " " + document.querySelectorAll(%q).length`,
			code, code+" svg")); got != "active 1" {
			t.Fatalf("active ticket's code: state and images %q, want %q", got, "active 1")
		}
		browsertest.Screenshot(t, ctx, "wallet-code-active")
		browsertest.Eval[any](t, ctx, `window.__notReloaded = 42`)
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: ticket, Status: "USED", BizDate: time.Now().UnixMilli()})
		inactive := browsertest.PassSelector("inactive", ticket) + " [data-code-value]"
		browsertest.WaitFor(t, ctx, "void code of the used ticket", fmt.Sprintf(
			`!!document.querySelector(%q) && document.querySelector(%q).getAttribute("data-code-state") === "void" && document.querySelectorAll(%q).length === 0`,
			inactive, inactive, inactive+" svg, "+inactive+" img, "+inactive+" canvas"), liveWithin)
		if got := browsertest.Eval[int](t, ctx, `window.__notReloaded || 0`); got != 42 {
			t.Errorf("the page was reloaded (marker %d)", got)
		}
		text := browsertest.Eval[string](t, ctx, browsertest.Text(inactive))
		if !strings.Contains(text, "Void") || !strings.Contains(text, "T-Harbour cruise") {
			t.Errorf("void code reads %q, want the label Void and the value as text", text)
		}
		// It reads void: the value is struck through and the code greyed.
		if got := browsertest.Eval[string](t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).textDecorationLine`, inactive+" figcaption")); got != "line-through" {
			t.Errorf("void value text-decoration %q, want line-through", got)
		}
		browsertest.Eval[any](t, ctx, `document.getElementById("inactive").scrollIntoView()`)
		browsertest.Screenshot(t, ctx, "wallet-code-void")
	})

	t.Run("ExpiredCardRenewedLive", func(t *testing.T) {
		holder := s.demo.UserIDs[0]
		// The wallet's expiry is real time passing: the card expires on the page.
		card := s.create(t, holder, s.demo.CardTemplate, "RENEW-1", client.DataInfo{"$points_en_US$": 7, "$level_en_US$": "Gold"}, time.Now().Add(2*time.Second))
		ctx := browsertest.Tab(t)
		link := s.link(t, holder)
		browsertest.OpenWallet(t, ctx, link+"?lang=en_US")
		browsertest.Eval[any](t, ctx, `window.__notReloaded = 42`)
		expired := browsertest.PassSelector("inactive", card)
		browsertest.WaitFor(t, ctx, "expired card in Used / Expired", fmt.Sprintf(
			`!!document.querySelector(%q) && document.querySelector(%q).getAttribute("data-status") === "EXPIRED" && document.querySelector(%q).getAttribute("data-code-state") === "void"`,
			expired, expired, expired+" [data-code-value]"), 2*time.Second+5*time.Second)
		until := time.Now().Add(365 * 24 * time.Hour)
		s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_VALIDITY", EndDate: until.UnixMilli()})
		active := browsertest.PassSelector("active", card)
		browsertest.WaitFor(t, ctx, "renewed card back in Active", fmt.Sprintf(
			`!!document.querySelector(%q) && document.querySelector(%q).getAttribute("data-status") === "ACTIVE" && document.querySelector(%q).getAttribute("data-code-state") === "active" && !document.querySelector(%q)`,
			active, active, active+" [data-code-value]", expired), liveWithin)
		if got := browsertest.Eval[int](t, ctx, `window.__notReloaded || 0`); got != 42 {
			t.Errorf("the page was reloaded (marker %d)", got)
		}
		browsertest.OpenWallet(t, ctx, link+"/passes/"+card+"?lang=en_US")
		if got := browsertest.Eval[string](t, ctx, browsertest.Text(`[data-history-version="2"] [data-history-renewal]`)); !strings.HasPrefix(got, "Renewed until "+until.In(hongKong(t)).Format("2006-01-02")) {
			t.Errorf("version 2 says %q, want Renewed until %s", got, until.Format("2006-01-02"))
		}
		browsertest.Screenshot(t, ctx, "wallet-renewed-detail")
	})
}

func hongKong(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
