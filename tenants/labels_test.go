package tenants_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/tenants"
)

// TestLabels: a template's wallet labels are validated like the rest of the
// file and survive Marshal → Parse (what `admin export` → `admin apply` does).
func TestLabels(t *testing.T) {
	ok := map[string]map[string]string{"points": {"zh_HK": "積分", "en_US": "Points"}, "level": {"en_US": "Level"}}
	for _, c := range []struct {
		name   string
		labels map[string]map[string]string
		want   string // a line of the error; "" = valid
	}{
		{"OK", ok, ""},
		{"OKNone", nil, ""},
		{"ErrUnknownPlaceholder", map[string]map[string]string{"stars": {"en_US": "Stars"}},
			`templates[0] (temlate111001).labels[stars]: stars is not in placeholders`},
		{"ErrUnknownLocale", map[string]map[string]string{"points": {"fr_FR": "Points"}},
			`templates[0] (temlate111001).labels[points][fr_FR]: locale fr_FR is not in locales`},
		{"ErrEmptyLabel", map[string]map[string]string{"points": {"en_US": ""}},
			`templates[0] (temlate111001).labels[points][en_US]: must be 1 to 64 characters`},
		{"ErrLongLabel", map[string]map[string]string{"points": {"en_US": strings.Repeat("長", 65)}},
			`templates[0] (temlate111001).labels[points][en_US]: must be 1 to 64 characters`},
		{"ErrControl", map[string]map[string]string{"points": {"en_US": "Poi\nnts"}},
			`templates[0] (temlate111001).labels[points][en_US]: "Poi\nnts" contains a control character`},
		{"ErrNoLocales", map[string]map[string]string{"points": {}},
			`templates[0] (temlate111001).labels[points]: is empty`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ten := mustLoadFixtures(t)
			ten.Templates[0].Labels = c.labels
			err := tenants.Validate(ten)
			msg := ipass.ErrorMessage(err)
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not contain %q", msg, c.want)
			}
		})
	}

	ten := mustLoadFixtures(t)
	ten.Templates[0].Labels = ok
	out, err := tenants.Marshal(ten)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tenants.Parse(out, t.TempDir())
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got.Templates[0].Labels, ok) || !reflect.DeepEqual(got, ten) {
		t.Fatalf("labels after Marshal → Parse: %v, want %v", got.Templates[0].Labels, ok)
	}
	if !strings.Contains(string(out), "labels:") {
		t.Fatalf("export has no labels:\n%s", out)
	}
}
