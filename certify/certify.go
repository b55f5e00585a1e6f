// Package certify runs a certification session for one client of a
// sandbox: it arms one failure at a time (chaos rules), tells the developer
// what to make their system do, watches the client's calls through the
// request log, and judges what the integration did about the failure.
//
// Everything it judges is observable from the server: the request log
// (operation, passId, merchantId, result code, arrival time, duration) and
// the pass history in the store. It cannot see what the client's program
// concluded, only what it did next; docs/sandbox.md states the rules.
package certify

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ipass-dev/ipass"
)

// Store is what a session reads and arms: a sandbox database.
type Store interface {
	AddChaosRule(ctx context.Context, r ipass.ChaosRule) (ipass.ChaosRule, error)
	ClearChaosRules(ctx context.Context, clientID string) (int, error)
	RequestLog(ctx context.Context, q ipass.RequestLogQuery) ([]ipass.RequestLogEntry, error)
	History(ctx context.Context, passID string) ([]ipass.PassVersion, error)
}

// Verdicts of a scenario.
const (
	Pass    = "pass"
	Fail    = "fail"
	Timeout = "timeout" // the client never made the call the failure was armed on
)

// Call is one request of the client, as evidence.
type Call struct {
	At         time.Time `json:"at"`
	Operation  string    `json:"operation"`
	MerchantID string    `json:"merchantId,omitempty"`
	PassID     string    `json:"passId,omitempty"`
	ResultCode string    `json:"resultCode"`
	HTTPStatus int       `json:"httpStatus"`
	DurationMS float64   `json:"durationMs"`
	TracerID   string    `json:"tracerId"`
	Armed      bool      `json:"armed,omitempty"` // the call the failure was applied to
}

// Result is one scenario's outcome.
type Result struct {
	Scenario    string `json:"scenario"`
	Instruction string `json:"instruction"`
	Verdict     string `json:"verdict"`
	Reason      string `json:"reason"`
	Evidence    []Call `json:"evidence"`
	// Changes counts the versions the pass got while the scenario ran
	// (create included), when a pass was involved.
	Changes int `json:"changes,omitempty"`
}

// Report is a whole session.
type Report struct {
	ClientID string    `json:"clientId"`
	Started  time.Time `json:"started"`
	Results  []Result  `json:"results"`
	Passed   bool      `json:"passed"` // every scenario passed
}

// Options of a session.
type Options struct {
	ClientID  string
	Scenarios []string      // names; empty: all, in table order
	Timeout   time.Duration // per scenario; 0: DefaultTimeout
	Poll      time.Duration // how often the request log is read; 0: 250 ms
	Out       io.Writer     // instructions and verdicts as they come; nil: none
}

// DefaultTimeout is how long a scenario waits for the client by default.
const DefaultTimeout = 2 * time.Minute

// judge decides from the calls seen since the rule was armed (oldest
// first) and the changes to the pass involved. decided is false while more
// calls may still change the verdict; final is set once time is up.
type judge func(obs *observation, final bool) (verdict, reason string, decided bool)

// Scenario is one armed failure and how a right integration answers it.
type Scenario struct {
	Name        string
	Rule        ipass.ChaosRule // ClientID is filled in
	Instruction string          // %s: the client ID
	judge       judge
}

// Scenarios is the table of everything a session can arm.
var Scenarios = []Scenario{
	{
		Name: "lost-update",
		Rule: ipass.ChaosRule{Operation: "updatePass", Answer: ipass.ChaosUnknownException, Remaining: 1, AfterExecute: true},
		Instruction: "update any pass of a merchant of client %s (the update is applied, its answer is a U: " +
			"UNKNOWN_EXCEPTION)",
		judge: followUp("a U answer leaves the outcome unknown"),
	},
	{
		Name: "create-unknown",
		Rule: ipass.ChaosRule{Operation: "createPass", Answer: ipass.ChaosUnknownException, Remaining: 1},
		Instruction: "create a pass for a merchant of client %s (the request is not run; its answer is a U: " +
			"UNKNOWN_EXCEPTION)",
		judge: createFollowUp,
	},
	{
		Name: "unsigned-answer",
		Rule: ipass.ChaosRule{Operation: "updatePass", Answer: ipass.ChaosUnsigned, Remaining: 1, AfterExecute: true},
		Instruction: "update any pass of a merchant of client %s (the update is applied, its answer arrives " +
			"without a signature)",
		judge: followUp("an unsigned answer proves nothing"),
	},
	{
		Name: "bad-signature",
		Rule: ipass.ChaosRule{Operation: "updatePass", Answer: ipass.ChaosBadSignature, Remaining: 1, AfterExecute: true},
		Instruction: "update any pass of a merchant of client %s (the update is applied, its answer's signature " +
			"does not verify)",
		judge: followUp("an answer whose signature does not verify proves nothing"),
	},
	{
		Name: "rate-limited",
		Rule: ipass.ChaosRule{Operation: "updatePass", Answer: ipass.ChaosTrafficExceedLimit, Remaining: 1},
		Instruction: "update any pass of a merchant of client %s (the request is not run; the answer is " +
			"REQUEST_TRAFFIC_EXCEED_LIMIT, HTTP 429, Retry-After: 1)",
		judge: rateLimited,
	},
	{
		Name: "slow-answer",
		Rule: ipass.ChaosRule{Operation: "updatePass", Remaining: 1, AfterExecute: true, Delay: ipass.MaxChaosDelay},
		Instruction: "update any pass of a merchant of client %s (the update is applied, its answer is held " +
			ipass.MaxChaosDelay.String() + ", longer than most client timeouts)",
		judge: slowAnswer,
	},
}

// Names lists the scenario names in table order.
func Names() []string {
	names := make([]string, len(Scenarios))
	for i, s := range Scenarios {
		names[i] = s.Name
	}
	return names
}

// Select returns the scenarios named, in the order given; none: all.
func Select(names []string) ([]Scenario, error) {
	if len(names) == 0 {
		return Scenarios, nil
	}
	var out []Scenario
	for _, n := range names {
		i := slices.IndexFunc(Scenarios, func(s Scenario) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("scenario %q: not one of %s", n, strings.Join(Names(), ", "))
		}
		out = append(out, Scenarios[i])
	}
	return out, nil
}

// Run arms each selected scenario in turn and judges it. The client's
// rules are cleared before and after each, so a scenario the client never
// triggered leaves nothing armed.
func Run(ctx context.Context, st Store, o Options) (*Report, error) {
	scenarios, err := Select(o.Scenarios)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	rep := &Report{ClientID: o.ClientID, Started: time.Now().UTC(), Passed: true}
	for i, s := range scenarios {
		r, err := runOne(ctx, st, o, s, fmt.Sprintf("[%d/%d] %s", i+1, len(scenarios), s.Name))
		if err != nil {
			return rep, fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		fmt.Fprintf(o.Out, "      %s: %s\n", strings.ToUpper(r.Verdict), r.Reason)
		rep.Results = append(rep.Results, r)
		rep.Passed = rep.Passed && r.Verdict == Pass
	}
	return rep, nil
}

func runOne(ctx context.Context, st Store, o Options, s Scenario, label string) (Result, error) {
	res := Result{Scenario: s.Name, Instruction: fmt.Sprintf(s.Instruction, o.ClientID)}
	if _, err := st.ClearChaosRules(ctx, o.ClientID); err != nil {
		return res, err
	}
	// Calls logged before the rule was armed are not the scenario's.
	last, err := st.RequestLog(ctx, ipass.RequestLogQuery{ClientID: o.ClientID, Limit: 1})
	if err != nil {
		return res, err
	}
	obs := &observation{st: st}
	if len(last) > 0 {
		obs.after = last[0].ID
	}
	rule := s.Rule
	rule.ClientID = o.ClientID
	if _, err := st.AddChaosRule(ctx, rule); err != nil {
		return res, err
	}
	obs.armedAt = time.Now()
	// Sandbox nodes re-read which clients have rules once a second; only
	// then is the developer told to act.
	if err := sleep(ctx, armDelay); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Out, "%s: %s (within %s)\n", label, res.Instruction, o.Timeout)
	defer func() { _, _ = st.ClearChaosRules(context.WithoutCancel(ctx), o.ClientID) }()
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	final := false
	for {
		if err := obs.read(ctx, o.ClientID, rule); err != nil {
			return res, err
		}
		verdict, reason, decided := s.judge(obs, final)
		if decided || final {
			res.Verdict, res.Reason, res.Changes = verdict, reason, obs.changes
			res.Evidence = obs.evidence()
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-deadline.C:
			final = true
		case <-tick.C:
		}
	}
}

// armDelay outlasts a sandbox node's cache of the clients with rules
// (http.DefaultChaosRefresh, 1 s).
const armDelay = 1100 * time.Millisecond

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
