package wallet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
)

// currencySymbols prefixes amounts of {"cent":…, "currency":…} values; other
// currencies print their ISO code and a space ("JPY 8.00").
var currencySymbols = map[string]string{
	"HKD": "HK$", "USD": "US$", "MOP": "MOP$", "CNY": "¥", "TWD": "NT$", "SGD": "S$", "EUR": "€", "GBP": "£",
}

// FormatValue renders one dataInfo value as text for locale: a string as
// itself, a number as written, {"cent":800,"currency":"HKD"} as HK$8.00, a
// boolean as Yes/No (是/否), null as "", any other object or array as
// compact JSON. The result is plain text; the page escapes it.
func FormatValue(raw json.RawMessage, locale string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case 't', 'f':
		if string(raw) == "true" {
			return Text(locale, "yes")
		}
		if string(raw) == "false" {
			return Text(locale, "no")
		}
	case 'n':
		if string(raw) == "null" {
			return ""
		}
	case '{':
		if m, ok := money(raw); ok {
			return m
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// money formats an object of exactly an integer "cent" and a "currency"
// (three letters) with two decimals.
func money(raw json.RawMessage) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 2 {
		return "", false
	}
	var cur string
	if json.Unmarshal(m["currency"], &cur) != nil || len(cur) != 3 || strings.ToUpper(cur) != cur {
		return "", false
	}
	cent, err := strconv.ParseInt(string(bytes.TrimSpace(m["cent"])), 10, 64)
	if err != nil {
		return "", false
	}
	sign := ""
	if cent < 0 {
		sign, cent = "-", -cent
	}
	amount := strconv.FormatInt(cent/100, 10) + "." + strconv.FormatInt(cent%100+100, 10)[1:]
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + amount, true
	}
	return sign + cur + " " + amount, true
}

// FormatField renders a value of a placeholder of type ft in the holder's
// words: whole numbers with digit grouping (20,500), money as FormatValue
// does, times and dates in loc with the zone shown, a list as its items
// joined (an empty list as ""), a boolean as Yes/No. An untyped value, or
// one that does not fit its type (stored before the type was given), is
// shown by FormatValue.
func FormatField(raw json.RawMessage, ft ipass.FieldType, locale string, loc *time.Location) string {
	switch ft {
	case ipass.FieldInteger:
		if n, ok := ipass.IntegerValue(raw); ok {
			return group(strconv.FormatInt(n, 10))
		}
	case ipass.FieldDecimal:
		if s, ok := ipass.DecimalText(raw); ok {
			whole, frac, dot := strings.Cut(s, ".")
			if dot {
				return group(whole) + "." + frac
			}
			return group(whole)
		}
	case ipass.FieldDatetime:
		if ms, ok := ipass.MillisValue(raw); ok {
			return FormatTime(ms, loc)
		}
	case ipass.FieldDate:
		if d, ok := ipass.DateValue(raw); ok {
			if !d.Instant {
				return d.Day.Format(time.DateOnly)
			}
			at := time.UnixMilli(d.Millis).In(loc)
			return at.Format(time.DateOnly) + " " + Zone(at)
		}
	case ipass.FieldList:
		if items, ok := ipass.ListValue(raw); ok {
			sep := ", "
			if locale == LocaleZH {
				sep = "、"
			}
			return strings.Join(items, sep)
		}
	}
	return FormatValue(raw, locale)
}

// group puts a comma between every three digits of a whole number's text.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return sign + b.String()
}

// Zone names the time zone of t for a holder: its abbreviation (HKT, UTC),
// else its offset from UTC (UTC+08:00) for zones that have none.
func Zone(t time.Time) string {
	name, offset := t.Zone()
	if name != "" && (name[0] >= 'A' && name[0] <= 'Z') {
		return name
	}
	if offset == 0 {
		return "UTC"
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "-", -offset
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, offset/3600, offset%3600/60)
}
