package ipass

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"time"
)

// FieldType is the type of a template placeholder's values: what createPass
// and updatePass accept for it and how the wallet shows it (docs/wallet.md,
// "Field types"). "" is an untyped placeholder: any JSON value, shown as
// written.
type FieldType string

// The field types.
const (
	FieldUntyped  FieldType = ""
	FieldText     FieldType = "text"     // a string
	FieldInteger  FieldType = "integer"  // a whole number, or a string of one
	FieldDecimal  FieldType = "decimal"  // a number, or a string of one
	FieldMoney    FieldType = "money"    // {"cent": whole number, "currency": "HKD"}
	FieldDatetime FieldType = "datetime" // epoch milliseconds, a number or a 13-digit string
	FieldDate     FieldType = "date"     // "YYYY-MM-DD", or epoch milliseconds
	FieldList     FieldType = "list"     // an array of strings
	FieldBoolean  FieldType = "boolean"  // true or false
)

// FieldTypes are the field types a tenants file may name, in the order the
// docs list them.
var FieldTypes = []FieldType{FieldText, FieldInteger, FieldDecimal, FieldMoney, FieldDatetime, FieldDate, FieldList, FieldBoolean}

// FieldPlace says where the wallet shows a placeholder.
type FieldPlace string

// The places. "" is the face.
const (
	PlaceFace   FieldPlace = "face"   // on the pass in the wallet and on its detail page
	PlaceDetail FieldPlace = "detail" // on the detail page only
)

// FieldSpec is what a template says about one placeholder beyond its name
// and labels.
type FieldSpec struct {
	Type  FieldType  `json:"type"`
	Place FieldPlace `json:"place,omitempty"` // "" = PlaceFace
}

// Spec returns the spec of placeholder name: the zero FieldSpec (untyped,
// on the face) when the template gives none.
func (t *Template) Spec(name string) FieldSpec { return t.Fields[name] }

// Want is how a message says what a value of type ft must be; "" for an
// untyped placeholder.
func (ft FieldType) Want() string {
	switch ft {
	case FieldText:
		return "must be text (a JSON string)"
	case FieldInteger:
		return "must be a whole number (type integer)"
	case FieldDecimal:
		return "must be a number (type decimal)"
	case FieldMoney:
		return `must be money, {"cent": <whole number>, "currency": "<3 capital letters>"} (type money)`
	case FieldDatetime:
		return "must be a time: epoch milliseconds, a number or a 13-digit string (type datetime)"
	case FieldDate:
		return "must be a date: \"YYYY-MM-DD\" or epoch milliseconds (type date)"
	case FieldList:
		return "must be a list of text: an array of strings (type list)"
	case FieldBoolean:
		return "must be true or false (type boolean)"
	}
	return ""
}

var (
	integerRE = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})$`)
	decimalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)
	millisRE  = regexp.MustCompile(`^[0-9]{13}$`)
	dateRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// Fits reports whether the JSON value raw is a value of type ft. Every
// value fits an untyped placeholder.
func (ft FieldType) Fits(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if ft == FieldUntyped {
		return true
	}
	switch ft {
	case FieldText:
		return jsonKind(raw) == "string"
	case FieldInteger:
		_, ok := IntegerValue(raw)
		return ok
	case FieldDecimal:
		_, ok := numberText(raw, decimalRE)
		return ok
	case FieldMoney:
		_, _, ok := MoneyValue(raw)
		return ok
	case FieldDatetime:
		_, ok := MillisValue(raw)
		return ok
	case FieldDate:
		_, ok := DateValue(raw)
		return ok
	case FieldList:
		_, ok := ListValue(raw)
		return ok
	case FieldBoolean:
		return string(raw) == "true" || string(raw) == "false"
	}
	return false
}

// numberText is the text of a JSON number, or of a string holding one, that
// matches re.
func numberText(raw json.RawMessage, re *regexp.Regexp) (string, bool) {
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
	}
	return s, re.MatchString(s)
}

// IntegerValue is the whole number raw holds (a JSON number or a string of
// one, at most 18 digits).
func IntegerValue(raw json.RawMessage) (int64, bool) {
	s, ok := numberText(bytes.TrimSpace(raw), integerRE)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// DecimalText is the number raw holds, as written (a JSON number without
// exponent, or a string of one).
func DecimalText(raw json.RawMessage) (string, bool) {
	return numberText(bytes.TrimSpace(raw), decimalRE)
}

// MillisValue is the epoch milliseconds raw holds: a whole JSON number, or
// a string of 13 digits (the seeds' convention).
func MillisValue(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil || !millisRE.MatchString(s) {
			return 0, false
		}
		raw = json.RawMessage(s)
	}
	if !integerRE.Match(raw) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil && n >= 0
}

// DateValue is the date raw holds: a "YYYY-MM-DD" string (as a calendar
// date, no zone) or epoch milliseconds (then ok, and the instant).
func DateValue(raw json.RawMessage) (Date, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && dateRE.MatchString(s) {
		d, err := time.Parse(time.DateOnly, s)
		return Date{Day: d}, err == nil
	}
	ms, ok := MillisValue(raw)
	return Date{Millis: ms, Instant: true}, ok
}

// Date is a value of a date field: a calendar day, or an instant whose day
// depends on the zone it is shown in.
type Date struct {
	Day     time.Time // the day at 00:00 UTC, unless Instant
	Millis  int64
	Instant bool
}

// MoneyValue is the amount of {"cent": n, "currency": "XXX"}: exactly
// those two keys, a whole number of cents and three capital letters.
func MoneyValue(raw json.RawMessage) (cent int64, currency string, ok bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 2 || m["cent"] == nil || m["currency"] == nil {
		return 0, "", false
	}
	if json.Unmarshal(m["currency"], &currency) != nil || len(currency) != 3 {
		return 0, "", false
	}
	for _, c := range currency {
		if c < 'A' || c > 'Z' {
			return 0, "", false
		}
	}
	c := bytes.TrimSpace(m["cent"])
	if len(c) == 0 || c[0] == '"' || !integerRE.Match(c) {
		return 0, "", false
	}
	cent, err := strconv.ParseInt(string(c), 10, 64)
	return cent, currency, err == nil
}

// ListValue is the strings of a JSON array of strings.
func ListValue(raw json.RawMessage) ([]string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var out []string
	if json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return out, true
}
