package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ipass-dev/ipass"
)

// DataInfo is card-face data (spec 3.6): "$name_locale$" keys, e.g.
// "$points_en_US$", to any JSON value. On updatePass a nil value is sent as
// null and removes the key. The metadata keys billNo, lastChangedPoints and
// pointsProvider go in the same map. The legacy nested form (a locale key
// holding an object of "$name$" keys) is also just a map value.
type DataInfo map[string]any

// CodeInfo is the code shown on the pass (spec 3.7).
type CodeInfo struct {
	Msg   string `json:"$codemsg$,omitempty"` // text under the code; the server defaults it to Value
	Value string `json:"$codevalue$"`         // what the QR code / barcode encodes ("" for a NONE template)
}

// CreatePassRequest is the createPass body (spec 4.1). Timestamps are epoch
// milliseconds. Fields left zero are omitted; the server names any that is
// required.
type CreatePassRequest struct {
	MerchantID    string         `json:"merchantId,omitempty"`    // M: a merchant of the calling client
	UserID        string         `json:"userId,omitempty"`        // C: userId or openId
	OpenID        string         `json:"openId,omitempty"`        // C: userId or openId
	TemplateCode  string         `json:"templateCode,omitempty"`  // M
	BizSerialID   string         `json:"bizSerialId,omitempty"`   // M: the merchant's id for this pass; unique per merchant (idempotency key)
	BizSerialType string         `json:"bizSerialType,omitempty"` // M: only OUT_PLAT_FORM; sent as that when empty
	StartDate     int64          `json:"startDate,omitempty"`     // M: start of validity, ms
	EndDate       int64          `json:"endDate,omitempty"`       // M: expiry, ms
	BizCreate     int64          `json:"bizCreate,omitempty"`     // M: when the merchant created the card/order, ms
	Type          ipass.PassType `json:"type,omitempty"`          // O: must match the template's
	Product       ipass.Product  `json:"product,omitempty"`       // O: must match the template's
	CodeInfo      *CodeInfo      `json:"codeInfo,omitempty"`      // C: required for tickets and for templates with a code
	DataInfo      DataInfo       `json:"dataInfo,omitzero"`       // O: initial face data
}

// UpdatePassRequest is the updatePass body (spec 5.1). DataInfo is sent
// when non-nil, so DataInfo{} sends {} (a TICKET UPDATE whose change is in
// codeInfo or endDate needs that).
type UpdatePassRequest struct {
	MerchantID       string                `json:"merchantId,omitempty"`       // M
	UserID           string                `json:"userId,omitempty"`           // C: userId or openId
	OpenID           string                `json:"openId,omitempty"`           // C: userId or openId
	PassID           string                `json:"passId,omitempty"`           // M: from createPass
	TemplateCode     string                `json:"templateCode,omitempty"`     // O: if given, must be the pass's
	Status           ipass.RequestedStatus `json:"status,omitempty"`           // M: UPDATE, USED, REFUND or CLOSED
	UpdateDetailType ipass.UpdateKind      `json:"updateDetailType,omitempty"` // C: required with UPDATE
	BizDate          int64                 `json:"bizDate,omitempty"`          // C: ms; orders UPDATEs (stale ones are refused)
	EndDate          int64                 `json:"endDate,omitempty"`          // C: new expiry, ms; required with UPDATE_VALIDITY
	DataInfo         DataInfo              `json:"dataInfo,omitzero"`          // C: face-data changes, merged into the stored data
	CodeInfo         *CodeInfo             `json:"codeInfo,omitempty"`         // O: replaces the stored code
	PassVerifyCode   string                `json:"passVerifyCode,omitempty"`   // O: write-off code, kept in the history
}

// QueryPassRequest is the queryPass body (spec 6.1, an ipass extension).
type QueryPassRequest struct {
	MerchantID  string `json:"merchantId,omitempty"`  // M
	PassID      string `json:"passId,omitempty"`      // C: passId and/or bizSerialId
	BizSerialID string `json:"bizSerialId,omitempty"` // C
	UserID      string `json:"userId,omitempty"`      // O: if given, must own the pass
	OpenID      string `json:"openId,omitempty"`      // O: if given, must own the pass
}

// CreatePassResponse is a successful createPass.
type CreatePassResponse struct {
	PassID   string    // server-generated passId (the existing one for an identical retried create)
	Response *Response // the verified response
}

// UpdatePassResponse is a successful updatePass.
type UpdatePassResponse struct {
	Response *Response // the verified response
}

// QueryPassResponse is a successful queryPass.
type QueryPassResponse struct {
	Pass     *ipass.PassView // the pass as the server holds it (spec 6.2)
	Response *Response       // the verified response
}

// CreatePass issues a pass and returns its passId. A create retried with
// the same content returns the same passId (spec 4.4).
func (c *Client) CreatePass(ctx context.Context, req *CreatePassRequest) (*CreatePassResponse, error) {
	r := *req
	if r.BizSerialType == "" {
		r.BizSerialType = "OUT_PLAT_FORM"
	}
	resp, err := c.callJSON(ctx, OpCreatePass, &r)
	if err != nil {
		return nil, err
	}
	var out struct {
		PassID string `json:"passId"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.PassID == "" {
		return nil, fieldError(OpCreatePass, resp, "passId", err)
	}
	return &CreatePassResponse{PassID: out.PassID, Response: resp}, nil
}

// UpdatePass changes a pass's content or status.
func (c *Client) UpdatePass(ctx context.Context, req *UpdatePassRequest) (*UpdatePassResponse, error) {
	resp, err := c.callJSON(ctx, OpUpdatePass, req)
	if err != nil {
		return nil, err
	}
	return &UpdatePassResponse{Response: resp}, nil
}

// QueryPass reads one pass. It is an ipass extension: the AlipayHK gateway
// has no such endpoint.
func (c *Client) QueryPass(ctx context.Context, req *QueryPassRequest) (*QueryPassResponse, error) {
	resp, err := c.callJSON(ctx, OpQueryPass, req)
	if err != nil {
		return nil, err
	}
	var out struct {
		Pass *ipass.PassView `json:"pass"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.Pass == nil {
		return nil, fieldError(OpQueryPass, resp, "pass", err)
	}
	return &QueryPassResponse{Pass: out.Pass, Response: resp}, nil
}

func (c *Client) callJSON(ctx context.Context, op string, req any) (*Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s: encode request: %w", op, err)
	}
	return c.do(ctx, c.ops[op], body)
}

func fieldError(op string, resp *Response, field string, cause error) error {
	if cause == nil {
		cause = errors.New(field + " missing in a SUCCESS response")
	}
	return &ProtocolError{Operation: op, Check: CheckResponseField, StatusCode: resp.StatusCode,
		TracerID: resp.TracerID, Attempts: resp.Attempts, Err: cause}
}
