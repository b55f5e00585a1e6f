package ipass

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
)

// transition is one cell of the state machine: the result code and, on
// SUCCESS, the stored status afterwards.
type transition struct {
	code Code
	to   Status
}

var (
	illegal  = transition{code: CodePassStatusIllegal}
	occupied = transition{code: CodePassUsedOccupied}
)

// transitions is the state machine of 5.3: effective current status ×
// requested status. A status missing from the table is refused, never
// defaulted.
//
//	           UPDATE        USED          REFUND        CLOSED
//	ACTIVE     → ACTIVE      → USED        → REFUND      → CLOSED
//	EXPIRED    ILLEGAL¹      ILLEGAL       ILLEGAL       → CLOSED
//	USED       OCCUPIED      OCCUPIED      OCCUPIED      → CLOSED
//	REFUND     ILLEGAL       ILLEGAL       ILLEGAL       ILLEGAL
//	CLOSED     ILLEGAL       ILLEGAL       ILLEGAL       ILLEGAL
//
//	¹ except an UPDATE with an endDate in the future: → ACTIVE (renewal,
//	  decided in Decide, since it depends on the request's endDate)
//
//	ACTIVE ──USED──▶ USED ──CLOSED──▶ CLOSED
//	  │ └──REFUND──▶ REFUND (terminal)
//	  └──CLOSED──▶ CLOSED (terminal)
//	ACTIVE past endDate = EXPIRED ──CLOSED──▶ CLOSED
//	EXPIRED ──UPDATE with a future endDate (renewal)──▶ ACTIVE
var transitions = map[Status]map[RequestedStatus]transition{
	StatusActive: {
		RequestUpdate: {CodeSuccess, StatusActive},
		RequestUsed:   {CodeSuccess, StatusUsed},
		RequestRefund: {CodeSuccess, StatusRefund},
		RequestClosed: {CodeSuccess, StatusClosed},
	},
	StatusExpired: {
		RequestUpdate: illegal,
		RequestUsed:   illegal,
		RequestRefund: illegal,
		RequestClosed: {CodeSuccess, StatusClosed},
	},
	StatusUsed: {
		RequestUpdate: occupied, // [decision] a used pass is occupied for content too
		RequestUsed:   occupied,
		RequestRefund: occupied,
		RequestClosed: {CodeSuccess, StatusClosed},
	},
	StatusRefund: {
		RequestUpdate: illegal,
		RequestUsed:   illegal,
		RequestRefund: illegal,
		RequestClosed: illegal,
	},
	StatusClosed: {
		RequestUpdate: illegal,
		RequestUsed:   illegal,
		RequestRefund: illegal,
		RequestClosed: illegal,
	},
}

// Transition looks up the state machine (5.3). It returns the stored status
// after the change and CodeSuccess, or the refusal code. A current or
// requested status outside the table is an internal error (a corrupt row or
// a bug), never a guess.
func Transition(current Status, requested RequestedStatus) (Status, Code, error) {
	row, ok := transitions[current]
	if !ok {
		return "", "", fmt.Errorf("state machine: unknown current status %q", current)
	}
	cell, ok := row[requested]
	if !ok {
		return "", "", fmt.Errorf("state machine: unknown requested status %q", requested)
	}
	return cell.to, cell.code, nil
}

// CheckTemplate checks type and product against the template (step 2 of
// 4.3): given values must equal the template's.
func (r *CreateRequest) CheckTemplate(t *Template) error {
	if r.Type != "" && r.Type != t.Type {
		return Errorf(CodeParamIllegal, "type: %s does not match template %s, which is %s", r.Type, t.Code, t.Type)
	}
	if r.Product != "" && r.Product != t.Product {
		return Errorf(CodeParamIllegal, "product: %s does not match template %s, which is %s", r.Product, t.Code, t.Product)
	}
	return nil
}

// CreatePlan is a createPass request checked against its template and user
// (steps 4–5 of 4.3): the pass it would create, and its fingerprint.
type CreatePlan struct {
	pass Pass // no ID or times yet
	meta Metadata
}

// PlanCreate checks dataInfo and codeInfo against the template (codeInfo is
// required for TICKET, and for CARD/COUPON unless the template's code is
// NONE) and startDate ≤ endDate, and computes the 4.4 fingerprint. userID
// is the resolved user.
func PlanCreate(r *CreateRequest, t *Template, userID string) (*CreatePlan, error) {
	if err := r.DataInfo.CheckTemplate(t); err != nil {
		return nil, err
	}
	if r.CodeInfo == nil {
		switch {
		case t.Type == TypeTicket:
			return nil, Errorf(CodeParamIllegal, "codeInfo is required for a TICKET pass")
		case t.CodeDisplay != CodeNone:
			return nil, Errorf(CodeParamIllegal, "codeInfo is required: template %s shows a %s", t.Code, displayName(t.CodeDisplay))
		}
	}
	if err := CheckCodeInfo(r.CodeInfo, t); err != nil {
		return nil, err
	}
	if r.StartDate > r.EndDate {
		return nil, Errorf(CodeParamIllegal, "endDate: %v is before startDate %v", Millis(r.EndDate), Millis(r.StartDate))
	}
	di, err := r.DataInfo.Merge(nil)
	if err != nil {
		return nil, err
	}
	var code CodeInfo
	if r.CodeInfo != nil {
		code = *r.CodeInfo
	}
	fp, err := createFingerprint(userID, t.Code, r.BizSerialType, r.StartDate, r.EndDate, r.BizCreate,
		t.Type, t.Product, r.DataInfo, code)
	if err != nil {
		return nil, err
	}
	pl := &CreatePlan{pass: Pass{
		MerchantID:        r.MerchantID,
		BizSerialID:       r.BizSerialID,
		TemplateCode:      t.Code,
		Type:              t.Type,
		Product:           t.Product,
		UserID:            userID,
		Status:            StatusActive,
		StartDate:         r.StartDate,
		EndDate:           r.EndDate,
		BizCreate:         r.BizCreate,
		DataInfo:          di,
		CodeInfo:          code,
		Version:           1,
		CreateFingerprint: fp,
	}}
	if r.DataInfo != nil {
		pl.meta = r.DataInfo.Meta
	}
	return pl, nil
}

// Fingerprint is the canonical form of the planned create (4.4).
func (pl *CreatePlan) Fingerprint() string { return pl.pass.CreateFingerprint }

// SameAs compares the plan with the pass already holding its (merchantId,
// bizSerialId) (4.4): nil when the original create was identical, else
// PARAM_ILLEGAL naming the differing fields.
func (pl *CreatePlan) SameAs(existing *Pass) error {
	if existing.CreateFingerprint == pl.pass.CreateFingerprint {
		return nil
	}
	diff := diffFingerprints(existing.CreateFingerprint, pl.pass.CreateFingerprint)
	what := "content"
	if len(diff) > 0 {
		what = strings.Join(diff, ", ")
	}
	return Errorf(CodeParamIllegal, "bizSerialId %s is already used by pass %s with a different %s",
		pl.pass.BizSerialID, existing.ID, Field(what))
}

// CheckNew applies step 7 of 4.3: a new pass must not be born expired.
func (pl *CreatePlan) CheckNew(now time.Time) error {
	if pl.pass.EndDate <= now.UnixMilli() {
		return Errorf(CodeParamIllegal, "endDate: %v is in the past", Millis(pl.pass.EndDate))
	}
	return nil
}

// Issue returns the pass to store, with passID and times set, and its first
// history entry (step 8 of 4.3).
func (pl *CreatePlan) Issue(passID string, now time.Time, caller Caller) (*Pass, *PassVersion, error) {
	p := pl.pass
	p.ID = passID
	p.CreatedAt = now.UnixMilli()
	p.UpdatedAt = p.CreatedAt
	p.DataInfo = cloneDataInfo(pl.pass.DataInfo)
	changes, err := json.Marshal(map[string]any{
		"status":    p.Status,
		"startDate": p.StartDate,
		"endDate":   p.EndDate,
		"bizCreate": p.BizCreate,
		"dataInfo":  p.DataInfo,
		"codeInfo":  p.CodeInfo,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create history entry: %w", err)
	}
	v := &PassVersion{
		PassID:     passID,
		Version:    1,
		Operation:  "createPass",
		ClientID:   caller.ClientID,
		MerchantID: p.MerchantID,
		At:         p.CreatedAt,
		Status:     p.Status,
		Changes:    changes,
		Metadata:   pl.meta.JSON(),
		TracerID:   caller.TracerID,
	}
	return &p, v, nil
}

// Owns reports whether the pass belongs to merchantID and, when userID is
// not empty, to that user (U10). Callers answer PASS_HAS_NOT_EXIST when it
// does not, exactly as for a missing pass.
func (p *Pass) Owns(merchantID, userID string) bool {
	return p.MerchantID == merchantID && (userID == "" || p.UserID == userID)
}

// PassNotFound is the PASS_HAS_NOT_EXIST answer naming the identifier the
// caller gave (field "passId" or "bizSerialId"). It is used both for a
// missing pass and for someone else's, so the two cannot be told apart.
func PassNotFound(field, value string) error {
	return Errorf(CodePassHasNotExist, "%s %s: pass not found", Field(field), value)
}

// Decide runs steps 3–10 of 5.5 on next, the locked current state of the
// pass (see [PassStore.UpdatePass]): ownership, the pass's template t,
// the exact-retry check, status and kind for the type/product, conditional
// requirements, the state machine, staleness; then applies the change to
// next and returns the history entry. (nil, nil) means an exact retry:
// nothing changes. userID is the resolved user; at is the server time.
// Decide has no side effects besides next, so a store may call it again.
func (r *UpdateRequest) Decide(next *Pass, t *Template, userID string, at time.Time, caller Caller) (*PassVersion, error) {
	// Step 3: ownership (U10).
	if !next.Owns(r.MerchantID, userID) {
		return nil, PassNotFound("passId", r.PassID)
	}
	if t == nil || t.Code != next.TemplateCode {
		return nil, fmt.Errorf("decide update of pass %s: template %s not supplied", next.ID, next.TemplateCode)
	}
	// Step 4: against the pass's template (U11, 3.6, 3.7).
	if r.TemplateCode != "" && r.TemplateCode != next.TemplateCode {
		return nil, Errorf(CodeParamIllegal, "templateCode: %s is not the template of pass %s", r.TemplateCode, next.ID)
	}
	if err := r.DataInfo.CheckTemplate(t); err != nil {
		return nil, err
	}
	if err := CheckCodeInfo(r.CodeInfo, t); err != nil {
		return nil, err
	}
	// Step 5: exact retry of the last applied change (5.6).
	if next.LastUpdateFingerprint != "" && next.LastUpdateFingerprint == r.fingerprint {
		return nil, nil
	}
	// Step 6: U1 and U2.
	if !StatusAccepted(next.Type, r.Status) {
		return nil, Errorf(CodeBizNotSupport, "status: %s is not supported for a %s pass", r.Status, next.Type)
	}
	update := r.Status == RequestUpdate
	if update && !UpdateKindAllowed(next.Type, next.Product, r.UpdateKind) {
		return nil, Errorf(CodeBizNotSupport, "updateDetailType: %s is not supported for product %s", r.UpdateKind, next.Product)
	}
	// Step 7: requirements that depend on the pass.
	if update && r.BizDate == 0 && (next.Type == TypeCoupon || next.Type == TypeTicket) {
		return nil, Errorf(CodeParamIllegal, "bizDate is required for UPDATE on a %s pass", next.Type)
	}
	if update && r.DataInfo == nil && next.Type == TypeTicket {
		return nil, Errorf(CodeParamIllegal, "dataInfo is required for UPDATE on a TICKET pass ({} if codeInfo or endDate carries the change)")
	}
	if update && r.UpdateKind == UpdateValidity && r.EndDate == 0 {
		return nil, Errorf(CodeParamIllegal, "endDate is required with UPDATE_VALIDITY")
	}
	if r.EndDate != 0 && r.EndDate < next.StartDate {
		return nil, Errorf(CodeParamIllegal, "endDate: %v is before the pass's startDate %v", Millis(r.EndDate), Millis(next.StartDate))
	}
	// Step 8: the state machine on the effective status (U7, U8).
	current := next.EffectiveStatus(at)
	to, code, err := Transition(current, r.Status)
	if err != nil {
		return nil, fmt.Errorf("decide update of pass %s: %w", next.ID, err)
	}
	// Renewal: an UPDATE that moves the endDate of an EXPIRED pass into the
	// future makes it ACTIVE again (endDate is an update field of the seed's
	// member card; a card that could not be renewed once expired would make
	// it useless). Any other UPDATE on an EXPIRED pass stays refused.
	renewal := current == StatusExpired && update && r.EndDate > at.UnixMilli()
	if renewal {
		to, code = StatusActive, CodeSuccess
	}
	switch code {
	case CodeSuccess:
	case CodePassUsedOccupied:
		return nil, Errorf(code, "status: pass %s is already USED; only CLOSED is accepted", next.ID)
	case CodePassStatusIllegal:
		if current == StatusExpired {
			return nil, Errorf(code, "status: pass %s is EXPIRED (endDate %v has passed); only CLOSED is accepted", next.ID, Millis(next.EndDate))
		}
		return nil, Errorf(code, "status: pass %s is %s and accepts no further change", next.ID, current)
	default:
		return nil, Errorf(code, "status: %s is not allowed on pass %s", r.Status, next.ID)
	}
	// Step 9: staleness (U3).
	if update && r.BizDate != 0 && r.BizDate < next.LastBizDate {
		return nil, Errorf(CodePassStatusIllegal, "stale update: bizDate %v is older than the last applied bizDate %v", Millis(r.BizDate), Millis(next.LastBizDate))
	}
	// Step 10: apply.
	merged, err := r.DataInfo.Merge(next.DataInfo)
	if err != nil {
		return nil, err
	}
	changes := map[string]any{}
	if to != next.Status {
		changes["status"] = to
	}
	if r.DataInfo != nil {
		changes["dataInfo"] = r.DataInfo.Entries
		next.DataInfo = merged
	}
	if r.CodeInfo != nil {
		changes["codeInfo"] = *r.CodeInfo
		next.CodeInfo = *r.CodeInfo
	}
	if r.EndDate != 0 {
		changes["endDate"] = r.EndDate
		next.EndDate = r.EndDate
	}
	if renewal {
		// The stored status stays ACTIVE (EXPIRED is derived), so no status
		// change records it: the version is marked instead.
		changes[renewalKey] = true
	}
	next.Status = to
	if update && r.BizDate > next.LastBizDate {
		next.LastBizDate = r.BizDate
	}
	next.LastUpdateFingerprint = r.fingerprint
	next.UpdatedAt = at.UnixMilli()
	changesJSON, err := json.Marshal(changes)
	if err != nil {
		return nil, fmt.Errorf("update history entry: %w", err)
	}
	v := &PassVersion{
		PassID:         next.ID,
		Operation:      "updatePass",
		ClientID:       caller.ClientID,
		MerchantID:     r.MerchantID,
		At:             next.UpdatedAt,
		Status:         to,
		RequestStatus:  string(r.Status),
		Changes:        changesJSON,
		PassVerifyCode: r.PassVerifyCode,
		BizDate:        r.BizDate,
		TracerID:       caller.TracerID,
	}
	if update { // updateDetailType is ignored for the other statuses (5.1)
		v.UpdateKind = r.UpdateKind
	}
	if r.DataInfo != nil {
		v.Metadata = r.DataInfo.Meta.JSON()
	}
	return v, nil
}

// NewPassView is the queryPass view of p at now (6.2): EXPIRED derived,
// openID the owner's openId at the pass's merchant ("" = none).
func NewPassView(p *Pass, openID string, now time.Time) *PassView {
	return &PassView{
		PassID:       p.ID,
		MerchantID:   p.MerchantID,
		BizSerialID:  p.BizSerialID,
		TemplateCode: p.TemplateCode,
		Type:         p.Type,
		Product:      p.Product,
		UserID:       p.UserID,
		OpenID:       openID,
		Status:       p.EffectiveStatus(now),
		StartDate:    p.StartDate,
		EndDate:      p.EndDate,
		BizCreate:    p.BizCreate,
		DataInfo:     cloneDataInfo(p.DataInfo),
		CodeInfo:     p.CodeInfo,
		Version:      p.Version,
		LastBizDate:  p.LastBizDate,
		CreatedAt:    p.CreatedAt,
		UpdatedAt:    p.UpdatedAt,
	}
}

// cloneDataInfo copies di; never nil, so it serialises as {}.
func cloneDataInfo(di DataInfo) DataInfo {
	out := make(DataInfo, len(di))
	for k, v := range di {
		out[k] = v
	}
	return out
}

// passIDRandom is 10^23: the range of the random part of a passId.
var passIDRandom = new(big.Int).Exp(big.NewInt(10), big.NewInt(23), nil)

// NewPassID returns a new passId (4.2): the UTC date of now as yyyymmdd
// followed by 23 random decimal digits from crypto/rand (≈ 76 bits), 31
// digits in all — the shape of the documented samples, not guessable.
func NewPassID(now time.Time) (string, error) { return newPassID(now, rand.Reader) }

func newPassID(now time.Time, random io.Reader) (string, error) {
	n, err := rand.Int(random, passIDRandom)
	if err != nil {
		return "", fmt.Errorf("generate passId: %w", err)
	}
	return now.UTC().Format("20060102") + fmt.Sprintf("%023s", n.String()), nil
}
