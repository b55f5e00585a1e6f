package ipass

import (
	"strconv"
	"time"
)

// Millis is epoch milliseconds as an [Errorf] argument. It prints as the
// number followed by the instant in ISO 8601 UTC, e.g.
// "1700000000000 (2023-11-14T22:13:20Z)", so that whoever reads a message
// about dates (endDate in the past, Request-Time outside the window) sees
// the date without converting it. Like every argument but [Field], it is
// left out of a redacted message.
type Millis int64

func (m Millis) String() string {
	n := strconv.FormatInt(int64(m), 10)
	t := time.UnixMilli(int64(m)).UTC()
	if y := t.Year(); y < 1 || y > 9999 { // ISO 8601 has four-digit years
		return n
	}
	return n + " (" + t.Format(time.RFC3339Nano) + ")"
}

// EpochSecondsHint explains the commonest timestamp mistake: Unix seconds
// (9 or 10 digits, 1973–2286) where the protocol takes milliseconds. It
// returns "; it looks like Unix seconds…" to append to the message about
// the value s, or "" when s does not look like seconds.
func EpochSecondsHint(s string) string {
	if n := len(s); n < 9 || n > 10 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	return "; it looks like Unix seconds: send milliseconds (seconds × 1000)"
}
