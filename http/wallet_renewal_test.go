package http_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/wallet"
)

// TestWalletRenewal: a member card that expired and was renewed through the
// API is back in the Active tab with a live code, and its detail page says
// in the holder's words, in both languages, until when it was renewed.
func TestWalletRenewal(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			s := newWalletSite(t, open(t))
			holder := s.demo.UserIDs[0]
			link := s.link(t, holder)
			card := s.create(t, holder, s.demo.CardTemplate, "RENEW-ME", client.DataInfo{"$points_en_US$": 1}, time.Now().Add(300*time.Millisecond))
			time.Sleep(400 * time.Millisecond) // the server's clock is the real one
			_, page := get(t, link)
			if a := passArticle(page, card); !strings.Contains(a, `data-status="EXPIRED"`) || !strings.Contains(page[strings.Index(page, `data-tab="inactive"`):], card) {
				t.Fatalf("the card did not expire: %s", a)
			}
			until := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Minute)
			s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_VALIDITY", EndDate: until.UnixMilli()})

			_, page = get(t, link)
			active := page[strings.Index(page, `data-tab="active"`):strings.Index(page, `data-tab="inactive"`)]
			if a := passArticle(active, card); !strings.Contains(a, `data-status="ACTIVE"`) || !strings.Contains(a, `data-code-state="active"`) {
				t.Fatalf("the renewed card is not active with a live code in the Active tab: %s", a)
			}
			hk, _ := time.LoadLocation("Asia/Hong_Kong")
			for lang, words := range map[string]string{"en_US": "Renewed until ", "zh_HK": "已續期至 "} {
				_, detail := get(t, link+"/passes/"+card+"?lang="+lang)
				want := `data-history-renewal>` + words + wallet.FormatTime(until.UnixMilli(), hk) + `<`
				v2 := detail[strings.Index(detail, `data-history-version="2"`):]
				if !strings.Contains(v2, want) {
					t.Errorf("%s detail page: version 2 does not say %q: %.400s", lang, want, v2)
				}
				if strings.Count(detail, "data-history-renewal") != 1 {
					t.Errorf("%s: want exactly one renewal in the history", lang)
				}
			}
		})
	}
}
