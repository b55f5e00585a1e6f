package http_test

import (
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// passArticle is the <article> of passID in a wallet page, "" if none.
func passArticle(page, passID string) string {
	i := strings.Index(page, `data-pass-id="`+passID+`"`)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(page[:i], "<article")
	end := strings.Index(page[i:], "</article>")
	if start < 0 || end < 0 {
		return ""
	}
	return page[start : i+end]
}

var codeStateRE = regexp.MustCompile(`<figure [^>]*data-code-state="(active|void)"[^>]*>(.*?)</figure>`)

// codeOf returns the code element's state and content in a pass's article.
func codeOf(t *testing.T, article string) (state, inner string) {
	t.Helper()
	m := codeStateRE.FindAllStringSubmatch(article, -1)
	if len(m) != 1 {
		t.Fatalf("want one code element with data-code-state in %s", article)
	}
	if !strings.Contains(m[0][0], "data-code-value=") {
		t.Fatalf("code element without data-code-value: %s", m[0][0])
	}
	return m[0][1], m[0][2]
}

// TestWalletVoidCodes: a pass that is used, refunded, terminated or expired
// shows its code as text marked void, never as an image, on the wallet page
// and the detail page, in both languages; an active pass shows its image.
// Over real HTTP on every engine.
func TestWalletVoidCodes(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			var ahead atomic.Int64 // how far the wallet's clock is ahead of real time
			s := newWalletSite(t, open(t), func(w *ipasshttp.Wallet) {
				w.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			})
			holder := s.demo.UserIDs[0]
			link := s.link(t, holder)
			active := s.card(t, holder, 10, "ACTIVE-CODE")
			closed := s.card(t, holder, 10, "CLOSED-CODE")
			used := s.ticket(t, holder, "Used", time.Now().Add(24*time.Hour))
			refunded := s.ticket(t, holder, "Refunded", time.Now().Add(24*time.Hour))
			expiring := s.ticket(t, holder, "Expiring", time.Now().Add(30*time.Minute))
			s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: closed, Status: "CLOSED"})
			s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: used, Status: "USED", BizDate: time.Now().UnixMilli()})
			s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: refunded, Status: "REFUND", BizDate: time.Now().UnixMilli()})
			ahead.Store(int64(45 * time.Minute)) // past the ticket's endDate (EXPIRED, derived), within the link's hour

			wantVoid := map[string]string{closed: "CLOSED", used: "USED", refunded: "REFUND", expiring: "EXPIRED"}
			for lang, label := range map[string]string{"en_US": "Void", "zh_HK": "已失效"} {
				_, page := get(t, link+"?lang="+lang)
				for id, status := range wantVoid {
					a := passArticle(page, id)
					if !strings.Contains(a, `data-status="`+status+`"`) {
						t.Fatalf("%s: pass %s not shown as %s: %s\n%s", lang, id, status, a, page)
					}
					state, inner := codeOf(t, a)
					if state != "void" || strings.Contains(inner, "<svg") || strings.Contains(inner, "<img") || strings.Contains(inner, "<canvas") ||
						strings.Contains(inner, "data:image") || !strings.Contains(inner, label) {
						t.Errorf("%s: %s pass: code %s %q; want void, text only, labelled %q", lang, status, state, inner, label)
					}
				}
				state, inner := codeOf(t, passArticle(page, active))
				if state != "active" || !strings.Contains(inner, "<svg") || strings.Contains(inner, label) {
					t.Errorf("%s: active pass: code %s %q; want its image", lang, state, inner)
				}
			}
			// The value stays readable as text on a void pass.
			_, page := get(t, link)
			if _, inner := codeOf(t, passArticle(page, closed)); !strings.Contains(inner, "CLOSED-CODE") {
				t.Errorf("void code %q does not show its value", inner)
			}
			// The detail page draws the same face.
			_, detail := get(t, link+"/passes/"+used)
			if state, inner := codeOf(t, passArticle(detail, used)); state != "void" || strings.Contains(inner, "<svg") {
				t.Errorf("detail page of a used ticket: code %s %q", state, inner)
			}
			_, detail = get(t, link+"/passes/"+active)
			if state, _ := codeOf(t, passArticle(detail, active)); state != "active" {
				t.Errorf("detail page of an active card: code %s", state)
			}
		})
	}
}

// TestWalletShortColour: a template colour written #RGB, which the tenants
// file accepts, is drawn by the wallet (expanded), not dropped for the
// default theme.
func TestWalletShortColour(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			s := newWalletSite(t, open(t))
			ctx := context.Background()
			tn, err := s.db.Export(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tn.Templates {
				if tn.Templates[i].Code == s.demo.CardTemplate {
					tn.Templates[i].Style = map[string]string{"backgroundColor": "#222", "foregroundColor": "#fA0"}
				}
			}
			if err := s.db.Apply(ctx, tn); err != nil {
				t.Fatalf("apply with #RGB colours: %v", err)
			}
			holder := s.demo.UserIDs[0]
			card := s.card(t, holder, 1, "C")
			_, page := get(t, s.link(t, holder))
			if a := passArticle(page, card); !strings.Contains(a, `class="pass c-222222-FFAA00"`) {
				t.Errorf("card drawn as %q, want the theme class of #222222 on #FFAA00", a[:min(len(a), 120)])
			}
			if !strings.Contains(page, "/static/wallet/theme.css?c=222222-FFAA00") {
				t.Error("the page does not load the theme of the card's colours")
			}
			if _, css := get(t, s.url+"/static/wallet/theme.css?c=222222-FFAA00"); !strings.Contains(css, ".c-222222-FFAA00{background:#222222;color:#FFAA00}") {
				t.Errorf("theme.css = %q", css)
			}
		})
	}
}
