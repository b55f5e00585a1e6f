package ipass_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ipass-dev/ipass"
)

func TestParseHistoryRequest(t *testing.T) {
	tests := []struct {
		body       string
		from, size int
		err        string // part of the PARAM_ILLEGAL message; "" = valid
	}{
		{`{"merchantId":"m","passId":"p"}`, 1, 20, ""},
		{`{"merchantId":"m","bizSerialId":"s","fromVersion":3,"pageSize":100}`, 3, 100, ""},
		{`{"merchantId":"m","passId":"p","fromVersion":"7","pageSize":"1"}`, 7, 1, ""},
		{`{"merchantId":"m","passId":"p","fromVersion":null,"pageSize":""}`, 1, 20, ""},
		{`{"merchantId":"m","passId":"p","pageSize":101}`, 0, 0, "pageSize"},
		{`{"merchantId":"m","passId":"p","pageSize":0}`, 0, 0, "pageSize"},
		{`{"merchantId":"m","passId":"p","pageSize":"+5"}`, 0, 0, "pageSize"},
		{`{"merchantId":"m","passId":"p","fromVersion":1.0}`, 0, 0, "fromVersion"},
		{`{"merchantId":"m","passId":"p","fromVersion":99999999999999999999}`, 0, 0, "fromVersion"},
		{`{"merchantId":"m","passId":"p","fromVersion":[1]}`, 0, 0, "fromVersion"},
		{`{"merchantId":"m"}`, 0, 0, "passId or bizSerialId"},
	}
	for _, tc := range tests {
		b, err := ipass.DecodeBody([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		r, err := ipass.ParseHistoryRequest(b)
		if tc.err != "" {
			var e *ipass.Error
			if !errors.As(err, &e) || e.Code != ipass.CodeParamIllegal || !strings.Contains(e.Message, tc.err) {
				t.Errorf("%s: err %v, want PARAM_ILLEGAL naming %s", tc.body, err, tc.err)
			}
			// The answer to an encrypted request keeps field names only.
			if !errors.As(ipass.Redacted(err), &e) || !strings.Contains(e.Message, tc.err) {
				t.Errorf("%s: redacted %v, want it to still name %s", tc.body, ipass.Redacted(err), tc.err)
			}
			continue
		}
		if err != nil || r.FromVersion != tc.from || r.PageSize != tc.size {
			t.Errorf("%s: %+v, %v; want from %d size %d", tc.body, r, err, tc.from, tc.size)
		}
	}
}

func FuzzParseHistoryRequest(f *testing.F) {
	for _, s := range []string{`{"merchantId":"m","passId":"p","fromVersion":2,"pageSize":"3"}`,
		`{"merchantId":"m","passId":"p","pageSize":-1}`, `{"merchantId":"m","bizSerialId":"s","fromVersion":"１"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ipass.DecodeBody(data)
		if err != nil {
			return
		}
		r, err := ipass.ParseHistoryRequest(b)
		if err != nil {
			if ipass.ErrorCode(err) != ipass.CodeParamIllegal {
				t.Fatalf("not PARAM_ILLEGAL: %v", err)
			}
			return
		}
		if r.FromVersion < 1 || r.PageSize < 1 || r.PageSize > ipass.MaxHistoryPageSize {
			t.Fatalf("accepted out-of-range paging: %+v", r)
		}
	})
}

func TestReplayHistoryRefusesGaps(t *testing.T) {
	v := []ipass.PassVersion{
		{PassID: "p", Version: 1, Changes: json.RawMessage(`{"status":"ACTIVE"}`)},
		{PassID: "p", Version: 3, Changes: json.RawMessage(`{"status":"USED"}`)},
	}
	if _, err := ipass.ReplayHistory(v); err == nil {
		t.Fatal("a missing version 2 went unnoticed")
	}
	v[1].Version = 2
	v[1].Changes = json.RawMessage(`{"dataInfo":[1]}`)
	if _, err := ipass.ReplayHistory(v); err == nil {
		t.Fatal("a dataInfo that is not an object went unnoticed")
	}
}

func TestPageHistory(t *testing.T) {
	all := make([]ipass.HistoryEntry, 5)
	for i := range all {
		all[i].Version = i + 1
	}
	for _, tc := range []struct{ from, size, first, n, next int }{
		{1, 2, 1, 2, 3}, {3, 2, 3, 2, 5}, {5, 2, 5, 1, 0}, {1, 5, 1, 5, 0}, {6, 2, 0, 0, 0}, {100, 20, 0, 0, 0},
	} {
		p := ipass.PageHistory("p", all, tc.from, tc.size)
		if len(p.Versions) != tc.n || p.NextFromVersion != tc.next || p.LatestVersion != 5 || (tc.n > 0 && p.Versions[0].Version != tc.first) {
			t.Errorf("from %d size %d: %d versions, next %d", tc.from, tc.size, len(p.Versions), p.NextFromVersion)
		}
	}
}
