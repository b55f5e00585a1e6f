package wallet

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/ipass-dev/ipass"
)

// Entry is one version of a pass on the detail page's timeline.
type Entry struct {
	Version   int
	At        time.Time
	Operation string       // createPass or updatePass
	Status    ipass.Status // stored status after the change
	Request   string       // updatePass status as requested (UPDATE, USED, …)
	Kind      string       // updateDetailType, if any
	Changes   []Change     // what changed, from what to what
	Notes     []Change     // transaction metadata (billNo, lastChangedPoints, …): To only
}

// Change is one field of a version: its value before and after.
type Change struct {
	Field    string // a label, or a placeholder with its locale
	From, To string
}

// Timeline turns a pass's history (oldest first, as stored) into entries,
// newest first. Each entry's changes are computed against the state the
// versions before it built up, so "from" is what the holder saw before.
func Timeline(hist []ipass.PassVersion, t *ipass.Template, locale string, loc *time.Location) []Entry {
	state := map[string]string{}
	out := make([]Entry, 0, len(hist))
	for _, v := range hist {
		e := Entry{Version: v.Version, At: time.UnixMilli(v.At).In(loc), Operation: v.Operation,
			Status: v.Status, Request: v.RequestStatus, Kind: string(v.UpdateKind)}
		var ch map[string]json.RawMessage
		_ = json.Unmarshal(v.Changes, &ch)
		for _, k := range changeKeys(ch) {
			for _, f := range flatten(k, ch[k], t, locale, loc) {
				if old := state[f.Field]; old != f.To || v.Version == 1 {
					e.Changes = append(e.Changes, Change{Field: f.Field, From: old, To: f.To})
				}
				state[f.Field] = f.To
			}
		}
		var meta map[string]json.RawMessage
		_ = json.Unmarshal(v.Metadata, &meta)
		for _, k := range slices.Sorted(mapKeys(meta)) {
			e.Notes = append(e.Notes, Change{Field: textOr(locale, k), To: FormatValue(meta[k], locale)})
		}
		if v.PassVerifyCode != "" {
			e.Notes = append(e.Notes, Change{Field: Text(locale, "passVerifyCode"), To: v.PassVerifyCode})
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	return out
}

// changeKeys orders a version's change keys: status first, then the face,
// the code and the dates.
func changeKeys(ch map[string]json.RawMessage) []string {
	var out []string
	for _, k := range []string{"status", "dataInfo", "codeInfo", "startDate", "endDate"} {
		if _, ok := ch[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// flatten turns one change key into display fields.
func flatten(key string, raw json.RawMessage, t *ipass.Template, locale string, loc *time.Location) []Change {
	switch key {
	case "status":
		var s string
		_ = json.Unmarshal(raw, &s)
		return []Change{{Field: Text(locale, "status"), To: s}}
	case "startDate", "endDate":
		ms, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil
		}
		return []Change{{Field: Text(locale, key), To: FormatTime(ms, loc)}}
	case "codeInfo":
		var c ipass.CodeInfo
		_ = json.Unmarshal(raw, &c)
		return []Change{{Field: Text(locale, "code"), To: c.Value}}
	case "dataInfo":
		var di map[string]json.RawMessage
		_ = json.Unmarshal(raw, &di)
		var out []Change
		inFace := map[string]bool{} // names this change sets in the face locale
		for k := range di {
			if name, l, ok := splitKey(k); ok && l == locale {
				inFace[name] = true
			}
		}
		for _, k := range slices.Sorted(mapKeys(di)) {
			name, l, ok := splitKey(k)
			if !ok || (l != locale && inFace[name]) {
				continue // the same field in another locale: one line is enough
			}
			field := Label(t, name, locale)
			if l != locale {
				field += " (" + l + ")"
			}
			out = append(out, Change{Field: field, To: FormatValue(di[k], locale)})
		}
		return out
	}
	return nil
}

// FormatTime shows a millisecond timestamp in the wallet's time zone.
func FormatTime(ms int64, loc *time.Location) string {
	return time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04")
}

func textOr(locale, key string) string {
	if s := Text(locale, key); s != "" {
		return s
	}
	return key
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
