package http

// The wallet view: the pass holder's pages, their live updates (Server-Sent
// Events) and the change feed (docs/wallet.md). This file holds the routes,
// the link's authentication, the store reads, the URLs (they carry the
// token) and the rendering; what a page shows — cards, tabs, sections,
// paging, history lines, colours — is composed by package wallet (page.go),
// as are tokens, placement, formatting and codes. The templates and static
// files are in package web.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/wallet"
	"github.com/ipass-dev/ipass/web"
)

// walletCSP allows the page's own script, styles and connections and
// nothing else: no inline script or style, no other origin, no framing.
// Images may also be data: URLs, the form of the code images (a data: image
// cannot run script).
const walletCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// sseRetry is the reconnect delay EventSource is told to use.
const sseRetry = 1000 * time.Millisecond

// Wallet serves the wallet pages under /wallet/ and their static files under
// /static/wallet/. Configure the exported fields, then use it as a handler
// (usually through [Server.Wallet]). It is safe for concurrent use.
type Wallet struct {
	Store    ipass.WalletStore    // secret and change feed (required)
	Passes   ipass.PassStore      // a pass and its history, for the detail page (required)
	Tenants  ipass.TenantStore    // templates (required)
	Notifier ipass.ChangeNotifier // wake-ups; nil means the streams re-read at each keep-alive only
	// Clocks, on a sandbox, are the merchants' moved clocks: placement,
	// expiry and the live moves follow them (docs/sandbox.md). Nil: the real
	// clock for every pass.
	Clocks   ipass.MerchantClocks
	Location *time.Location   // time zone of dates shown; nil means Asia/Hong_Kong, else UTC
	Now      func() time.Time // clock; nil means time.Now
	Logger   *slog.Logger     // internal errors; nil discards
	PageSize int              // passes a tab shows at once; 0 means DefaultWalletPageSize

	// Limits of the event streams (docs/wallet.md "Limits"); 0 takes the
	// Default of the same name. A stream over a cap is refused with 429.
	MaxStreams          int // open streams in all
	MaxStreamsPerIP     int // open streams from one client address
	MaxStreamsPerHolder int // open streams of one holder, over all their links
	// KeepAlive is how often an idle stream gets a comment (and re-reads the
	// feed, so a lost wake-up delays a page by at most this).
	KeepAlive time.Duration
	// RevocationCheck is how often open streams look for a rotated secret.
	RevocationCheck time.Duration

	once     sync.Once
	mux      *http.ServeMux
	tmpl     *template.Template
	done     chan struct{} // closed by Shutdown: streams end
	stopOnce sync.Once

	flightMu sync.Mutex
	flights  map[flightKey]*flightGroup

	gate       streamGate
	secrets    secretWatch
	clocks     clockWatch
	watchStart sync.Once
}

// ServeHTTP answers a wallet request.
func (wl *Wallet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wl.once.Do(wl.init)
	h := w.Header()
	h.Set("Content-Security-Policy", walletCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	wl.mux.ServeHTTP(w, r)
}

// Shutdown ends every open event stream, so a graceful server shutdown does
// not wait for them. Browsers reconnect (to another node, or this one when
// it is back) and replay from Last-Event-ID.
func (wl *Wallet) Shutdown() {
	wl.once.Do(wl.init)
	wl.stopOnce.Do(func() { close(wl.done) })
}

func (wl *Wallet) init() {
	wl.done = make(chan struct{})
	wl.flights = map[flightKey]*flightGroup{}
	wl.gate = streamGate{
		maxTotal: orDefault(wl.MaxStreams, DefaultMaxStreams), maxPerIP: orDefault(wl.MaxStreamsPerIP, DefaultMaxStreamsPerIP),
		maxPerHolder: orDefault(wl.MaxStreamsPerHolder, DefaultMaxStreamsPerHolder),
		byIP:         map[string]int{}, byHolder: map[string]int{},
	}
	wl.secrets.changed = make(chan struct{})
	wl.clocks.changed = make(chan struct{})
	wl.tmpl = template.Must(template.New("").ParseFS(web.Templates, "templates/*.html"))
	if wl.Location == nil {
		if loc, err := time.LoadLocation("Asia/Hong_Kong"); err == nil {
			wl.Location = loc
		} else {
			wl.Location = time.UTC
		}
	}
	static, _ := fs.Sub(web.Static, "static")
	m := http.NewServeMux()
	m.HandleFunc("GET /wallet/{token}", wl.servePage)
	m.HandleFunc("GET /wallet/{token}/passes/{passID}", wl.serveDetail)
	m.HandleFunc("GET /wallet/{token}/events", wl.serveEvents)
	m.HandleFunc("GET /wallet/{token}/api/passes", wl.serveFeed)
	m.HandleFunc("GET /static/wallet/theme.css", wl.serveTheme)
	m.Handle("GET /static/wallet/", http.StripPrefix("/static/wallet/", http.FileServerFS(static)))
	m.HandleFunc("/", wl.notFound)
	wl.mux = m
}

func (wl *Wallet) now() time.Time {
	if wl.Now != nil {
		return wl.Now()
	}
	return time.Now()
}

func (wl *Wallet) logger() *slog.Logger {
	if wl.Logger != nil {
		return wl.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// holder authenticates the request's token. A missing, malformed, tampered
// or expired token all get the same 404 page, written here.
func (wl *Wallet) holder(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, ok := wl.claims(w, r)
	return c.UserID, ok
}

// claims is [Wallet.holder] with the link's expiry.
func (wl *Wallet) claims(w http.ResponseWriter, r *http.Request) (wallet.Claims, bool) {
	secret, err := wl.Store.WalletSecret(r.Context())
	if err != nil {
		wl.internal(w, r, fmt.Errorf("wallet secret: %w", err))
		return wallet.Claims{}, false
	}
	c, err := wallet.ParseTokenClaims(secret, r.PathValue("token"), wl.now())
	if err != nil {
		wl.notFound(w, r)
		return wallet.Claims{}, false
	}
	return c, true
}

func (wl *Wallet) notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = wl.tmpl.ExecuteTemplate(w, "notfound.html", nil)
}

func (wl *Wallet) internal(w http.ResponseWriter, r *http.Request, err error) {
	wl.logger().Error("wallet request failed", "path", redactToken(r.URL.Path), "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// redactToken keeps wallet tokens out of logs: whoever reads the log must not
// be able to open the wallet.
func redactToken(path string) string {
	if rest, ok := strings.CutPrefix(path, "/wallet/"); ok {
		_, after, found := strings.Cut(rest, "/")
		if found {
			return "/wallet/…/" + after
		}
		return "/wallet/…"
	}
	return path
}

// ---- the pages ----

type langLink struct {
	Locale, Label, Href string
	Current             bool
}

// pageData is what the templates see: the page's locale and links, and the
// content composed by package wallet (Main on the main page, Detail on a
// pass's page). T holds the UI strings of Lang.
type pageData struct {
	Lang, HTMLLang, PageTitle string
	T                         map[string]string
	Langs                     []langLink
	ThemeHref, EventsHref     string
	BackHref                  string
	Main                      wallet.Page
	Detail                    wallet.Detail
	OlderHref, NewestHref     string // detail page: the history's other pages
}

// templates caches template lookups for one request.
type templates struct {
	wl    *Wallet
	ctx   context.Context
	cache map[[2]string]*ipass.Template
}

func (t *templates) get(p *ipass.Pass) (*ipass.Template, error) {
	k := [2]string{p.MerchantID, p.TemplateCode}
	if tm, ok := t.cache[k]; ok {
		return tm, nil
	}
	tm, err := t.wl.Tenants.Template(t.ctx, p.MerchantID, p.TemplateCode)
	if err != nil {
		return nil, fmt.Errorf("template of pass %s: %w", p.ID, err)
	}
	t.cache[k] = tm
	return tm, nil
}

func (wl *Wallet) servePage(w http.ResponseWriter, r *http.Request) {
	user, ok := wl.holder(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	hc, err := wl.Store.HolderChanges(ctx, user, 0)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	tc := &templates{wl: wl, ctx: ctx, cache: map[[2]string]*ipass.Template{}}
	fallback := ""
	if len(hc.Passes) > 0 {
		if tm, err := tc.get(hc.Passes[0]); err == nil && len(tm.Locales) > 0 {
			fallback = tm.Locales[0]
		}
	}
	lang := wallet.UILocale(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), fallback)
	token := r.PathValue("token")
	d := wl.basePage(r, lang, token, hc.Cursor)
	d.PageTitle = d.T["wallet"]
	pg := wl.paging(r)
	links := wallet.Links{
		Detail:  func(id string) string { return "/wallet/" + token + "/passes/" + url.PathEscape(id) + langQuery(r) },
		TabPage: func(tab, n int) string { return pageHref(r, pg, tab, n) },
	}
	d.Main, err = wallet.BuildPage(wl.view(ctx, lang), hc.Passes, tc.get, pg, links)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	d.ThemeHref = d.Main.ThemeHref
	wl.render(w, r, http.StatusOK, "wallet.html", d)
}

// view is what the cards of one render share, with the render's one clock
// reading (and a sandbox's merchant clocks).
func (wl *Wallet) view(ctx context.Context, lang string) wallet.View {
	return wallet.View{Lang: lang, Loc: wl.Location, Now: wl.now(), Offsets: wl.clockOffsets(ctx)}
}

func (wl *Wallet) serveDetail(w http.ResponseWriter, r *http.Request) {
	user, ok := wl.holder(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	before, ok := beforeParam(r)
	if !ok {
		http.Error(w, "before: must be a version number (a positive integer)", http.StatusBadRequest)
		return
	}
	// Keyed by passId and userId: another holder's pass is the same indexed
	// miss as a pass that does not exist, decided before any of its content
	// is read, and answered with the same page.
	p, err := wl.Passes.HolderPass(ctx, user, r.PathValue("passID"))
	if errors.Is(err, ipass.ErrNotFound) {
		wl.notFound(w, r)
		return
	}
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	tc := &templates{wl: wl, ctx: ctx, cache: map[[2]string]*ipass.Template{}}
	tm, err := tc.get(p)
	if err != nil {
		wl.internal(w, r, err)
		return
	}
	lang := wallet.UILocale(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"), first(tm.Locales))
	token := r.PathValue("token")
	d := wl.basePage(r, lang, token, 0)
	d.BackHref = "/wallet/" + token + langQuery(r)
	v := wl.view(ctx, lang)
	if !v.Shown(p) {
		d.Detail.Removed = true
		d.PageTitle = d.T["removed"]
		wl.render(w, r, http.StatusGone, "pass.html", d)
		return
	}
	hr := wallet.HistoryPage(p.Version, before)
	var hist []ipass.HistoryEntry
	if hr.Versions() > 0 {
		page, err := wl.Passes.HistoryPage(ctx, p.ID, hr.From, hr.Versions())
		if err != nil {
			wl.internal(w, r, err)
			return
		}
		hist = page.Versions
	}
	detail := "/wallet/" + token + "/passes/" + url.PathEscape(p.ID)
	if hr.Older {
		d.OlderHref = detail + "?" + historyQuery(r, hr.From)
	}
	if hr.Newest {
		d.NewestHref = detail + langQuery(r)
	}
	d.Detail = wallet.BuildDetail(v, p, tm, hist)
	d.PageTitle = d.Detail.Card.Title
	d.ThemeHref = d.Detail.ThemeHref
	wl.render(w, r, http.StatusOK, "pass.html", d)
}

// beforeParam is the detail page's ?before=N (0 when absent): the page
// shows the versions older than N. false when it is not a positive integer.
func beforeParam(r *http.Request) (int, bool) {
	s := r.URL.Query().Get("before")
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	return n, true
}

// historyQuery is the query of the detail page showing the versions older
// than before, in the request's language.
func historyQuery(r *http.Request, before int) string {
	q := url.Values{"before": {strconv.Itoa(before)}}
	if l := r.URL.Query().Get("lang"); l == wallet.LocaleZH || l == wallet.LocaleEN {
		q.Set("lang", l)
	}
	return q.Encode()
}

// basePage fills what every page has: locale, strings, language links and
// the event stream (which starts after cursor, so nothing committed after
// this read is missed).
func (wl *Wallet) basePage(r *http.Request, lang, token string, cursor int64) pageData {
	d := pageData{Lang: lang, HTMLLang: strings.ReplaceAll(lang, "_", "-"), T: wallet.Texts(lang)}
	for _, l := range wallet.Locales {
		q := r.URL.Query()
		q.Set("lang", l)
		d.Langs = append(d.Langs, langLink{Locale: l, Label: wallet.Text(l, "languageName"),
			Href: r.URL.Path + "?" + q.Encode(), Current: l == lang})
	}
	d.EventsHref = "/wallet/" + token + "/events?since=" + strconv.FormatInt(cursor, 10)
	if cursor == 0 {
		d.EventsHref = "/wallet/" + token + "/events"
	}
	return d
}

func (wl *Wallet) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	buf := renderBufs.Get().(*bytes.Buffer)
	defer renderBufs.Put(buf)
	buf.Reset()
	// Rendered whole before the status is sent, so a failure is a clean 500.
	if err := wl.tmpl.ExecuteTemplate(buf, name, d); err != nil {
		wl.internal(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderBufs recycles page buffers: a 200-pass page is a few hundred KiB.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func langQuery(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == wallet.LocaleZH || l == wallet.LocaleEN {
		return "?lang=" + l
	}
	return ""
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

// serveTheme answers the stylesheet of a page's colour classes, made from
// the URL alone (see [wallet.Themes]).
func (wl *Wallet) serveTheme(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, _ = w.Write([]byte(wallet.ThemeCSS(r.URL.Query().Get("c"))))
}
