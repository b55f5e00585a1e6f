package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipass-dev/ipass"
)

// QueryPassHistory reads one page of a pass's versions [ext]. The pass is
// found exactly as queryPass finds it, so another tenant's pass is
// PASS_HAS_NOT_EXIST, like a missing one.
//
// Errors: PARAM_ILLEGAL, ACCESS_DENIED, USER_NOT_EXIST, PASS_HAS_NOT_EXIST;
// anything else is internal.
func (s *Service) QueryPassHistory(ctx context.Context, caller ipass.Caller, body []byte) (_ *ipass.HistoryPage, err error) {
	b, merchantID, err := s.open(ctx, caller, body)
	defer func() { err = ipass.HintUnknownFields(err, b, ipass.HistoryFields) }()
	if err != nil {
		return nil, err
	}
	req, err := ipass.ParseHistoryRequest(b)
	if err != nil {
		return nil, err
	}
	p, _, err := s.findQueried(ctx, merchantID, &req.QueryRequest)
	if err != nil {
		return nil, err
	}
	page, err := s.Passes.HistoryPage(ctx, p.ID, req.FromVersion, req.PageSize)
	if errors.Is(err, ipass.ErrNotFound) {
		return nil, ipass.PassNotFound("passId", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("queryPassHistory: %w", err)
	}
	return page, nil
}
