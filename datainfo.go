package ipass

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// dataInfo and codeInfo limits (3.3, 3.7).
const (
	MaxDataInfoKeys   = 200       // flattened face keys
	MaxDataInfoKey    = 128       // code points per key, at any depth
	MaxDataInfoString = 2048      // code points per string value, at any depth
	MaxDataInfoDepth  = 8         // the flat dataInfo object is level 1
	MaxDataInfoBytes  = 64 * 1024 // compact serialization
	MaxCodeInfoString = 512       // $codemsg$, $codevalue$
	maxBillNo         = 128
	maxPointsProvider = 64
	maxPoints         = 64 // lastChangedPoints, in characters
)

// The metadata keys of 3.6: transaction data kept in the history, never on the face.
const (
	metaBillNo            = "billNo"
	metaLastChangedPoints = "lastChangedPoints"
	metaLastChangePoints  = "lastChangePoints" // alias of lastChangedPoints
	metaPointsProvider    = "pointsProvider"
)

// Metadata is the transaction metadata a dataInfo may carry (3.6). Empty
// fields were not provided.
type Metadata struct {
	BillNo            string      `json:"billNo,omitempty"`
	LastChangedPoints json.Number `json:"lastChangedPoints,omitempty"` // normalised decimal, may be negative
	PointsProvider    string      `json:"pointsProvider,omitempty"`
}

// IsZero reports whether no metadata was provided.
func (m Metadata) IsZero() bool { return m == Metadata{} }

// JSON is m as a JSON object, or nil when m is empty.
func (m Metadata) JSON() json.RawMessage {
	if m.IsZero() {
		return nil
	}
	out, _ := json.Marshal(m) // cannot fail: strings and a validated number
	return out
}

// DataInfoInput is a request's dataInfo after its shape was checked (3.6):
// flattened to "$name_locale$" keys, metadata split off. It is not yet
// checked against a template ([DataInfoInput.CheckTemplate]).
type DataInfoInput struct {
	// Entries are the face keys, values verbatim JSON; on updatePass a
	// value of null means "remove the key" (5.4).
	Entries DataInfo
	// Meta is the metadata (billNo, lastChangedPoints, pointsProvider).
	Meta Metadata

	paths map[string]string // flattened key → where it was written, for messages
}

// ParseDataInfo checks the shape and limits of a dataInfo value: a JSON
// object, or a JSON string whose content is one (checked as strictly as the
// body). Keys must be "$name_locale$", a locale "xx_YY" holding an object of
// "$name$" keys (legacy nested form, flattened), or a metadata key.
// allowNull permits null face values (updatePass removals).
// It returns nil for an empty string (absent, 3.1).
func ParseDataInfo(raw json.RawMessage, allowNull bool) (*DataInfoInput, error) {
	obj, err := objectOrString(raw, "dataInfo")
	if err != nil || obj == nil {
		return nil, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, obj); err != nil {
		return nil, Errorf(CodeParamIllegal, "dataInfo: invalid JSON")
	}
	if compact.Len() > MaxDataInfoBytes {
		return nil, Errorf(CodeParamIllegal, "dataInfo: larger than %d bytes", MaxDataInfoBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(obj, &top); err != nil {
		return nil, Errorf(CodeParamIllegal, "dataInfo: must be a JSON object")
	}
	d := &DataInfoInput{Entries: DataInfo{}, paths: map[string]string{}}
	var lcp, lcpAlias json.Number
	for _, key := range sortedKeys(top) {
		val := top[key]
		if utf8.RuneCountInString(key) > MaxDataInfoKey {
			return nil, Errorf(CodeParamIllegal, "dataInfo: key %q is longer than %d characters", clip(key, 64), MaxDataInfoKey)
		}
		switch {
		case key == metaBillNo:
			if d.Meta.BillNo, err = metaString(key, val, maxBillNo); err != nil {
				return nil, err
			}
		case key == metaPointsProvider:
			if d.Meta.PointsProvider, err = metaString(key, val, maxPointsProvider); err != nil {
				return nil, err
			}
		case key == metaLastChangedPoints:
			if lcp, err = metaPoints(key, val); err != nil {
				return nil, err
			}
		case key == metaLastChangePoints:
			if lcpAlias, err = metaPoints(key, val); err != nil {
				return nil, err
			}
		case isLocale(key):
			if err := d.addNested(key, val, allowNull); err != nil {
				return nil, err
			}
		default:
			if _, _, ok := splitFlatKey(key); !ok {
				return nil, Errorf(CodeParamIllegal, "dataInfo: key %q is neither $name_locale$, a locale nor billNo/lastChangedPoints/pointsProvider", clip(key, 64))
			}
			if err := d.add(key, "dataInfo."+key, val, allowNull); err != nil {
				return nil, err
			}
		}
	}
	if lcp != "" && lcpAlias != "" && lcp != lcpAlias {
		return nil, Errorf(CodeParamIllegal, "dataInfo: lastChangedPoints %s and lastChangePoints %s differ", lcp, lcpAlias)
	}
	d.Meta.LastChangedPoints = lcp
	if lcp == "" {
		d.Meta.LastChangedPoints = lcpAlias
	}
	if len(d.Entries) > MaxDataInfoKeys {
		return nil, Errorf(CodeParamIllegal, "dataInfo: more than %d keys", MaxDataInfoKeys)
	}
	return d, nil
}

// addNested flattens the legacy form {"en_US":{"$shopname$":…}}.
func (d *DataInfoInput) addNested(locale string, val json.RawMessage, allowNull bool) error {
	if k := jsonKind(val); k != "object" {
		return Errorf(CodeParamIllegal, "dataInfo.%s: a locale must hold an object of $name$ keys, not %s", locale, article(k))
	}
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(val, &inner); err != nil {
		return Errorf(CodeParamIllegal, "dataInfo.%s: must be a JSON object", locale)
	}
	for _, key := range sortedKeys(inner) {
		if utf8.RuneCountInString(key) > MaxDataInfoKey {
			return Errorf(CodeParamIllegal, "dataInfo.%s: key %q is longer than %d characters", locale, clip(key, 64), MaxDataInfoKey)
		}
		if len(key) < 3 || key[0] != '$' || key[len(key)-1] != '$' || !validName(key[1:len(key)-1]) {
			return Errorf(CodeParamIllegal, "dataInfo.%s: key %q is not $name$", locale, clip(key, 64))
		}
		flat := "$" + key[1:len(key)-1] + "_" + locale + "$"
		if err := d.add(flat, "dataInfo."+locale+"."+key, inner[key], allowNull); err != nil {
			return err
		}
	}
	return nil
}

// add records one face entry after checking its value's limits.
func (d *DataInfoInput) add(flat, path string, val json.RawMessage, allowNull bool) error {
	if prev, dup := d.paths[flat]; dup {
		return Errorf(CodeParamIllegal, "%s: %s is also given as %s", path, flat, prev)
	}
	if jsonKind(val) == "null" {
		if !allowNull {
			return Errorf(CodeParamIllegal, "%s: null is not allowed here", path)
		}
		d.Entries[flat] = json.RawMessage("null")
		d.paths[flat] = path
		return nil
	}
	if err := checkValueLimits(val, path); err != nil {
		return err
	}
	// Kept byte for byte (3.6: values are stored and returned verbatim).
	d.Entries[flat] = json.RawMessage(bytes.Clone(bytes.TrimSpace(val)))
	d.paths[flat] = path
	return nil
}

// checkValueLimits walks one face value: every string ≤ MaxDataInfoString,
// every object key ≤ MaxDataInfoKey, nesting ≤ MaxDataInfoDepth-1 below the
// flat dataInfo object.
func checkValueLimits(val json.RawMessage, path string) error {
	dec := json.NewDecoder(bytes.NewReader(val))
	dec.UseNumber()
	depth := 0
	// inObject[i] tells whether level i+1 is an object, to tell keys from values.
	var inObject []bool
	var expectKey []bool
	for {
		tok, err := dec.Token()
		if err != nil {
			break // EOF: the value was already validated by the body check
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				depth++
				if depth+1 > MaxDataInfoDepth {
					return Errorf(CodeParamIllegal, "%s: nested deeper than %d levels", path, MaxDataInfoDepth)
				}
				inObject = append(inObject, v == '{')
				expectKey = append(expectKey, v == '{')
				continue
			default:
				depth--
				inObject = inObject[:len(inObject)-1]
				expectKey = expectKey[:len(expectKey)-1]
			}
		case string:
			n := len(inObject)
			if n > 0 && inObject[n-1] && expectKey[n-1] {
				if utf8.RuneCountInString(v) > MaxDataInfoKey {
					return Errorf(CodeParamIllegal, "%s: a key inside the value is longer than %d characters", path, MaxDataInfoKey)
				}
				expectKey[n-1] = false
				continue
			}
			if utf8.RuneCountInString(v) > MaxDataInfoString {
				return Errorf(CodeParamIllegal, "%s: a string is longer than %d characters", path, MaxDataInfoString)
			}
		}
		// A value just ended: the enclosing object now expects a key.
		if n := len(inObject); n > 0 && inObject[n-1] {
			expectKey[n-1] = true
		}
	}
	return nil
}

// metaString parses billNo / pointsProvider: a string or null.
func metaString(key string, val json.RawMessage, max int) (string, error) {
	switch k := jsonKind(val); k {
	case "null":
		return "", nil
	case "string":
		var s string
		if err := json.Unmarshal(val, &s); err != nil {
			return "", Errorf(CodeParamIllegal, "dataInfo.%s: invalid string", key)
		}
		if utf8.RuneCountInString(s) > max {
			return "", Errorf(CodeParamIllegal, "dataInfo.%s: longer than %d characters", key, max)
		}
		return s, nil
	default:
		return "", Errorf(CodeParamIllegal, "dataInfo.%s: must be a string or null, not %s", key, article(k))
	}
}

// metaPoints parses lastChangedPoints: an integer or decimal, as a JSON
// number or a numeric string, or null. The result is normalised ("0019.50"
// → "19.5") so that the alias check and fingerprints compare values.
func metaPoints(key string, val json.RawMessage) (json.Number, error) {
	var text string
	switch k := jsonKind(val); k {
	case "null":
		return "", nil
	case "number":
		text = string(val)
	case "string":
		if err := json.Unmarshal(val, &text); err != nil {
			return "", Errorf(CodeParamIllegal, "dataInfo.%s: invalid string", key)
		}
		if text == "" {
			return "", nil
		}
	default:
		return "", Errorf(CodeParamIllegal, "dataInfo.%s: must be a number, a numeric string or null, not %s", key, article(k))
	}
	n, ok := normalizeDecimal(text)
	if !ok || len(text) > maxPoints {
		return "", Errorf(CodeParamIllegal, "dataInfo.%s: %q is not an integer or decimal number", key, clip(text, 32))
	}
	return json.Number(n), nil
}

// normalizeDecimal accepts [+-]?digits(.digits)? and returns it without a
// plus sign, leading zeros in the integer part, trailing zeros in the
// fraction or a sign on zero. "+49" is how a points change is often written.
func normalizeDecimal(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	frac = strings.TrimRight(frac, "0")
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isLocale reports whether s has the shape of a locale: [a-z]{2}_[A-Z]{2}.
func isLocale(s string) bool {
	return len(s) == 5 && isLower(s[0]) && isLower(s[1]) && s[2] == '_' && isUpper(s[3]) && isUpper(s[4])
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// validName reports whether s is a placeholder name: [A-Za-z][A-Za-z0-9_]{0,63}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 || !(isLower(s[0]) || isUpper(s[0])) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isLower(c) || isUpper(c) || (c >= '0' && c <= '9') || c == '_') {
			return false
		}
	}
	return true
}

// splitFlatKey splits "$name_locale$" into name and locale (3.6): the locale
// is the last five characters before the closing "$".
func splitFlatKey(key string) (name, locale string, ok bool) {
	if len(key) < 9 || key[0] != '$' || key[len(key)-1] != '$' {
		return "", "", false
	}
	inner := key[1 : len(key)-1]
	locale = inner[len(inner)-5:]
	if inner[len(inner)-6] != '_' || !isLocale(locale) {
		return "", "", false
	}
	name = inner[:len(inner)-6]
	if !validName(name) {
		return "", "", false
	}
	return name, locale, true
}

// CheckTemplate checks every face key against the template's placeholders
// and locales (3.6), and its value against the placeholder's type (null,
// a removal, fits every type); the first offender in key order is
// reported, named as the request wrote it.
func (d *DataInfoInput) CheckTemplate(t *Template) error {
	if d == nil {
		return nil
	}
	for _, key := range sortedKeys(d.Entries) {
		name, locale, _ := splitFlatKey(key)
		if !slices.Contains(t.Locales, locale) {
			return Errorf(CodeParamIllegal, "%s: locale %s is not declared by template %s", d.path(key), locale, t.Code)
		}
		if !slices.Contains(t.Placeholders, name) {
			return Errorf(CodeParamIllegal, "%s: placeholder %s is not declared by template %s", d.path(key), name, t.Code)
		}
		// The expected type is the server's words, so it stays in the
		// message of an encrypted request; the key is redacted there.
		if ft := t.Spec(name).Type; jsonKind(d.Entries[key]) != "null" && !ft.Fits(d.Entries[key]) {
			return Errorf(CodeParamIllegal, "%s: "+ft.Want(), d.path(key))
		}
	}
	return nil
}

func (d *DataInfoInput) path(key string) string {
	if p, ok := d.paths[key]; ok {
		return p
	}
	return "dataInfo." + key
}

// Merge applies d to stored (5.4): given keys replace, null removes, absent
// keys stay. The result must stay within the limits of 3.3. stored is not
// modified.
func (d *DataInfoInput) Merge(stored DataInfo) (DataInfo, error) {
	out := make(DataInfo, len(stored))
	for k, v := range stored {
		out[k] = v
	}
	if d != nil {
		for k, v := range d.Entries {
			if jsonKind(v) == "null" {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	if err := checkDataInfoSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkDataInfoSize applies the whole-object limits of 3.3 to a stored dataInfo.
func checkDataInfoSize(di DataInfo) error {
	if len(di) > MaxDataInfoKeys {
		return Errorf(CodeParamIllegal, "dataInfo: the result would have more than %d keys", MaxDataInfoKeys)
	}
	if serializedSize(di) > MaxDataInfoBytes {
		return Errorf(CodeParamIllegal, "dataInfo: the result would be larger than %d bytes", MaxDataInfoBytes)
	}
	return nil
}

// serializedSize is the length of di written as one JSON object with its
// values verbatim, as it is stored.
func serializedSize(di DataInfo) int {
	n := 2 // {}
	var key bytes.Buffer
	for k, v := range di {
		key.Reset()
		writeString(&key, k)
		n += key.Len() + 1 + len(v) + 1 // "key":value,
	}
	if len(di) > 0 {
		n-- // no comma after the last entry
	}
	return n
}

// ParseCodeInfo checks the shape of a codeInfo value (3.7): an object, or a
// JSON string holding one, with only $codemsg$ and $codevalue$, each a
// string (or null = absent) of at most 512 characters. $codemsg$ defaults
// to $codevalue$. It returns nil for an empty string (absent, 3.1).
func ParseCodeInfo(raw json.RawMessage) (*CodeInfo, error) {
	obj, err := objectOrString(raw, "codeInfo")
	if err != nil || obj == nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, Errorf(CodeParamIllegal, "codeInfo: must be a JSON object")
	}
	c := &CodeInfo{}
	for _, key := range sortedKeys(m) {
		var dst *string
		switch key {
		case "$codemsg$":
			dst = &c.Msg
		case "$codevalue$":
			dst = &c.Value
		default:
			return nil, Errorf(CodeParamIllegal, "codeInfo: unknown key %q; only $codemsg$ and $codevalue$ are allowed", clip(key, 64))
		}
		switch k := jsonKind(m[key]); k {
		case "null":
			continue
		case "string":
			if err := json.Unmarshal(m[key], dst); err != nil {
				return nil, Errorf(CodeParamIllegal, "codeInfo.%s: invalid string", key)
			}
			if utf8.RuneCountInString(*dst) > MaxCodeInfoString {
				return nil, Errorf(CodeParamIllegal, "codeInfo.%s: longer than %d characters", key, MaxCodeInfoString)
			}
		default:
			return nil, Errorf(CodeParamIllegal, "codeInfo.%s: must be a JSON string, not %s", key, article(k))
		}
	}
	if c.Msg == "" {
		c.Msg = c.Value
	}
	return c, nil
}

// CheckCodeInfo applies the template's code display to c (3.7): QRCODE and
// BARCODE need a non-empty $codevalue$; NONE allows empty strings.
func CheckCodeInfo(c *CodeInfo, t *Template) error {
	if c == nil || t.CodeDisplay == CodeNone || c.Value != "" {
		return nil
	}
	return Errorf(CodeParamIllegal, "codeInfo.$codevalue$: must not be empty: template %s shows a %s", t.Code, displayName(t.CodeDisplay))
}

func displayName(d CodeDisplay) string {
	if d == "" {
		return "code"
	}
	return string(d)
}

// objectOrString returns the object text of a field that may be an object or
// a JSON string containing one (3.6, 3.7); nil for "" (absent).
func objectOrString(raw json.RawMessage, field string) ([]byte, error) {
	switch k := jsonKind(raw); k {
	case "object":
		return raw, nil
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, Errorf(CodeParamIllegal, "%s: invalid string", Field(field))
		}
		if s == "" {
			return nil, nil
		}
		// The embedded text is a second JSON document: hold it to the body's rules.
		if err := checkStrictJSON([]byte(s), field, MaxBodyDepth); err != nil {
			return nil, err
		}
		return []byte(s), nil
	default:
		return nil, Errorf(CodeParamIllegal, "%s: must be a JSON object (or a string holding one), not %s", Field(field), article(k))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
