package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/ipass-dev/ipass"
	"github.com/ipass-dev/ipass/gateway"
)

// Sandbox servers fail on purpose (docs/sandbox.md). Everything here is
// reached only when Server.Chaos is set, which `ipass serve` does with
// --sandbox alone; no operation knows about it. A rule is taken once the
// request is authentic (after G9): an armed failure is never spent on a
// forged or broken request, and never touches another client.

// DefaultChaosRefresh is how long a sandbox node trusts its list of the
// clients that have rules, before reading it again.
const DefaultChaosRefresh = time.Second

// chaosCache is the set of clients with rules, read at most once per
// refresh: requests of every other client cost no database work.
type chaosCache struct {
	mu      sync.Mutex
	clients map[string]bool
	readAt  time.Time
}

func (s *Server) chaosRefresh() time.Duration {
	if s.ChaosRefresh > 0 {
		return s.ChaosRefresh
	}
	return DefaultChaosRefresh
}

// chaosArmed reports whether clientID may have a rule.
func (s *Server) chaosArmed(ctx context.Context, clientID string) (bool, error) {
	c := &s.chaosCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil || time.Since(c.readAt) >= s.chaosRefresh() {
		ids, err := s.Chaos.ChaosClients(ctx)
		if err != nil {
			return false, err
		}
		c.clients = make(map[string]bool, len(ids))
		for _, id := range ids {
			c.clients[id] = true
		}
		c.readAt = time.Now()
	}
	return c.clients[clientID], nil
}

// PathSandboxChaos is the sandboxChaos [ext] operation, served by a sandbox only.
const PathSandboxChaos = gateway.PathSandboxChaos

// PathSandboxClock is the sandboxClock [ext] operation, served by a sandbox only.
const PathSandboxClock = gateway.PathSandboxClock

// chaosBefore takes the client's next rule for op, if any (sandbox only).
// A rule without AfterExecute holds and fails the request here, before
// anything is recorded or run; a delay-only one holds it and lets it run.
func (s *Server) chaosBefore(ctx context.Context, x *exchange, op *operation) error {
	if s.Chaos == nil || op.sandbox { // the way out is never blocked
		return nil
	}
	armed, err := s.chaosArmed(ctx, x.client.ID)
	if err != nil || !armed {
		return err
	}
	rule, ok, err := s.Chaos.TakeChaosRule(ctx, x.client.ID, op.name)
	if err != nil || !ok {
		return err
	}
	x.chaos = &rule
	s.logger().InfoContext(ctx, "sandbox: failing on purpose", "tracer_id", x.tracerID, "client_id", x.clientID, "rule", rule.String())
	if rule.AfterExecute {
		return nil
	}
	if err := hold(ctx, rule.Delay); err != nil {
		return err
	}
	return chaosFailure(x, false)
}

// chaosAfter applies an AfterExecute rule once the request ran and
// committed: err is its real outcome, replaced for the failure kinds.
func (s *Server) chaosAfter(ctx context.Context, x *exchange, err error) error {
	if x.chaos == nil || !x.chaos.AfterExecute {
		return err
	}
	if herr := hold(ctx, x.chaos.Delay); herr != nil {
		return herr
	}
	if failure := chaosFailure(x, true); failure != nil {
		x.body = nil // not the kept answer of a repeat: this failure
		return failure
	}
	return err
}

// chaosFailure is the error a rule answers with, as a real failure of that
// kind reads; nil where the real answer is kept (delay only, and after
// execution the kinds that change only the signature or the connection).
func chaosFailure(x *exchange, executed bool) error {
	switch x.chaos.Answer {
	case ipass.ChaosDelayOnly:
		return nil
	case ipass.ChaosTrafficExceedLimit:
		x.retryAfter = time.Second
		return ipass.Errorf(ipass.CodeTrafficExceedLimit, "Client-Id: rate limit of %d requests per second exceeded", x.client.RateLimit)
	case ipass.ChaosUnknownException:
	default: // UNSIGNED, BAD_SIGNATURE, DROP, SYSTEM_ERROR (see chaosIntercept)
		if executed {
			return nil
		}
	}
	if executed {
		return &ipass.Error{Code: ipass.CodeUnknownException, Message: "internal server error; the outcome is not known: query, or retry the same request"}
	}
	return &ipass.Error{Code: ipass.CodeUnknownException, Message: ipass.ErrorMessage(errInternal)}
}

// errInternal stands for an unexpected failure: its message is the one
// every internal error is answered with.
var errInternal = errors.New("failure on purpose")

// chaosIntercept answers for the kinds that never reach respond, and
// reports whether it did. DROP ends the exchange without an answer: net/http
// closes the connection (HTTP/1.1) or resets the stream (HTTP/2) on this
// panic. SYSTEM_ERROR is a failure in front of the server, as a proxy or
// load balancer answers when it cannot reach it: 502, plain text, none of
// the protocol's headers, unsigned.
func chaosIntercept(w http.ResponseWriter, x *exchange) bool {
	if x.chaos == nil {
		return false
	}
	switch x.chaos.Answer {
	case ipass.ChaosDrop:
		panic(http.ErrAbortHandler)
	case ipass.ChaosSystemError:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("502 Bad Gateway: system error\n"))
		return true
	}
	return false
}

// chaosSigned is what respond signs: content, other bytes (BAD_SIGNATURE),
// or nothing at all (UNSIGNED: ok false).
func chaosSigned(x *exchange, content []byte) (signed []byte, ok bool) {
	if x.chaos == nil {
		return content, true
	}
	switch x.chaos.Answer {
	case ipass.ChaosUnsigned:
		return nil, false
	case ipass.ChaosBadSignature:
		return append(content[:len(content):len(content)], '.'), true
	}
	return content, true
}

// hold waits d, or until the client goes away.
func hold(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chaosRuleView is a rule as sandboxChaos answers it.
type chaosRuleView struct {
	RuleID       int64  `json:"ruleId"`
	Operation    string `json:"operation"`
	Answer       string `json:"answer,omitempty"`
	Remaining    int    `json:"remaining"`
	AfterExecute bool   `json:"afterExecute"`
	DelayMillis  int64  `json:"delayMillis"`
}

// chaosRequest is the sandboxChaos body. There is no clientId: a client
// only ever reaches its own rules.
type chaosRequest struct {
	Action       string `json:"action"` // add, list or clear
	Operation    string `json:"operation"`
	Answer       string `json:"answer"`
	Times        *int   `json:"times"`
	AfterExecute bool   `json:"afterExecute"`
	DelayMillis  int64  `json:"delayMillis"`
}

// sandboxChaos is the [ext] operation: the calling client arms, lists or
// clears its own rules, and is answered the rules it has left.
func (s *Server) sandboxChaos(ctx context.Context, c *ipass.Client, body []byte) (*[]chaosRuleView, error) {
	var in chaosRequest
	if err := decodeSandboxBody(body, &in); err != nil {
		return nil, err
	}
	switch in.Action {
	case "add":
		r := ipass.ChaosRule{ClientID: c.ID, Operation: in.Operation, Answer: ipass.ChaosAnswer(in.Answer),
			Remaining: 1, AfterExecute: in.AfterExecute, Delay: time.Duration(in.DelayMillis) * time.Millisecond}
		if in.Times != nil {
			r.Remaining = *in.Times
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if _, err := s.Chaos.AddChaosRule(ctx, r); err != nil {
			return nil, err
		}
	case "clear":
		if _, err := s.Chaos.ClearChaosRules(ctx, c.ID); err != nil {
			return nil, err
		}
	case "list":
	default:
		return nil, ipass.Errorf(ipass.CodeParamIllegal, "action: %q is not add, list or clear", truncate(in.Action, 40))
	}
	s.chaosCache.forget() // this node obeys at once; the others within a refresh
	rules, err := s.Chaos.ChaosRules(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	views := make([]chaosRuleView, 0, len(rules))
	for _, r := range rules {
		views = append(views, chaosRuleView{RuleID: r.ID, Operation: r.Operation, Answer: string(r.Answer),
			Remaining: r.Remaining, AfterExecute: r.AfterExecute, DelayMillis: r.Delay.Milliseconds()})
	}
	return &views, nil
}

func (c *chaosCache) forget() {
	c.mu.Lock()
	c.clients = nil
	c.mu.Unlock()
}

// decodeSandboxBody decodes a sandbox operation's body strictly: the checks
// of every body, then no field the operation does not have.
func decodeSandboxBody(body []byte, v any) error {
	if _, err := ipass.DecodeBody(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ipass.Errorf(ipass.CodeParamIllegal, "body: %s", truncate(err.Error(), 200))
	}
	return nil
}

// clockView is what sandboxClock answers.
type clockView struct {
	MerchantID   string `json:"merchantId"`
	Now          int64  `json:"now"`          // the merchant's now, epoch ms
	OffsetMillis int64  `json:"offsetMillis"` // from the real clock
}

// clockRequest is the sandboxClock body: exactly one of advanceMillis,
// setTime and reset (none: read the clock).
type clockRequest struct {
	MerchantID    string `json:"merchantId"`
	AdvanceMillis *int64 `json:"advanceMillis"`
	SetTime       *int64 `json:"setTime"` // epoch ms
	Reset         bool   `json:"reset"`
}

// sandboxClock is the [ext] operation that moves "now" for one of the
// calling client's merchants; another's answers ACCESS_DENIED, as a missing one.
func (s *Server) sandboxClock(ctx context.Context, c *ipass.Client, body []byte) (*clockView, error) {
	var in clockRequest
	if err := decodeSandboxBody(body, &in); err != nil {
		return nil, err
	}
	m, err := s.Tenants.Merchant(ctx, in.MerchantID)
	if err != nil && !errors.Is(err, ipass.ErrNotFound) {
		return nil, err
	}
	if in.MerchantID == "" || m == nil || m.ClientID != c.ID {
		return nil, ipass.Errorf(ipass.CodeAccessDenied, "merchantId %s is not a merchant of this client", truncate(in.MerchantID, 64))
	}
	given := 0
	for _, b := range []bool{in.AdvanceMillis != nil, in.SetTime != nil, in.Reset} {
		if b {
			given++
		}
	}
	if given > 1 {
		return nil, ipass.Errorf(ipass.CodeParamIllegal, "advanceMillis, setTime, reset: give one of them")
	}
	offset, err := s.Chaos.ClockOffset(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case in.Reset:
		offset = 0
	case in.SetTime != nil:
		offset = time.UnixMilli(*in.SetTime).Sub(now)
	case in.AdvanceMillis != nil:
		offset += time.Duration(*in.AdvanceMillis) * time.Millisecond
	}
	if given == 1 {
		if err := s.Chaos.SetClockOffset(ctx, m.ID, offset); err != nil {
			return nil, err
		}
	}
	return &clockView{MerchantID: m.ID, Now: now.Add(offset).UnixMilli(), OffsetMillis: offset.Milliseconds()}, nil
}
