package wallet

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ipass-dev/ipass"
)

// TestFormatField: typed values in the holder's words, in both locales.
func TestFormatField(t *testing.T) {
	hk, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		t.Fatal(err)
	}
	plus8 := time.FixedZone("", 8*3600)
	for _, c := range []struct {
		ft     ipass.FieldType
		raw    string
		locale string
		loc    *time.Location
		want   string
	}{
		{ipass.FieldInteger, `20500`, LocaleEN, hk, "20,500"},
		{ipass.FieldInteger, `"19999"`, LocaleZH, hk, "19,999"},
		{ipass.FieldInteger, `-1234567`, LocaleEN, hk, "-1,234,567"},
		{ipass.FieldInteger, `100`, LocaleEN, hk, "100"},
		{ipass.FieldDecimal, `"12345.678"`, LocaleEN, hk, "12,345.678"},
		{ipass.FieldMoney, `{"cent":50000,"currency":"HKD"}`, LocaleEN, hk, "HK$500.00"},
		{ipass.FieldDatetime, `1893411000000`, LocaleEN, hk, "2029-12-31 19:30 HKT"},
		{ipass.FieldDatetime, `"1893411000000"`, LocaleZH, time.UTC, "2029-12-31 11:30 UTC"},
		{ipass.FieldDatetime, `1893411000000`, LocaleEN, plus8, "2029-12-31 19:30 UTC+08:00"},
		{ipass.FieldDate, `"1990-07-01"`, LocaleEN, hk, "1990-07-01"},
		{ipass.FieldDate, `1893411000000`, LocaleEN, hk, "2029-12-31 HKT"},
		{ipass.FieldList, `["F7","F8"]`, LocaleEN, hk, "F7, F8"},
		{ipass.FieldList, `["粵語","IMAX"]`, LocaleZH, hk, "粵語、IMAX"},
		{ipass.FieldList, `[]`, LocaleEN, hk, ""},
		{ipass.FieldBoolean, `true`, LocaleEN, hk, "Yes"},
		{ipass.FieldBoolean, `false`, LocaleZH, hk, "否"},
		{ipass.FieldText, `"Cathay Pacific"`, LocaleEN, hk, "Cathay Pacific"},
		// Stored before the type was given and not fitting it: as written.
		{ipass.FieldInteger, `"lots"`, LocaleEN, hk, "lots"},
		{ipass.FieldUntyped, `["Boarding bay 3"]`, LocaleEN, hk, `["Boarding bay 3"]`},
	} {
		if got := FormatField(json.RawMessage(c.raw), c.ft, c.locale, c.loc); got != c.want {
			t.Errorf("FormatField(%s, %s, %s) = %q, want %q", c.raw, c.ft, c.locale, got, c.want)
		}
	}
}

// TestTypedFieldsAndTimeline: the face leaves out detail-only fields and
// empty lists; the history speaks the holder's words (no API names), lists
// a field only when its shown value changed, and names the zone.
func TestTypedFieldsAndTimeline(t *testing.T) {
	hk, _ := time.LoadLocation("Asia/Hong_Kong")
	tm := &ipass.Template{
		Locales:      []string{"zh_HK", "en_US"},
		Placeholders: []string{"points", "seats", "since"},
		Labels:       map[string]map[string]string{"points": {"zh_HK": "積分", "en_US": "Points"}, "seats": {"en_US": "Seats"}, "since": {"en_US": "Member since"}},
		Fields: map[string]ipass.FieldSpec{"points": {Type: ipass.FieldInteger}, "seats": {Type: ipass.FieldList},
			"since": {Type: ipass.FieldDatetime, Place: ipass.PlaceDetail}},
	}
	p := &ipass.Pass{DataInfo: ipass.DataInfo{"$points_en_US$": json.RawMessage(`20500`), "$seats_en_US$": json.RawMessage(`[]`),
		"$since_en_US$": json.RawMessage(`"1893411000000"`)}}
	if got := Fields(p, tm, LocaleEN, hk, false); len(got) != 1 || got[0] != (Field{"points", "Points", "20,500"}) {
		t.Errorf("face fields %+v, want only Points 20,500", got)
	}
	if got := Fields(p, tm, LocaleEN, hk, true); len(got) != 2 || got[1].Value != "2029-12-31 19:30 HKT" {
		t.Errorf("detail fields %+v, want Points and Member since", got)
	}

	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	hist := []ipass.HistoryEntry{
		{Version: 1, Operation: "createPass", Status: ipass.StatusActive, ChangedAt: 1735689600000, Changes: []ipass.FieldChange{
			{Field: "status", To: raw(`"ACTIVE"`)}, {Field: "dataInfo.$points_en_US$", To: raw(`"19999"`)}}},
		{Version: 2, Operation: "updatePass", Status: ipass.StatusActive, RequestStatus: "UPDATE", UpdateDetailType: "UPDATE_MEMBER_CARD", ChangedAt: 1735689700000,
			Metadata: raw(`{"lastChangedPoints":"19899"}`),
			Changes: []ipass.FieldChange{{Field: "dataInfo.$points_en_US$", From: raw(`"19999"`), To: raw(`20500`)},
				{Field: "dataInfo.$seats_en_US$", From: raw(`"x"`), To: raw(`["x"]`)}}},
		{Version: 3, Operation: "updatePass", Status: ipass.StatusActive, RequestStatus: "UPDATE", ChangedAt: 1735689800000,
			Changes: []ipass.FieldChange{{Field: "dataInfo.$points_en_US$", From: raw(`20500`), To: raw(`"20500"`)}}},
		{Version: 4, Operation: "updatePass", Status: ipass.StatusUsed, RequestStatus: "USED", ChangedAt: 1735689900000,
			Changes: []ipass.FieldChange{{Field: "status", From: raw(`"ACTIVE"`), To: raw(`"USED"`)}}},
	}
	es := Timeline(hist, tm, LocaleEN, hk)
	var lines []string
	for _, e := range es {
		line := e.What
		for _, c := range e.Changes {
			line += " | " + c.Field + " " + c.From + " → " + c.To
		}
		lines = append(lines, line)
	}
	want := []string{"Used | Status Active → Used", "Updated", "Updated | Points 19,999 → 20,500", "Created | Status  → Active | Points  → 19,999"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		for _, api := range []string{"UPDATE", "USED", "ACTIVE", "createPass", "updatePass", "UPDATE_MEMBER_CARD"} {
			if strings.Contains(l, api) {
				t.Errorf("%q shows the API name %s", l, api)
			}
		}
	}
	if n := es[2].Notes; len(n) != 1 || n[0].To != "19,899" {
		t.Errorf("v2 notes %+v, want Points changed 19,899", n)
	}
	if zh := Timeline(hist[3:], tm, LocaleZH, hk); zh[0].What != "已使用" {
		t.Errorf("zh_HK: %q, want 已使用", zh[0].What)
	}
}
