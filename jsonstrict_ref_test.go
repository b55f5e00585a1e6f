package ipass

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// checkStrictJSONTokens is the token-walking checkStrictJSON of before
// issue 8 (break 6): clear, but about 230 ms per MiB of dense tokens. It
// stays as the reference the fast scanner is fuzzed against.
func checkStrictJSONTokens(data []byte, what string, maxDepth int) error {
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
