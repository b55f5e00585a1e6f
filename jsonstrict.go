package ipass

import (
	"bytes"
	"encoding/json"
	"errors"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// checkStrictJSON applies the rules of [DecodeBody] to data; what names the
// checked text in messages ("body", "dataInfo", ...).
//
// It costs a few milliseconds per MiB whatever the shape (issue 8, break 6;
// BenchmarkCheckStrictJSON): json.Valid settles the grammar, then one pass
// over the bytes checks what the grammar allows and we do not (duplicate
// keys, depth, U+0000). Walking json.Decoder tokens instead allocated per
// token: a MiB of `[0,0,0,…]` took about 230 ms.
func checkStrictJSON(data []byte, what string, maxDepth int) error {
	if bytes.HasPrefix(data, utf8BOM) {
		return Errorf(CodeParamIllegal, "%s: a byte-order mark is not allowed", Field(what))
	}
	if !utf8.Valid(data) {
		// encoding/json would silently replace bad bytes with U+FFFD.
		return Errorf(CodeParamIllegal, "%s: not valid UTF-8", Field(what))
	}
	if !json.Valid(data) {
		return grammarError(data, what, maxDepth)
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return Errorf(CodeParamIllegal, "%s: must be a JSON object", Field(what))
	}
	return checkStructure(data, i, what, maxDepth)
}

// checkStructure checks keys, depth and U+0000 from the object opening at
// data[i]. data must be valid JSON, or a prefix of valid JSON that ends
// outside any string.
func checkStructure(data []byte, i int, what string, maxDepth int) error {
	// Frames are reused by depth, and keys are slices of data (unescaped
	// copies only when they have escapes), so a MiB of small containers
	// or keys costs no allocation per container.
	stack := make([]scanFrame, 0, 8)
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
	// data is valid JSON, so every byte outside strings is structure,
	// a number, a literal or white space, and every string is closed.
	for ; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(stack) > 0 && len(stack)+1 > maxDepth {
				return Errorf(CodeParamIllegal, "%s: nested deeper than %d levels", path(stack[len(stack)-1].segment()), maxDepth)
			}
			if len(stack) < cap(stack) {
				stack = stack[:len(stack)+1]
			} else {
				stack = append(stack, scanFrame{})
			}
			stack[len(stack)-1].reset(data[i] == '{')
		case '}', ']':
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil // json.Valid: only white space follows
			}
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		case '"':
			end, escaped, nul := scanString(data, i)
			key := data[i+1 : end]
			i = end
			top := &stack[len(stack)-1]
			if !top.object || !top.expectKey {
				if nul {
					return Errorf(CodeParamIllegal, "%s: string contains U+0000", path(top.segment()))
				}
				continue
			}
			if nul {
				return Errorf(CodeParamIllegal, "%s: a key contains U+0000", path())
			}
			if escaped {
				key = unescapeJSON(key)
			}
			if !top.add(key) {
				return Errorf(CodeParamIllegal, "%s: duplicate key %q", path(), clip(string(key), 64))
			}
			top.key = key
			top.expectKey = false
		}
	}
	return nil
}

// scanFrame is one open object or array while checkStructure scans.
type scanFrame struct {
	object    bool
	expectKey bool                // object: the next string is a key
	key       []byte              // object: the key whose value is being read
	index     int                 // array: index of the element being read
	few       [][]byte            // object: keys seen
	many      map[uint64]struct{} // object with many keys: hashes of few
}

// fewKeys is how many keys are compared one by one before a map pays.
const fewKeys = 16

func (f *scanFrame) reset(object bool) {
	few := f.few[:0]
	*f = scanFrame{object: object, expectKey: object, few: few}
}

// add records key and reports whether it is new in this object. Past
// fewKeys keys it looks up a hash of the key (no allocation per key) and
// compares bytes only on a hit, which is a duplicate but for a 2^-64 chance.
func (f *scanFrame) add(key []byte) bool {
	if f.many != nil {
		h := maphash.Bytes(keySeed, key)
		if _, hit := f.many[h]; hit {
			for _, k := range f.few {
				if bytes.Equal(k, key) {
					return false
				}
			}
		}
		f.many[h] = struct{}{}
		f.few = append(f.few, key)
		return true
	}
	for _, k := range f.few {
		if bytes.Equal(k, key) {
			return false
		}
	}
	f.few = append(f.few, key)
	if len(f.few) > fewKeys {
		f.many = make(map[uint64]struct{}, 4*fewKeys)
		for _, k := range f.few {
			f.many[maphash.Bytes(keySeed, k)] = struct{}{}
		}
	}
	return true
}

var keySeed = maphash.MakeSeed()

// segment is how this frame's current child appears in a path.
func (f *scanFrame) segment() string {
	if f.object {
		return clip(string(f.key), 40)
	}
	return "[" + strconv.Itoa(f.index) + "]"
}

// grammarError explains why json.Valid refused data, with the messages the
// strict check has always given.
func grammarError(data []byte, what string, maxDepth int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var first json.RawMessage
	err := dec.Decode(&first) // the fast scanner: no tokens, no values built
	if err != nil && err != io.EOF {
		// Nesting past maxDepth before the grammar fails (encoding/json's
		// own limit is 10000 levels) is reported as such, with its path:
		// everything before it is a valid prefix.
		var se *json.SyntaxError
		failedAt := int64(len(data))
		if errors.As(err, &se) {
			failedAt = se.Offset
		}
		if p := tooDeepAt(data, maxDepth); p >= 0 && int64(p) < failedAt-1 {
			if i := skipSpace(data, 0); data[i] == '{' {
				if err := checkStructure(data[:p+1], i, what, maxDepth); err != nil {
					return err
				}
			}
		}
	}
	switch {
	case err == io.EOF:
		return Errorf(CodeParamIllegal, "%s: empty; a JSON object is required", Field(what))
	case err == io.ErrUnexpectedEOF:
		return Errorf(CodeParamIllegal, "%s: unexpected end of JSON", Field(what))
	case err != nil:
		return syntaxError(what, err)
	case first[0] != '{':
		return Errorf(CodeParamIllegal, "%s: must be a JSON object", Field(what))
	}
	return Errorf(CodeParamIllegal, "%s: unexpected data after the JSON object", Field(what))
}

// tooDeepAt returns the offset of the first bracket that opens level
// maxDepth+1, outside strings, or -1. It accepts any bytes.
func tooDeepAt(data []byte, maxDepth int) int {
	depth, inString := 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > maxDepth {
				return i
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return -1
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i
}

// scanString returns the index of the closing quote of the valid JSON
// string opening at data[start], whether it has escapes, and whether one of
// them is \u0000.
func scanString(data []byte, start int) (end int, escaped, nul bool) {
	for i := start + 1; ; i++ {
		switch data[i] {
		case '"':
			return i, escaped, nul
		case '\\':
			escaped = true
			if data[i+1] == 'u' {
				if string(data[i+2:i+6]) == "0000" {
					nul = true
				}
				i += 5
			} else {
				i++
			}
		}
	}
}

// unescapeJSON decodes the escapes of a valid JSON string's contents as
// encoding/json does, a lone surrogate becoming U+FFFD, so that "a" and
// "\u0061" are one key.
func unescapeJSON(raw []byte) []byte {
	b := bytes.NewBuffer(make([]byte, 0, len(raw)))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = hex4(raw[i+3 : i+7])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default: // '"', '\\', '/'
			b.WriteByte(raw[i])
		}
	}
	return b.Bytes()
}

func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
