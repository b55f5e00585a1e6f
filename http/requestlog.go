package http

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"path"
	"time"

	"github.com/ipass-dev/ipass"
)

// maxLoggedID caps a merchantId or passId the request log keeps: the
// request's own input, so it is bounded like anything echoed.
const maxLoggedID = 64

// recordRequest hands the request's log entry to the request log, when its
// client is known (G5 passed): a request of an unknown Client-Id belongs to
// no merchant. Record never blocks; the writer batches (package reqlog).
func (s *Server) recordRequest(x *exchange, err error, start time.Time) {
	if s.RequestLog == nil || x.client == nil {
		return
	}
	code := ipass.ErrorCode(err)
	e := ipass.RequestLogEntry{
		At:         x.arrived.UnixMilli(),
		ClientID:   x.client.ID,
		Operation:  path.Base(x.path), // a known operation: G1 passed before G5
		MerchantID: x.merchantID,
		PassID:     x.passArg,
		ResultCode: string(code),
		Message:    capMessage(ipass.ErrorMessage(err)),
		HTTPStatus: code.HTTPStatus(),
		DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		TracerID:   x.tracerID,
		Node:       s.NodeName,
	}
	if x.summed {
		e.ContentSHA256 = hex.EncodeToString(x.contentSum[:])
	}
	s.RequestLog.Record(e)
}

// noteArguments keeps the merchantId and passId the request named, for its
// log entry. An encrypted request's are kept only when it succeeded, that
// is once the service found the merchant to be the caller's and the pass
// the merchant's: a failed one's plaintext may be another client's
// ciphertext spliced in (AES-ECB), which the log must not read back.
// It runs after G9 only: an unverified body names nothing in the log.
// queryRequestLog's own passId is a filter, not a pass it acted on.
func (s *Server) noteArguments(x *exchange, body []byte, err error) {
	if s.RequestLog == nil || (x.encrypted && err != nil) || x.path == PathQueryRequestLog {
		return
	}
	var ids struct {
		MerchantID any `json:"merchantId"`
		PassID     any `json:"passId"`
	}
	_ = json.Unmarshal(body, &ids) // best effort: a malformed body names nothing
	x.merchantID, x.passArg = loggedID(ids.MerchantID), loggedID(ids.PassID)
	if err != nil {
		return
	}
	// What the operation found beats what was asked (a pass named by
	// bizSerialId, the passId createPass issued).
	switch {
	case x.passID != "":
		x.passArg = x.passID
	case x.pass != nil:
		x.passArg = x.pass.PassID
	case x.history != nil:
		x.passArg = x.history.PassID
	}
}

// loggedID is v when it is a string of visible ASCII, capped; else "".
func loggedID(v any) string {
	s, ok := v.(string)
	if !ok || !visibleASCII(s) {
		return ""
	}
	if len(s) > maxLoggedID {
		s = s[:maxLoggedID]
	}
	return s
}

// queryRequestLog answers one page of the caller's own request log
// [ext], newest first. The client comes from the verified signature, never
// from the body: no field can name another client.
func (s *Server) queryRequestLog(ctx context.Context, clientID string, body []byte) (*ipass.RequestLogPage, error) {
	if s.RequestLog == nil {
		return nil, ipass.Errorf(ipass.CodeNoInterfaceDef, "queryRequestLog: this server keeps no request log")
	}
	b, err := ipass.DecodeBody(body)
	if err != nil {
		return nil, err
	}
	r, err := ipass.ParseRequestLogRequest(b)
	if err != nil {
		return nil, err
	}
	entries, err := s.RequestLog.Requests(ctx, ipass.RequestLogQuery{
		ClientID: clientID, ResultCode: r.ResultCode, PassID: r.PassID, FromID: r.FromID, Limit: r.PageSize + 1,
	})
	if err != nil {
		return nil, err
	}
	page := &ipass.RequestLogPage{Entries: entries}
	if len(entries) > r.PageSize {
		page.Entries, page.NextFromID = entries[:r.PageSize], entries[r.PageSize].ID
	}
	if page.Entries == nil {
		page.Entries = []ipass.RequestLogEntry{}
	}
	return page, nil
}
