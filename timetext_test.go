package ipass

import "testing"

func TestMillisString(t *testing.T) {
	for _, tt := range []struct {
		ms   int64
		want string
	}{
		{1700000000000, "1700000000000 (2023-11-14T22:13:20Z)"},
		{1735689599999, "1735689599999 (2024-12-31T23:59:59.999Z)"},
		{1735689600500, "1735689600500 (2025-01-01T00:00:00.5Z)"},
		{1700000000, "1700000000 (1970-01-20T16:13:20Z)"}, // seconds sent as milliseconds: the 1970 date says so
		{0, "0 (1970-01-01T00:00:00Z)"},
		{253402300800000, "253402300800000"},         // year 10000: no ISO 8601 date
		{-62135596800001, "-62135596800001"},         // before year 1
		{9223372036854775807, "9223372036854775807"}, // the largest Request-Time that parses
	} {
		if got := Millis(tt.ms).String(); got != tt.want {
			t.Errorf("Millis(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
	// A redacted message leaves the value out, date included.
	err := Errorf(CodeParamIllegal, "endDate: %v is in the past", Millis(1735689600000))
	if got := ErrorMessage(Redacted(err)); got != "endDate: … is in the past" {
		t.Errorf("redacted %q", got)
	}
}

func TestEpochSecondsHint(t *testing.T) {
	for _, tt := range []struct {
		in   string
		hint bool
	}{
		{"1700000000", true},     // 10 digits: 2023 in seconds
		{"946684800", true},      // 9 digits: 2000 in seconds
		{"1700000000000", false}, // milliseconds
		{"17000000000", false},   // 11 digits
		{"12345678", false},
		{"17000000a0", false},
		{"", false},
		{"2025-01-01", false},
	} {
		if got := EpochSecondsHint(tt.in); (got != "") != tt.hint {
			t.Errorf("EpochSecondsHint(%q) = %q, want a hint: %v", tt.in, got, tt.hint)
		}
	}
}
