package service

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/sqlstore/sqlstoretest"
)

// tplTyped is a template with one placeholder of each field type, and one
// untyped placeholder.
const tplTyped = "tplTypedFields"

func typedFixtures() *ipass.Tenants {
	t := fixtures()
	t.Templates = append(t.Templates, ipass.Template{
		Code: tplTyped, MerchantID: merchant23, Type: ipass.TypeCard, Product: ipass.ProductMemberCard,
		Title: map[string]string{"en_US": "Typed card"}, Locales: []string{"zh_HK", "en_US"},
		Placeholders: []string{"name", "points", "rate", "balance", "since", "birthday", "perks", "vip", "free"},
		CodeDisplay:  ipass.CodeQR,
		Fields: map[string]ipass.FieldSpec{
			"name": {Type: ipass.FieldText}, "points": {Type: ipass.FieldInteger}, "rate": {Type: ipass.FieldDecimal},
			"balance": {Type: ipass.FieldMoney}, "since": {Type: ipass.FieldDatetime}, "birthday": {Type: ipass.FieldDate, Place: ipass.PlaceDetail},
			"perks": {Type: ipass.FieldList}, "vip": {Type: ipass.FieldBoolean},
		},
	})
	return t
}

// fieldCases are good and bad values of every field type.
var fieldCases = []struct {
	name      string
	good, bad []string
	want      string // part of the message for a bad value
}{
	{"name", []string{`"Chan Tai Man"`, `""`}, []string{`12`, `true`, `["a"]`, `{"a":1}`}, "must be text"},
	{"points", []string{`20500`, `"20500"`, `-3`, `0`}, []string{`"abc"`, `1.5`, `"1.5"`, `1e3`, `true`, `[1]`, `"12 "`, `"01"`, `2.0`}, "must be a whole number"},
	{"rate", []string{`1.25`, `"0.5"`, `-2`, `7`}, []string{`"abc"`, `1e3`, `"1,5"`, `{}`, `false`}, "must be a number"},
	{"balance", []string{`{"cent":50000,"currency":"HKD"}`, `{"currency":"USD","cent":-5}`},
		[]string{`"HKD 500"`, `500`, `{"cent":1.5,"currency":"HKD"}`, `{"cent":"500","currency":"HKD"}`, `{"cent":500,"currency":"hkd"}`, `{"cent":500}`, `{"cent":500,"currency":"HKD","x":1}`}, "must be money"},
	{"since", []string{`1893411000000`, `"1893411000000"`}, []string{`"2030-01-01"`, `"189341100000"`, `1893411000000.5`, `"abc"`, `-1`}, "must be a time"},
	{"birthday", []string{`"1990-07-01"`, `1893411000000`, `"1893411000000"`}, []string{`"1990-7-1"`, `"1990-02-30"`, `"July"`, `true`}, "must be a date"},
	{"perks", []string{`["Lounge","Wi-Fi"]`, `[]`}, []string{`"Lounge"`, `[1,2]`, `[["a"]]`, `{"a":"b"}`}, "must be a list of text"},
	{"vip", []string{`true`, `false`}, []string{`"true"`, `1`, `"Yes"`}, "must be true or false"},
	{"free", []string{`"anything"`, `12`, `{"a":[1]}`, `[1,"x"]`}, nil, ""},
}

// TestFieldTypes: createPass and updatePass accept the values of each
// field type and refuse the others with PARAM_ILLEGAL, naming the field as
// the request wrote it (flat or nested dataInfo) and the type expected; an
// untyped placeholder takes any value. On both engines.
func TestFieldTypes(t *testing.T) {
	for engine, open := range sqlstoretest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			db := open(t)
			c := &clock{t: baseNow}
			db.Now = c.Now
			ctx := context.Background()
			if err := db.Apply(ctx, typedFixtures()); err != nil {
				t.Fatal(err)
			}
			svc := &Service{Tenants: db, Passes: db, Now: c.Now}
			caller := ipass.Caller{ClientID: client44, TracerID: "types"}
			serial := 0
			create := func(dataInfo string) (string, error) {
				serial++
				return svc.CreatePass(ctx, caller, []byte(fmt.Sprintf(`{"merchantId":%q,"userId":%q,"templateCode":%q,"bizSerialId":"T%d","bizSerialType":"OUT_PLAT_FORM","startDate":1735689600000,"endDate":4102444800000,"bizCreate":1735689600000,"type":"CARD","product":"MEMBER_CARD","codeInfo":{"$codevalue$":"T%d"},"dataInfo":%s}`,
					merchant23, user534, tplTyped, serial, serial, dataInfo)))
			}
			id, err := create(`{"$name_en_US$":"Chan"}`)
			if err != nil {
				t.Fatal(err)
			}
			update := func(dataInfo string) error {
				return svc.UpdatePass(ctx, caller, []byte(fmt.Sprintf(`{"merchantId":%q,"userId":%q,"passId":%q,"status":"UPDATE","updateDetailType":"UPDATE_MEMBER_CARD","dataInfo":%s}`, merchant23, user534, id, dataInfo)))
			}
			for _, fc := range fieldCases {
				for _, v := range fc.good {
					flat := fmt.Sprintf(`{"$%s_en_US$":%s}`, fc.name, v)
					nested := fmt.Sprintf(`{"zh_HK":{"$%s$":%s}}`, fc.name, v)
					for _, di := range []string{flat, nested} {
						if _, err := create(di); err != nil {
							t.Errorf("create %s: %v", di, err)
						}
						if err := update(di); err != nil {
							t.Errorf("update %s: %v", di, err)
						}
					}
				}
				for _, v := range fc.bad {
					for _, form := range []struct{ body, path string }{
						{fmt.Sprintf(`{"$%s_en_US$":%s}`, fc.name, v), fmt.Sprintf("dataInfo.$%s_en_US$", fc.name)},
						{fmt.Sprintf(`{"zh_HK":{"$%s$":%s}}`, fc.name, v), fmt.Sprintf("dataInfo.zh_HK.$%s$", fc.name)},
					} {
						want := form.path + ": " + fc.want
						_, err := create(form.body)
						checkTypeError(t, "create "+form.body, err, want)
						checkTypeError(t, "update "+form.body, update(form.body), want)
					}
				}
			}
			// A removal (null) fits every type.
			if err := update(`{"$points_en_US$":null,"$vip_en_US$":null}`); err != nil {
				t.Errorf("update removing typed fields: %v", err)
			}
		})
	}
}

func checkTypeError(t *testing.T, what string, err error, want string) {
	t.Helper()
	if ipass.ErrorCode(err) != ipass.CodeParamIllegal || !strings.Contains(ipass.ErrorMessage(err), want) {
		t.Errorf("%s: got %v, want PARAM_ILLEGAL %q", what, err, want)
		return
	}
	// An encrypted request's answer names no value of the request (the
	// placeholder key included) but keeps the type expected.
	red := ipass.ErrorMessage(ipass.Redacted(err))
	_, rule, _ := strings.Cut(want, ": ")
	if !strings.Contains(red, "…: "+rule) || strings.Contains(red, "$") {
		t.Errorf("%s: redacted message %q, want …: %s and no key", what, red, rule)
	}
}
