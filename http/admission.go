package http

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/ipass-dev/ipass"
)

// DefaultMaxRequestDuration is the longest a request may take from its
// arrival (headers read) to its write: the body's read timeout of
// [Server.HTTPServer] (30 s) plus room for a slow database.
const DefaultMaxRequestDuration = time.Minute

// DefaultMaxClockSkew is how far apart the clocks of the server processes
// sharing one database may be. NTP keeps them within milliseconds; this is
// the margin for a host whose clock has drifted.
const DefaultMaxClockSkew = time.Minute

func (s *Server) maxRequestDuration() time.Duration {
	if s.MaxRequestDuration > 0 {
		return s.MaxRequestDuration
	}
	return DefaultMaxRequestDuration
}

func (s *Server) maxClockSkew() time.Duration {
	if s.MaxClockSkew > 0 {
		return s.MaxClockSkew
	}
	return DefaultMaxClockSkew
}

// admission is G10 and G11 for a request that passed G1–G9: keyed on the
// signed content, so a re-encoded ECDSA signature is a replay too.
//
// At most once: the window check (G8) passed at arrival, so no copy of this
// request can pass it after Request-Time + W by this clock, nor be written
// after that + MaxRequestDuration (the Deadline, checked by the store after
// its INSERT decided). Another process's pruner, whose clock may be up to
// MaxClockSkew ahead, therefore deletes the record only once no copy can
// still be written: KeepUntil is Request-Time + W + MaxRequestDuration +
// MaxClockSkew. The record's uniqueness never depends on its age.
func (s *Server) admission(client *ipass.Client, content []byte, requestTime, arrived time.Time) *ipass.Admission {
	digest := sha256.Sum256(content)
	return &ipass.Admission{
		ClientID:  client.ID,
		Digest:    digest[:],
		KeepUntil: requestTime.Add(s.RequestTimeWindow + s.maxRequestDuration() + s.maxClockSkew()),
		Deadline:  arrived.Add(s.maxRequestDuration()),
		RateLimit: client.RateLimit,
		Arrived:   arrived,
	}
}

// settle turns the admission's outcome into the request's result. When the
// operation wrote nothing (a query, or a request refused before its write),
// the admission is recorded now, alone: a refused request has spent its
// signature too. An internal failure records nothing — nothing was executed,
// and the client retries with a fresh signature anyway.
//
// The outcome outranks the operation's result, as the order G10, G11, G12,
// operation requires: a replay is REPEAT_REQUEST whatever its body would
// now get.
func (s *Server) settle(ctx context.Context, x *exchange, a *ipass.Admission, err error) error {
	if a == nil {
		return err
	}
	if a.Outcome == ipass.AdmissionPending {
		if err != nil && ipass.ErrorCode(err) == ipass.CodeUnknownException {
			return err
		}
		if aerr := s.Gate.Admit(ctx, a); aerr != nil {
			return fmt.Errorf("record request: %w", aerr)
		}
	}
	switch a.Outcome {
	case ipass.Replayed:
		return ipass.Errorf(ipass.CodeRepeatRequest, "Signature: the same signed request was already received; re-sign with a fresh Request-Time")
	case ipass.RateLimited:
		x.retryAfter = a.RetryAfter
		return ipass.Errorf(ipass.CodeTrafficExceedLimit, "Client-Id: rate limit of %d requests per second exceeded", a.RateLimit)
	}
	return err
}
