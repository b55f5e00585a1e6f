package ipass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CanonicalJSON rewrites a JSON value so that two texts with the same
// meaning give the same bytes: object keys sorted, no insignificant
// whitespace, strings re-escaped one way, numbers in one normal form
// (1.0, 1e0 and 1 are equal). It is what fingerprints (4.4, 5.6) compare.
func CanonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	var buf bytes.Buffer
	writeCanonical(&buf, v)
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			writeCanonical(buf, x[k])
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanonical(buf, e)
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, x)
	case json.Number:
		buf.WriteString(canonicalNumber(string(x)))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case nil:
		buf.WriteString("null")
	}
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := MarshalJSON(s) // a string always encodes
	buf.Write(b)
}

// MarshalJSON is json.Marshal without HTML escaping: stored data, messages
// and bodies a merchant wrote should read as written, <, > and & included.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// canonicalNumber gives every JSON number text of one value the same form:
// digits without leading/trailing zeros and a decimal exponent, written as an
// integer or decimal when short, else as <digits>e<exp>. Numbers whose
// exponent is absurdly large are left as written.
func canonicalNumber(s string) string {
	orig := s
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, expText := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, expText = s[:i], s[i+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	var exp int64
	if expText != "" {
		e, err := strconv.ParseInt(expText, 10, 64)
		if err != nil || e > 1e15 || e < -1e15 {
			return orig
		}
		exp = e
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return "0"
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	digits = trimmed
	var out string
	switch {
	case exp >= 0 && int64(len(digits))+exp <= 21:
		out = digits + strings.Repeat("0", int(exp))
	case exp < 0 && -exp <= 21:
		n := int64(len(digits))
		if n > -exp {
			out = digits[:n+exp] + "." + digits[n+exp:]
		} else {
			out = "0." + strings.Repeat("0", int(-exp-n)) + digits
		}
	default:
		out = digits + "e" + strconv.FormatInt(exp, 10)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// fingerprintOf builds the canonical JSON object of fields; a field whose
// value is nil is left out.
func fingerprintOf(fields map[string]any) (string, error) {
	raw, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	c, err := CanonicalJSON(raw)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	return string(c), nil
}

// dataInfoForPrint is the flattened dataInfo with metadata, as fingerprinted.
func dataInfoForPrint(d *DataInfoInput) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if d == nil {
		return m
	}
	for k, v := range d.Entries {
		m[k] = v
	}
	if d.Meta.BillNo != "" {
		m[metaBillNo], _ = json.Marshal(d.Meta.BillNo)
	}
	if d.Meta.LastChangedPoints != "" {
		m[metaLastChangedPoints] = json.RawMessage(d.Meta.LastChangedPoints)
	}
	if d.Meta.PointsProvider != "" {
		m[metaPointsProvider], _ = json.Marshal(d.Meta.PointsProvider)
	}
	return m
}

// createPrintFields is the order in which a create conflict names fields (4.4).
var createPrintFields = []string{
	"userId", "templateCode", "bizSerialType", "startDate", "endDate", "bizCreate",
	"type", "product", "dataInfo", "codeInfo",
}

// createFingerprint is the canonical form of a normalised create request
// (4.4): the resolved user, type and product, flattened dataInfo with
// metadata, codeInfo with $codemsg$ defaulted; identity spelling
// (userId vs openId), key order, whitespace and number-vs-digit-string
// timestamps no longer matter.
func createFingerprint(userID, templateCode, bizSerialType string, start, end, bizCreate int64,
	typ PassType, prod Product, d *DataInfoInput, c CodeInfo) (string, error) {
	return fingerprintOf(map[string]any{
		"userId":        userID,
		"templateCode":  templateCode,
		"bizSerialType": bizSerialType,
		"startDate":     start,
		"endDate":       end,
		"bizCreate":     bizCreate,
		"type":          typ,
		"product":       prod,
		"dataInfo":      dataInfoForPrint(d),
		"codeInfo":      c,
	})
}

// diffFingerprints names the fields (in createPrintFields order, then any
// others) whose canonical values differ between two fingerprints.
func diffFingerprints(a, b string) []string {
	var ma, mb map[string]json.RawMessage
	// A stored fingerprint that does not parse differs in everything.
	_ = json.Unmarshal([]byte(a), &ma)
	_ = json.Unmarshal([]byte(b), &mb)
	var diff []string
	seen := map[string]bool{}
	check := func(k string) {
		if seen[k] {
			return
		}
		seen[k] = true
		if !bytes.Equal(ma[k], mb[k]) {
			diff = append(diff, k)
		}
	}
	for _, k := range createPrintFields {
		check(k)
	}
	for _, k := range sortedKeys(ma) {
		check(k)
	}
	for _, k := range sortedKeys(mb) {
		check(k)
	}
	return diff
}

// updateFingerprint is the canonical form of an updatePass request (5.6):
// passId, status, updateDetailType (UPDATE only), bizDate, endDate, flattened
// dataInfo with metadata, codeInfo with $codemsg$ defaulted, passVerifyCode.
// Identity fields are not part of it. A given but empty dataInfo ({}) stays
// distinct from an absent one: TICKET updates tell them apart (5.5 step 7).
func updateFingerprint(r *UpdateRequest) (string, error) {
	f := map[string]any{
		"passId": r.PassID,
		"status": r.Status,
	}
	if r.Status == RequestUpdate {
		f["updateDetailType"] = r.UpdateKind
	}
	if r.BizDate != 0 {
		f["bizDate"] = r.BizDate
	}
	if r.EndDate != 0 {
		f["endDate"] = r.EndDate
	}
	if r.DataInfo != nil {
		f["dataInfo"] = dataInfoForPrint(r.DataInfo)
	}
	if r.CodeInfo != nil {
		f["codeInfo"] = *r.CodeInfo
	}
	if r.PassVerifyCode != "" {
		f["passVerifyCode"] = r.PassVerifyCode
	}
	return fingerprintOf(f)
}

// Fingerprint is r's canonical form for the exact-retry check (5.6).
func (r *UpdateRequest) Fingerprint() string { return r.fingerprint }
