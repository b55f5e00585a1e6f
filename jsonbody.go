package ipass

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// checkStrictJSON applies the rules of [DecodeBody] to data; what names the
// checked text in messages ("body", "dataInfo", ...).
func checkStrictJSON(data []byte, what string, maxDepth int) error {
	if bytes.HasPrefix(data, utf8BOM) {
		return Errorf(CodeParamIllegal, "%s: a byte-order mark is not allowed", Field(what))
	}
	if !utf8.Valid(data) {
		// encoding/json would silently replace bad bytes with U+FFFD.
		return Errorf(CodeParamIllegal, "%s: not valid UTF-8", Field(what))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return Errorf(CodeParamIllegal, "%s: empty; a JSON object is required", Field(what))
	}
	if err != nil {
		return syntaxError(what, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Errorf(CodeParamIllegal, "%s: must be a JSON object", Field(what))
	}
	stack := []*jsonFrame{{object: true, keys: map[string]struct{}{}, expectKey: true}}
	path := func(extra ...string) string {
		var segs []string
		for _, f := range stack[:len(stack)-1] {
			segs = append(segs, f.segment())
		}
		segs = append(segs, extra...)
		if len(segs) == 0 {
			return what
		}
		return clip(what+"."+strings.Join(segs, "."), 200)
	}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return Errorf(CodeParamIllegal, "%s: unexpected end of JSON", Field(what))
			}
			return syntaxError(what, err)
		}
		top := stack[len(stack)-1]
		if top.object && top.expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].advance()
				}
				continue
			}
			key, ok := tok.(string)
			if !ok { // the decoder guarantees a string here
				return Errorf(CodeParamIllegal, "%s: object key expected", Field(what))
			}
			if strings.IndexByte(key, 0) >= 0 {
				return Errorf(CodeParamIllegal, "%s: a key contains U+0000", path())
			}
			if _, dup := top.keys[key]; dup {
				return Errorf(CodeParamIllegal, "%s: duplicate key %q", path(), clip(key, 64))
			}
			top.keys[key] = struct{}{}
			top.key = key
			top.expectKey = false
			continue
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(stack)+1 > maxDepth {
					return Errorf(CodeParamIllegal, "%s: nested deeper than %d levels", path(top.segment()), maxDepth)
				}
				f := &jsonFrame{object: v == '{', expectKey: v == '{'}
				if f.object {
					f.keys = map[string]struct{}{}
				}
				stack = append(stack, f)
			case ']', '}':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					stack[len(stack)-1].advance()
				}
			}
		case string:
			if strings.IndexByte(v, 0) >= 0 {
				return Errorf(CodeParamIllegal, "%s: string contains U+0000", path(top.segment()))
			}
			top.advance()
		default:
			top.advance()
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeParamIllegal, "%s: unexpected data after the JSON object", Field(what))
	}
	return nil
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
