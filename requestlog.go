package ipass

import (
	"context"
	"math"
	"time"
)

// Paging limits of queryRequestLog [ext].
const (
	DefaultRequestLogPageSize = 20
	MaxRequestLogPageSize     = 100
)

// RequestLogEntry is one API request of a known client, as the request log
// keeps it: what a merchant's developer needs to see what their calls got,
// never a body.
type RequestLogEntry struct {
	ID         int64   `json:"id"`                   // store-assigned, increasing in the order entries were written
	At         int64   `json:"at"`                   // ms, server clock when the request arrived
	ClientID   string  `json:"-"`                    // the API answers only the caller's own entries
	Operation  string  `json:"operation"`            // createPass, updatePass, queryPass, queryPassHistory, queryRequestLog
	MerchantID string  `json:"merchantId,omitempty"` // as the request gave it (see docs/api.md for encrypted requests)
	PassID     string  `json:"passId,omitempty"`     // as the request gave it, or the pass createPass issued
	ResultCode string  `json:"resultCode"`
	Message    string  `json:"resultMessage"`
	HTTPStatus int     `json:"httpStatus"`
	DurationMS float64 `json:"durationMs"` // time in the handler, µs precision
	TracerID   string  `json:"tracerId"`
	// ContentSHA256 is the hex SHA-256 of the signed content, the figure
	// an INVALID_SIGNATURE message quotes; empty when the request failed
	// before its signature was checked.
	ContentSHA256 string `json:"contentSha256,omitempty"`
	Node          string `json:"node"` // the server process that answered
}

// RequestLogQuery selects entries, newest (highest ID) first. Zero fields
// do not filter.
type RequestLogQuery struct {
	ClientID   string
	ResultCode string
	PassID     string
	Since      time.Time // entries that arrived at or after
	FromID     int64     // entries with ID ≤ FromID: the cursor of the next page
	Limit      int       // at most this many; ≤ 0 means all
}

// RequestLogStore keeps the request log. Every method is one transaction.
type RequestLogStore interface {
	// AppendRequestLog writes the entries (their ID is assigned).
	AppendRequestLog(ctx context.Context, entries []RequestLogEntry) error
	// RequestLog returns the entries q selects, highest ID first.
	RequestLog(ctx context.Context, q RequestLogQuery) ([]RequestLogEntry, error)
	// PruneRequestLog deletes the entries that arrived before cutoff and,
	// for each client, all but its newest maxPerClient (≤ 0: no bound). It
	// returns how many it deleted.
	PruneRequestLog(ctx context.Context, cutoff time.Time, maxPerClient int) (int64, error)
}

// RequestLog is the request log as the server uses it: Record queues an
// entry without ever blocking (it may drop it), Requests reads.
type RequestLog interface {
	Record(e RequestLogEntry)
	Requests(ctx context.Context, q RequestLogQuery) ([]RequestLogEntry, error)
}

// RequestLogRequest is a queryRequestLog body after field syntax checks.
type RequestLogRequest struct {
	FromID     int64  // 0: from the newest entry
	PageSize   int    // 1–MaxRequestLogPageSize (default DefaultRequestLogPageSize)
	ResultCode string // only entries with this result code
	PassID     string // only entries naming this pass
}

// ParseRequestLogRequest checks the syntax of every queryRequestLog field.
func ParseRequestLogRequest(b Body) (*RequestLogRequest, error) {
	r := &RequestLogRequest{}
	from, err := b.count("fromId", 0, math.MaxInt)
	if err != nil {
		return nil, err
	}
	r.FromID = int64(from)
	if r.PageSize, err = b.count("pageSize", DefaultRequestLogPageSize, MaxRequestLogPageSize); err != nil {
		return nil, err
	}
	if r.ResultCode, err = b.str("resultCode", 64, true); err != nil {
		return nil, err
	}
	if r.PassID, err = b.str("passId", maxPassID, true); err != nil {
		return nil, err
	}
	return r, nil
}

// RequestLogPage is the answer of queryRequestLog: the caller's entries,
// newest first.
type RequestLogPage struct {
	Entries []RequestLogEntry `json:"entries"`
	// NextFromID is the fromId of the next (older) page; 0 (omitted) on
	// the last page.
	NextFromID int64 `json:"nextFromId,omitempty"`
}
