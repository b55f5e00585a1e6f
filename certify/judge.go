package certify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ipass-dev/ipass"
)

// observation is what a scenario has seen so far.
type observation struct {
	st      Store
	after   int64     // request log ID before the rule was armed
	armedAt time.Time // calls that arrived before this are not the scenario's
	calls   []ipass.RequestLogEntry
	hit     int // index in calls of the call the rule was applied to; -1: none yet
	changes int // versions of the hit's pass written since the hit arrived
}

// read loads the client's calls since the rule was armed, oldest first,
// finds the one the rule took, and counts its pass's changes.
func (o *observation) read(ctx context.Context, clientID string, rule ipass.ChaosRule) error {
	entries, err := o.st.RequestLog(ctx, ipass.RequestLogQuery{ClientID: clientID, Since: o.armedAt.Add(-time.Second)})
	if err != nil {
		return err
	}
	o.calls = o.calls[:0]
	for _, e := range slices.Backward(entries) {
		// The writer stores entries in batches, so one that arrived before
		// the rule was armed may be stored after the ID read then.
		if e.ID > o.after && e.At >= o.armedAt.UnixMilli() {
			o.calls = append(o.calls, e)
		}
	}
	// A rule is taken only by an authentic request (its content checked
	// and its signature verified), so the first such call of the operation;
	// where the rule replaces the result code, the first with that code, so
	// a call a node made before it saw the rule is not taken for it.
	code := hitCode(rule)
	o.hit = slices.IndexFunc(o.calls, func(e ipass.RequestLogEntry) bool {
		return e.Operation == rule.Operation && e.ContentSHA256 != "" && e.ResultCode != string(ipass.CodeInvalidSignature) &&
			(code == "" || e.ResultCode == code)
	})
	o.changes = 0
	if pass := o.passID(); pass != "" {
		versions, err := o.st.History(ctx, pass)
		if err != nil {
			return err
		}
		for _, v := range versions {
			// Both times are the server's, whatever certify's clock says.
			if v.At >= o.calls[o.hit].At {
				o.changes++
			}
		}
	}
	return nil
}

// hitCode is the result code the request log shows for a call the rule
// took, when the rule decides it; "" when the real one is kept.
func hitCode(r ipass.ChaosRule) string {
	switch r.Answer {
	case ipass.ChaosUnknownException:
		return string(ipass.CodeUnknownException)
	case ipass.ChaosTrafficExceedLimit:
		return string(ipass.CodeTrafficExceedLimit)
	}
	return ""
}

func (o *observation) evidence() []Call {
	out := make([]Call, 0, len(o.calls))
	for i, e := range o.calls {
		out = append(out, Call{At: time.UnixMilli(e.At).UTC(), Operation: e.Operation, MerchantID: e.MerchantID,
			PassID: e.PassID, ResultCode: e.ResultCode, HTTPStatus: e.HTTPStatus, DurationMS: e.DurationMS,
			TracerID: e.TracerID, Armed: i == o.hit})
	}
	return out
}

// passID is the pass the hit acted on. A request failed before it ran is
// logged without its arguments; its pass is then the one the next call of
// the same operation names (its retry).
func (o *observation) passID() string {
	if o.hit < 0 {
		return ""
	}
	hit := o.calls[o.hit]
	if hit.PassID != "" {
		return hit.PassID
	}
	for _, e := range o.calls[o.hit+1:] {
		if e.Operation == hit.Operation && e.PassID != "" {
			return e.PassID
		}
	}
	return ""
}

// later are the calls after the hit that name its pass.
func (o *observation) later() []ipass.RequestLogEntry {
	var out []ipass.RequestLogEntry
	pass := o.passID()
	for _, e := range o.calls[o.hit+1:] {
		if pass != "" && e.PassID == pass {
			out = append(out, e)
		}
	}
	return out
}

func notTriggered(o *observation, op string, final bool) (string, string, bool) {
	if final {
		return Timeout, fmt.Sprintf("the client made no %s call while the scenario ran", op), true
	}
	return "", "", false
}

const success = string(ipass.CodeSuccess)

// followUp judges a write whose answer the client cannot trust: the update
// ran, so the right next step is to learn the outcome, by retrying the same
// update (the server recognises the repeat and answers it again, signed,
// without a second change) or by querying the pass. A call that reused the
// old Request-Time or signature is refused by the server, so only a
// successful retry or query counts. Moving on with no such call within the
// time limit fails; so does a second change to the pass.
func followUp(why string) judge {
	return func(o *observation, final bool) (string, string, bool) {
		if o.hit < 0 {
			return notTriggered(o, "updatePass", final)
		}
		hit := o.calls[o.hit]
		if o.changes > 1 {
			return Fail, fmt.Sprintf("pass %s was changed %d times: the follow-up made a second change", hit.PassID, o.changes), true
		}
		for _, e := range o.later() {
			if e.ResultCode == success && (e.Operation == "updatePass" || e.Operation == "queryPass" || e.Operation == "queryPassHistory") {
				return Pass, fmt.Sprintf("%s; the client then called %s on pass %s (%s), one change in all", why, e.Operation, hit.PassID, e.ResultCode), true
			}
		}
		if final {
			return Fail, fmt.Sprintf("%s, yet the client neither retried nor queried pass %s successfully within the time limit: it treated the answer as final", why, hit.PassID), true
		}
		return "", "", false
	}
}

// createFollowUp judges a createPass answered U before it ran: the right
// next step is to create again with the same bizSerialId (the server makes
// one pass of any number of such requests). No retry fails; retries that
// made a second pass (seen in the same read) fail.
func createFollowUp(o *observation, final bool) (string, string, bool) {
	if o.hit < 0 {
		return notTriggered(o, "createPass", final)
	}
	hit := o.calls[o.hit]
	passes := map[string]bool{}
	var retried *ipass.RequestLogEntry
	for _, e := range o.calls[o.hit+1:] {
		if e.Operation != "createPass" || e.ResultCode != success || hit.MerchantID != "" && e.MerchantID != hit.MerchantID {
			continue
		}
		passes[e.PassID] = true
		if retried == nil {
			retried = &e
		}
	}
	switch {
	case len(passes) > 1:
		return Fail, fmt.Sprintf("the retries created %d passes for one request", len(passes)), true
	case retried != nil:
		return Pass, fmt.Sprintf("after the U the client created again: pass %s, one pass in all", retried.PassID), true
	case final:
		return Fail, "after the U (the outcome unknown) the client made no successful createPass within the time limit: the pass was never created", true
	}
	return "", "", false
}

// rateLimited judges a 429 with Retry-After: 1: the client's next call may
// come no sooner than a second after the answer left the server (its
// arrival plus the time in the handler), and the update must be retried.
func rateLimited(o *observation, final bool) (string, string, bool) {
	if o.hit < 0 {
		return notTriggered(o, "updatePass", final)
	}
	hit := o.calls[o.hit]
	answered := float64(hit.At) + hit.DurationMS
	if o.hit+1 < len(o.calls) {
		next := o.calls[o.hit+1]
		if gap := float64(next.At) - answered; gap < 1000 {
			return Fail, fmt.Sprintf("the next call (%s) came %.0f ms after the 429, before its Retry-After of 1 s", next.Operation, gap), true
		}
	}
	if o.changes > 1 {
		return Fail, fmt.Sprintf("pass %s was changed %d times", o.passID(), o.changes), true
	}
	for _, e := range o.later() {
		if e.Operation == "updatePass" && e.ResultCode == success {
			gap := float64(o.calls[o.hit+1].At) - answered
			return Pass, fmt.Sprintf("the client waited %.0f ms (Retry-After: 1 s) and then retried the update", gap), true
		}
	}
	if final {
		return Fail, "the client did not retry the update within the time limit", true
	}
	return "", "", false
}

// slowAnswer judges an update whose answer was held longer than most
// client timeouts. A client that waited got it (the server wrote it: the
// call is logged with its real result); one that gave up (the call is
// logged as failed: the server saw it go) must then learn the outcome as
// after a lost answer.
func slowAnswer(o *observation, final bool) (string, string, bool) {
	if o.hit < 0 {
		return notTriggered(o, "updatePass", final)
	}
	hit := o.calls[o.hit]
	if hit.ResultCode == success && o.changes <= 1 {
		return Pass, fmt.Sprintf("the client waited %.1f s for the answer", hit.DurationMS/1000), true
	}
	return followUp("the client gave up waiting, so the outcome was unknown to it")(o, final)
}
