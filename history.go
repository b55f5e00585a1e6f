package ipass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Paging limits of queryPassHistory [ext].
const (
	DefaultHistoryPageSize = 20
	MaxHistoryPageSize     = 100
)

// HistoryRequest is a queryPassHistory body after field syntax checks: the
// pass is found exactly as queryPass finds it (6.1), then one page of its
// versions is returned.
type HistoryRequest struct {
	QueryRequest
	FromVersion int // first version of the page, ≥ 1 (default 1)
	PageSize    int // versions per page, 1–MaxHistoryPageSize (default DefaultHistoryPageSize)
}

// ParseHistoryRequest checks the syntax of every queryPassHistory field.
func ParseHistoryRequest(b Body) (*HistoryRequest, error) {
	q, err := ParseQueryRequest(b)
	if err != nil {
		return nil, err
	}
	r := &HistoryRequest{QueryRequest: *q}
	if r.FromVersion, err = b.count("fromVersion", 1, 1<<31-1); err != nil {
		return nil, err
	}
	if r.PageSize, err = b.count("pageSize", DefaultHistoryPageSize, MaxHistoryPageSize); err != nil {
		return nil, err
	}
	return r, nil
}

// count returns the positive integer field name (a JSON integer or a digit
// string, like the timestamps), def when absent, null or "".
func (b Body) count(name string, def, max int) (int, error) {
	text, ok, err := b.numberText(name, "a positive integer")
	if err != nil {
		return 0, err
	}
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || !allDigits(text) || n < 1 || n > max {
		return 0, Errorf(CodeParamIllegal, "%s: must be an integer from 1 to %d (got %q)", Field(name), max, clip(text, 32))
	}
	return n, nil
}

// HistoryPage is the answer of queryPassHistory: versions FromVersion … of
// the pass, oldest first.
type HistoryPage struct {
	PassID        string         `json:"passId"`
	LatestVersion int            `json:"latestVersion"`
	Versions      []HistoryEntry `json:"versions"`
	// NextFromVersion is the fromVersion of the next page; 0 (omitted)
	// when this page holds the latest version.
	NextFromVersion int `json:"nextFromVersion,omitempty"`
}

// HistoryEntry is one version of a pass as readers see it: what the
// request asked for and every field it changed, from → to.
type HistoryEntry struct {
	Version          int           `json:"version"`
	Operation        string        `json:"operation"` // createPass or updatePass
	ChangedAt        int64         `json:"changedAt"` // ms, server clock at commit
	RequestStatus    string        `json:"requestStatus,omitempty"`
	UpdateDetailType UpdateKind    `json:"updateDetailType,omitempty"`
	Status           Status        `json:"status"` // stored status after this version
	Changes          []FieldChange `json:"changes"`
	// Renewal marks an UPDATE that renewed an EXPIRED pass: its endDate
	// change moved the expiry into the future and the pass is ACTIVE again.
	Renewal        bool            `json:"renewal,omitempty"`
	Metadata       json.RawMessage `json:"metadata,omitempty"`
	PassVerifyCode string          `json:"passVerifyCode,omitempty"`
	BizDate        int64           `json:"bizDate,omitempty"`
	TracerID       string          `json:"tracerId"`
	ClientID       string          `json:"-"` // operators see it (admin passes show); the API does not
}

// FieldChange is one changed field. Field is status, startDate, endDate,
// bizCreate, codeInfo or dataInfo.<key>. From is absent when the field had
// no value before (always on create); To is absent when the change removed
// the key (a null in updatePass dataInfo). Values are the stored JSON.
type FieldChange struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// renewalKey marks a renewal among a version's stored changes. It is not a
// field of the pass, so it never appears as a FieldChange.
const renewalKey = "renewal"

// topFields are the non-dataInfo fields a version may change, in the order
// changes are listed.
var topFields = []string{"status", "startDate", "endDate", "bizCreate", "codeInfo"}

// ReplayHistory turns stored versions (1, 2, … in order, as
// [PassStore.History] returns them) into entries with from → to values.
// A version stores only the new values of what it changed, so the old ones
// come from replaying every earlier version. A store that keeps each
// version's [HistoryEntry.Prior] answers a page without this replay (see
// [PassStore.HistoryPage]).
func ReplayHistory(versions []PassVersion) ([]HistoryEntry, error) {
	state := HistoryState{}
	out := make([]HistoryEntry, 0, len(versions))
	for i, v := range versions {
		if v.Version != i+1 {
			return nil, fmt.Errorf("history of pass %s: version %d at position %d", v.PassID, v.Version, i+1)
		}
		e, err := state.Apply(v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// HistoryState is what a pass's history has built up after some version:
// each field (as [FieldChange.Field] names it) with the last value a
// version's changes gave it. It is the "from" of the next version.
type HistoryState map[string]json.RawMessage

// Apply returns v's entry, its from values taken from s, and moves s past v.
func (s HistoryState) Apply(v PassVersion) (HistoryEntry, error) {
	e, err := HistoryEntryOf(v, s)
	if err != nil {
		return e, err
	}
	// The fields of one version are distinct, so applying them after the
	// whole entry is built is the same as applying each in turn.
	for _, c := range e.Changes {
		if c.To == nil {
			delete(s, c.Field)
		} else {
			s[c.Field] = c.To
		}
	}
	return e, nil
}

// HistoryEntryOf builds v's entry; before holds the value each field had
// before v (a [HistoryState] up to the previous version, or v's own
// [HistoryEntry.Prior]). A field missing from before had no value.
func HistoryEntryOf(v PassVersion, before map[string]json.RawMessage) (HistoryEntry, error) {
	e := HistoryEntry{
		Version: v.Version, Operation: v.Operation, ChangedAt: v.At, RequestStatus: v.RequestStatus,
		UpdateDetailType: v.UpdateKind, Status: v.Status, Changes: []FieldChange{}, Metadata: v.Metadata,
		PassVerifyCode: v.PassVerifyCode, BizDate: v.BizDate, TracerID: v.TracerID, ClientID: v.ClientID,
	}
	var changed map[string]json.RawMessage
	if len(v.Changes) > 0 && !bytes.Equal(v.Changes, []byte("null")) {
		if err := json.Unmarshal(v.Changes, &changed); err != nil {
			return e, fmt.Errorf("history of pass %s version %d: changes: %w", v.PassID, v.Version, err)
		}
	}
	e.Renewal = string(changed[renewalKey]) == "true"
	for _, f := range topFields {
		if to, ok := changed[f]; ok {
			e.Changes = append(e.Changes, FieldChange{Field: f, From: before[f], To: to})
		}
	}
	if raw, ok := changed["dataInfo"]; ok {
		var di map[string]json.RawMessage
		if err := json.Unmarshal(raw, &di); err != nil {
			return e, fmt.Errorf("history of pass %s version %d: dataInfo: %w", v.PassID, v.Version, err)
		}
		keys := make([]string, 0, len(di))
		for k := range di {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			field, to := "dataInfo."+k, di[k]
			if bytes.Equal(to, []byte("null")) {
				to = nil // removed (5.4)
			}
			e.Changes = append(e.Changes, FieldChange{Field: field, From: before[field], To: to})
		}
	}
	return e, nil
}

// Prior returns the value each changed field had before the entry's
// version (fields that had none are left out): what a store keeps beside
// the version so that a page of history needs no replay.
func (e *HistoryEntry) Prior() map[string]json.RawMessage {
	prior := make(map[string]json.RawMessage, len(e.Changes))
	for _, c := range e.Changes {
		if c.From != nil {
			prior[c.Field] = c.From
		}
	}
	return prior
}

// PageHistory cuts one page out of a pass's whole replayed history.
func PageHistory(passID string, all []HistoryEntry, from, size int) *HistoryPage {
	p := &HistoryPage{PassID: passID, LatestVersion: len(all), Versions: []HistoryEntry{}}
	if from > len(all) {
		return p
	}
	end := min(from-1+size, len(all))
	p.Versions = all[from-1 : end]
	if end < len(all) {
		p.NextFromVersion = end + 1
	}
	return p
}
