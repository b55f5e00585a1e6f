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
		{"TransportDeadline", &ProtocolError{Check: CheckTransport, Err: context.DeadlineExceeded}, 1, false, 0, 0},
		{"Unsigned502", &ProtocolError{Check: CheckSignatureMissing, StatusCode: 502}, 1, true, 50 * time.Millisecond, 100 * time.Millisecond},
		{"Unsigned200", &ProtocolError{Check: CheckSignatureMissing, StatusCode: 200}, 1, false, 0, 0},
		{"BadSignature", &ProtocolError{Check: CheckSignatureInvalid, StatusCode: 503}, 1, false, 0, 0},
		{"LocalError", fmt.Errorf("sign: no key"), 1, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, retry := c.retryable(tc.err, tc.attempt)
			if retry != tc.retry || wait < tc.min || wait > tc.max {
				t.Errorf("retryable = %s, %v; want %v within [%s, %s]", wait, retry, tc.retry, tc.min, tc.max)
			}
		})
	}
	// The wait never exceeds maxBackoff, however many retries are allowed.
	c.retries = 100
	if wait, _ := c.retryable(u(""), 60); wait > maxBackoff {
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
