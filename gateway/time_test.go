package gateway

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // instant in UTC RFC 3339 nano; "" when rejected
		offset int    // seconds east of UTC the result should keep
	}{
		{"OKZulu", "2023-12-18T02:33:31Z", "2023-12-18T02:33:31Z", 0},
		{"OKLowerCaseTAndZ", "2023-12-18t02:33:31z", "2023-12-18T02:33:31Z", 0},
		{"OKOffsetColon", "2024-05-22T06:42:21+05:30", "2024-05-22T01:12:21Z", 19800},
		{"OKOffsetNoColon", "2024-05-22T06:42:21+0530", "2024-05-22T01:12:21Z", 19800},
		{"OKNegativeOffset", "2024-05-21T17:12:21-08:00", "2024-05-22T01:12:21Z", -28800},
		{"OKNegativeOffsetNoColon", "2024-05-21T17:12:21-0800", "2024-05-22T01:12:21Z", -28800},
		{"OKZeroOffset", "2024-05-22T01:12:21+00:00", "2024-05-22T01:12:21Z", 0},
		{"OKMinusZeroOffset", "2024-05-22T01:12:21-0000", "2024-05-22T01:12:21Z", 0},
		{"OKMaxOffset", "2024-05-22T23:59:00+23:59", "2024-05-22T00:00:00Z", 86340},
		{"OKFraction1", "2024-05-22T06:42:21.1Z", "2024-05-22T06:42:21.1Z", 0},
		{"OKFraction3Offset", "2024-05-22T06:42:21.123+08:00", "2024-05-21T22:42:21.123Z", 28800},
		{"OKFraction6", "2024-11-27T20:08:00.123456+08:00", "2024-11-27T12:08:00.123456Z", 28800},
		{"OKFraction9NoColon", "2024-11-27T20:08:00.123456789+0800", "2024-11-27T12:08:00.123456789Z", 28800},
		{"OKFractionZeros", "2024-11-27T20:08:00.000Z", "2024-11-27T20:08:00Z", 0},
		{"OKLeapDay", "2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", 0},
		{"OKLeapDay2000", "2000-02-29T23:59:59Z", "2000-02-29T23:59:59Z", 0},
		{"OKYear0000", "0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", 0},
		{"OKEpochMillis", "1716340341000", "2024-05-22T01:12:21Z", 0},
		{"OKEpochMillisFraction", "1716360141123", "2024-05-22T06:42:21.123Z", 0},
		{"OKEpochZero", "0", "1970-01-01T00:00:00Z", 0},
		{"OKEpochOneDigit", "7", "1970-01-01T00:00:00.007Z", 0},
		{"OKEpochLeadingZeros", "0001716340341000", "2024-05-22T01:12:21Z", 0},
		{"OKEpoch19DigitsMaxInt64", "9223372036854775807", time.UnixMilli(9223372036854775807).UTC().Format(time.RFC3339Nano), 0},

		{"ErrEmpty", "", "", 0},
		{"ErrNoZone", "2024-05-22T06:44:21", "", 0},
		{"ErrNoZoneWithFraction", "2024-05-22T06:44:21.123", "", 0},
		{"ErrSpaceInsteadOfT", "2024-05-22 06:44:22+05:30", "", 0},
		{"ErrSpaceInsteadOfTZulu", "2024-05-22 06:44:22Z", "", 0},
		{"ErrSlashesSpec812", "2025/01/01 08:00:00", "", 0},
		{"ErrFraction10Digits", "2024-05-22T06:44:22.1234567890Z", "", 0},
		{"ErrFractionEmpty", "2024-05-22T06:44:22.Z", "", 0},
		{"ErrFractionComma", "2024-05-22T06:44:22,123Z", "", 0},
		{"ErrEpoch20Digits", "12345678901234567890", "", 0},
		{"ErrEpoch19DigitsOverflow", "9999999999999999999", "", 0},
		{"ErrEpochNegative", "-1716340341000", "", 0},
		{"ErrEpochPlusSign", "+1716340341000", "", 0},
		{"ErrEpochFraction", "1716340341000.5", "", 0},
		{"ErrEpochExponent", "1.7e12", "", 0},
		{"ErrEpochLeadingSpace", " 1716340341000", "", 0},
		{"ErrEpochTrailingSpace", "1716340341000 ", "", 0},
		{"ErrEpochFullWidthDigits", "１７１６３４０３４１０００", "", 0},
		{"ErrOffsetHoursOnly", "2024-05-22T06:44:22+05", "", 0},
		{"ErrOffsetOneDigitHour", "2024-05-22T06:44:22+5:30", "", 0},
		{"ErrOffsetWithSeconds", "2024-05-22T06:44:22+05:30:00", "", 0},
		{"ErrOffsetHour24", "2024-05-22T06:44:22+24:00", "", 0},
		{"ErrOffsetMinute60", "2024-05-22T06:44:22+05:60", "", 0},
		{"ErrOffsetNoSign", "2024-05-22T06:44:22 05:30", "", 0},
		{"ErrSpaceBeforeZone", "2024-05-22T06:44:22 Z", "", 0},
		{"ErrZoneName", "2024-05-22T06:44:22UTC", "", 0},
		{"ErrTrailingJunk", "2024-05-22T06:44:22Zjunk", "", 0},
		{"ErrLeadingSpace", " 2024-05-22T06:44:22Z", "", 0},
		{"ErrNoSeconds", "2024-05-22T06:44Z", "", 0},
		{"ErrDateOnly", "2024-05-22", "", 0},
		{"ErrShortMonth", "2024-5-22T06:44:22Z", "", 0},
		{"ErrTwoDigitYear", "24-05-22T06:44:22Z", "", 0},
		{"ErrMonth13", "2024-13-01T00:00:00Z", "", 0},
		{"ErrMonth00", "2024-00-01T00:00:00Z", "", 0},
		{"ErrDay00", "2024-01-00T00:00:00Z", "", 0},
		{"ErrFeb30", "2024-02-30T00:00:00Z", "", 0},
		{"ErrFeb29NonLeap", "2023-02-29T00:00:00Z", "", 0},
		{"ErrFeb29Century", "1900-02-29T00:00:00Z", "", 0},
		{"ErrApril31", "2024-04-31T00:00:00Z", "", 0},
		{"ErrHour24", "2024-05-22T24:00:00Z", "", 0},
		{"ErrMinute60", "2024-05-22T23:60:00Z", "", 0},
		{"ErrLeapSecond", "2016-12-31T23:59:60Z", "", 0},
		{"ErrSignedYear", "+2024-05-22T06:44:22Z", "", 0},
		{"ErrHTTPDate", "Wed, 22 May 2024 01:12:21 GMT", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if tt.want == "" {
				checkError(t, err, ReasonParamIllegal, "Request-Time")
				return
			}
			if err != nil {
				t.Fatalf("ParseTime(%q): %v", tt.in, err)
			}
			if s := got.UTC().Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("ParseTime(%q) = %s, want %s", tt.in, s, tt.want)
			}
			if _, off := got.Zone(); off != tt.offset {
				t.Errorf("ParseTime(%q) offset %d, want %d", tt.in, off, tt.offset)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 22, 7, 12, 2, 123456789, time.FixedZone("HKT", 8*3600)), "2026-11-21T23:12:02.123Z"},
		{time.Date(2026, 11, 21, 23, 12, 2, 0, time.UTC), "2026-11-21T23:12:02.000Z"},
		{time.Date(2024, 2, 29, 0, 0, 0, 999999999, time.UTC), "2024-02-29T00:00:00.999Z"},
	}
	for _, tt := range tests {
		got := FormatTime(tt.in)
		if got != tt.want {
			t.Errorf("FormatTime(%v) = %s, want %s", tt.in, got, tt.want)
		}
		back, err := ParseTime(got)
		if err != nil || !back.Equal(tt.in.Truncate(time.Millisecond)) {
			t.Errorf("ParseTime(FormatTime) = %v, %v; want %v", back, err, tt.in.Truncate(time.Millisecond))
		}
	}
}
