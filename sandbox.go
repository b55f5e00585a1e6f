package ipass

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A sandbox server (`ipass serve --sandbox`, docs/sandbox.md) fails on
// purpose when a client asks it to: rules armed for one client replace,
// delay or drop the answers to that client's next requests, so that the
// client's developers can rehearse what their system does when the answer
// is lost, unsigned or refused. A production server never reads the rules.

// ChaosAnswer is what a rule does to an answer.
type ChaosAnswer string

// The answer kinds of a rule. ChaosDelayOnly keeps the answer and only
// holds it (the rule's Delay).
const (
	ChaosDelayOnly          ChaosAnswer = ""
	ChaosUnknownException   ChaosAnswer = "UNKNOWN_EXCEPTION"
	ChaosSystemError        ChaosAnswer = "SYSTEM_ERROR"
	ChaosTrafficExceedLimit ChaosAnswer = "REQUEST_TRAFFIC_EXCEED_LIMIT"
	ChaosUnsigned           ChaosAnswer = "UNSIGNED"
	ChaosBadSignature       ChaosAnswer = "BAD_SIGNATURE"
	ChaosDrop               ChaosAnswer = "DROP"
)

// ChaosAnswers are the answer kinds a rule may name, in the order docs list them.
var ChaosAnswers = []ChaosAnswer{ChaosUnknownException, ChaosSystemError, ChaosTrafficExceedLimit,
	ChaosUnsigned, ChaosBadSignature, ChaosDrop}

// ChaosOperations are the operations a rule may name; "*" matches every one.
var ChaosOperations = []string{"createPass", "updatePass", "queryPass", "queryPassHistory", "*"}

// MaxChaosDelay bounds a rule's Delay: longer than any client timeout worth
// rehearsing, shorter than the server's write timeout.
const MaxChaosDelay = 25 * time.Second

// MaxChaosTimes bounds a rule's Times.
const MaxChaosTimes = 1000

// ChaosRule is one armed failure for one client. Rules of a client are used
// up oldest first: each matching request takes one of Remaining.
type ChaosRule struct {
	ID        int64
	ClientID  string
	Operation string // one of ChaosOperations
	Answer    ChaosAnswer
	Remaining int // requests still to fail (--times at first)
	// AfterExecute runs the request (and commits it) before the answer is
	// replaced: the "answer lost" case. Otherwise the request is not run.
	AfterExecute bool
	Delay        time.Duration // held before the answer is written
}

// Validate checks a rule before it is stored.
func (r ChaosRule) Validate() error {
	switch {
	case r.ClientID == "":
		return Errorf(CodeParamIllegal, "clientId: required")
	case !slices.Contains(ChaosOperations, r.Operation):
		return Errorf(CodeParamIllegal, "operation: %q is not one of %s", r.Operation, strings.Join(ChaosOperations, ", "))
	case r.Answer == ChaosDelayOnly && r.Delay <= 0:
		return Errorf(CodeParamIllegal, "answer: required unless a delay is given (one of %s)", chaosAnswerList())
	case r.Answer != ChaosDelayOnly && !slices.Contains(ChaosAnswers, r.Answer):
		return Errorf(CodeParamIllegal, "answer: %q is not one of %s", r.Answer, chaosAnswerList())
	case r.Remaining < 1 || r.Remaining > MaxChaosTimes:
		return Errorf(CodeParamIllegal, "times: %d is not between 1 and %d", r.Remaining, MaxChaosTimes)
	case r.Delay < 0 || r.Delay > MaxChaosDelay:
		return Errorf(CodeParamIllegal, "delay: %s is not between 0 and %s", r.Delay, MaxChaosDelay)
	}
	return nil
}

// String describes the rule in one line, as `admin chaos list` prints it.
func (r ChaosRule) String() string {
	answer := string(r.Answer)
	if answer == "" {
		answer = "(answer kept)"
	}
	s := fmt.Sprintf("#%d %s %s times=%d", r.ID, r.Operation, answer, r.Remaining)
	if r.AfterExecute {
		s += " after-execute"
	}
	if r.Delay > 0 {
		s += " delay=" + r.Delay.String()
	}
	return s
}

func chaosAnswerList() string {
	names := make([]string, len(ChaosAnswers))
	for i, a := range ChaosAnswers {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// ChaosStore keeps the rules where every node of a sandbox reads them.
type ChaosStore interface {
	// AddChaosRule stores r (after Validate) and returns it with its ID.
	AddChaosRule(ctx context.Context, r ChaosRule) (ChaosRule, error)
	// ChaosRules lists a client's rules with requests left, oldest first.
	ChaosRules(ctx context.Context, clientID string) ([]ChaosRule, error)
	// ClearChaosRules deletes a client's rules and says how many there were.
	ClearChaosRules(ctx context.Context, clientID string) (int, error)
	// TakeChaosRule uses up one request of the client's oldest rule that
	// matches operation; ok is false when none does. Racing nodes never
	// take the same request of a rule twice.
	TakeChaosRule(ctx context.Context, clientID, operation string) (r ChaosRule, ok bool, err error)
	// ChaosClients are the clients that have a rule with requests left:
	// the one read a sandbox node makes (cached) to leave every other
	// client's requests alone.
	ChaosClients(ctx context.Context) ([]string, error)

	// ClockOffset and SetClockOffset read and move a merchant's clock
	// (MerchantClocks); 0 is the real clock.
	ClockOffset(ctx context.Context, merchantID string) (time.Duration, error)
	SetClockOffset(ctx context.Context, merchantID string, offset time.Duration) error
}

// MerchantClocks are a sandbox's clocks per merchant: how far each
// merchant's "now" is moved from the real one (`ipass admin clock`). Only
// the business rules read them (expiry, status as shown); the request
// window and signatures keep the real clock.
type MerchantClocks interface {
	// ClockOffsets are the moved merchants' offsets; the others have none.
	ClockOffsets(ctx context.Context) (map[string]time.Duration, error)
}
