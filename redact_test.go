package ipass

import (
	"errors"
	"testing"
)

func TestRedacted(t *testing.T) {
	internal := errors.New("disk on fire")
	tests := []struct {
		name string
		err  error
		want string // message after Redacted
	}{
		{"values left out, fields kept", Errorf(CodeParamIllegal, "%s: %q is not one of %s", Field("status"), "SECRET", Field("A, B")), `status: … is not one of A, B`},
		{"numbers too", Errorf(CodeParamIllegal, "endDate: %d is before startDate %d", 4102444800000, 1735689600000), "endDate: … is before startDate …"},
		{"no arguments", Errorf(CodeParamIllegal, "userId or openId is required"), "userId or openId is required"},
		{"pass not found", PassNotFound("bizSerialId", "SECRET"), "bizSerialId …: pass not found"},
		{"not made by Errorf", &Error{Code: CodeParamIllegal, Message: "value SECRET"}, withheld},
		{"twice", Redacted(Errorf(CodeAccessDenied, "merchantId %s is not a merchant of this client", "SECRET")), "merchantId … is not a merchant of this client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redacted(tt.err)
			if ErrorCode(got) != ErrorCode(tt.err) || ErrorMessage(got) != tt.want {
				t.Fatalf("Redacted = %s %q, want %s %q", ErrorCode(got), ErrorMessage(got), ErrorCode(tt.err), tt.want)
			}
		})
	}
	if Redacted(internal) != internal || Redacted(nil) != nil {
		t.Fatal("internal errors and nil must pass unchanged")
	}
}
