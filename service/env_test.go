package service

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore"
)

// Fixtures of docs/api.md, "Worked examples".
const (
	client44    = "2110200000000044"
	client55    = "2110200000000055"
	merchant23  = "2160120036095023" // owned by client44
	merchant22  = "2160400000000022" // owned by client55
	user534     = "2160220037090534"
	open534     = "fj398457jd8iue98d8w7w93j"
	user225     = "2160220043214225"
	open225     = "k29dh38fj2l0s9d8f7g6h5j4"
	open534At22 = "zz534atmerchant22"

	tplMember = "temlate111001"
	tplGift   = "82022031000135000000000000624234"
	tplTicket = "22024120100135606000000001443495"
	tplAir    = "22024120100135606000000001443496"
	tplOther  = "tplOfMerchant22"
)

// baseNow is the service clock at the start of every test: late enough
// that every bizDate of section 8 is within now + 24 h.
var baseNow = time.Date(2025, 1, 5, 0, 0, 0, 0, time.UTC)

func fixtures() *ipass.Tenants {
	locales := []string{"zh_HK", "en_US"}
	key := func() []ipass.ClientKey {
		return []ipass.ClientKey{{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: "placeholder", Status: ipass.KeyActive}}
	}
	return &ipass.Tenants{
		Clients: []ipass.Client{
			{ID: client44, Name: "Demo merchant back end", RateLimit: 200, Keys: key()},
			{ID: client55, Name: "Other tenant", Keys: key()},
		},
		Merchants: []ipass.Merchant{
			{ID: merchant23, ClientID: client44, Name: "Demo Coffee"},
			{ID: merchant22, ClientID: client55, Name: "Other shop"},
		},
		Templates: []ipass.Template{
			{Code: tplMember, MerchantID: merchant23, Type: ipass.TypeCard, Product: ipass.ProductMemberCard,
				Title: map[string]string{"en_US": "Member card"}, Locales: locales,
				Placeholders: []string{"points", "level"}, CodeDisplay: ipass.CodeQR},
			{Code: tplGift, MerchantID: merchant23, Type: ipass.TypeCoupon, Product: ipass.ProductGiftCard,
				Title: map[string]string{"en_US": "Gift card"}, Locales: locales,
				Placeholders: []string{"shopname", "balance"}, CodeDisplay: ipass.CodeBarcode},
			{Code: tplTicket, MerchantID: merchant23, Type: ipass.TypeTicket, Product: ipass.ProductPass,
				Title: map[string]string{"en_US": "Ticket"}, Locales: locales,
				Placeholders: []string{"ticketName", "address", "availableTimes", "price", "startTime", "endTime"}, CodeDisplay: ipass.CodeQR},
			{Code: tplAir, MerchantID: merchant23, Type: ipass.TypeTicket, Product: ipass.ProductAirTicket,
				Title: map[string]string{"en_US": "Flight"}, Locales: locales,
				Placeholders: []string{"airlineName", "flightNo", "from", "to", "startTime", "endTime"}, CodeDisplay: ipass.CodeNone},
			{Code: tplOther, MerchantID: merchant22, Type: ipass.TypeCard, Product: ipass.ProductMemberCard,
				Title: map[string]string{"en_US": "Other card"}, Locales: locales,
				Placeholders: []string{"points", "level"}, CodeDisplay: ipass.CodeQR},
		},
		Users: []ipass.User{
			{ID: user534, OpenIDs: map[string]string{merchant23: open534, merchant22: open534At22}},
			{ID: user225, OpenIDs: map[string]string{merchant23: open225}},
		},
	}
}

// clock is a settable clock shared by the service and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is one service over a fresh SQLite database with the fixtures.
type env struct {
	svc   *Service
	db    *sqlstore.DB
	clock *clock
	ids   map[string]string // name → passId, filled by create steps
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: baseNow}
	db.Now = c.Now
	if err := db.Apply(ctx, fixtures()); err != nil {
		t.Fatalf("apply fixtures: %v", err)
	}
	return &env{
		svc:   &Service{Tenants: db, Passes: db, Now: c.Now},
		db:    db,
		clock: c,
		ids:   map[string]string{},
	}
}

// step is one request of a worked-example sequence.
type step struct {
	name     string
	op       string // "create", "update" or "query"
	client   string // default client44
	body     string // "{id:NAME}" is replaced by the passId saved under NAME
	code     ipass.Code
	fragment string        // part of the expected message, if any
	save     string        // create: save the passId under this name
	same     string        // create: the passId must be the one saved under this name
	advance  time.Duration // move the clock forward before the request
	check    func(t *testing.T, e *env)
	view     func(t *testing.T, e *env, v *ipass.PassView) // query: checks on the result
}

var idRef = regexp.MustCompile(`\{id:([A-Za-z0-9]+)\}`)

func (e *env) expand(t *testing.T, body string) string {
	t.Helper()
	return idRef.ReplaceAllStringFunc(body, func(m string) string {
		name := idRef.FindStringSubmatch(m)[1]
		id, ok := e.ids[name]
		if !ok {
			t.Fatalf("no pass saved as %q", name)
		}
		return id
	})
}

// run executes steps in order; each is a subtest named after its step, and
// a failed step stops the sequence (later steps depend on it).
func (e *env) run(t *testing.T, steps []step) {
	t.Helper()
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			e.clock.Advance(st.advance)
			caller := ipass.Caller{ClientID: st.client, TracerID: "tracer-" + st.name}
			if caller.ClientID == "" {
				caller.ClientID = client44
			}
			body := []byte(e.expand(t, st.body))
			ctx := context.Background()
			var err error
			switch st.op {
			case "create":
				var id string
				id, err = e.svc.CreatePass(ctx, caller, body)
				if err == nil {
					if !regexp.MustCompile(`^[0-9]{31}$`).MatchString(id) {
						t.Fatalf("passId %q is not 31 digits", id)
					}
					if st.save != "" {
						e.ids[st.save] = id
					}
					if st.same != "" && id != e.ids[st.same] {
						t.Fatalf("got passId %s, want the existing %s", id, e.ids[st.same])
					}
				}
			case "update":
				err = e.svc.UpdatePass(ctx, caller, body)
			case "query":
				var v *ipass.PassView
				v, err = e.svc.QueryPass(ctx, caller, body)
				if err == nil && v == nil {
					t.Fatal("nil view without error")
				}
				if err == nil && st.view != nil {
					st.view(t, e, v)
				}
			default:
				t.Fatalf("unknown op %q", st.op)
			}
			checkResult(t, err, st.code, e.expand(t, st.fragment))
			if st.check != nil {
				st.check(t, e)
			}
		})
		if !ok {
			t.FailNow()
		}
	}
}

// checkResult compares err with the wanted code ("" = SUCCESS) and checks
// the message rules of 7.1.
func checkResult(t *testing.T, err error, code ipass.Code, fragment string) {
	t.Helper()
	if code == "" {
		code = ipass.CodeSuccess
	}
	if got := ipass.ErrorCode(err); got != code {
		t.Fatalf("got %s (%v), want %s", got, err, code)
	}
	msg := ipass.ErrorMessage(err)
	if fragment != "" && !strings.Contains(msg, fragment) {
		t.Fatalf("message %q does not contain %q", msg, fragment)
	}
	if utf8.RuneCountInString(msg) > 512 {
		t.Fatalf("message longer than 512: %q", msg)
	}
	if strings.Contains(msg, merchant22) && code != ipass.CodeAccessDenied {
		t.Fatalf("message names another tenant's merchant: %q", msg)
	}
}

// pass reads the stored pass saved under name.
func (e *env) pass(t *testing.T, name string) *ipass.Pass {
	t.Helper()
	p, err := e.db.PassByID(context.Background(), e.ids[name])
	if err != nil {
		t.Fatalf("read pass %s: %v", name, err)
	}
	return p
}

func (e *env) history(t *testing.T, name string) []ipass.PassVersion {
	t.Helper()
	h, err := e.db.History(context.Background(), e.ids[name])
	if err != nil {
		t.Fatalf("read history of %s: %v", name, err)
	}
	return h
}

// expect checks the stored version and status of a pass and, optionally,
// dataInfo values (raw JSON text; "" = key absent).
func expect(name string, version int, status ipass.Status, data map[string]string) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		t.Helper()
		p := e.pass(t, name)
		if p.Version != version {
			t.Errorf("version = %d, want %d", p.Version, version)
		}
		if p.Status != status {
			t.Errorf("status = %s, want %s", p.Status, status)
		}
		for k, want := range data {
			got, ok := p.DataInfo[k]
			switch {
			case want == "" && ok:
				t.Errorf("dataInfo %s = %s, want absent", k, got)
			case want != "" && string(got) != want:
				t.Errorf("dataInfo %s = %s, want %s", k, got, want)
			}
		}
		if n := len(e.history(t, name)); n != p.Version {
			t.Errorf("history has %d entries, want %d (one per version)", n, p.Version)
		}
	}
}

var errInjected = errors.New("injected database failure")
