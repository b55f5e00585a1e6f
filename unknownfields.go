package ipass

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// The top-level fields of each operation's body. Any other top-level field
// is ignored (3.1, U12), for compatibility with newer clients; a failure
// names the ignored ones (see [HintUnknownFields]), so a misspelt field is
// not silently the cause of a refusal that never mentions it.
var (
	CreateFields  = []string{"merchantId", "userId", "openId", "templateCode", "bizSerialId", "bizSerialType", "startDate", "endDate", "bizCreate", "type", "product", "codeInfo", "dataInfo"}
	UpdateFields  = []string{"merchantId", "userId", "openId", "passId", "templateCode", "status", "updateDetailType", "bizDate", "endDate", "dataInfo", "codeInfo", "passVerifyCode"}
	QueryFields   = []string{"merchantId", "userId", "openId", "passId", "bizSerialId"}
	HistoryFields = []string{"merchantId", "userId", "openId", "passId", "bizSerialId", "fromVersion", "pageSize"}
)

// Bounds of the hint, so a body with many or long unknown keys cannot make a
// long message.
const (
	maxHintNames     = 3  // unknown fields named; the rest are counted
	maxHintNameRunes = 40 // characters of a name shown
)

// HintUnknownFields returns err with its message followed by the top-level
// fields of b that are not in known, each with the closest known name when
// one is close ("ignored unknown field datainfo; did you mean dataInfo?").
// Only failures (*Error) get the hint: nil and internal errors are returned
// as they are, so a successful request is unchanged. Names are cut and at
// most a few listed; no value is shown. The redacted message (for encrypted
// requests) stays without the names: they are request bytes too.
func HintUnknownFields(err error, b Body, known []string) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	var unknown []string
	for k := range b {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return err
	}
	slices.Sort(unknown)
	return &Error{Code: e.Code, Message: e.Message + "; " + unknownHint(unknown, known), redacted: e.redacted}
}

// unknownHint is the text naming unknown (sorted, at least one).
func unknownHint(unknown, known []string) string {
	if len(unknown) == 1 {
		s := "ignored unknown field " + hintName(unknown[0])
		if near := closestField(unknown[0], known); near != "" {
			s += "; did you mean " + near + "?"
		}
		return s
	}
	parts := make([]string, 0, maxHintNames)
	for _, u := range unknown[:min(len(unknown), maxHintNames)] {
		p := hintName(u)
		if near := closestField(u, known); near != "" {
			p += " (did you mean " + near + "?)"
		}
		parts = append(parts, p)
	}
	s := "ignored unknown fields " + strings.Join(parts, ", ")
	if more := len(unknown) - maxHintNames; more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// hintName shows a field name: as it is when it is a plain name, else
// quoted (so a key with spaces or control characters cannot garble the
// message), cut at maxHintNameRunes.
func hintName(name string) string {
	cut := name
	if utf8.RuneCountInString(name) > maxHintNameRunes {
		cut = string([]rune(name)[:maxHintNameRunes]) + "…"
	}
	plain := name != ""
	for _, r := range name {
		plain = plain && (r == '_' || r == '$' || r == '-' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	}
	if plain {
		return cut
	}
	return fmt.Sprintf("%q", cut)
}

// closestField is the known name nearest to name — equal but for case, or
// at most two edits away (one for short names) — or "" when none is close.
func closestField(name string, known []string) string {
	if utf8.RuneCountInString(name) > 2*maxHintNameRunes {
		return "" // far longer than any known name; not worth the distance
	}
	lower := strings.ToLower(name)
	best, bestDist := "", 3
	if utf8.RuneCountInString(name) <= 5 {
		bestDist = 2
	}
	for _, k := range known {
		if d := editDistance(lower, strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
