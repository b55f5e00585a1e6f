package wallet

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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
