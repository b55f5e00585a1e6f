package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/ipass-dev/ipass"
)

// marshalJSON is ipass.MarshalJSON as the text the store keeps.
func marshalJSON(v any) (string, error) {
	b, err := ipass.MarshalJSON(v)
	return string(b), err
}

// encodeDataInfo writes d as a JSON object whose values are the exact bytes
// of each json.RawMessage. json.Marshal would compact every value and, by
// default, escape <, > and &; the spec promises values verbatim
// (docs/api.md, "dataInfo"), so the object is assembled by hand. Keys are sorted so
// the same map always gives the same text. A nil map is stored as {}.
func encodeDataInfo(d ipass.DataInfo) (string, error) {
	return encodeObject(d, true)
}

// encodeObject is encodeDataInfo, checking each value only when check is
// set: values taken from JSON the store decoded itself need no second look.
func encodeObject(d map[string]json.RawMessage, check bool) (string, error) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		v := bytes.TrimSpace(d[k])
		if check && !json.Valid(v) {
			return "", fmt.Errorf("dataInfo %q: value is not valid JSON", k)
		}
		// encoding/json keeps invalid UTF-8 inside a RawMessage; PostgreSQL
		// would refuse the text and SQLite store it. Refuse on both.
		if check && (!utf8.Valid(v) || !utf8.ValidString(k)) {
			return "", fmt.Errorf("dataInfo %q: not valid UTF-8", k)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		key, err := marshalJSON(k)
		if err != nil {
			return "", err
		}
		buf.WriteString(key)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.String(), nil
}

// decodeDataInfo is the inverse of encodeDataInfo. json.RawMessage keeps the
// bytes of each value as stored. The result is never nil.
func decodeDataInfo(s string) (ipass.DataInfo, error) {
	d := ipass.DataInfo{}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, fmt.Errorf("decode dataInfo: %w", err)
	}
	if d == nil { // stored "null" by an older writer would leave d nil
		d = ipass.DataInfo{}
	}
	return d, nil
}

// rawToNull stores a json.RawMessage as text, or NULL when it is empty, so an
// absent value reads back as nil.
func rawToNull(name string, m json.RawMessage) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(m) || !utf8.Valid(m) {
		return sql.NullString{}, fmt.Errorf("%s is not valid UTF-8 JSON", name)
	}
	return sql.NullString{String: string(m), Valid: true}, nil
}

// nullToRaw is the inverse of rawToNull.
func nullToRaw(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}
