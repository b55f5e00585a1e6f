package http_test

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass/client"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
	"github.com/ipass-dev/ipass/wallet"
)

// TestWalletHTTP: links, headers, the change feed and the event stream's
// replay, over real HTTP on every engine.
func TestWalletHTTP(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			s := newWalletSite(t, open(t))
			holder := s.demo.UserIDs[0]
			link := s.link(t, holder)
			card := s.card(t, holder, 100, "C-1")

			t.Run("SafetyHeadersEverywhere", func(t *testing.T) {
				for _, path := range []string{"", "/passes/" + card, "/api/passes", "/nope"} {
					resp, _ := get(t, link+path)
					checkSafetyHeaders(t, path, resp.Header)
				}
				for _, u := range []string{s.url + "/static/wallet/wallet.js", s.url + "/static/wallet/wallet.css", s.url + "/wallet/x"} {
					resp, _ := get(t, u)
					checkSafetyHeaders(t, u, resp.Header)
				}
				resp := openStream(t, link+"/events", "")
				checkSafetyHeaders(t, "/events", resp.Header)
				resp.Body.Close()
			})

			t.Run("BadLinksAllLookTheSame", func(t *testing.T) {
				secret, err := s.db.WalletSecret(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				expired, _ := wallet.NewToken(secret, holder, time.Now().Add(-time.Second))
				forged, _ := wallet.NewToken([]byte("not the secret"), holder, time.Now().Add(time.Hour))
				tok := strings.TrimPrefix(link, s.url+"/wallet/")
				tampered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
				_, want := get(t, s.url+"/wallet/"+strings.Repeat("A", 76))
				for name, tk := range map[string]string{"Expired": expired, "Forged": forged, "Tampered": tampered, "Garbage": "%3Cscript%3E", "Empty": ""} {
					for _, path := range []string{"", "/passes/" + card, "/api/passes", "/events"} {
						resp, body := get(t, s.url+"/wallet/"+tk+path)
						if resp.StatusCode != http.StatusNotFound || body != want {
							t.Errorf("%s token, %q: %d %q, want the same 404 as a random token", name, path, resp.StatusCode, body)
						}
					}
				}
				// Rotating the secret retires every link made before.
				if err := s.db.RotateWalletSecret(context.Background()); err != nil {
					t.Fatal(err)
				}
				if resp, body := get(t, link); resp.StatusCode != http.StatusNotFound || body != want {
					t.Errorf("link after rotation: %d, want the 404", resp.StatusCode)
				}
				link = s.link(t, holder)
			})

			t.Run("ChangeFeed", func(t *testing.T) {
				_, body := get(t, link+"/api/passes")
				passes, removed, cursor := feedOf(t, body)
				if len(passes) != 1 || passes[0].PassID != card || len(removed) != 0 || cursor == "" {
					t.Fatalf("first read: %s", body)
				}
				ticket := s.ticket(t, holder, "Feed ticket", time.Now().Add(time.Hour))
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: ticket, Status: "CLOSED"})
				_, body = get(t, link+"/api/passes?since="+cursor)
				passes, removed, next := feedOf(t, body)
				if len(passes) != 0 || !slices.Equal(removed, []string{ticket}) || !cursorAfter(next, cursor) {
					t.Fatalf("since %s: %s; want only the CLOSED ticket, removed, and a later cursor", cursor, body)
				}
				for _, bad := range []string{"-1", "x", "1e3"} {
					if resp, body := get(t, link+"/api/passes?since="+bad); resp.StatusCode != 400 || !strings.Contains(body, "since") {
						t.Errorf("since=%s: %d %s, want 400 naming since", bad, resp.StatusCode, body)
					}
				}
			})

			t.Run("StreamReplaysFromLastEventID", func(t *testing.T) {
				_, body := get(t, link+"/api/passes")
				_, _, cursor := feedOf(t, body)
				// Changes while no stream is open...
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: card, Status: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD",
					DataInfo: client.DataInfo{"$points_en_US$": 300, "$points_zh_HK$": 300}})
				missed := s.card(t, holder, 1, "C-2")
				// ...are replayed first on reconnect.
				resp := openStream(t, link+"/events", cursor)
				defer resp.Body.Close()
				ev := nextEvent(t, resp)
				passes, _, id := feedOf(t, ev.data)
				got := []string{}
				for _, p := range passes {
					got = append(got, p.PassID)
				}
				if !slices.Contains(got, card) || !slices.Contains(got, missed) || ev.id != id || !cursorAfter(id, cursor) {
					t.Fatalf("replay after %s: id %s, passes %v; want both changed passes", cursor, ev.id, got)
				}
				// Then live: the next change arrives as its own event.
				s.update(t, &client.UpdatePassRequest{UserID: holder, PassID: missed, Status: "CLOSED"})
				ev2 := nextEvent(t, resp)
				_, removed, id2 := feedOf(t, ev2.data)
				if len(removed) != 0 || !cursorAfter(id2, id) {
					t.Fatalf("live event %+v", ev2)
				}
				if p, _, _ := feedOf(t, ev2.data); len(p) != 1 || p[0].PassID != missed || p[0].Status != "CLOSED" {
					t.Fatalf("live event %s; want the terminated card", ev2.data)
				}
			})
		})
	}
}

func checkSafetyHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, c := range []struct{ name, got, want string }{
		{"X-Content-Type-Options", h.Get("X-Content-Type-Options"), "nosniff"},
		{"Referrer-Policy", h.Get("Referrer-Policy"), "no-referrer"},
		{"Cache-Control", h.Get("Cache-Control"), "no-store"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s = %q, want %q", what, c.name, c.got, c.want)
		}
	}
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") ||
		strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
		t.Errorf("%s: Content-Security-Policy %q, want own scripts only, no inline, no other origin", what, csp)
	}
}

// cursorAfter reports whether cursor a is later than b: cursors are numbers
// in strings, and "10" sorts before "9".
func cursorAfter(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	return errA == nil && errB == nil && x > y
}

func openStream(t testing.TB, url, lastEventID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

type sse struct{ id, data string }

// nextEvent reads the next event carrying data (comments and the retry
// field are skipped), failing after 10 s.
func nextEvent(t testing.TB, resp *http.Response) sse {
	t.Helper()
	type result struct {
		ev  sse
		err error
	}
	rd, ok := readers[resp]
	if !ok {
		rd = bufio.NewReader(resp.Body)
		readers[resp] = rd
	}
	c := make(chan result, 1)
	go func() {
		var ev sse
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				c <- result{err: err}
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			case line == "" && ev.data != "":
				c <- result{ev: ev}
				return
			}
		}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sse{}
}

var readers = map[*http.Response]*bufio.Reader{}
