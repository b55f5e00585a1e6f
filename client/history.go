package client

import (
	"context"
	"encoding/json"

	"github.com/ipass-dev/ipass"
)

// QueryPassHistoryRequest is the queryPassHistory body, an ipass extension:
// the pass is named as in queryPass, and one page of its versions is read.
type QueryPassHistoryRequest struct {
	MerchantID  string `json:"merchantId,omitempty"`  // M
	PassID      string `json:"passId,omitempty"`      // C: passId and/or bizSerialId
	BizSerialID string `json:"bizSerialId,omitempty"` // C
	UserID      string `json:"userId,omitempty"`      // O: if given, must own the pass
	OpenID      string `json:"openId,omitempty"`      // O: if given, must own the pass
	FromVersion int    `json:"fromVersion,omitempty"` // O: first version of the page (default 1)
	PageSize    int    `json:"pageSize,omitempty"`    // O: 1–100 (default 20)
}

// QueryPassHistoryResponse is a successful queryPassHistory.
type QueryPassHistoryResponse struct {
	ipass.HistoryPage           // passId, latestVersion, versions, nextFromVersion (0: last page)
	Response          *Response // the verified response
}

// QueryPassHistory reads one page of a pass's versions, oldest first: for
// each, when, the status after it, every changed field from → to, the
// transaction metadata and the request's Tracer-Id. Ask again with
// FromVersion = NextFromVersion until it is 0. It is an ipass extension: the
// AlipayHK gateway has no such endpoint.
func (c *Client) QueryPassHistory(ctx context.Context, req *QueryPassHistoryRequest) (*QueryPassHistoryResponse, error) {
	resp, err := c.callJSON(ctx, OpQueryPassHistory, req)
	if err != nil {
		return nil, err
	}
	out := &QueryPassHistoryResponse{Response: resp}
	if err := json.Unmarshal(resp.Body, &out.HistoryPage); err != nil || out.Versions == nil {
		return nil, fieldError(OpQueryPassHistory, resp, "versions", err)
	}
	return out, nil
}
