package http_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
	ipasshttp "github.com/ipass-dev/ipass/http"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// TestAttack sends hostile requests (beyond the E-cases and BadInput of
// errors_test.go) on every engine: each must get its code in a signed
// response, and none may change anything stored.
func TestAttack(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) { testAttack(t, open) })
	}
}

// attackCase is one hostile request. control marks the accepted twin of a
// boundary (32 levels next to 33, exactly 5 min next to 5 min + 1 ms): it
// proves the limit sits where the spec puts it, and is not counted as hostile.
type attackCase struct {
	name    string
	req     req
	lazy    func() req // built just before sending: tied to the server clock at that moment
	want    ipass.Code
	mention string // the message must contain this (the offending field or header)
	control bool
	chunked bool // sent without Content-Length, so only counting the bytes can enforce G3
}

// replayCase sends first, then second carrying the same signed content in
// some other dress; the second must be REPEAT_REQUEST.
type replayCase struct {
	name          string
	first, second func() req
	firstWant     ipass.Code
	between       func() // e.g. move the clock
	// rejected: the second is refused REPEAT_REQUEST; otherwise it is a
	// repeat (the same signed content) and gets the first's answer again.
	rejected bool
}

// attackFixture is what the cases aim at.
type attackFixture struct {
	h      *harness
	member string // clientA's member card (user1 at merchantA)
	bPass  string // clientB's pass at merchantB
}

const (
	// ghostPass is a well-formed passId that no pass has.
	ghostPass = "2025010599999999999999999999999"
	textPlain = "text/plain; charset=UTF-8"
)

// aesTestKey and aesOtherKey are fixed so the "wrong key" outcome is
// deterministic (checked in encryptedCases).
var (
	aesTestKey  = bytes.Repeat([]byte{0x11}, 32)
	aesOtherKey = bytes.Repeat([]byte{0x22}, 32)
)

func testAttack(t *testing.T, open opener) {
	h := newHarness(t, open(t))
	f := &attackFixture{h: h, member: createMember(t, h)}
	f.bPass = h.must(h.send(req{clientID: clientB, path: pathOf("createPass"), body: `{"merchantId":"2160400000000022","userId":"2160220037090534","templateCode":"tmpl-other-card","bizSerialId":"B-ATK-1","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"codeInfo":{"$codevalue$":"B-CODE-1"},"dataInfo":{"$points_en_US$":7}}`}), ipass.CodeSuccess).passID
	f.addKeys(t)

	var cases []attackCase
	for _, group := range [][]attackCase{
		f.tamperCases(), f.keyCases(), f.signatureHeaderCases(), f.timeCases(),
		f.sizeCases(), f.jsonShapeCases(), f.dataInfoLimitCases(), f.utf8Cases(),
		f.identifierCases(), f.duplicateCases(), f.mediaTypeCases(), f.encryptedCases(t),
		f.typeCases(), f.routingCases(),
	} {
		cases = append(cases, group...)
	}

	before := h.snapshot()
	hostile := 0
	parent := h.t
	for _, c := range cases {
		if !c.control {
			hostile++
		}
		t.Run(c.name, func(t *testing.T) {
			h.t = t // harness failures belong to this subtest
			defer func() { h.t = parent }()
			// clientA's bucket holds 200 and refills 200/s on the test clock:
			// 10 ms per case keeps this suite from draining it.
			h.clock.Add(10 * time.Millisecond)
			r := c.req
			if c.lazy != nil {
				r = c.lazy()
			}
			var got reply
			if c.chunked {
				got = f.sendChunked(r)
			} else {
				got = h.send(r)
			}
			t.Logf("%s: %s", got.code, got.message) // shown with -v: what each attack was told
			if got.code != c.want {
				t.Fatalf("got %s (%s), want %s", got.code, got.message, c.want)
			}
			if c.mention != "" && !strings.Contains(got.message, c.mention) {
				t.Fatalf("message %q does not name %q", got.message, c.mention)
			}
			if c.want != ipass.CodeSuccess && (got.passID != "" || got.pass != nil) {
				t.Fatalf("refused request returned pass data: %s", got.plain)
			}
		})
	}
	replays := f.replayCases()
	for _, c := range replays {
		hostile++
		t.Run("replay/"+c.name, func(t *testing.T) {
			h.t = t
			defer func() { h.t = parent }()
			h.clock.Add(10 * time.Millisecond)
			first := h.send(c.first())
			if first.code != c.firstWant {
				t.Fatalf("first: got %s (%s), want %s", first.code, first.message, c.firstWant)
			}
			if c.between != nil {
				c.between()
			}
			// A repeat is answered from the first's kept answer, never
			// executed (the snapshot below checks nothing changed).
			second := h.send(c.second())
			switch {
			case c.rejected && second.code != ipass.CodeRepeatRequest:
				t.Fatalf("second: got %s (%s), want REPEAT_REQUEST", second.code, second.message)
			case !c.rejected && !bytes.Equal(second.plain, first.plain):
				t.Fatalf("second: got %s, want the first's answer %s", second.plain, first.plain)
			}
		})
	}
	if after := h.snapshot(); after != before {
		t.Fatalf("hostile requests changed stored data")
	}
	t.Logf("%d hostile requests, %d accepted boundary controls", hostile, len(cases)+len(replays)-hostile)
	if hostile < 40 {
		t.Fatalf("only %d hostile requests", hostile)
	}

	// Stored verbatim and harmless: an SQL-looking bizSerialId that is
	// accepted (it is a legal string) must come back byte for byte, and
	// every other pass must still be there.
	t.Run("SQL-looking bizSerialId stored verbatim", func(t *testing.T) {
		h.t = t
		defer func() { h.t = parent }()
		serial := `'; DROP TABLE passes; --`
		id := h.must(h.op("createPass", createWith("bizSerialId", jsonString(serial))), ipass.CodeSuccess).passID
		p := h.must(h.op("queryPass", `{"merchantId":"2160120036095023","bizSerialId":`+jsonString(serial)+`}`), ipass.CodeSuccess).pass
		if p.PassID != id || p.BizSerialID != serial {
			t.Fatalf("got %+v", p)
		}
		h.query(merchantA, f.member)
	})
}

// addKeys gives clientA a retired RSA key version 2 and clientB a second
// active RSA version (2), through a tenants delta as provisioning would.
func (f *attackFixture) addKeys(t *testing.T) {
	ctx := context.Background()
	v2 := mustPrivateKey(t, "../gateway/testdata/keys/client-rsa-v2.key.pem")
	v2pub, err := os.ReadFile("../gateway/testdata/keys/client-rsa-v2.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	delta := &ipass.Tenants{}
	for id, status := range map[string]ipass.KeyStatus{clientA: ipass.KeyRetired, clientB: ipass.KeyActive} {
		c, err := f.h.db.Client(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Apply upserts the client row too: keep its name and rate limit.
		c.Keys = []ipass.ClientKey{{Version: 2, Algorithm: ipass.AlgorithmRSA256, PublicKey: string(v2pub), Status: status}}
		delta.Clients = append(delta.Clients, *c)
		f.h.keys[id+"/RSA256-v2"] = v2
	}
	if err := f.h.db.Apply(ctx, delta); err != nil {
		t.Fatal(err)
	}
}

// --- request builders ---------------------------------------------------

// stamp is a fresh Request-Time one millisecond after the last.
func (f *attackFixture) stamp() string {
	f.h.clock.Add(time.Millisecond)
	return f.h.clock.Now().In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
}

// sign is a Signature header value made with signer ("client/ALG" in
// h.keys) over an arbitrary content, labelled alg / keyVersion.
func (f *attackFixture) sign(signer string, alg gateway.Algorithm, keyVersion int, method, path, clientID, rt, body string) string {
	return gateway.FormatSignatureHeader(alg, keyVersion, f.rawSig(signer, method, path, clientID, rt, body))
}

func (f *attackFixture) rawSig(signer, method, path, clientID, rt, body string) []byte {
	key, ok := f.h.keys[signer]
	if !ok {
		panic("no key " + signer)
	}
	keyAlg, err := gateway.AlgorithmOf(key.Public())
	if err != nil {
		panic(err)
	}
	sig, err := gateway.Sign(key, keyAlg, gateway.Content(method, path, clientID, rt, []byte(body)))
	if err != nil {
		panic(err)
	}
	return sig
}

func (f *attackFixture) queryA() string {
	return `{"merchantId":"2160120036095023","passId":"` + f.member + `"}`
}

func (f *attackFixture) queryB() string {
	return `{"merchantId":"2160400000000022","passId":"` + f.bPass + `"}`
}

// upd is an update of the member card with extra fields.
func (f *attackFixture) upd(extra string) string {
	return `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + f.member + `"` + extra + `}`
}

// ghost is an update of a pass that does not exist: when the body passes
// every syntax check the answer is PASS_HAS_NOT_EXIST, which is how the
// boundary controls show a value at the limit was accepted.
func ghost(extra string) string {
	return `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + ghostPass + `","status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD"` + extra + `}`
}

func jsonString(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return `"` + b.String() + `"`
}

// --- case groups ----------------------------------------------------------

// tamperCases: something signed for one request, sent as another.
func (f *attackFixture) tamperCases() []attackCase {
	up, cr, qu := ipasshttp.PathUpdatePass, ipasshttp.PathCreatePass, ipasshttp.PathQueryPass
	closeGhost := `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":"` + ghostPass + `","status":"CLOSED"}`
	rt := func() string { return f.stamp() }
	var cs []attackCase
	add := func(name string, r req, want ipass.Code, mention string) {
		cs = append(cs, attackCase{name: "tamper/" + name, req: r, want: want, mention: mention})
	}
	add("body: whitespace appended after signing", req{body: f.upd(`,"status":"CLOSED"`), tamper: func(b []byte) []byte { return append(b, ' ') }}, ipass.CodeInvalidSignature, "Signature")
	add("body: passId swapped to a real pass after signing", req{body: closeGhost, tamper: func(b []byte) []byte { return bytes.Replace(b, []byte(ghostPass), []byte(f.member), 1) }}, ipass.CodeInvalidSignature, "Signature")
	add("body: merchantId swapped after signing", req{path: qu, body: f.queryA(), tamper: func(b []byte) []byte {
		return bytes.Replace(b, []byte(merchantA), []byte(merchantB), 1)
	}}, ipass.CodeInvalidSignature, "Signature")
	add("body: truncated after signing", req{body: f.upd(`,"status":"CLOSED"`), tamper: func(b []byte) []byte { return b[:len(b)-1] }}, ipass.CodeInvalidSignature, "Signature")
	add("body: emptied after signing", req{body: f.upd(`,"status":"CLOSED"`), tamper: func([]byte) []byte { return nil }}, ipass.CodeInvalidSignature, "Signature")
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		add("path: signed for queryPass, sent to updatePass", req{body: body, requestTime: t,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", qu, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		add("path: signed for createPass, sent to updatePass", req{body: body, requestTime: t,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", cr, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		add("method: signed as PUT, sent as POST", req{body: body, requestTime: t,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "PUT", up, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		// Signed with "\r\n" between the request line and the rest.
		key := f.h.keys[clientA+"/RSA256"]
		content := []byte("POST " + up + "\r\n" + clientA + "." + t + "." + body)
		sig, err := gateway.Sign(key, gateway.RSA256, content)
		if err != nil {
			panic(err)
		}
		add("content: CRLF instead of LF", req{body: body, requestTime: t,
			header: http.Header{"Signature": {gateway.FormatSignatureHeader(gateway.RSA256, 1, sig)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		at, _ := gateway.ParseTime(t)
		moved := at.Add(time.Millisecond).In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
		add("Request-Time: moved 1 ms after signing", req{body: body, requestTime: moved,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", up, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		at, _ := gateway.ParseTime(t)
		same := at.UTC().Format("2006-01-02T15:04:05.000Z07:00") // same instant, other text
		add("Request-Time: same instant rewritten in UTC", req{body: body, requestTime: same,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", up, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.upd(`,"status":"CLOSED"`)
		at, _ := gateway.ParseTime(t)
		add("Request-Time: signed as RFC 3339, sent as epoch ms", req{body: body, requestTime: strconv.FormatInt(at.UnixMilli(), 10),
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", up, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.queryB()
		add("Client-Id: signed by 0044 as 0044, sent as 0055", req{path: qu, clientID: clientB, body: body, requestTime: t,
			header: http.Header{"Signature": {f.sign(clientA+"/RSA256", gateway.RSA256, 1, "POST", qu, clientA, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	{
		t := rt()
		body := f.queryA()
		add("Client-Id: signed by 0055 as 0055, sent as 0044", req{path: qu, body: body, requestTime: t,
			header: http.Header{"Signature": {f.sign(clientB+"/RSA256", gateway.RSA256, 1, "POST", qu, clientB, t, body)}}}, ipass.CodeInvalidSignature, "Signature")
	}
	add("another client's key: 0044's key sent as 0055", req{path: qu, clientID: clientB, signAs: clientA + "/RSA256", body: f.queryB()}, ipass.CodeInvalidSignature, "Signature")
	add("another client's key: 0055's key reading 0044's pass", req{path: qu, signAs: clientB + "/RSA256", body: f.queryA()}, ipass.CodeInvalidSignature, "Signature")
	return cs
}

// keyCases: key-type confusion, retired keys, several active versions.
func (f *attackFixture) keyCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	cs := []attackCase{
		{name: "key/EC signature labelled RSA256", req: req{path: qu, body: f.queryA(), signAs: clientA + "/ECC224"}, want: ipass.CodeInvalidSignature},
		{name: "key/EC signature labelled SHA256withRSA", req: req{path: qu, body: f.queryA(), alg: "SHA256withRSA", signAs: clientA + "/ECC224"}, want: ipass.CodeInvalidSignature},
		{name: "key/EC signature labelled sha256withrsa, no keyVersion", req: req{path: qu, body: f.queryA(), alg: "sha256withrsa", keyVersion: -1, signAs: clientA + "/ECC224"}, want: ipass.CodeInvalidSignature},
		{name: "key/RSA signature labelled ECC224, no keyVersion", req: req{path: qu, body: f.queryA(), alg: gateway.ECC224, keyVersion: -1, signAs: clientA + "/RSA256"}, want: ipass.CodeInvalidSignature},
		{name: "key/SHA256withRSA alias with an RSA signature", req: req{path: qu, body: f.queryA(), alg: "SHA256withRSA"}, want: ipass.CodeSuccess, control: true},
		{name: "key/ECC224 with the client's EC key", req: req{path: qu, body: f.queryA(), alg: gateway.ECC224}, want: ipass.CodeSuccess, control: true},
		{name: "key/P-256 signature labelled ECC224", lazy: func() req {
			t := f.stamp()
			body := f.queryA()
			digest := sha256.Sum256(gateway.Content("POST", qu, clientA, t, []byte(body)))
			sig, err := ecdsa.SignASN1(rand.Reader, p256, digest[:])
			if err != nil {
				panic(err)
			}
			return req{path: qu, body: body, requestTime: t, header: http.Header{"Signature": {gateway.FormatSignatureHeader(gateway.ECC224, 1, sig)}}}
		}, want: ipass.CodeInvalidSignature},
		{name: "key/RSA signature missing its last byte", lazy: func() req {
			t := f.stamp()
			body := f.queryA()
			sig := f.rawSig(clientA+"/RSA256", "POST", qu, clientA, t, body)
			return req{path: qu, body: body, requestTime: t, header: http.Header{"Signature": {gateway.FormatSignatureHeader(gateway.RSA256, 1, sig[:len(sig)-1])}}}
		}, want: ipass.CodeInvalidSignature},
		{name: "key/RSA signature of 256 zero bytes", req: req{path: qu, body: f.queryA(), header: http.Header{"Signature": {gateway.FormatSignatureHeader(gateway.RSA256, 1, make([]byte, 256))}}}, want: ipass.CodeInvalidSignature},

		// Retired key: clientA's RSA version 2.
		{name: "key/retired version named", req: req{path: qu, body: f.queryA(), keyVersion: 2, signAs: clientA + "/RSA256-v2"}, want: ipass.CodeKeyNotFound, mention: "keyVersion"},
		{name: "key/retired key, keyVersion omitted", req: req{path: qu, body: f.queryA(), keyVersion: -1, signAs: clientA + "/RSA256-v2"}, want: ipass.CodeInvalidSignature},
		{name: "key/active v1 with a retired v2 above it, keyVersion omitted", req: req{path: qu, body: f.queryA(), keyVersion: -1}, want: ipass.CodeSuccess, control: true},

		// Two active RSA versions: clientB's 1 and 2.
		{name: "key/two active: omitted keyVersion picks v2", req: req{path: qu, clientID: clientB, body: f.queryB(), keyVersion: -1, signAs: clientB + "/RSA256-v2"}, want: ipass.CodeSuccess, control: true},
		{name: "key/two active: v1 signature without keyVersion", req: req{path: qu, clientID: clientB, body: f.queryB(), keyVersion: -1}, want: ipass.CodeInvalidSignature},
		{name: "key/two active: version 1 still accepted", req: req{path: qu, clientID: clientB, body: f.queryB(), keyVersion: 1}, want: ipass.CodeSuccess, control: true},
		{name: "key/two active: v1 signature labelled version 2", req: req{path: qu, clientID: clientB, body: f.queryB(), keyVersion: 2}, want: ipass.CodeInvalidSignature},
		{name: "key/two active: v2 signature labelled version 1", req: req{path: qu, clientID: clientB, body: f.queryB(), keyVersion: 1, signAs: clientB + "/RSA256-v2"}, want: ipass.CodeInvalidSignature},
	}
	return cs
}

// signatureHeaderCases: malformed Signature headers.
func (f *attackFixture) signatureHeaderCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	withSig := func(name, value string, want ipass.Code, mention string) attackCase {
		return attackCase{name: "Signature/" + name, req: req{path: qu, body: f.queryA(), header: http.Header{"Signature": {value}}}, want: want, mention: mention}
	}
	big := base64.StdEncoding.EncodeToString(make([]byte, 45<<10))
	return []attackCase{
		withSig("keyVersion given twice", "algorithm=RSA256,keyVersion=1,keyVersion=1,signature=AAAA", ipass.CodeInvalidSignature, "Signature"),
		withSig("signature given twice", "algorithm=RSA256,keyVersion=1,signature=AAAA,signature=AAAA", ipass.CodeInvalidSignature, "Signature"),
		withSig("empty value", "", ipass.CodeInvalidSignature, "Signature"),
		withSig("keyVersion -1", "algorithm=RSA256,keyVersion=-1,signature=AAAA", ipass.CodeKeyNotFound, "keyVersion"),
		withSig("keyVersion beyond int64", "algorithm=RSA256,keyVersion=99999999999999999999,signature=AAAA", ipass.CodeKeyNotFound, "keyVersion"),
		withSig("60 KiB signature", "algorithm=RSA256,keyVersion=1,signature="+big, ipass.CodeInvalidSignature, "Signature"),
		withSig("algorithm empty", "algorithm=,keyVersion=1,signature=AAAA", ipass.CodeInvalidSignature, "algorithm"),
	}
}

// timeCases: the Request-Time window, at and just past its edges, and far away.
func (f *attackFixture) timeCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	const w = 5 * time.Minute
	at := func(d time.Duration) func() req {
		return func() req {
			t := f.h.clock.Now().Add(d).In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000-07:00")
			return req{path: qu, body: f.queryA(), requestTime: t}
		}
	}
	epoch := func(d time.Duration) func() req {
		return func() req {
			return req{path: qu, body: f.queryA(), requestTime: strconv.FormatInt(f.h.clock.Now().Add(d).UnixMilli(), 10)}
		}
	}
	fixed := func(t string) func() req {
		return func() req { return req{path: qu, body: f.queryA(), requestTime: t} }
	}
	return []attackCase{
		{name: "time/exactly 5 min old", lazy: at(-w), want: ipass.CodeSuccess, control: true},
		{name: "time/5 min + 1 ms old", lazy: at(-w - time.Millisecond), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/exactly 5 min ahead", lazy: at(w), want: ipass.CodeSuccess, control: true},
		{name: "time/5 min + 1 ms ahead", lazy: at(w + time.Millisecond), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/epoch ms exactly 5 min old", lazy: epoch(-w), want: ipass.CodeSuccess, control: true},
		{name: "time/epoch ms 5 min + 1 ms old", lazy: epoch(-w - time.Millisecond), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/epoch ms 5 min + 1 ms ahead", lazy: epoch(w + time.Millisecond), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/epoch 0", lazy: fixed("0"), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/year 0000", lazy: fixed("0000-01-01T00:00:00Z"), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		// Far future: |now − t| overflows a time.Duration; the window must still hold.
		{name: "time/year 9999", lazy: fixed("9999-12-31T23:59:59Z"), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/epoch ms max int64", lazy: fixed("9223372036854775807"), want: ipass.CodeRequestTimeExpired, mention: "Request-Time"},
		{name: "time/epoch ms beyond int64", lazy: fixed("9999999999999999999"), want: ipass.CodeParamIllegal, mention: "Request-Time"},
		{name: "time/two values in one header", lazy: func() req {
			t := f.stamp()
			return req{path: qu, body: f.queryA(), requestTime: t + ", " + t}
		}, want: ipass.CodeParamIllegal, mention: "Request-Time"},
	}
}

// sizeCases: bodies and headers at and past their limits.
func (f *attackFixture) sizeCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	prefix := `{"merchantId":"2160120036095023","passId":"` + ghostPass + `","pad":"`
	exact := prefix + strings.Repeat("x", ipasshttp.DefaultMaxBodyBytes-len(prefix)-2) + `"}`
	many := http.Header{}
	for i := range 2000 {
		many.Set(fmt.Sprintf("X-Flood-%04d", i), "0123456789012345678901234567")
	}
	return []attackCase{
		{name: "size/body of exactly 1 MiB", req: req{path: qu, body: exact}, want: ipass.CodePassHasNotExist, control: true},
		{name: "size/2000 headers", req: req{path: qu, body: f.queryA(), header: many}, want: ipass.CodeRequestTooLarge, mention: "headers"},
		{name: "size/chunked body of 1 MiB + 4 KiB", req: req{path: qu, body: exact[:len(exact)-2] + strings.Repeat("x", 4<<10) + `"}`}, chunked: true, want: ipass.CodeRequestTooLarge, mention: "body"},
		{name: "size/chunked body of exactly 1 MiB", req: req{path: qu, body: exact}, chunked: true, want: ipass.CodePassHasNotExist, control: true},
	}
}

// jsonShapeCases: nesting depth of the body.
func (f *attackFixture) jsonShapeCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	// The body object is level 1, so "x" holding n nested arrays makes n+1.
	nested := func(levels int) string {
		n := levels - 1
		return `{"merchantId":"2160120036095023","passId":"` + ghostPass + `","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	objects := func(levels int) string {
		n := levels - 1
		return `{"merchantId":"2160120036095023","passId":"` + ghostPass + `","x":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}`
	}
	return []attackCase{
		{name: "json/32 levels", req: req{path: qu, body: nested(32)}, want: ipass.CodePassHasNotExist, control: true},
		{name: "json/33 levels of arrays", req: req{path: qu, body: nested(33)}, want: ipass.CodeParamIllegal, mention: "deeper than 32"},
		{name: "json/33 levels of objects", req: req{path: qu, body: objects(33)}, want: ipass.CodeParamIllegal, mention: "deeper than 32"},
		{name: "json/10000 levels", req: req{path: qu, body: nested(10000)}, want: ipass.CodeParamIllegal, mention: "deeper than 32"},
		{name: "json/NUL byte after the object", req: req{path: qu, body: f.queryA() + "\x00"}, want: ipass.CodeParamIllegal, mention: "body"},
		{name: "json/raw control byte inside a string", req: req{path: qu, body: `{"merchantId":"2160120036095023","passId":"12` + "\x01" + `3"}`}, want: ipass.CodeParamIllegal, mention: "body"},
		{name: "json/NUL inside a key", req: req{path: qu, body: `{"merchantId":"2160120036095023","pass\u0000Id":"1"}`}, want: ipass.CodeParamIllegal, mention: "U+0000"},
	}
}

// dataInfoLimitCases: the 3.3 limits on dataInfo, each next to its accepted twin.
func (f *attackFixture) dataInfoLimitCases() []attackCase {
	keys := func(n int, nested bool) string {
		var b strings.Builder
		if nested {
			b.WriteString(`{"en_US":{`)
		} else {
			b.WriteString(`{`)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			if nested {
				fmt.Fprintf(&b, `"$p%d$":1`, i)
			} else {
				fmt.Fprintf(&b, `"$p%d_en_US$":1`, i)
			}
		}
		if nested {
			b.WriteString(`}}`)
		} else {
			b.WriteString(`}`)
		}
		return b.String()
	}
	value := func(v string) string { return `{"$points_en_US$":` + v + `}` }
	deepValue := func(levels int) string { // levels of objects inside the value
		return strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels)
	}
	// sized is a compact dataInfo of exactly n bytes.
	sized := func(n int) string {
		const entries = 40
		base := 2 // braces
		for i := range entries {
			base += len(fmt.Sprintf(`"$p%d_en_US$":""`, i))
		}
		base += entries - 1 // commas
		fill := n - base
		var b strings.Builder
		b.WriteString("{")
		for i := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			l := min(fill, 2000)
			fill -= l
			fmt.Fprintf(&b, `"$p%d_en_US$":"%s"`, i, strings.Repeat("v", l))
		}
		b.WriteString("}")
		if fill != 0 || b.Len() != n {
			panic("sized dataInfo arithmetic")
		}
		return b.String()
	}
	pretty := strings.ReplaceAll(sized(60000), ",", ",\n"+strings.Repeat(" ", 200))
	di := func(d string) string { return ghost(`,"dataInfo":` + d) }
	return []attackCase{
		{name: "dataInfo/200 keys", req: req{body: di(keys(200, false))}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/201 keys", req: req{body: di(keys(201, false))}, want: ipass.CodeParamIllegal, mention: "more than 200 keys"},
		{name: "dataInfo/201 keys in the nested locale form", req: req{body: di(keys(201, true))}, want: ipass.CodeParamIllegal, mention: "200"},
		{name: "dataInfo/top-level key of 129 characters", req: req{body: di(`{"$` + strings.Repeat("a", 121) + `_en_US$":1}`)}, want: ipass.CodeParamIllegal, mention: "longer than 128"},
		{name: "dataInfo/key of 128 characters inside a value", req: req{body: di(value(`{"` + strings.Repeat("語", 128) + `":1}`))}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/key of 129 characters inside a value", req: req{body: di(value(`{"` + strings.Repeat("語", 129) + `":1}`))}, want: ipass.CodeParamIllegal, mention: "longer than 128"},
		{name: "dataInfo/string value of 2048 characters", req: req{body: di(value(`"` + strings.Repeat("語", 2048) + `"`))}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/string value of 2049 characters", req: req{body: di(value(`"` + strings.Repeat("語", 2049) + `"`))}, want: ipass.CodeParamIllegal, mention: "longer than 2048"},
		{name: "dataInfo/string of 2049 characters deep in a value", req: req{body: di(value(`{"a":["` + strings.Repeat("x", 2049) + `"]}`))}, want: ipass.CodeParamIllegal, mention: "longer than 2048"},
		{name: "dataInfo/nesting depth 8", req: req{body: di(value(deepValue(7)))}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/nesting depth 9 in a value", req: req{body: di(value(deepValue(8)))}, want: ipass.CodeParamIllegal, mention: "deeper than 8"},
		{name: "dataInfo/nesting depth 9 of arrays", req: req{body: di(value(strings.Repeat("[", 8) + strings.Repeat("]", 8)))}, want: ipass.CodeParamIllegal, mention: "deeper than 8"},
		{name: "dataInfo/serialized exactly 64 KiB", req: req{body: di(sized(64 << 10))}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/serialized 64 KiB + 1", req: req{body: di(sized(64<<10 + 1))}, want: ipass.CodeParamIllegal, mention: "larger than 65536"},
		{name: "dataInfo/whitespace does not count toward 64 KiB", req: req{body: di(pretty)}, want: ipass.CodePassHasNotExist, control: true},
		{name: "dataInfo/string holding more than 64 KiB", req: req{body: di(jsonString(sized(64<<10 + 1)))}, want: ipass.CodeParamIllegal, mention: "larger than 65536"},
	}
}

// utf8Cases: invalid UTF-8 in the body, in dataInfo, and in headers.
func (f *attackFixture) utf8Cases() []attackCase {
	qu := ipasshttp.PathQueryPass
	return []attackCase{
		{name: "utf8/overlong '/' in merchantId", req: req{path: qu, body: `{"merchantId":"2160120036095023` + "\xc0\xaf" + `","passId":"1"}`}, want: ipass.CodeParamIllegal, mention: "UTF-8"},
		{name: "utf8/encoded surrogate in a dataInfo value", req: req{body: f.upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_en_US$":"` + "\xed\xa0\x80" + `"}`)}, want: ipass.CodeParamIllegal, mention: "UTF-8"},
		{name: "utf8/truncated sequence in a dataInfo value", req: req{body: f.upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_en_US$":"` + "\xe8\xaa" + `"}`)}, want: ipass.CodeParamIllegal, mention: "UTF-8"},
		{name: "utf8/Latin-1 byte in a dataInfo key", req: req{body: f.upd(`,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":{"$level_en_US$` + "\xe9" + `":"x"}`)}, want: ipass.CodeParamIllegal, mention: "UTF-8"},
		{name: "utf8/Client-Id header", req: req{path: qu, body: f.queryA(), clientID: clientA + "\xff", signAs: clientA + "/RSA256"}, want: ipass.CodeInvalidClient, mention: "Client-Id"},
		{name: "utf8/Request-Time header", req: req{path: qu, body: f.queryA(), requestTime: "2025-01-05T00:00:00\xffZ"}, want: ipass.CodeParamIllegal, mention: "Request-Time"},
		{name: "utf8/Signature header", req: req{path: qu, body: f.queryA(), header: http.Header{"Signature": {"algorithm=RSA\xff256,keyVersion=1,signature=AAAA"}}}, want: ipass.CodeInvalidSignature, mention: "algorithm"},
		{name: "utf8/Content-Type header", req: req{path: qu, body: f.queryA(), contentType: "application/json; charset=utf-8\xff"}, want: ipass.CodeMediaTypeNotAccept, mention: "Content-Type"},
	}
}

// identifierCases: NUL, control characters and SQL in every identifier field.
func (f *attackFixture) identifierCases() []attackCase {
	var cs []attackCase
	// Where each field goes in an otherwise valid request.
	type field struct {
		name string
		put  func(v string) req
	}
	fields := []field{
		{"merchantId", func(v string) req {
			return req{body: strings.Replace(f.upd(`,"status":"CLOSED"`), jsonString(merchantA), v, 1)}
		}},
		{"userId", func(v string) req {
			return req{body: strings.Replace(f.upd(`,"status":"CLOSED"`), jsonString(user1), v, 1)}
		}},
		{"openId", func(v string) req {
			return req{body: `{"merchantId":"2160120036095023","openId":` + v + `,"passId":"` + f.member + `","status":"CLOSED"}`}
		}},
		{"passId", func(v string) req {
			return req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":` + v + `,"status":"CLOSED"}`}
		}},
		{"templateCode", func(v string) req { return req{path: pathOf("createPass"), body: createWith("templateCode", v)} }},
		{"bizSerialId", func(v string) req {
			return req{path: pathOf("queryPass"), body: `{"merchantId":"2160120036095023","bizSerialId":` + v + `}`}
		}},
		{"bizSerialType", func(v string) req { return req{path: pathOf("createPass"), body: createWith("bizSerialType", v)} }},
	}
	controls := map[string]string{"merchantId": "\\u001f", "userId": "\\n", "openId": "\\u007f", "passId": "\\u001b", "templateCode": "\\t", "bizSerialId": "\\r", "bizSerialType": "\\b"}
	// Where SQL in a field ends up: the lookup simply finds nothing.
	sqlWant := map[string]ipass.Code{
		"merchantId": ipass.CodeAccessDenied, "userId": ipass.CodeUserNotExist, "openId": ipass.CodeUserNotExist,
		"passId": ipass.CodePassHasNotExist, "templateCode": ipass.CodeParamIllegal, "bizSerialId": ipass.CodePassHasNotExist,
		"bizSerialType": ipass.CodeParamIllegal,
	}
	for _, fl := range fields {
		cs = append(cs,
			attackCase{name: "ident/NUL in " + fl.name, req: fl.put(`"12\u00003"`), want: ipass.CodeParamIllegal, mention: fl.name},
			attackCase{name: "ident/control character in " + fl.name, req: fl.put(`"12` + controls[fl.name] + `3"`), want: ipass.CodeParamIllegal, mention: fl.name},
		)
		for _, sql := range []string{`' OR 1=1 --`, `"; DROP TABLE passes; --`} {
			c := attackCase{name: "ident/SQL " + sql + " in " + fl.name, req: fl.put(jsonString(sql)), want: sqlWant[fl.name]}
			if c.want == ipass.CodeParamIllegal {
				c.mention = fl.name
			}
			cs = append(cs, c)
		}
	}
	cs = append(cs, attackCase{name: "ident/SQL in Client-Id", req: req{path: pathOf("queryPass"), body: f.queryA(), clientID: `'OR'1'='1'--`, signAs: clientA + "/RSA256"}, want: ipass.CodeInvalidClient, mention: "Client-Id"})
	return cs
}

// duplicateCases: duplicate JSON keys and duplicate headers.
func (f *attackFixture) duplicateCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	points := `,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD",`
	enc := f.encryptedQuery(aesTestKey)
	return []attackCase{
		{name: "dup/key in dataInfo", req: req{body: f.upd(points + `"dataInfo":{"$points_en_US$":1,"$points_en_US$":2}`)}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/key in codeInfo", req: req{body: f.upd(points + `"codeInfo":{"$codevalue$":"1","$codevalue$":"2"}`)}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/key nested in a dataInfo value", req: req{body: f.upd(points + `"dataInfo":{"$level_en_US$":{"cent":1,"cent":2}}`)}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/key in the nested locale form", req: req{body: f.upd(points + `"dataInfo":{"en_US":{"$points$":1,"$points$":2}}`)}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/key in dataInfo given as a string", req: req{body: f.upd(points + `"dataInfo":"{\"$points_en_US$\":1,\"$points_en_US$\":2}"`)}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/flat and nested spelling of one key", req: req{body: f.upd(points + `"dataInfo":{"$points_en_US$":1,"en_US":{"$points$":2}}`)}, want: ipass.CodeParamIllegal, mention: "$points_en_US$"},
		{name: "dup/merchantId spelled with an escape", req: req{path: qu, body: `{"merchantId":"2160120036095023","merchant\u0049d":"2160400000000022","passId":"` + f.bPass + `"}`}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/key in an ignored field", req: req{path: qu, body: `{"merchantId":"2160120036095023","passId":"` + f.member + `","x":{"a":1,"a":2}}`}, want: ipass.CodeParamIllegal, mention: "duplicate"},
		{name: "dup/Request-Time twice", lazy: func() req {
			t := f.stamp()
			return req{path: qu, body: f.queryA(), requestTime: t, header: http.Header{"Request-Time": {t, t}}}
		}, want: ipass.CodeParamIllegal, mention: "Request-Time"},
		{name: "dup/Encrypt twice", req: req{path: qu, body: enc.body, contentType: textPlain, header: http.Header{"Encrypt": {enc.header, enc.header}}}, want: ipass.CodeParamIllegal, mention: "Encrypt"},
		{name: "dup/Client-Id twice in two spellings", req: req{path: qu, body: f.queryA(), header: http.Header{"client-id": {clientB}}}, want: ipass.CodeParamIllegal, mention: "Client-Id"},
	}
}

// mediaTypeCases: Content-Type and Content-Encoding variants.
func (f *attackFixture) mediaTypeCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	ct := func(name, v string, want ipass.Code) attackCase {
		c := attackCase{name: "media/" + name, req: req{path: qu, body: f.queryA(), contentType: v}, want: want, control: want == ipass.CodeSuccess}
		if want != ipass.CodeSuccess {
			c.mention = "Content-Type"
		}
		return c
	}
	enc := f.encryptedQuery(aesTestKey)
	return []attackCase{
		ct("application/xml", "application/xml", ipass.CodeMediaTypeNotAccept),
		ct("charset latin1", "application/json; charset=latin1", ipass.CodeMediaTypeNotAccept),
		ct("charset utf-16", "application/json; charset=utf-16", ipass.CodeMediaTypeNotAccept),
		ct("multipart", "multipart/form-data; boundary=xyz", ipass.CodeMediaTypeNotAccept),
		ct("form", "application/x-www-form-urlencoded", ipass.CodeMediaTypeNotAccept),
		{name: "media/empty value", req: req{path: qu, body: f.queryA(), header: http.Header{"Content-Type": {""}}}, want: ipass.CodeMediaTypeNotAccept, mention: "Content-Type"},
		ct("two types in one value", "application/json, text/plain", ipass.CodeMediaTypeNotAccept),
		ct("application/jsonp", "application/jsonp", ipass.CodeMediaTypeNotAccept),
		ct("quoted utf-8 charset", `application/json; charset="utf-8"`, ipass.CodeSuccess),
		ct("upper case, utf8, extra parameter", "APPLICATION/JSON; CHARSET=UTF8; version=2", ipass.CodeSuccess),
		{name: "media/second Content-Type unacceptable", req: req{path: qu, body: f.queryA(), header: http.Header{"Content-Type": {"application/json", "text/xml"}}}, want: ipass.CodeMediaTypeNotAccept, mention: "Content-Type"},
		{name: "media/text/plain latin1 with Encrypt", req: req{path: qu, body: enc.body, contentType: "text/plain; charset=ISO-8859-1", header: http.Header{"Encrypt": {enc.header}}}, want: ipass.CodeMediaTypeNotAccept, mention: "charset"},
		{name: "media/Content-Encoding identity, gzip", req: req{path: qu, body: f.queryA(), header: http.Header{"Content-Encoding": {"identity, gzip"}}}, want: ipass.CodeMediaTypeNotAccept, mention: "Content-Encoding"},
	}
}

type encrypted struct{ body, header string }

// encryptedQuery is queryA sealed with aesKey for the server.
func (f *attackFixture) encryptedQuery(aesKey []byte) encrypted {
	body, err := gateway.EncryptBody(aesKey, []byte(f.queryA()))
	if err != nil {
		panic(err)
	}
	return encrypted{string(body), gateway.FormatEncryptHeader(1, f.wrap(aesKey))}
}

// wrap encrypts key to the server's encryption key with PKCS#1 v1.5, any length.
func (f *attackFixture) wrap(key []byte) []byte {
	// gateway.WrapKey refuses bad key sizes, which is what some cases send.
	//lint:ignore SA1019 the wire protocol mandates PKCS#1 v1.5 key transport.
	w, err := rsa.EncryptPKCS1v15(rand.Reader, f.h.server.encPub, key)
	if err != nil {
		panic(err)
	}
	return w
}

// ecb is raw AES-ECB of whole blocks, no padding added, base64.
func ecb(key, plain []byte) string {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(plain))
	for i := 0; i < len(plain); i += aes.BlockSize {
		block.Encrypt(out[i:i+aes.BlockSize], plain[i:i+aes.BlockSize])
	}
	return base64.StdEncoding.EncodeToString(out)
}

// encryptedCases: RSA_AES bodies that must not decrypt. The signature over
// each ciphertext is valid, so every one reaches G12.
func (f *attackFixture) encryptedCases(t *testing.T) []attackCase {
	qu := ipasshttp.PathQueryPass
	plain := []byte(f.queryA())
	good := f.encryptedQuery(aesTestKey)
	// A wrapped key is accepted once, so each case wraps aesTestKey afresh.
	hdr := func() string { return gateway.FormatEncryptHeader(1, f.wrap(aesTestKey)) }
	fixed := func(h string) func() string { return func() string { return h } }
	e := func(name, body string, encHeader func() string, want ipass.Code, mention string) attackCase {
		return attackCase{name: "encrypt/" + name, lazy: func() req {
			return req{path: qu, body: body, contentType: textPlain, header: http.Header{"Encrypt": {encHeader()}}}
		}, want: want, mention: mention}
	}
	// Every failure to unwrap or decrypt reads alike (no padding oracle).
	const undecryptable = "Encrypt.symmetricKey: the body cannot be decrypted with it"
	// Under the wrong key about one ciphertext in 256 still ends in valid
	// padding (the passId, and so the plaintext, is new every run): pad the
	// JSON with trailing spaces until this one does not.
	var wrongKeyBody []byte
	var err error
	for pad := 0; ; pad++ {
		if pad == 64 {
			t.Fatal("test setup: every wrong-key ciphertext decrypts")
		}
		wrongKeyBody, err = gateway.EncryptBody(aesOtherKey, append(plain, bytes.Repeat([]byte(" "), pad)...))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gateway.DecryptBody(aesTestKey, wrongKeyBody); err != nil {
			break
		}
	}
	unpadded := append(bytes.Repeat([]byte("{"), 31), 0) // last byte 0: never valid PKCS#7
	raw, _ := base64.StdEncoding.DecodeString(good.body)
	oaep, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, f.h.server.encPub, aesTestKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	badUTF8, err := gateway.EncryptBody(aesTestKey, []byte(`{"merchantId":"2160120036095023","passId":"`+"\xff"+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	emptyPlain, err := gateway.EncryptBody(aesTestKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []attackCase{
		e("body under another AES key", string(wrongKeyBody), hdr, ipass.CodeDecryptFailed, undecryptable),
		e("plaintext without PKCS#7 padding", ecb(aesTestKey, unpadded), hdr, ipass.CodeDecryptFailed, undecryptable),
		e("ciphertext truncated by 5 bytes", base64.StdEncoding.EncodeToString(raw[:len(raw)-5]), hdr, ipass.CodeDecryptFailed, undecryptable),
		e("ciphertext missing its last block", base64.StdEncoding.EncodeToString(raw[:len(raw)-16]), hdr, ipass.CodeDecryptFailed, undecryptable),
		e("ciphertext not base64", "%%% not base64 %%%", hdr, ipass.CodeDecryptFailed, undecryptable),
		e("empty ciphertext", "", hdr, ipass.CodeDecryptFailed, undecryptable),
		e("8-byte AES key wrapped correctly", ecb(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{16}, 16)), fixed(gateway.FormatEncryptHeader(1, f.wrap(bytes.Repeat([]byte{7}, 8)))), ipass.CodeDecryptFailed, undecryptable),
		e("AES key wrapped with OAEP", good.body, fixed(gateway.FormatEncryptHeader(1, oaep)), ipass.CodeDecryptFailed, undecryptable),
		e("algorithm=AES", good.body, func() string { return strings.Replace(hdr(), "algorithm=RSA_AES", "algorithm=AES", 1) }, ipass.CodeDecryptFailed, "algorithm"),
		e("symmetricKey missing", good.body, fixed("algorithm=RSA_AES,keyVersion=1"), ipass.CodeDecryptFailed, "symmetricKey"),
		e("unencrypted JSON body", f.queryA(), hdr, ipass.CodeDecryptFailed, undecryptable),
		e("invalid UTF-8 plaintext", string(badUTF8), hdr, ipass.CodeParamIllegal, "UTF-8"),
		e("empty plaintext", string(emptyPlain), hdr, ipass.CodeParamIllegal, "empty"),
		e("Encrypt header invalid UTF-8", good.body, func() string { return strings.Replace(hdr(), "RSA_AES", "RSA_AES\xff", 1) }, ipass.CodeDecryptFailed, "algorithm"),
		{name: "encrypt/unencrypted JSON body sent as application/json", lazy: func() req {
			return req{path: qu, body: f.queryA(), header: http.Header{"Encrypt": {hdr()}}}
		}, want: ipass.CodeDecryptFailed, mention: undecryptable},
		{name: "encrypt/no keyVersion", req: req{path: qu, body: good.body, contentType: textPlain, header: http.Header{"Encrypt": {gateway.FormatEncryptHeader(-1, f.wrap(aesTestKey))}}}, want: ipass.CodeSuccess, control: true},
		{name: "encrypt/first use of a wrapped key", req: req{path: qu, body: good.body, contentType: textPlain, header: http.Header{"Encrypt": {good.header}}}, want: ipass.CodeSuccess, control: true},
		// The wrapped key of a request already received, under a body it
		// would decrypt, re-signed: refused before anything is unwrapped.
		e("symmetricKey already used", good.body, fixed(good.header), ipass.CodeRepeatRequest, "Encrypt.symmetricKey"),
	}
}

// typeCases: numbers where strings belong and strings where numbers do.
func (f *attackFixture) typeCases() []attackCase {
	qu := ipasshttp.PathQueryPass
	cr := func(field, value string) attackCase {
		return attackCase{name: "type/" + field + " " + value, req: req{path: pathOf("createPass"), body: createWith(field, value)}, want: ipass.CodeParamIllegal, mention: field}
	}
	up := func(field, what, extra string) attackCase {
		return attackCase{name: "type/update " + field + " " + what, req: req{body: f.upd(extra)}, want: ipass.CodeParamIllegal, mention: field}
	}
	return []attackCase{
		{name: "type/merchantId object", req: req{path: qu, body: `{"merchantId":{"id":"2160120036095023"},"passId":"1"}`}, want: ipass.CodeParamIllegal, mention: "merchantId"},
		cr("userId", `2160220037090534`),
		cr("openId", `123`),
		cr("templateCode", `["temlate111001"]`),
		cr("bizSerialId", `1111128828`),
		cr("bizSerialType", `true`),
		cr("type", `1`),
		cr("product", `{"p":"MEMBER_CARD"}`),
		cr("startDate", `true`),
		cr("endDate", `{"ms":4102444800000}`),
		cr("bizCreate", `1.7356896e12`),
		cr("startDate", `"1.7356896E12"`),
		cr("endDate", `" 4102444800000"`),
		cr("bizCreate", `"0x193f5e8f000"`),
		cr("codeInfo", `81399940`),
		cr("codeInfo", `"not json"`),
		cr("dataInfo", `100`),
		cr("dataInfo", `"[1,2]"`),
		{name: "type/codeInfo.$codevalue$ number", req: req{path: pathOf("createPass"), body: createWith("codeInfo", `{"$codevalue$":81399940}`)}, want: ipass.CodeParamIllegal, mention: "$codevalue$"},
		{name: "type/dataInfo.billNo number", req: req{path: pathOf("createPass"), body: createWith("dataInfo", `{"billNo":123}`)}, want: ipass.CodeParamIllegal, mention: "billNo"},
		{name: "type/dataInfo.lastChangedPoints boolean", req: req{path: pathOf("createPass"), body: createWith("dataInfo", `{"lastChangedPoints":true}`)}, want: ipass.CodeParamIllegal, mention: "lastChangedPoints"},
		{name: "type/dataInfo.lastChangedPoints text", req: req{path: pathOf("createPass"), body: createWith("dataInfo", `{"lastChangedPoints":"12abc"}`)}, want: ipass.CodeParamIllegal, mention: "lastChangedPoints"},
		{name: "type/dataInfo.pointsProvider array", req: req{path: pathOf("createPass"), body: createWith("dataInfo", `{"pointsProvider":["ALIPAYHK"]}`)}, want: ipass.CodeParamIllegal, mention: "pointsProvider"},
		{name: "type/update passId number", req: req{body: `{"merchantId":"2160120036095023","userId":"2160220037090534","passId":2995228480402564890018,"status":"CLOSED"}`}, want: ipass.CodeParamIllegal, mention: "passId"},
		up("status", "array", `,"status":["USED"]`),
		up("updateDetailType", "number", `,"status":"UPDATE","updateDetailType":1,"dataInfo":{"$points_en_US$":1}`),
		up("bizDate", "boolean", `,"status":"USED","bizDate":true`),
		up("bizDate", "decimal text", `,"status":"USED","bizDate":"1735776000000.0"`),
		up("passVerifyCode", "number", `,"status":"CLOSED","passVerifyCode":123`),
		up("templateCode", "object", `,"status":"CLOSED","templateCode":{}`),
		{name: "type/query bizSerialId number", req: req{path: qu, body: `{"merchantId":"2160120036095023","bizSerialId":1111128828}`}, want: ipass.CodeParamIllegal, mention: "bizSerialId"},
		{name: "type/query openId number", req: req{path: qu, body: `{"merchantId":"2160120036095023","passId":"` + f.member + `","openId":5}`}, want: ipass.CodeParamIllegal, mention: "openId"},
	}
}

// routingCases: method and path spellings that must not reach an operation.
func (f *attackFixture) routingCases() []attackCase {
	return []attackCase{
		{name: "route/lower-case post", req: req{method: "post", body: f.upd(`,"status":"CLOSED"`)}, want: ipass.CodeMethodNotSupported},
		{name: "route/dot segment in the path", req: req{path: "/api/open/alipay/v1/ipass/pass/manage/../manage/updatePass", body: f.upd(`,"status":"CLOSED"`)}, want: ipass.CodeNoInterfaceDef},
		{name: "route/double slash", req: req{path: "//api/open/alipay/v1/ipass/pass/manage/updatePass", body: f.upd(`,"status":"CLOSED"`)}, want: ipass.CodeNoInterfaceDef},
		{name: "route/escaped slash", req: req{path: "/api/open/alipay/v1/ipass/pass/manage%2FupdatePass", body: f.upd(`,"status":"CLOSED"`)}, want: ipass.CodeNoInterfaceDef},
	}
}

// replayCases: the same signed content delivered twice in one process.
func (f *attackFixture) replayCases() []replayCase {
	qu := ipasshttp.PathQueryPass
	var cs []replayCase
	// pair signs body once and returns requests that differ only in the
	// Signature header's dress.
	pair := func(name string, signer string, alg gateway.Algorithm, firstWant ipass.Code, body string, dress func(sig []byte) (string, string)) {
		var t string
		var a, b string
		prepare := func() {
			t = f.stamp()
			sig := f.rawSig(signer, "POST", qu, clientA, t, body)
			a, b = dress(sig)
		}
		cs = append(cs, replayCase{
			name:      name,
			firstWant: firstWant,
			first: func() req {
				prepare()
				return req{path: qu, body: body, requestTime: t, alg: alg, header: http.Header{"Signature": {a}}}
			},
			second: func() req {
				return req{path: qu, body: body, requestTime: t, alg: alg, header: http.Header{"Signature": {b}}}
			},
		})
	}
	same := func(sig []byte) (string, string) {
		h := gateway.FormatSignatureHeader(gateway.RSA256, 1, sig)
		return h, h
	}
	pair("refused request delivered again", clientA+"/RSA256", gateway.RSA256, ipass.CodePassHasNotExist,
		`{"merchantId":"2160120036095023","passId":"`+ghostPass+`"}`, same)
	pair("keyVersion dropped", clientA+"/RSA256", gateway.RSA256, ipass.CodeSuccess, f.queryA(), func(sig []byte) (string, string) {
		return gateway.FormatSignatureHeader(gateway.RSA256, 1, sig), gateway.FormatSignatureHeader(gateway.RSA256, -1, sig)
	})
	pair("signature not URL-encoded", clientA+"/RSA256", gateway.RSA256, ipass.CodeSuccess, f.queryA(), func(sig []byte) (string, string) {
		return gateway.FormatSignatureHeader(gateway.RSA256, 1, sig), "algorithm=RSA256,keyVersion=1,signature=" + base64.StdEncoding.EncodeToString(sig)
	})
	pair("algorithm renamed SHA256withRSA", clientA+"/RSA256", gateway.RSA256, ipass.CodeSuccess, f.queryA(), func(sig []byte) (string, string) {
		return gateway.FormatSignatureHeader(gateway.RSA256, 1, sig), gateway.FormatSignatureHeader("SHA256withRSA", 1, sig)
	})
	pair("ECDSA signature re-encoded as (r, n-s)", clientA+"/ECC224", gateway.ECC224, ipass.CodeSuccess, f.queryA(), func(sig []byte) (string, string) {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			panic(err)
		}
		rs.S = new(big.Int).Sub(elliptic.P224().Params().N, rs.S)
		flipped, err := asn1.Marshal(rs)
		if err != nil {
			panic(err)
		}
		return gateway.FormatSignatureHeader(gateway.ECC224, 1, sig), gateway.FormatSignatureHeader(gateway.ECC224, 1, flipped)
	})
	// An encrypted request whose AES key is wrapped afresh: the Encrypt
	// header is not signed, the ciphertext is.
	{
		var t string
		enc := f.encryptedQuery(aesTestKey)
		cs = append(cs, replayCase{
			name:      "encrypted request with the AES key re-wrapped",
			firstWant: ipass.CodeSuccess,
			first: func() req {
				t = f.stamp()
				return req{path: qu, body: enc.body, requestTime: t, contentType: textPlain, header: http.Header{"Encrypt": {enc.header}}}
			},
			second: func() req {
				return req{path: qu, body: enc.body, requestTime: t, contentType: textPlain, header: http.Header{"Encrypt": {gateway.FormatEncryptHeader(1, f.wrap(aesTestKey))}}}
			},
			// Not byte-identical: only the same envelope is answered again.
			rejected: true,
		})
	}
	// Last: moves the clock to just inside the window's end.
	{
		var t string
		cs = append(cs, replayCase{
			name:      "delivered again 4 min 59 s later",
			firstWant: ipass.CodeSuccess,
			first:     func() req { t = f.stamp(); return req{path: qu, body: f.queryA(), requestTime: t} },
			between:   func() { f.h.clock.Add(4*time.Minute + 59*time.Second) },
			second:    func() req { return req{path: qu, body: f.queryA(), requestTime: t} },
		})
	}
	return cs
}

// sendChunked sends r.body, correctly signed by clientA, with chunked
// transfer encoding instead of a Content-Length.
func (f *attackFixture) sendChunked(r req) reply {
	h := f.h
	t := f.stamp()
	httpReq, err := http.NewRequest(http.MethodPost, h.url+r.path, io.MultiReader(strings.NewReader(r.body)))
	if err != nil {
		h.t.Fatal(err)
	}
	httpReq.ContentLength = -1
	httpReq.Header = http.Header{
		"Client-Id":    {clientA},
		"Request-Time": {t},
		"Content-Type": {"application/json; charset=UTF-8"},
		"Signature":    {f.sign(clientA+"/RSA256", gateway.RSA256, 1, http.MethodPost, r.path, clientA, t, r.body)},
	}
	return h.sendRaw(req{method: http.MethodPost, path: r.path, clientID: clientA}, httpReq)
}

// TestAttackEncryption: the RSA_AES attacks of issue 8 (breaks 2 and 3),
// on every engine, with the stored data compared before and after.
func TestAttackEncryption(t *testing.T) {
	for name, open := range sqlstoretest.Engines(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, open(t))
			f := &attackFixture{h: h, member: createMember(t, h)}
			before := h.snapshot()
			t.Run("no decryption oracle", func(t *testing.T) { f.noDecryptionOracle(t) })
			t.Run("sender binding", func(t *testing.T) { f.senderBinding(t) })
			if h.snapshot() != before {
				t.Fatal("hostile requests changed stored data")
			}
		})
	}
}

// responseKeySize is the AES key length of an encrypted reply, unwrapped
// with the private key of the client it was sealed for.
func (f *attackFixture) responseKeySize(t *testing.T, r reply, clientID string) int {
	t.Helper()
	p, err := gateway.ParseEncryptHeader(r.header.Get("Encrypt"))
	if err != nil {
		t.Fatalf("response Encrypt: %v", err)
	}
	key, err := gateway.UnwrapKey(f.h.keys[clientID+"/RSA256"].(*rsa.PrivateKey), p.WrappedKey)
	if err != nil {
		t.Fatal(err)
	}
	return len(key)
}

// noDecryptionOracle: whatever part of the unwrapping or the decryption
// fails, the answer is the same code, message and response key size, so a
// client cannot tell RSA padding, key length and body padding apart
// (Bleichenbacher, issue 8 break 2). Each key is wrapped afresh per request.
func (f *attackFixture) noDecryptionOracle(t *testing.T) {
	h := f.h.in(t)
	qu := ipasshttp.PathQueryPass
	plain := []byte(f.queryA())
	k16 := bytes.Repeat([]byte{0x33}, 16)
	under := func(key []byte) string {
		b, err := gateway.EncryptBody(key, plain)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	raw, _ := base64.StdEncoding.DecodeString(under(k16))
	raw[len(raw)-1] ^= 1 // the last block, and so its padding, decrypts to noise
	cases := []struct {
		name, body string
		wrapped    func() []byte
	}{
		{"RSA padding invalid", under(k16), func() []byte {
			junk := make([]byte, h.server.encPub.Size())
			_, _ = rand.Read(junk[1:])
			return junk
		}},
		{"unwrapped key of 8 bytes", under(k16), func() []byte { return f.wrap(bytes.Repeat([]byte{7}, 8)) }},
		{"unwrapped key of 31 bytes", under(k16), func() []byte { return f.wrap(bytes.Repeat([]byte{7}, 31)) }},
		{"16-byte key, body under another key", under(aesOtherKey), func() []byte { return f.wrap(k16) }},
		{"16-byte key, body padding broken", base64.StdEncoding.EncodeToString(raw), func() []byte { return f.wrap(k16) }},
		{"16-byte key, body not base64", "%%%", func() []byte { return f.wrap(k16) }},
	}
	type answer struct {
		code    ipass.Code
		message string
		keySize int
	}
	var first answer
	for i, c := range cases {
		var r reply
		// Under a key it was not made for, a body still ends in valid
		// padding about once in 256 tries (and then the JSON check refuses
		// it, as it would for any wrong key); a fresh wrapping settles that.
		for range 3 {
			h.clock.Add(10 * time.Millisecond)
			r = h.send(req{path: qu, body: c.body, contentType: textPlain, header: http.Header{"Encrypt": {gateway.FormatEncryptHeader(1, c.wrapped())}}})
			if r.code != ipass.CodeParamIllegal {
				break
			}
		}
		got := answer{r.code, r.message, f.responseKeySize(t, r, clientA)}
		t.Logf("%s: %+v", c.name, got)
		if i == 0 {
			first = got
			if got.code != ipass.CodeDecryptFailed {
				t.Fatalf("%s: got %s (%s), want DECRYPT_FAILED", c.name, got.code, got.message)
			}
			continue
		}
		if got != first {
			t.Errorf("%s answered %+v, but %s answered %+v", c.name, got, cases[0].name, first)
		}
	}
	// The control: a good 16-byte key gets a 16-byte key back (spec 2.6).
	r := h.must(h.send(req{path: qu, body: under(k16), contentType: textPlain, header: http.Header{"Encrypt": {gateway.FormatEncryptHeader(1, f.wrap(k16))}}}), ipass.CodeSuccess)
	if n := f.responseKeySize(t, r, clientA); n != 16 {
		t.Fatalf("response to a 16-byte request key sealed with %d bytes", n)
	}
}

// senderBinding: client B re-signs client A's ciphertext, spliced block by
// block (AES-ECB) so that A's bizSerialId lands in merchantId, and reads
// the ACCESS_DENIED message (issue 8 break 3). Delivered after A's own
// request, the wrapped key is refused as used; captured and never delivered,
// it decrypts, but the answer names the field without its value.
func (f *attackFixture) senderBinding(t *testing.T) {
	h := f.h.in(t)
	qu := ipasshttp.PathQueryPass
	const secret = "SECRET0123456789" // exactly block 3 of A's plaintext
	plain := `{"merchantId":"` + merchantA + `","bizSerialId":"` + secret + `"}`
	if strings.Index(plain, secret) != 48 {
		t.Fatal("test setup: the secret is not block-aligned")
	}
	// seal is A's request: a fresh AES key, the blocks, the Encrypt header.
	seal := func() ([]byte, string) {
		key, err := gateway.NewAESKey(32)
		if err != nil {
			t.Fatal(err)
		}
		wire, err := gateway.EncryptBody(key, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		w, err := gateway.WrapKey(h.server.encPub, key)
		if err != nil {
			t.Fatal(err)
		}
		return wire, gateway.FormatEncryptHeader(1, w)
	}
	// splice is B's body: blocks 0 ({"merchantId":"2), 3 (the secret) and
	// 4 ("} and padding) of A's ciphertext.
	splice := func(wire []byte) string {
		ct, err := base64.StdEncoding.DecodeString(string(wire))
		if err != nil || len(ct) != 80 {
			t.Fatalf("A's ciphertext: %d bytes, %v", len(ct), err)
		}
		return base64.StdEncoding.EncodeToString(slices.Concat(ct[0:16], ct[48:64], ct[64:80]))
	}
	noSecret := func(r reply) {
		t.Helper()
		if strings.Contains(string(r.plain), secret) || strings.Contains(string(r.raw), secret) {
			t.Fatalf("B read A's bizSerialId: %s", r.plain)
		}
	}

	t.Run("after A's request", func(t *testing.T) {
		h := h.in(t)
		wire, enc := seal()
		h.clock.Add(10 * time.Millisecond)
		a := h.must(h.send(req{path: qu, body: string(wire), contentType: textPlain, header: http.Header{"Encrypt": {enc}}}), ipass.CodePassHasNotExist)
		noSecret(a) // A's own answer names bizSerialId without echoing it
		for _, body := range []string{string(wire), splice(wire)} {
			h.clock.Add(10 * time.Millisecond)
			r := h.send(req{clientID: clientB, path: qu, body: body, contentType: textPlain, header: http.Header{"Encrypt": {enc}}})
			if r.code != ipass.CodeRepeatRequest || !strings.Contains(r.message, "Encrypt.symmetricKey") {
				t.Fatalf("B re-signing A's wrapped key: got %s (%s), want REPEAT_REQUEST naming Encrypt.symmetricKey", r.code, r.message)
			}
			noSecret(r)
		}
	})
	t.Run("captured and never delivered", func(t *testing.T) {
		h := h.in(t)
		wire, enc := seal()
		h.clock.Add(10 * time.Millisecond)
		r := h.send(req{clientID: clientB, path: qu, body: splice(wire), contentType: textPlain, header: http.Header{"Encrypt": {enc}}})
		// ACCESS_DENIED proves the splice decrypted to the merchantId.
		if r.code != ipass.CodeAccessDenied || !strings.Contains(r.message, "merchantId") {
			t.Fatalf("got %s (%s), want ACCESS_DENIED naming merchantId", r.code, r.message)
		}
		noSecret(r)
	})
}
