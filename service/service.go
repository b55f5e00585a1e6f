// Package service runs createPass, updatePass and queryPass: the body checks
// the gateway leaves to the business layer (G13 strict JSON, G14 merchant
// ownership) and the processing orders of docs/api.md, "Processing order",
// against the root storage interfaces. The rules themselves are pure
// functions of package ipass; this package adds only the lookups and the
// transactions around them.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipass-dev/ipass"
)

// Service implements [ipass.PassService]. Its zero value is not usable:
// Tenants and Passes are required. It is safe for concurrent use.
type Service struct {
	Tenants ipass.TenantStore
	Passes  ipass.PassStore
	// Now is the server clock; nil means time.Now. Each request reads it
	// once, so every rule of one request sees the same instant.
	Now func() time.Time
	// Logger receives debug notes on idempotent retries; nil discards them.
	// Internal errors are returned, not logged: the HTTP edge logs them once.
	Logger *slog.Logger
	// Clocks, set on a sandbox only, move "now" per merchant (clock.go);
	// ClockRefresh is how long offsets are trusted (0: DefaultClockRefresh).
	Clocks       ipass.MerchantClocks
	ClockRefresh time.Duration

	clocks clockCache
}

var _ ipass.PassService = (*Service)(nil)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// CreatePass issues a pass (4.3), or returns the existing passId for an
// identical retried create (4.4).
//
// Errors: PARAM_ILLEGAL (body, fields, template, dataInfo/codeInfo, dates,
// a bizSerialId already used with different content), ACCESS_DENIED,
// USER_NOT_EXIST; anything else is internal and nothing was created.
func (s *Service) CreatePass(ctx context.Context, caller ipass.Caller, body []byte) (_ string, err error) {
	now := s.now()
	b, merchantID, err := s.open(ctx, caller, body)
	defer func() { err = ipass.HintUnknownFields(err, b, ipass.CreateFields) }()
	if err != nil {
		return "", err
	}
	if now, err = s.merchantNow(ctx, merchantID, now); err != nil {
		return "", err
	}
	// 1. Field syntax.
	req, err := ipass.ParseCreateRequest(b)
	if err != nil {
		return "", err
	}
	// 2. Template and type/product agreement.
	tpl, err := s.Tenants.Template(ctx, merchantID, req.TemplateCode)
	if errors.Is(err, ipass.ErrNotFound) {
		return "", ipass.Errorf(ipass.CodeParamIllegal, "templateCode: %s not found for merchant %s", req.TemplateCode, merchantID)
	}
	if err != nil {
		return "", fmt.Errorf("createPass: look up template: %w", err)
	}
	if err := req.CheckTemplate(tpl); err != nil {
		return "", err
	}
	// 3. User.
	user, err := s.resolveUser(ctx, merchantID, req.Identity)
	if err != nil {
		return "", err
	}
	// 4–5. dataInfo/codeInfo against the template, startDate ≤ endDate.
	plan, err := ipass.PlanCreate(req, tpl, user.ID)
	if err != nil {
		return "", err
	}
	// 6. Idempotency on (merchantId, bizSerialId): decided before the
	// expiry check so a retry of an old create still gets its passId.
	existing, err := s.Passes.PassBySerial(ctx, merchantID, req.BizSerialID)
	switch {
	case err == nil:
		return s.sameCreate(ctx, plan, existing)
	case !errors.Is(err, ipass.ErrNotFound):
		return "", fmt.Errorf("createPass: look up bizSerialId: %w", err)
	}
	// 7. A new pass must not be born expired.
	if err := plan.CheckNew(now); err != nil {
		return "", err
	}
	// 8. Create.
	id, err := ipass.NewPassID(now)
	if err != nil {
		return "", err
	}
	p, v, err := plan.Issue(id, now, caller)
	if err != nil {
		return "", err
	}
	got, err := s.Passes.CreatePass(ctx, p, v)
	if errors.Is(err, ipass.ErrConflict) && got != nil {
		// A concurrent create of the same bizSerialId committed first.
		return s.sameCreate(ctx, plan, got)
	}
	if err != nil {
		return "", fmt.Errorf("createPass: store: %w", err)
	}
	return got.ID, nil
}

// sameCreate answers a create whose bizSerialId already has a pass (4.4).
func (s *Service) sameCreate(ctx context.Context, plan *ipass.CreatePlan, existing *ipass.Pass) (string, error) {
	if err := plan.SameAs(existing); err != nil {
		return "", err
	}
	s.log().DebugContext(ctx, "createPass: identical retry", "passId", existing.ID)
	return existing.ID, nil
}

// UpdatePass applies a status or content change (5.5). Everything that
// depends on the stored pass runs inside the store's decide callback, so
// concurrent requests on one pass are judged one after the other.
//
// Errors: PARAM_ILLEGAL, ACCESS_DENIED, USER_NOT_EXIST, PASS_HAS_NOT_EXIST,
// BIZ_NOT_SUPPORT, PASS_STATUS_ILLEGAL, PASS_USED_OCCUPIED; anything else is
// internal and nothing was changed.
func (s *Service) UpdatePass(ctx context.Context, caller ipass.Caller, body []byte) (err error) {
	now := s.now()
	b, merchantID, err := s.open(ctx, caller, body)
	defer func() { err = ipass.HintUnknownFields(err, b, ipass.UpdateFields) }()
	if err != nil {
		return err
	}
	if now, err = s.merchantNow(ctx, merchantID, now); err != nil {
		return err
	}
	// 1. Field syntax.
	req, err := ipass.ParseUpdateRequest(b, now)
	if err != nil {
		return err
	}
	// 2. User.
	user, err := s.resolveUser(ctx, merchantID, req.Identity)
	if err != nil {
		return err
	}
	// 3. Pass lookup and ownership. Merchant, user and template are fixed for
	// a pass's life, so reading them outside the transaction is safe; decide
	// checks ownership again on the locked row anyway. Looked up within the
	// merchant: another tenant's pass takes the very path of a missing one.
	cur, err := s.Passes.MerchantPass(ctx, merchantID, req.PassID)
	if errors.Is(err, ipass.ErrNotFound) {
		return ipass.PassNotFound("passId", req.PassID)
	}
	if err != nil {
		return fmt.Errorf("updatePass: look up pass: %w", err)
	}
	if !cur.Owns(merchantID, user.ID) {
		return ipass.PassNotFound("passId", req.PassID)
	}
	// The template is read before the transaction: decide may run more than
	// once and must not do I/O of its own.
	tpl, err := s.Tenants.Template(ctx, cur.MerchantID, cur.TemplateCode)
	if err != nil {
		return fmt.Errorf("updatePass: template %s of pass %s: %w", cur.TemplateCode, cur.ID, err)
	}
	// 4–10 on the locked current state.
	retry := false
	_, err = s.Passes.UpdatePass(ctx, req.PassID, func(next *ipass.Pass) (*ipass.PassVersion, error) {
		v, err := req.Decide(next, tpl, user.ID, now, caller)
		retry = err == nil && v == nil
		return v, err
	})
	if err != nil {
		var e *ipass.Error
		switch {
		case errors.As(err, &e):
			return err
		case errors.Is(err, ipass.ErrNotFound):
			return ipass.PassNotFound("passId", req.PassID)
		default:
			return fmt.Errorf("updatePass: store: %w", err)
		}
	}
	if retry {
		s.log().DebugContext(ctx, "updatePass: exact retry", "passId", req.PassID)
	}
	return nil
}

// QueryPass reads one pass (6.1): by passId, by bizSerialId within the
// merchant, or both (which must agree).
//
// Errors: PARAM_ILLEGAL, ACCESS_DENIED, USER_NOT_EXIST, PASS_HAS_NOT_EXIST;
// anything else is internal.
func (s *Service) QueryPass(ctx context.Context, caller ipass.Caller, body []byte) (_ *ipass.PassView, err error) {
	now := s.now()
	b, merchantID, err := s.open(ctx, caller, body)
	defer func() { err = ipass.HintUnknownFields(err, b, ipass.QueryFields) }()
	if err != nil {
		return nil, err
	}
	if now, err = s.merchantNow(ctx, merchantID, now); err != nil {
		return nil, err
	}
	req, err := ipass.ParseQueryRequest(b)
	if err != nil {
		return nil, err
	}
	p, user, err := s.findQueried(ctx, merchantID, req)
	if err != nil {
		return nil, err
	}
	if user == nil || user.ID != p.UserID {
		user, err = s.Tenants.User(ctx, p.UserID)
		if err != nil && !errors.Is(err, ipass.ErrNotFound) {
			return nil, fmt.Errorf("queryPass: look up owner: %w", err)
		}
	}
	openID := ""
	if user != nil {
		openID = user.OpenIDs[p.MerchantID]
	}
	return ipass.NewPassView(p, openID, now), nil
}

// findQueried finds the pass a queryPass or queryPassHistory request names
// (6.1): by passId, by bizSerialId within the merchant, or both (which must
// agree), owned by the merchant and, if an identity is given, by that user.
// Someone else's pass is PASS_HAS_NOT_EXIST, exactly like a missing one.
// user is the resolved identity, nil if none was given.
func (s *Service) findQueried(ctx context.Context, merchantID string, req *ipass.QueryRequest) (p *ipass.Pass, user *ipass.User, err error) {
	if req.Identity.Given() {
		if user, err = s.resolveUser(ctx, merchantID, req.Identity); err != nil {
			return nil, nil, err
		}
	}
	if req.PassID != "" {
		// Within the merchant, so another tenant's passId answers exactly as
		// a missing one, before bizSerialId is looked at.
		p, err = s.Passes.MerchantPass(ctx, merchantID, req.PassID)
		if errors.Is(err, ipass.ErrNotFound) {
			return nil, nil, ipass.PassNotFound("passId", req.PassID)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("queryPass: look up pass: %w", err)
		}
	}
	if req.BizSerialID != "" {
		q, err := s.Passes.PassBySerial(ctx, merchantID, req.BizSerialID)
		if errors.Is(err, ipass.ErrNotFound) {
			return nil, nil, ipass.PassNotFound("bizSerialId", req.BizSerialID)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("queryPass: look up bizSerialId: %w", err)
		}
		if p != nil && p.ID != q.ID {
			return nil, nil, ipass.PassNotFound("passId", req.PassID)
		}
		p = q
	}
	userID := ""
	if user != nil {
		userID = user.ID
	}
	if !p.Owns(merchantID, userID) {
		if req.PassID != "" {
			return nil, nil, ipass.PassNotFound("passId", req.PassID)
		}
		return nil, nil, ipass.PassNotFound("bizSerialId", req.BizSerialID)
	}
	return p, user, nil
}

// open runs G13 (strict JSON) and G14 (merchantId present and owned by the
// caller) and returns the body and the merchantId. The body is returned
// with a G14 failure too, so that failure can name unknown fields.
func (s *Service) open(ctx context.Context, caller ipass.Caller, body []byte) (ipass.Body, string, error) {
	b, err := ipass.DecodeBody(body)
	if err != nil {
		return nil, "", err
	}
	merchantID, err := b.MerchantID()
	if err != nil {
		return b, "", err
	}
	m, err := s.Tenants.Merchant(ctx, merchantID)
	if err != nil && !errors.Is(err, ipass.ErrNotFound) {
		return nil, "", fmt.Errorf("look up merchant: %w", err)
	}
	// One answer for "no such merchant" and "someone else's merchant", so
	// the response never tells whether another tenant's merchant exists.
	if err != nil || m.ClientID != caller.ClientID {
		return b, "", ipass.Errorf(ipass.CodeAccessDenied, "merchantId %s is not a merchant of this client", merchantID)
	}
	return b, merchantID, nil
}

// resolveUser applies 3.8: userId globally, openId within the merchant;
// both given must name the same user.
func (s *Service) resolveUser(ctx context.Context, merchantID string, id ipass.Identity) (*ipass.User, error) {
	var byID, byOpenID *ipass.User
	var err error
	if id.UserID != "" {
		byID, err = s.Tenants.User(ctx, id.UserID)
		if errors.Is(err, ipass.ErrNotFound) {
			return nil, ipass.Errorf(ipass.CodeUserNotExist, "userId %s: user not found", id.UserID)
		}
		if err != nil {
			return nil, fmt.Errorf("look up userId: %w", err)
		}
	}
	if id.OpenID != "" {
		byOpenID, err = s.Tenants.UserByOpenID(ctx, merchantID, id.OpenID)
		if errors.Is(err, ipass.ErrNotFound) {
			return nil, ipass.Errorf(ipass.CodeUserNotExist, "openId %s: no such user at merchant %s", id.OpenID, merchantID)
		}
		if err != nil {
			return nil, fmt.Errorf("look up openId: %w", err)
		}
	}
	switch {
	case byID != nil && byOpenID != nil:
		if byID.ID != byOpenID.ID {
			return nil, ipass.Errorf(ipass.CodeParamIllegal, "userId and openId identify different users")
		}
		return byID, nil
	case byID != nil:
		return byID, nil
	case byOpenID != nil:
		return byOpenID, nil
	}
	return nil, ipass.Errorf(ipass.CodeParamIllegal, "userId or openId is required")
}
