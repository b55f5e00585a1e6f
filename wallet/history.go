package wallet

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipass-dev/ipass"
)

// Bounds of the detail page's history, so that a page's size does not grow
// with the pass's history or its values (docs/wallet.md).
const (
	HistoryPerPage = 10  // versions per page; older ones are on the next page
	MaxChangeLines = 20  // field lines per version; the rest are counted (Entry.More)
	MaxValueRunes  = 100 // characters of a value shown; a longer one is cut, ending in …
)

// Entry is one version of a pass on the detail page's timeline.
type Entry struct {
	Version   int
	At        time.Time
	Operation string       // createPass or updatePass
	Status    ipass.Status // stored status after the change
	Request   string       // updatePass status as requested (UPDATE, USED, …)
	Kind      string       // updateDetailType, if any
	Changes   []Change     // what changed, from what to what (at most MaxChangeLines)
	More      int          // changed fields beyond MaxChangeLines, not shown
	Notes     []Change     // transaction metadata (billNo, lastChangedPoints, …): To only
	// Renewal is the holder's words for a renewal ("Renewed until
	// 2027-01-01 00:00 HKT"), "" when the version renewed nothing.
	Renewal string
	// What is the holder's words for the version: Created, Used, Refunded,
	// Terminated, Expired, Renewed or Updated; never an API name.
	What string
}

// Change is one field of a version: its value before and after.
type Change struct {
	Field    string // a label, or a placeholder with its locale
	From, To string
}

// Timeline turns a page of a pass's history (oldest first, as
// PassStore.HistoryPage returns it) into entries, newest first. Each change's
// "from" is the value that field had before the version, as the history
// built it up; a field whose shown value did not change is left out (except
// on the version that created the pass). Values are cut at MaxValueRunes.
func Timeline(hist []ipass.HistoryEntry, t *ipass.Template, locale string, loc *time.Location) []Entry {
	out := make([]Entry, 0, len(hist))
	for _, h := range hist {
		e := Entry{Version: h.Version, At: time.UnixMilli(h.ChangedAt).In(loc), Operation: h.Operation,
			Status: h.Status, Request: h.RequestStatus, Kind: string(h.UpdateDetailType)}
		inFace := map[string]bool{} // names this version sets in the face locale
		for _, c := range h.Changes {
			if name, l, ok := dataKey(c.Field); ok && l == locale {
				inFace[name] = true
			}
			if h.Renewal && c.Field == "endDate" {
				e.Renewal = Text(locale, "renewedUntil") + " " + show(c.Field, c.To, t, locale, loc)
			}
		}
		e.What = what(h, e.Renewal != "", locale)
		for _, c := range ordered(h.Changes) {
			field, ok := fieldLabel(c.Field, t, locale, inFace)
			if !ok {
				continue
			}
			from, to := show(c.Field, c.From, t, locale, loc), show(c.Field, c.To, t, locale, loc)
			if from == to && h.Version != 1 {
				continue
			}
			if len(e.Changes) == MaxChangeLines {
				e.More++
				continue
			}
			e.Changes = append(e.Changes, Change{Field: field, From: clip(from), To: clip(to)})
		}
		var meta map[string]json.RawMessage
		_ = json.Unmarshal(h.Metadata, &meta)
		for _, k := range slices.Sorted(maps.Keys(meta)) {
			ft := ipass.FieldUntyped
			if k == "lastChangedPoints" { // a whole number (docs/api.md), grouped as points are
				ft = ipass.FieldInteger
			}
			e.Notes = append(e.Notes, Change{Field: clip(textOr(locale, k)), To: clip(FormatField(meta[k], ft, locale, loc))})
		}
		if h.PassVerifyCode != "" {
			e.Notes = append(e.Notes, Change{Field: Text(locale, "passVerifyCode"), To: clip(h.PassVerifyCode)})
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	return out
}

// ordered lists a version's changes as the timeline shows them: status
// first, then the face, the code and the dates.
func ordered(cs []ipass.FieldChange) []ipass.FieldChange {
	rank := func(field string) int {
		switch {
		case field == "status":
			return 0
		case strings.HasPrefix(field, "dataInfo."):
			return 1
		case field == "codeInfo":
			return 2
		case field == "startDate":
			return 3
		case field == "endDate":
			return 4
		}
		return 5
	}
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b ipass.FieldChange) int { return rank(a.Field) - rank(b.Field) })
	return out
}

// dataKey splits a history field dataInfo.$name_locale$.
func dataKey(field string) (name, locale string, ok bool) {
	key, ok := strings.CutPrefix(field, "dataInfo.")
	if !ok {
		return "", "", false
	}
	return splitKey(key)
}

// fieldLabel is the label of a history field; false for a field the
// timeline does not show (bizCreate, a key that is not a placeholder, the
// same placeholder in another locale when the face locale's changed too).
func fieldLabel(field string, t *ipass.Template, locale string, inFace map[string]bool) (string, bool) {
	switch field {
	case "status", "startDate", "endDate":
		return Text(locale, field), true
	case "codeInfo":
		return Text(locale, "code"), true
	}
	name, l, ok := dataKey(field)
	if !ok || (l != locale && inFace[name]) {
		return "", false
	}
	label := Label(t, name, locale)
	if l != locale {
		label += " (" + l + ")"
	}
	return label, true
}

// statusWords are the UI string keys of the pass states.
var statusWords = map[ipass.Status]string{
	ipass.StatusActive: "active", ipass.StatusUsed: "used", ipass.StatusRefund: "refunded",
	ipass.StatusClosed: "terminated", ipass.StatusExpired: "expired",
}

// what is the holder's words for a version: the state it moved the pass
// to, else Created, Renewed or Updated.
func what(h ipass.HistoryEntry, renewed bool, locale string) string {
	for _, c := range h.Changes {
		if c.Field != "status" || h.Version == 1 {
			continue
		}
		var s ipass.Status
		if json.Unmarshal(c.To, &s) == nil && s != ipass.StatusActive {
			if key, ok := statusWords[s]; ok {
				return Text(locale, key)
			}
		}
	}
	switch {
	case h.Version == 1:
		return Text(locale, "created")
	case renewed:
		return Text(locale, "renewed")
	}
	return Text(locale, "updated")
}

// show formats one value of a history field in the holder's words; "" for
// none.
func show(field string, raw json.RawMessage, t *ipass.Template, locale string, loc *time.Location) string {
	if raw == nil {
		return ""
	}
	switch field {
	case "status":
		var s ipass.Status
		_ = json.Unmarshal(raw, &s)
		if key, ok := statusWords[s]; ok {
			return Text(locale, key)
		}
		return string(s)
	case "startDate", "endDate":
		ms, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return ""
		}
		return FormatTime(ms, loc)
	case "codeInfo":
		var c ipass.CodeInfo
		_ = json.Unmarshal(raw, &c)
		return c.Value
	}
	if name, _, ok := dataKey(field); ok {
		return FormatField(raw, t.Spec(name).Type, locale, loc)
	}
	return FormatValue(raw, locale)
}

// clip cuts s to MaxValueRunes characters, the last being …
func clip(s string) string {
	if utf8.RuneCountInString(s) <= MaxValueRunes {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxValueRunes-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// FormatTime shows a millisecond timestamp in the wallet's time zone, the
// zone named ("2030-01-01 10:30 HKT").
func FormatTime(ms int64, loc *time.Location) string {
	at := time.UnixMilli(ms).In(loc)
	return at.Format("2006-01-02 15:04") + " " + Zone(at)
}

func textOr(locale, key string) string {
	if s := Text(locale, key); s != "" {
		return s
	}
	return key
}
