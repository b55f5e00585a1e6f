package ipass

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxBodyDepth is the deepest nesting a request body may have (G13); the
// body object itself is depth 1.
const MaxBodyDepth = 32

// Body is a request body that passed the strict checks of G13 and 3.1: its
// top-level fields, each kept as the raw JSON text of its value.
type Body map[string]json.RawMessage

// DecodeBody checks that data is exactly one JSON object — valid UTF-8, no
// byte-order mark, no duplicate key in any object at any depth, nesting depth
// ≤ [MaxBodyDepth], no U+0000 in any string or key, nothing after the object —
// and returns its top-level fields. Failures are *Error PARAM_ILLEGAL.
//
// Duplicate keys are refused everywhere rather than only in the three places
// 3.1 names: different parsers keep different duplicates, and the signed bytes
// must have exactly one meaning wherever they are read.
func DecodeBody(data []byte) (Body, error) {
	if err := checkStrictJSON(data, "body", MaxBodyDepth); err != nil {
		return nil, err
	}
	var b Body
	if err := json.Unmarshal(data, &b); err != nil {
		// checkStrictJSON accepted it, so this is a bug, not bad input.
		return nil, fmt.Errorf("decode body after validation: %w", err)
	}
	return b, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// jsonFrame is one open object or array while checkStrictJSON walks tokens.
type jsonFrame struct {
	object    bool
	keys      map[string]struct{} // keys seen so far (objects only)
	expectKey bool                // object: the next token is a key or '}'
	key       string              // object: the key whose value is being read
	index     int                 // array: index of the element being read
}

// segment is how this frame's current child appears in a path.
func (f *jsonFrame) segment() string {
	if f.object {
		return clip(f.key, 40)
	}
	return "[" + strconv.Itoa(f.index) + "]"
}

// advance records that the current value of f is complete.
func (f *jsonFrame) advance() {
	if f.object {
		f.expectKey = true
	} else {
		f.index++
	}
}

// syntaxError turns a decoder error into a PARAM_ILLEGAL naming the offset.
func syntaxError(what string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Errorf(CodeParamIllegal, "%s: invalid JSON at byte %d: %s", Field(what), se.Offset, clip(se.Error(), 120))
	}
	return Errorf(CodeParamIllegal, "%s: invalid JSON: %s", Field(what), clip(err.Error(), 120))
}

// clip shortens s to at most n code points for use in a message, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// jsonKind names the JSON type of a raw value by its first byte.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// article prefixes a JSON kind with its indefinite article, for messages.
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	}
	return "a " + kind
}
