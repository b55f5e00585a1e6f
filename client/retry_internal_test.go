package client

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestRetryable(t *testing.T) {
	c := &Client{retries: 3, backoff: 100 * time.Millisecond}
	u := func(retryAfter string) error {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &ResultError{ResultStatus: "U", Response: &Response{Header: h}}
	}
	for _, tc := range []struct {
		name     string
		err      error
		attempt  int
		retry    bool
		min, max time.Duration
	}{
		{"U", u(""), 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"UBackoffGrows", u(""), 3, true, 200 * time.Millisecond, 400 * time.Millisecond},
		{"URetryAfter", u("2"), 1, true, 2 * time.Second, 2 * time.Second},
		{"URetryAfterCapped", u("3600"), 1, true, maxRetryAfter, maxRetryAfter},
		{"URetryAfterGarbage", u("soon"), 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"ULastAttempt", u(""), 4, false, 0, 0},
		{"F", &ResultError{ResultStatus: "F"}, 1, false, 0, 0},
		{"Transport", &ProtocolError{Check: CheckTransport}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"TransportCancelled", &ProtocolError{Check: CheckTransport, Err: fmt.Errorf("x: %w", context.Canceled)}, 1, false, 0, 0},
		// The HTTP client's own timeout, the caller's context still alive: one more unanswered attempt.
		{"TransportAttemptTimeout", &ProtocolError{Check: CheckTransport, Err: context.DeadlineExceeded}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"TransportCallerDeadline", &ProtocolError{Check: CheckTransport, Err: context.DeadlineExceeded}, 1, false, 0, 0},
		{"Unsigned502", &ProtocolError{Check: CheckSignatureMissing, StatusCode: 502}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		// An answer that cannot be trusted leaves the outcome unknown: ask again (the writes are idempotent).
		{"Unsigned200", &ProtocolError{Check: CheckSignatureMissing, StatusCode: 200}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"BadSignature", &ProtocolError{Check: CheckSignatureInvalid, StatusCode: 503}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"StaleAnswer", &ProtocolError{Check: CheckResponseTimeWindow}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"NoServerKey", &ProtocolError{Check: CheckNoServerKey}, 1, false, 0, 0},
		{"SuccessWithoutPassID", &ProtocolError{Check: CheckResponseField}, 1, false, 0, 0},
		{"LocalError", fmt.Errorf("sign: no key"), 1, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.name == "TransportCallerDeadline" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Second))
				defer cancel()
			}
			wait, retry := c.retryable(ctx, tc.err, tc.attempt)
			if retry != tc.retry || wait < tc.min || wait > tc.max {
				t.Errorf("retryable = %s, %v; want %v within [%s, %s]", wait, retry, tc.retry, tc.min, tc.max)
			}
		})
	}
	// The wait never exceeds maxBackoff, however many retries are allowed.
	c.retries = 100
	if wait, _ := c.retryable(context.Background(), u(""), 60); wait > maxBackoff {
		t.Errorf("attempt 60 waits %s", wait)
	}
}

// TestRequestTimeUnique: a frozen clock still gives strictly increasing
// Request-Times, from any number of goroutines.
func TestRequestTimeUnique(t *testing.T) {
	frozen := time.Date(2025, 1, 1, 8, 0, 0, 0, time.FixedZone("", 8*3600))
	c := &Client{now: func() time.Time { return frozen }}
	seen := make(chan int64, 400)
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 100 {
				seen <- c.requestTime().UnixMilli()
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	close(seen)
	set := map[int64]bool{}
	for ms := range seen {
		if set[ms] {
			t.Fatalf("Request-Time %d issued twice", ms)
		}
		set[ms] = true
	}
	if got := c.requestTime(); got.Location() != frozen.Location() || got.Sub(frozen) != 400*time.Millisecond {
		t.Errorf("401st time %v, want frozen + 400ms in the clock's zone", got)
	}
}
