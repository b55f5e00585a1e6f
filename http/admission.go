package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
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

// DefaultMaxKeptAnswer is the largest answer kept for repeats, in bytes of
// the response body before encryption: a repeat of a request whose answer
// was larger is answered REPEAT_REQUEST, as the store's rows stay small.
const DefaultMaxKeptAnswer = 64 << 10

// repeatWait is how long a repeat waits for the first delivery's answer
// while that delivery is still running, and repeatPoll how often it looks.
const (
	repeatWait = time.Second
	repeatPoll = 25 * time.Millisecond
)

func (s *Server) maxKeptAnswer() int {
	if s.MaxKeptAnswer > 0 {
		return s.MaxKeptAnswer
	}
	return DefaultMaxKeptAnswer
}

// answerOf is the answer to keep for err, which this request is answered:
// every answer but an internal error's (nothing was recorded then) and the
// rate limit's (see settle). Too large an answer is not kept: its repeats
// are answered REPEAT_REQUEST.
func (s *Server) answerOf(x *exchange, err error) *ipass.Answer {
	code, body := s.answerBody(x, err)
	ans := &ipass.Answer{State: ipass.AnswerKept, Code: code, Body: body, Envelope: x.envelope, KeyLen: x.aesKeyLen}
	if code == ipass.CodeUnknownException || len(body) > s.maxKeptAnswer() {
		ans = &ipass.Answer{State: ipass.AnswerNone, Envelope: x.envelope}
	}
	return ans
}

// settle turns the admission's outcome into the request's result. When the
// operation wrote nothing (a query, or a request refused before its write),
// the admission is recorded now, alone, with the answer: a refused request
// has spent its signature too. An internal failure records nothing —
// nothing was executed, and the client retries with a fresh signature anyway.
//
// The outcome outranks the operation's result, as the order G10, G11, G12,
// operation requires: a replay is answered the first delivery's answer (see
// repeat) whatever its body would now get.
func (s *Server) settle(ctx context.Context, x *exchange, a *ipass.Admission, err error) error {
	if a == nil {
		return err
	}
	if a.Outcome == ipass.AdmissionPending {
		if err != nil && ipass.ErrorCode(err) == ipass.CodeUnknownException {
			return err
		}
		if x.keyReusedBySame {
			// The same request may be in flight: its first delivery used
			// the wrapped key and has not recorded its admission yet.
			// Waiting for it lets this delivery be answered as its repeat
			// instead of taking the record with REPEAT_REQUEST first.
			if _, werr := s.awaitAnswer(ctx, a, nil); werr != nil {
				return werr
			}
		}
		a.Answer = s.answerOf(x, err)
		if aerr := s.Gate.Admit(ctx, a); aerr != nil {
			return fmt.Errorf("record request: %w", aerr)
		}
	}
	switch a.Outcome {
	case ipass.Replayed:
		return s.repeat(ctx, x, a)
	case ipass.RateLimited:
		x.retryAfter = a.RetryAfter
		return ipass.Errorf(ipass.CodeTrafficExceedLimit, "Client-Id: rate limit of %d requests per second exceeded", a.RateLimit)
	}
	// Admitted. The write that recorded the admission keeps the answer in
	// its own transaction when it can tell it (AnswerOf); when it could not
	// (a create answered from an existing pass) it is kept now.
	ans := a.Kept
	if ans == nil {
		ans = s.answerOf(x, err)
		if kerr := s.Gate.KeepAnswer(ctx, a.ClientID, a.Digest, ans); kerr != nil {
			// The operation ran: answer it. Its repeats find no answer
			// and are answered REPEAT_REQUEST.
			s.logger().ErrorContext(ctx, "keep answer", "tracer_id", x.tracerID, "client_id", x.clientID, "err", kerr)
		}
	}
	if ans.State == ipass.AnswerKept {
		x.code, x.body = ans.Code, ans.Body
	}
	return err
}

// repeat answers a delivery of a request already recorded: with the first
// delivery's answer, kept with the replay record, freshly signed (and
// encrypted again for the client) by respond. Nothing is executed. When no
// answer is kept, or the delivery is not byte-identical (another Encrypt
// header), the answer is REPEAT_REQUEST.
func (s *Server) repeat(ctx context.Context, x *exchange, a *ipass.Admission) error {
	ans, err := s.awaitAnswer(ctx, a, a.Replay)
	if err != nil {
		return err
	}
	switch {
	case ans == nil || ans.State == ipass.AnswerNone:
		return ipass.Errorf(ipass.CodeRepeatRequest, "Signature: the same signed request was already received and no answer is kept for it; re-sign with a fresh Request-Time")
	case ans.State == ipass.AnswerPending:
		return ipass.Errorf(ipass.CodeRepeatRequest, "Signature: the same signed request is still being executed; send it again later for its answer")
	case !bytes.Equal(ans.Envelope, x.envelope):
		return ipass.Errorf(ipass.CodeRepeatRequest, "Signature: the same signed request was already received with another Encrypt header; re-sign with a fresh Request-Time")
	}
	x.code, x.body, x.aesKeyLen = ans.Code, ans.Body, ans.KeyLen
	if ans.Code == ipass.CodeSuccess {
		return nil
	}
	// For the log and metrics; the body sent is the kept one.
	return ipass.Errorf(ans.Code, "repeat: answered with the first delivery's answer")
}

// awaitAnswer waits, up to repeatWait, while the answer of a's request is
// pending (or, ans nil, not recorded yet), and returns it as last read.
func (s *Server) awaitAnswer(ctx context.Context, a *ipass.Admission, ans *ipass.Answer) (*ipass.Answer, error) {
	deadline := time.Now().Add(repeatWait)
	for first := true; ; first = false {
		if !first || ans == nil {
			got, err := s.Gate.RepeatAnswer(ctx, a.ClientID, a.Digest)
			switch {
			case errors.Is(err, ipass.ErrNotFound):
				ans = nil
			case err != nil:
				return nil, fmt.Errorf("read repeat answer: %w", err)
			default:
				ans = got
			}
		}
		if (ans != nil && ans.State != ipass.AnswerPending) || !time.Now().Before(deadline) {
			return ans, nil
		}
		t := time.NewTimer(repeatPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
