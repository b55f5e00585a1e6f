package http_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestTenancy runs the cross-tenant matrix on every engine: client A acts on
// every combination of merchant × pass (or template) × identity, and an
// oracle says what each must get. Refusals must not reveal that B's records
// exist: same code and same message (up to the ids the caller sent) as for
// records that do not exist, no B data in any answer, nothing changed.
func TestTenancy(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { testTenancy(t, open) })
	}
}

// Tenants of this test, apart from the spec fixtures. Every id is distinct
// and none contains another, so messages can be normalised by replacing the
// ids a request sent.
const (
	tnClientA = "2110200000007001" // owns A1 and A2
	tnClientB = "2110200000007002" // owns B1
	tnU1      = "u1-7301"          // owns every pass of the matrix
	tnU2      = "u2-7302"          // "another user"
	tnSecret  = "B-secret-7777"    // face data of B's passes
	tnGhost   = "2025010588888888888888888888888"
)

// Merchant, template and pass labels: A1, A2, B1 and ZZ (does not exist).
var (
	tnLabels    = []string{"A1", "A2", "B1", "ZZ"}
	tnMerchant  = map[string]string{"A1": "mA1-7101", "A2": "mA2-7102", "B1": "mB1-7201", "ZZ": "mZZ-7999"}
	tnTemplate  = map[string]string{"A1": "tA1-7401", "A2": "tA2-7402", "B1": "tB1-7403", "ZZ": "tZZ-7499"}
	tnOpenIDs   = map[string]map[string]string{tnU1: {"A1": "ox-1a1", "A2": "ox-1a2", "B1": "ox-1b1"}, tnU2: {"A1": "ox-2a1", "A2": "ox-2a2", "B1": "ox-2b1"}}
	tnElsewhere = map[string]string{"A1": "B1", "A2": "A1", "B1": "A2", "ZZ": "B1"}
	tnIdents    = []string{"ownerUser", "ownerOpen", "otherUser", "otherOpen", "ownerOpenElsewhere", "unknownOpen"}
	// queryByBoth names the target's passId and bizSerialId: B's real
	// passId must be refused at the passId, as a missing one is, and never
	// get as far as the bizSerialId (issue 8, break 4).
	tnOps = []string{"createPass", "UPDATE", "USED", "CLOSED", "queryByPassId", "queryByBizSerialId", "queryByBoth"}
)

// tnIdentity is the userId or openId a request names.
type tnIdentity struct{ field, value string }

// identity resolves an identity label relative to the request's merchant.
func identity(label, m string) tnIdentity {
	at := m
	if at == "ZZ" {
		at = "A1" // any: the merchant is refused before the user is looked at
	}
	switch label {
	case "ownerUser":
		return tnIdentity{"userId", tnU1}
	case "ownerOpen":
		return tnIdentity{"openId", tnOpenIDs[tnU1][at]}
	case "otherUser":
		return tnIdentity{"userId", tnU2}
	case "otherOpen":
		return tnIdentity{"openId", tnOpenIDs[tnU2][at]}
	case "ownerOpenElsewhere":
		return tnIdentity{"openId", tnOpenIDs[tnU1][tnElsewhere[m]]}
	}
	return tnIdentity{"openId", "ox-zzz"}
}

// tnPass is a pass the matrix aims at.
type tnPass struct{ id, serial, merchant string }

// tenancy is the matrix's world.
type tenancy struct {
	h       *harness
	passes  map[string]tnPass // by merchant label; ZZ = a pass that does not exist
	secrets []string          // B's data no answer to A may contain unless A sent it
	fresh   int
}

// cell is one combination; target is a template label for createPass and a
// pass label otherwise.
type cell struct {
	op, m, target, ident string
}

func (c cell) String() string {
	what := "pass"
	if c.op == "createPass" {
		what = "template"
	}
	return fmt.Sprintf("%s/merchant=%s/%s=%s/%s", c.op, c.m, what, c.target, c.ident)
}

// expect is the oracle: the code client A must get for c, following the
// processing orders of docs/api.md, "Processing order" (G14 and the order
// of each operation), and updatePass's rule that the pass belongs to the
// merchant and the user.
func expect(c cell) ipass.Code {
	if c.m != "A1" && c.m != "A2" {
		return ipass.CodeAccessDenied // B1 and ZZ alike
	}
	if c.op == "createPass" && c.target != c.m {
		return ipass.CodeParamIllegal // templateCode not found for this merchant
	}
	user := resolve(c.m, identity(c.ident, c.m))
	if user == "" {
		return ipass.CodeUserNotExist
	}
	if c.op == "createPass" {
		return ipass.CodeSuccess
	}
	// Every pass of the matrix is tnU1's at its own merchant; ZZ has none.
	if c.target != c.m || user != tnU1 {
		return ipass.CodePassHasNotExist
	}
	return ipass.CodeSuccess
}

// resolve is 3.8: userId globally, openId only at the request's merchant.
func resolve(m string, id tnIdentity) string {
	if id.field == "userId" {
		return id.value
	}
	for user, ids := range tnOpenIDs {
		if ids[m] == id.value {
			return user
		}
	}
	return ""
}

func testTenancy(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	tn := &tenancy{h: h, passes: map[string]tnPass{}}
	tn.provision(t)

	var cells []cell
	for _, op := range tnOps {
		for _, m := range tnLabels {
			for _, target := range tnLabels {
				for _, id := range tnIdents {
					cells = append(cells, cell{op, m, target, id})
				}
			}
		}
	}
	// B holds a pass under the very bizSerialId of each create A will make
	// at A1/A2: uniqueness is per merchant, and a global check would leak
	// B's passId in its "already used by pass …" message.
	for _, c := range cells {
		if c.op == "createPass" && expect(c) == ipass.CodeSuccess {
			id := tn.create(t, tnClientB, "B1", tnU1, serialOf(c), tnSecret)
			tn.secrets = append(tn.secrets, id)
		}
	}

	parent := h.t
	// Refused cells first, one op at a time between snapshots: they must not
	// change anything.
	messages := map[string]map[string][]string{} // op/code → normalised message → cells
	refused := 0
	for _, op := range tnOps {
		before := h.snapshot()
		for _, c := range cells {
			want := expect(c)
			if c.op != op || want == ipass.CodeSuccess {
				continue
			}
			refused++
			t.Run(c.String(), func(t *testing.T) {
				h.t = t
				defer func() { h.t = parent }()
				p := tn.passes[c.target]
				r, sent := tn.send(c, p.id, p.serial)
				if r.code != want {
					t.Fatalf("got %s (%s), want %s", r.code, r.message, want)
				}
				if r.passID != "" || r.pass != nil {
					t.Fatalf("refused request returned pass data: %s", r.plain)
				}
				tn.checkNoLeak(t, r, sent)
				key := op + "/" + string(r.code)
				if messages[key] == nil {
					messages[key] = map[string][]string{}
				}
				norm := normalise(r.message, sent)
				messages[key][norm] = append(messages[key][norm], c.String())
			})
		}
		if after := h.snapshot(); after != before {
			t.Fatalf("%s: refused requests changed stored data", op)
		}
	}
	// One message per (op, code): B's merchant reads like an unknown one,
	// B's pass like no pass, B's openId like a random one, B's template like
	// a random code.
	for _, key := range slices.Sorted(maps.Keys(messages)) {
		byMsg := messages[key]
		for msg, who := range byMsg {
			t.Logf("%s: %q (%d cells)", key, msg, len(who))
		}
		if len(byMsg) > 1 {
			var lines []string
			for msg, who := range byMsg {
				lines = append(lines, fmt.Sprintf("  %q for %d cells, e.g. %s", msg, len(who), who[0]))
			}
			sort.Strings(lines)
			t.Errorf("%s: refusals are distinguishable:\n%s", key, strings.Join(lines, "\n"))
		}
	}

	// Accepted cells: each on a pass of its own, so one cell's USED or
	// CLOSED cannot decide another's answer.
	accepted := 0
	for _, c := range cells {
		if expect(c) != ipass.CodeSuccess {
			continue
		}
		accepted++
		t.Run(c.String(), func(t *testing.T) {
			h.t = t
			defer func() { h.t = parent }()
			tn.accept(t, c)
		})
	}
	t.Logf("matrix: %d cells (%d refused, %d accepted)", len(cells), refused, accepted)
}

// provision applies the two tenants and issues one pass per merchant.
func (tn *tenancy) provision(t *testing.T) {
	h := tn.h
	pub := func(file string) string {
		b, err := os.ReadFile(fixtureKeyDir + "/" + file)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	client := func(id, keyFile string) ipass.Client {
		return ipass.Client{ID: id, Name: "tenancy " + id, Keys: []ipass.ClientKey{{Version: 1, Algorithm: ipass.AlgorithmRSA256, PublicKey: pub(keyFile), Status: ipass.KeyActive}}}
	}
	ten := &ipass.Tenants{Clients: []ipass.Client{client(tnClientA, "client-0044-rsa-v1.pub.pem"), client(tnClientB, "client-0055-rsa-v1.pub.pem")}}
	owner := map[string]string{"A1": tnClientA, "A2": tnClientA, "B1": tnClientB}
	for _, m := range []string{"A1", "A2", "B1"} {
		ten.Merchants = append(ten.Merchants, ipass.Merchant{ID: tnMerchant[m], ClientID: owner[m], Name: "merchant " + m})
		ten.Templates = append(ten.Templates, ipass.Template{
			Code: tnTemplate[m], MerchantID: tnMerchant[m], Type: ipass.TypeCoupon, Product: ipass.ProductCoupon,
			Title: map[string]string{"en_US": "Coupon " + m}, Locales: []string{"en_US"}, Placeholders: []string{"shop", "balance"},
			CodeDisplay: ipass.CodeNone, Style: map[string]string{},
		})
	}
	for _, u := range []string{tnU1, tnU2} {
		ids := map[string]string{}
		for m, id := range tnOpenIDs[u] {
			ids[tnMerchant[m]] = id
		}
		ten.Users = append(ten.Users, ipass.User{ID: u, OpenIDs: ids})
	}
	if err := h.db.Apply(context.Background(), ten); err != nil {
		t.Fatal(err)
	}
	h.keys[tnClientA+"/RSA256"] = h.keys[clientA+"/RSA256"]
	h.keys[tnClientB+"/RSA256"] = h.keys[clientB+"/RSA256"]

	for _, m := range []string{"A1", "A2", "B1"} {
		serial := "s" + m + "-7501"
		data := "shop " + m
		if m == "B1" {
			data = tnSecret
		}
		id := tn.create(t, owner[m], m, tnU1, serial, data)
		tn.passes[m] = tnPass{id: id, serial: serial, merchant: m}
	}
	tn.passes["ZZ"] = tnPass{id: tnGhost, serial: "sZZ-7599"}
	b1 := tn.passes["B1"]
	tn.secrets = append(tn.secrets, tnClientB, tnMerchant["B1"], tnTemplate["B1"], b1.id, b1.serial, tnSecret,
		tnOpenIDs[tnU1]["B1"], tnOpenIDs[tnU2]["B1"])
}

// create issues a pass through the API as client at merchant label m.
func (tn *tenancy) create(t *testing.T, client, m, user, serial, shop string) string {
	t.Helper()
	body := fmt.Sprintf(`{"merchantId":%s,"userId":%s,"templateCode":%s,"bizSerialId":%s,"bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"dataInfo":{"$shop_en_US$":%s}}`,
		jsonString(tnMerchant[m]), jsonString(user), jsonString(tnTemplate[m]), jsonString(serial), jsonString(shop))
	return tn.h.must(tn.h.send(req{clientID: client, path: pathOf("createPass"), body: body}), ipass.CodeSuccess).passID
}

func serialOf(c cell) string { return "c-" + c.m + "-" + c.target + "-" + c.ident }

// send sends cell c as client A against passID / serial and returns the
// reply and the request body (what A itself sent, which an answer may echo).
func (tn *tenancy) send(c cell, passID, serial string) (reply, string) {
	id := identity(c.ident, c.m)
	head := fmt.Sprintf(`{"merchantId":%s,%s:%s`, jsonString(tnMerchant[c.m]), jsonString(id.field), jsonString(id.value))
	var path, body string
	switch c.op {
	case "createPass":
		path = pathOf("createPass")
		body = head + fmt.Sprintf(`,"templateCode":%s,"bizSerialId":%s,"bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"dataInfo":{"$shop_en_US$":"made by A"}}`,
			jsonString(tnTemplate[c.target]), jsonString(serialOf(c)))
	case "UPDATE":
		path = pathOf("updatePass")
		body = head + `,"passId":` + jsonString(passID) + `,"status":"UPDATE","updateDetailType":"UPDATE_DATA_INFO","bizDate":1736035200000,"dataInfo":{"$balance_en_US$":"HKD 1"}}`
	case "USED", "CLOSED":
		path = pathOf("updatePass")
		body = head + `,"passId":` + jsonString(passID) + `,"status":"` + c.op + `"}`
	case "queryByPassId":
		path = pathOf("queryPass")
		body = head + `,"passId":` + jsonString(passID) + `}`
	case "queryByBizSerialId":
		path = pathOf("queryPass")
		body = head + `,"bizSerialId":` + jsonString(serial) + `}`
	case "queryByBoth":
		path = pathOf("queryPass")
		body = head + `,"passId":` + jsonString(passID) + `,"bizSerialId":` + jsonString(serial) + `}`
	}
	return tn.h.send(req{clientID: tnClientA, path: path, body: body}), body
}

// checkNoLeak: no B data in the answer, except what A itself sent.
func (tn *tenancy) checkNoLeak(t *testing.T, r reply, sent string) {
	t.Helper()
	for _, s := range tn.secrets {
		if !strings.Contains(sent, s) && strings.Contains(string(r.plain), s) {
			t.Fatalf("answer reveals B's %q: %s", s, r.plain)
		}
	}
}

// normalise replaces the ids the request sent by their role, so messages
// about different ids compare equal when they say the same thing.
func normalise(msg, sent string) string {
	type sub struct{ value, role string }
	var subs []sub
	for role, values := range map[string][]string{
		"<merchant>": slices.Collect(maps.Values(tnMerchant)),
		"<template>": slices.Collect(maps.Values(tnTemplate)),
		"<user>":     {tnU1, tnU2},
		"<openId>":   append(slices.Concat(slices.Collect(maps.Values(tnOpenIDs[tnU1])), slices.Collect(maps.Values(tnOpenIDs[tnU2]))), "ox-zzz"),
	} {
		for _, v := range values {
			subs = append(subs, sub{v, role})
		}
	}
	// passIds and bizSerialIds: any quoted value of those fields in the body.
	for _, field := range []string{`"passId":"`, `"bizSerialId":"`} {
		if i := strings.Index(sent, field); i >= 0 {
			rest := sent[i+len(field):]
			subs = append(subs, sub{rest[:strings.IndexByte(rest, '"')], "<" + strings.Trim(field, `":`) + ">"})
		}
	}
	sort.Slice(subs, func(i, j int) bool { return len(subs[i].value) > len(subs[j].value) })
	for _, s := range subs {
		if strings.Contains(sent, s.value) {
			msg = strings.ReplaceAll(msg, s.value, s.role)
		}
	}
	return msg
}

// accept runs an accepted cell on a fresh pass and checks its effect.
func (tn *tenancy) accept(t *testing.T, c cell) {
	h := tn.h
	m := tnMerchant[c.m]
	if c.op == "createPass" {
		r, sent := tn.send(c, "", "")
		h.must(r, ipass.CodeSuccess)
		tn.checkNoLeak(t, r, sent)
		p := tn.readBack(t, m, `"bizSerialId":`+jsonString(serialOf(c)))
		if p.PassID != r.passID || p.MerchantID != m || p.UserID != resolve(c.m, identity(c.ident, c.m)) {
			t.Fatalf("created %s, read back %+v", r.passID, p)
		}
		return
	}
	tn.fresh++
	serial := fmt.Sprintf("f%s-%d", c.m, tn.fresh)
	id := tn.create(t, tnClientA, c.m, tnU1, serial, "shop "+c.m)
	r, sent := tn.send(c, id, serial)
	h.must(r, ipass.CodeSuccess)
	tn.checkNoLeak(t, r, sent)
	p := tn.readBack(t, m, `"passId":`+jsonString(id))
	switch c.op {
	case "UPDATE":
		if p.Version != 2 || string(p.DataInfo["$balance_en_US$"]) != `"HKD 1"` {
			t.Fatalf("after UPDATE: %+v", p)
		}
	case "USED", "CLOSED":
		if string(p.Status) != c.op || p.Version != 2 {
			t.Fatalf("after %s: %+v", c.op, p)
		}
	default:
		if r.pass == nil || r.pass.PassID != id || r.pass.MerchantID != m || r.pass.OpenID != tnOpenIDs[tnU1][c.m] {
			t.Fatalf("query answered %+v", r.pass)
		}
	}
}

// readBack queries a pass as client A (no identity) by the given selector.
func (tn *tenancy) readBack(t *testing.T, merchant, selector string) *ipass.PassView {
	t.Helper()
	r := tn.h.must(tn.h.send(req{clientID: tnClientA, path: pathOf("queryPass"), body: `{"merchantId":` + jsonString(merchant) + `,` + selector + `}`}), ipass.CodeSuccess)
	return r.pass
}
