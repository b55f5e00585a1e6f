package ipass

import (
	"context"
	"errors"
	"time"
)

// Admission is the stateful part of the gateway checks for one request whose
// signature verified: the replay record (G10) and the rate-limit token (G11).
// It is recorded in the same write transaction as the operation's own change
// (see [WithAdmission]), so a request costs one commit, and either everything
// it did is durable or nothing is.
//
// At most once: the replay record is unique on (ClientID, Digest) and is
// never taken over, however old; it is only deleted by
// [Gate.PruneRequests] after KeepUntil. The server sets KeepUntil past the
// last instant at which any copy of the request could still be written (its
// window, plus the longest a request may take from arrival to its write, plus
// the clock skew allowed between processes) and refuses, through Deadline, a
// request whose write comes later than that.
type Admission struct {
	ClientID string
	// Digest is SHA-256 of the signed content; nil records no replay record.
	Digest []byte
	// KeepUntil is the earliest instant the replay record may be pruned.
	KeepUntil time.Time
	// Deadline, when set, is the latest instant (by the store's clock) at
	// which the record may be written; a later write fails as an internal
	// error and records nothing, so the request was not executed.
	Deadline time.Time
	// RateLimit is the client's tokens per second; 0 means unlimited.
	RateLimit int
	// Arrived is the request's arrival: the rate bucket refills up to it.
	Arrived time.Time

	// Answer, when set before the admission is recorded, is kept with the
	// replay record: the server sets it when the operation wrote nothing, so
	// its answer is known before [Gate.Admit].
	Answer *Answer
	// AnswerOf, when set, gives the answer to keep with the replay record of
	// an admission recorded by a write that goes on to decide something: the
	// store calls it in that write's transaction, once decided, with the
	// created pass's id ("" for an update) and the business error that
	// refused the change (nil if none), so the answer costs no transaction
	// of its own. It may return nil: no answer is kept.
	AnswerOf func(passID string, refused error) *Answer

	// Outcome is set by the store once the admission is committed.
	Outcome AdmissionOutcome
	// RetryAfter is how long until a token is available (RateLimited only).
	RetryAfter time.Duration
	// Kept is what the committed write kept with the replay record
	// (Admitted only; State AnswerNone when it kept no answer), nil if the
	// record is still pending: the caller keeps the answer then.
	Kept *Answer
	// Replay is the answer kept for the first delivery (Replayed only); nil
	// if none is kept yet, see [AnswerPending].
	Replay *Answer
}

// Answer is the first delivery's answer to a signed request, kept with its
// replay record so that a repeat of the request is answered, not executed
// (SECURITY.md, "at most once"). It lives as long as the replay record.
type Answer struct {
	// State says whether Body is the answer: AnswerKept, or AnswerPending
	// while the first delivery runs, or AnswerNone when no answer is kept.
	State AnswerState
	// Code is the answer's resultCode; Body the response body as first sent,
	// before encryption and signing.
	Code Code
	Body []byte
	// Envelope is the SHA-256 of the request's Encrypt header as received,
	// nil for a plain request: only the same envelope is answered again.
	Envelope []byte
	// KeyLen is the response's AES key length in bytes (encrypted only).
	KeyLen int
}

// AnswerState is the state of an [Answer].
type AnswerState int

// Answer states, as stored.
const (
	// AnswerNone: no answer is kept (too large, or not one to repeat).
	AnswerNone AnswerState = iota
	// AnswerPending: the first delivery is still running.
	AnswerPending
	// AnswerKept: Body is the first delivery's answer.
	AnswerKept
)

// AdmissionOutcome is what recording an [Admission] decided.
type AdmissionOutcome int

// Admission outcomes.
const (
	// AdmissionPending: not recorded yet.
	AdmissionPending AdmissionOutcome = iota
	// Admitted: the replay record and the token are taken; the operation ran
	// in the same transaction, if it wrote anything.
	Admitted
	// Replayed: the same signed request was already recorded; nothing was written.
	Replayed
	// RateLimited: the replay record is kept (the signature is spent) but
	// the bucket was empty; the operation did not run.
	RateLimited
)

// ErrNotAdmitted is returned by a store write whose admission was Replayed
// or RateLimited: the write did not happen. The caller reads the reason from
// the Admission's Outcome.
var ErrNotAdmitted = errors.New("request not admitted")

// Gate records admissions in the database shared by every server process.
type Gate interface {
	// Admit records a in a write transaction of its own and sets its
	// Outcome: for a request whose operation wrote nothing (a query, a
	// rejected request). A nil error with Outcome Admitted means committed.
	Admit(ctx context.Context, a *Admission) error
	// KeepAnswer keeps ans with the replay record of (clientID, digest),
	// replacing what was kept: for an answer decided after the admission's
	// transaction committed.
	KeepAnswer(ctx context.Context, clientID string, digest []byte, ans *Answer) error
	// RepeatAnswer returns what is kept with the replay record of (clientID,
	// digest); ErrNotFound if there is no record.
	RepeatAnswer(ctx context.Context, clientID string, digest []byte) (*Answer, error)
	// PruneRequests deletes replay records, and the answers kept with them,
	// whose KeepUntil is before t and returns how many.
	PruneRequests(ctx context.Context, t time.Time) (int64, error)
}

type admissionKey struct{}

// WithAdmission returns ctx carrying a. The first write transaction a store
// runs under ctx records a, first, and runs its own change only when a is
// Admitted (otherwise it returns ErrNotAdmitted). A write that its caller
// aborts on a business rule (an error from UpdatePass's decide) still
// commits the admission: a refused request has spent its signature.
func WithAdmission(ctx context.Context, a *Admission) context.Context {
	return context.WithValue(ctx, admissionKey{}, a)
}

// AdmittedAwaitingAnswer returns the admission ctx carries if an earlier
// transaction recorded it Admitted with its answer still to come (an
// encrypted request's admission is recorded with its wrapped key): the
// request's write then keeps the answer through AnswerOf in its own
// transaction, instead of one more commit after it.
func AdmittedAwaitingAnswer(ctx context.Context) *Admission {
	a, _ := ctx.Value(admissionKey{}).(*Admission)
	if a == nil || a.Outcome != Admitted || a.Kept != nil || a.AnswerOf == nil || a.Digest == nil {
		return nil
	}
	return a
}

// PendingAdmission returns the admission ctx carries, if it is not recorded yet.
func PendingAdmission(ctx context.Context) *Admission {
	a, _ := ctx.Value(admissionKey{}).(*Admission)
	if a == nil || a.Outcome != AdmissionPending {
		return nil
	}
	return a
}
