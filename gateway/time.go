package gateway

import (
	"fmt"
	"strconv"
	"time"
)

// ParseTime parses a Request-Time or Response-Time value. It accepts exactly
// the forms of spec 2.3:
//
//	2023-12-18T02:33:31Z              RFC 3339, 'T' and 'Z' in either case
//	2024-05-22T06:42:21+05:30         offset ±hh:mm
//	2024-05-22T06:42:21+0530          offset ±hhmm (Java's default pattern)
//	2024-11-27T20:08:00.123456+08:00  1 to 9 fraction digits, any zone above
//	1716340341000                     epoch milliseconds, 1 to 19 ASCII digits
//
// Anything else is PARAM_ILLEGAL with Part "Request-Time": no zone (the
// instant would depend on the receiver's clock zone), a space for 'T', more
// than 9 fraction digits, a signed or fractional number, out-of-range fields
// (including leap second 60, which time.Time cannot hold). A caller parsing
// Response-Time may set Part on the returned *Error.
//
// The result keeps the sender's offset; compare instants with Time.Equal.
// Only the window check uses it: the signature covers the header text.
func ParseTime(s string) (time.Time, error) {
	if len(s) >= 1 && len(s) <= 19 && allDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, timeError(s, "epoch milliseconds out of range")
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	t, problem := parseRFC3339(s)
	if problem != "" {
		return time.Time{}, timeError(s, problem)
	}
	return t, nil
}

func timeError(s, problem string) error {
	return newError(ReasonParamIllegal, "Request-Time", fmt.Sprintf("%.40q: %s", s, problem), nil)
}

// FormatTime formats t as the server writes Response-Time: RFC 3339 in UTC
// with exactly three fraction digits, e.g. 2026-11-21T23:12:02.123Z. Fixed
// width keeps the signed content's length predictable across responses.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

const wantRFC3339 = "want yyyy-mm-ddThh:mm:ss[.fraction] with Z or ±hh:mm or ±hhmm, or epoch milliseconds"

// parseRFC3339 is a strict hand-written parser: time.Parse accepts
// variations the spec rejects (long fractions) and lacks ±hhmm.
func parseRFC3339(s string) (time.Time, string) {
	// yyyy-mm-ddThh:mm:ss is 19 bytes, then fraction and zone.
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, wantRFC3339
	}
	if s[10] != 'T' && s[10] != 't' {
		if s[10] == ' ' {
			return time.Time{}, "date and time separated by a space, want 'T'"
		}
		return time.Time{}, wantRFC3339
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, wantRFC3339
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, "date or time field out of range"
	}
	rest := s[19:]
	nsec := 0
	if rest != "" && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		nd := i - 1
		switch {
		case nd == 0:
			return time.Time{}, "empty fraction"
		case nd > 9:
			return time.Time{}, "fraction of more than 9 digits"
		}
		nsec, _ = digits(rest[1:i])
		for k := nd; k < 9; k++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	var loc *time.Location
	switch {
	case rest == "Z" || rest == "z":
		loc = time.UTC
	case len(rest) == 6 && rest[3] == ':' || len(rest) == 5:
		sign := rest[0]
		if sign != '+' && sign != '-' {
			return time.Time{}, wantRFC3339
		}
		mmAt := 3
		if len(rest) == 6 {
			mmAt = 4
		}
		hh, ok1 := digits(rest[1:3])
		mm, ok2 := digits(rest[mmAt : mmAt+2])
		if !ok1 || !ok2 {
			return time.Time{}, wantRFC3339
		}
		if hh > 23 || mm > 59 {
			return time.Time{}, "zone offset out of range"
		}
		off := hh*3600 + mm*60
		if sign == '-' {
			off = -off
		}
		if off == 0 {
			loc = time.UTC
		} else {
			loc = time.FixedZone("", off)
		}
	case rest == "":
		return time.Time{}, "no time zone"
	default:
		return time.Time{}, wantRFC3339
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), ""
}

// digits parses a run of ASCII digits (at most 9, so no overflow).
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
