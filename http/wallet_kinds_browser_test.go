package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass/examples"
	"github.com/ipass-dev/ipass/internal/browsertest"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// exampleKinds are the example files of each of the ten pass kinds, as
// examples/README.md lists them: a create and its updates, in order.
var exampleKinds = []struct {
	name    string
	create  string
	updates []string
}{
	{"member-card", "member-card-create.json", []string{"member-card-points.json", "member-card-points-more.json", "member-card-level.json", "member-card-validity.json"}},
	{"stored-value-card", "stored-value-card-create.json", []string{"stored-value-card-balance.json", "stored-value-card-close.json"}},
	{"gift-card", "gift-card-create.json", []string{"gift-card-balance.json", "gift-card-used.json"}},
	{"coupon", "coupon-create.json", []string{"coupon-extend.json", "coupon-used.json"}},
	{"ticket", "ticket-create.json", []string{"ticket-times.json", "ticket-used.json"}},
	{"movie", "movie-create.json", []string{"movie-seats.json", "movie-used.json"}},
	{"air", "air-create.json", []string{"air-delay.json", "air-used.json"}},
	{"train", "train-create.json", []string{"train-gate.json", "train-used.json"}},
	{"bus", "bus-create.json", []string{"bus-seat.json", "bus-refund.json"}},
	{"ship", "ship-create.json", []string{"ship-gate.json", "ship-used.json"}},
}

// holderWordsJS lists what a holder's page must not show: a field without
// its label and value elements, a label that is the placeholder name, a
// value holding a 13-digit number (raw epoch milliseconds) or JSON ([, {,
// "); a history entry naming an API operation, status or update kind, or
// without its time and zone.
const holderWordsJS = `(() => {
  const bad = [];
  document.querySelectorAll("[data-field]").forEach(f => {
    const name = f.getAttribute("data-field");
    const l = f.querySelector("[data-field-label]"), v = f.querySelector("[data-field-value]");
    if (!l || !v) { bad.push(name + ": no label or value element"); return; }
    const lt = l.textContent.trim(), vt = v.textContent;
    if (!lt || lt === name) bad.push(name + ": label " + JSON.stringify(lt));
    if (/[0-9]{13}/.test(vt) || /[\[{"]/.test(vt)) bad.push(name + ": value " + JSON.stringify(vt));
  });
  document.querySelectorAll("[data-history-version]").forEach(h => {
    const v = "v" + h.getAttribute("data-history-version"), t = h.textContent;
    for (const api of ["createPass", "updatePass", "UPDATE", "ACTIVE", "USED", "REFUND", "CLOSED", "EXPIRED"]) {
      if (t.includes(api)) bad.push(v + ": names " + api + " in " + JSON.stringify(t));
    }
    if (/[\[{]/.test(t)) bad.push(v + ": JSON in " + JSON.stringify(t));
    const tm = h.querySelector("[data-history-time]");
    if (!tm || !/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} (HKT|UTC[+-][0-9:]+|UTC)$/.test(tm.textContent)) bad.push(v + ": time " + (tm ? JSON.stringify(tm.textContent) : "missing"));
  });
  return bad;
})()`

// TestWalletAllKindsInBrowser creates every example of examples/ for all
// ten pass kinds and reads each pass, its detail page and its history in
// both locales: every field labelled and shown in the holder's words, no
// API name in the history.
func TestWalletAllKindsInBrowser(t *testing.T) {
	browsertest.Browser(t)
	s := newWalletSite(t, sqlstoretest.OpenSQLite(t))
	ctx := browsertest.Tab(t)
	links := map[string]string{}
	call := func(t *testing.T, op, file, passID string) string {
		t.Helper()
		raw, err := examples.Files.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		if passID != "" {
			body["passId"] = passID
		}
		wire, _ := json.Marshal(body)
		resp, err := s.sdk.Call(context.Background(), op, wire)
		if err != nil {
			t.Fatalf("%s %s: %v", op, file, err)
		}
		var out struct {
			PassID string `json:"passId"`
		}
		_ = json.Unmarshal(resp.Body, &out)
		if uid, _ := body["userId"].(string); uid != "" && links[uid] == "" {
			links[uid] = s.link(t, uid)
		}
		return out.PassID
	}
	check := func(t *testing.T, url, what string) {
		t.Helper()
		browsertest.OpenWallet(t, ctx, url)
		if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("[data-field]").length`); n == 0 && !strings.Contains(url, "/passes/") {
			t.Errorf("%s: no fields shown", what)
		}
		for _, p := range browsertest.Eval[[]string](t, ctx, holderWordsJS) {
			t.Errorf("%s: %s", what, p)
		}
	}
	for _, k := range exampleKinds {
		t.Run(k.name, func(t *testing.T) {
			id := call(t, "createPass", k.create, "")
			holder := ""
			for u := range links {
				if b, _ := examples.Files.ReadFile(k.create); strings.Contains(string(b), u) {
					holder = u
				}
			}
			last := len(k.updates) - 1
			for _, u := range k.updates[:last] {
				call(t, "updatePass", u, id)
			}
			detail := links[holder] + "/passes/" + id
			// Before the last update, while every kind is still shown:
			// the face in both locales, with a screenshot of each.
			for _, lang := range []string{"en_US", "zh_HK"} {
				check(t, detail+"?lang="+lang, k.name+" "+lang)
				if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("[data-pass-id] [data-field]").length`); n == 0 {
					t.Errorf("%s %s: the detail page shows no field", k.name, lang)
				}
				browsertest.Screenshot(t, ctx, fmt.Sprintf("kind-%s-%s", k.name, lang))
			}
			call(t, "updatePass", k.updates[last], id)
			for _, lang := range []string{"en_US", "zh_HK"} {
				check(t, detail+"?lang="+lang, k.name+" "+lang+" after "+k.updates[last])
			}
			if k.name == "bus" {
				// The refund emptied the seats: an empty list is not shown.
				if browsertest.Eval[bool](t, ctx, `!!document.querySelector('[data-field="seats"]')`) {
					t.Error("bus ticket shows its empty seat list")
				}
				if got := browsertest.Eval[string](t, ctx, browsertest.Text(`[data-history-version="3"] [data-history-what]`)); got != "已退款" {
					t.Errorf("bus refund reads %q in zh_HK, want 已退款", got)
				}
			}
		})
	}
	// Each holder's wallet, both tabs, both locales.
	for u, link := range links {
		for _, lang := range []string{"en_US", "zh_HK"} {
			check(t, link+"?lang="+lang, "wallet of "+u+" "+lang)
			browsertest.Screenshot(t, ctx, "kinds-wallet-"+u+"-"+lang)
		}
	}
}
