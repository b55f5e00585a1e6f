package wallet

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/ipass-dev/ipass"
)

// Field is one labelled value of a card face.
type Field struct {
	Name  string // placeholder name (the data-field attribute)
	Label string // template label in the face locale, else the name
	Value string // formatted by FormatValue
}

// FaceLocale is the locale a template's face is shown in on a page in ui:
// ui if the template has it, else the template's first locale.
func FaceLocale(t *ipass.Template, ui string) string {
	if slices.Contains(t.Locales, ui) || len(t.Locales) == 0 {
		return ui
	}
	return t.Locales[0]
}

// Title is the template's title in locale, else in its other locales in
// order, else the template code.
func Title(t *ipass.Template, locale string) string {
	if s := t.Title[locale]; s != "" {
		return s
	}
	for _, l := range t.Locales {
		if s := t.Title[l]; s != "" {
			return s
		}
	}
	return t.Code
}

// Label is the label of placeholder name in locale, else in another locale
// of the template, else the name itself.
func Label(t *ipass.Template, name, locale string) string {
	ls := t.Labels[name]
	if s := ls[locale]; s != "" {
		return s
	}
	for _, l := range t.Locales {
		if s := ls[l]; s != "" {
			return s
		}
	}
	return name
}

// Fields are the fields of a pass in template order: each placeholder with
// a value in locale, falling back to the template's other locales in order,
// shown by FormatField in loc. A placeholder with no value (or null) in any
// locale is left out, and so is a typed one whose value shows as nothing
// (an empty list); placeholders placed on the detail page are left out
// unless detail.
func Fields(p *ipass.Pass, t *ipass.Template, locale string, loc *time.Location, detail bool) []Field {
	out := make([]Field, 0, len(t.Placeholders))
	for _, name := range t.Placeholders {
		spec := t.Spec(name)
		if spec.Place == ipass.PlaceDetail && !detail {
			continue
		}
		raw, ok := value(p.DataInfo, name, locale, t.Locales)
		if !ok {
			continue
		}
		v := FormatField(raw, spec.Type, locale, loc)
		if v == "" && spec.Type != ipass.FieldUntyped {
			continue
		}
		out = append(out, Field{Name: name, Label: Label(t, name, locale), Value: v})
	}
	return out
}

func value(di ipass.DataInfo, name, locale string, locales []string) (json.RawMessage, bool) {
	for _, l := range append([]string{locale}, locales...) {
		if raw, ok := di["$"+name+"_"+l+"$"]; ok && string(raw) != "null" {
			return raw, true
		}
	}
	return nil, false
}

// faceKeyRE splits a flattened dataInfo key "$name_xx_YY$".
var faceKeyRE = regexp.MustCompile(`^\$(.+)_([a-z]{2}_[A-Z]{2})\$$`)

// splitKey returns the placeholder name and locale of a dataInfo key.
func splitKey(key string) (name, locale string, ok bool) {
	m := faceKeyRE.FindStringSubmatch(key)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}
