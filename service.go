package ipass

import "context"

// PassService runs the operations on an authenticated request body
// (plaintext JSON, after any decryption). It performs the body checks of the
// gateway (G13 JSON shape, G14 merchant ownership) and then the business rules
// of docs/api.md (createPass, updatePass, queryPass).
//
// Errors are *Error with the result code and a message naming the field;
// any other error is internal (UNKNOWN_EXCEPTION) and nothing was changed.
type PassService interface {
	// CreatePass issues a pass, or returns the existing passId for an
	// identical retried create (4.4).
	CreatePass(ctx context.Context, caller Caller, body []byte) (passID string, err error)
	// UpdatePass applies a status or content change (section 5).
	UpdatePass(ctx context.Context, caller Caller, body []byte) error
	// QueryPass reads one pass [ext] (section 6).
	QueryPass(ctx context.Context, caller Caller, body []byte) (*PassView, error)
	// QueryPassHistory reads one page of a pass's versions [ext], finding
	// the pass as QueryPass does.
	QueryPassHistory(ctx context.Context, caller Caller, body []byte) (*HistoryPage, error)
}

// PassView is the `pass` object of a queryPass response (6.2).
type PassView struct {
	PassID       string   `json:"passId"`
	MerchantID   string   `json:"merchantId"`
	BizSerialID  string   `json:"bizSerialId"`
	TemplateCode string   `json:"templateCode"`
	Type         PassType `json:"type"`
	Product      Product  `json:"product"`
	UserID       string   `json:"userId"`
	OpenID       string   `json:"openId,omitempty"`
	Status       Status   `json:"status"` // EXPIRED derived at read time
	StartDate    int64    `json:"startDate"`
	EndDate      int64    `json:"endDate"`
	BizCreate    int64    `json:"bizCreate"`
	DataInfo     DataInfo `json:"dataInfo"`
	CodeInfo     CodeInfo `json:"codeInfo"`
	Version      int      `json:"version"`
	LastBizDate  int64    `json:"lastBizDate,omitempty"`
	CreatedAt    int64    `json:"createdAt"`
	UpdatedAt    int64    `json:"updatedAt"`
}
