package ipass

import (
	"errors"
	"strings"
	"testing"
)

func TestHintUnknownFields(t *testing.T) {
	failure := Errorf(CodeParamIllegal, "%s: must be a JSON string", Field("templateCode"))
	body := func(keys ...string) Body {
		b := Body{}
		for _, k := range keys {
			b[k] = []byte(`"SECRET"`)
		}
		return b
	}
	long := strings.Repeat("y", 60)
	tests := []struct {
		name string
		b    Body
		want string // the message after the original one; "" = unchanged
	}{
		{"NoUnknown", body("merchantId", "dataInfo"), ""},
		{"CaseOnly", body("merchantId", "datainfo"), "; ignored unknown field datainfo; did you mean dataInfo?"},
		{"Typo", body("endDat"), "; ignored unknown field endDat; did you mean endDate?"},
		{"Transposed", body("tempalteCode"), "; ignored unknown field tempalteCode; did you mean templateCode?"},
		{"NothingClose", body("colour"), "; ignored unknown field colour"},
		{"ShortNotGuessed", body("ty"), "; ignored unknown field ty"},
		{"Quoted", body("a b\n"), `; ignored unknown field "a b\n"`},
		{"Cut", body(long), "; ignored unknown field " + strings.Repeat("y", 40) + "…"},
		{"Several", body("datainfo", "b", "c", "d", "e"), "; ignored unknown fields b, c, d and 2 more"},
		{"SeveralWithGuess", body("datainfo", "typ"), "; ignored unknown fields datainfo (did you mean dataInfo?), typ (did you mean type?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := HintUnknownFields(failure, tt.b, CreateFields)
			if got := ErrorMessage(err); got != failure.Message+tt.want {
				t.Errorf("message %q, want %q", got, failure.Message+tt.want)
			}
			if ErrorCode(err) != CodeParamIllegal || strings.Contains(ErrorMessage(err), "SECRET") {
				t.Errorf("code %s, message %q: want the same code and no value", ErrorCode(err), ErrorMessage(err))
			}
			// The redacted message (encrypted requests) names no request key.
			if got := ErrorMessage(Redacted(err)); got != "templateCode: must be a JSON string" {
				t.Errorf("redacted %q", got)
			}
		})
	}
	// Success and internal errors are never touched.
	if HintUnknownFields(nil, body("datainfo"), CreateFields) != nil {
		t.Error("a success got a hint")
	}
	internal := errors.New("disk on fire")
	if HintUnknownFields(internal, body("datainfo"), CreateFields) != internal {
		t.Error("an internal error got a hint")
	}
	// Bounded whatever the body holds.
	many := Body{}
	for i := range 1000 {
		many[strings.Repeat("k", 200)+string(rune('a'+i%26))+strings.Repeat("z", i)] = []byte("1")
	}
	if n := len(ErrorMessage(HintUnknownFields(failure, many, CreateFields))); n > len(failure.Message)+200 {
		t.Errorf("message of %d bytes for a body of 1000 long unknown keys", n)
	}
}
