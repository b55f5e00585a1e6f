package tenants_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/tenants"
)

// typedTemplate is a tenants file whose template mixes bare placeholder
// names (untyped, as files before field types) with typed mappings that
// carry their labels.
const typedTemplate = `
merchants:
  - {merchantId: "2160120036095023", clientId: "2110200000000044", name: Demo}
templates:
  - templateCode: typed1
    merchantId: "2160120036095023"
    type: CARD
    product: MEMBER_CARD
    locales: [zh_HK, en_US]
    placeholders:
      - legacy
      - {name: points, type: integer, labels: {zh_HK: 積分, en_US: Points}}
      - {name: level, labels: {en_US: Level}}
      - name: birthday
        type: date
        place: detail
PLACEHOLDER_EXTRA
    labels:
      legacy: {en_US: Old field}
`

func TestTypedPlaceholders(t *testing.T) {
	ten, err := tenants.Parse([]byte(strings.Replace(typedTemplate, "PLACEHOLDER_EXTRA\n", "", 1)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tm := ten.Templates[0]
	if want := []string{"legacy", "points", "level", "birthday"}; !reflect.DeepEqual(tm.Placeholders, want) {
		t.Fatalf("placeholders %v, want %v", tm.Placeholders, want)
	}
	wantFields := map[string]ipass.FieldSpec{
		"points":   {Type: ipass.FieldInteger},
		"level":    {Type: ipass.FieldText}, // a mapping without a type is text
		"birthday": {Type: ipass.FieldDate, Place: ipass.PlaceDetail},
	}
	if !reflect.DeepEqual(tm.Fields, wantFields) {
		t.Fatalf("fields %v, want %v", tm.Fields, wantFields)
	}
	wantLabels := map[string]map[string]string{
		"legacy": {"en_US": "Old field"}, "points": {"zh_HK": "積分", "en_US": "Points"}, "level": {"en_US": "Level"},
	}
	if !reflect.DeepEqual(tm.Labels, wantLabels) {
		t.Fatalf("labels %v, want %v", tm.Labels, wantLabels)
	}
	// What admin export writes, admin apply reads back the same.
	out, err := tenants.Marshal(ten)
	if err != nil {
		t.Fatal(err)
	}
	back, err := tenants.Parse(out, t.TempDir())
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, ten) {
		t.Fatalf("after Marshal → Parse:\n%+v\nwant\n%+v\n%s", back.Templates[0], tm, out)
	}
	for _, want := range []string{"[legacy, {name: points, type: integer}", "{name: birthday, type: date, place: detail}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}

	for _, c := range []struct{ name, extra, want string }{
		{"UnknownType", `      - {name: rank, type: number}`, `templates[0] (typed1).placeholders[4].type: "number" is not one of text, integer, decimal, money, datetime, date, list, boolean`},
		{"UnknownPlace", `      - {name: rank, type: text, place: back}`, `templates[0] (typed1).placeholders[4].place: "back" is not face or detail`},
		{"UnknownKey", `      - {name: rank, kind: text}`, `field kind not found in a placeholder`},
		{"LabelTwice", `      - {name: legacy2, labels: {en_US: X}}
      - {name: legacy, type: text, labels: {en_US: Y}}`, `templates[0] (typed1).placeholders[5].labels[en_US]: is also given in the template's labels`},
		{"BadName", `      - {name: "9x", type: text}`, `templates[0] (typed1).placeholders[4]: "9x" is not a name`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tenants.Parse([]byte(strings.Replace(typedTemplate, "PLACEHOLDER_EXTRA", c.extra, 1)), t.TempDir())
			if ipass.ErrorCode(err) != ipass.CodeParamIllegal || !strings.Contains(ipass.ErrorMessage(err), c.want) {
				t.Fatalf("got %v, want PARAM_ILLEGAL with %q", err, c.want)
			}
		})
	}
}
