package client

import (
	"strconv"
	"strings"

	"github.com/ipass-dev/ipass"
)

// ResultError is a verified response whose resultStatus is F (failure: do
// not retry unchanged) or U (unknown: still U after the configured retries).
// Use errors.As to get it.
type ResultError struct {
	Operation     string     // "createPass", ... (or the path given to Call)
	ResultStatus  string     // "F" or "U"
	ResultCode    ipass.Code // e.g. PASS_HAS_NOT_EXIST
	ResultMessage string     // the server's English explanation, naming the field
	TracerID      string     // response Tracer-Id, for the server's logs; not signed
	Attempts      int        // requests sent, retries included

	// Response is the verified (and decrypted) response carrying the result.
	Response *Response
}

// Error returns "ipass OPERATION: CODE (STATUS): MESSAGE [Tracer-Id ID]".
func (e *ResultError) Error() string {
	var b strings.Builder
	b.WriteString("ipass ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	b.WriteString(string(e.ResultCode))
	b.WriteString(" (")
	b.WriteString(e.ResultStatus)
	b.WriteString(")")
	if e.ResultMessage != "" {
		b.WriteString(": ")
		b.WriteString(e.ResultMessage)
	}
	if e.TracerID != "" {
		b.WriteString(" [Tracer-Id ")
		b.WriteString(e.TracerID)
		b.WriteString("]")
	}
	if e.Attempts > 1 {
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts")
	}
	return b.String()
}

// Temporary reports whether the outcome is unknown (U): the same call may
// succeed later, and the original may or may not have been applied.
func (e *ResultError) Temporary() bool { return e.ResultStatus == "U" }

// The checks a [ProtocolError] can name. Compare ProtocolError.Check with
// these; the texts are stable.
const (
	CheckTransport              = "transport"                      // no response: network, TLS, timeout, cancelled context
	CheckSignatureMissing       = "response Signature missing"     // no Signature header (an unsigned response is never a result)
	CheckResponseTimeMissing    = "response Response-Time missing" // Signature without Response-Time
	CheckHeaderRepeated         = "response header repeated"       // Signature, Response-Time, Client-Id or Encrypt sent twice
	CheckClientIDMismatch       = "response Client-Id mismatch"    // a response for another client
	CheckSignatureUnparsable    = "response Signature unparsable"  // header syntax, algorithm, base64
	CheckNoServerKey            = "no server key for the response algorithm"
	CheckSignatureInvalid       = "response signature does not verify" // tampered, or signed by another key
	CheckResponseTimeUnparsable = "response Response-Time unparsable"
	CheckResponseTimeWindow     = "response Response-Time outside window" // stale (replayed) or far-future response
	CheckDecrypt                = "decrypt response"                      // Encrypt header, key unwrap or body decryption
	CheckBodyTooLarge           = "response body too large"
	CheckBodyNotJSON            = "response body is not JSON"
	CheckNoResult               = "response has no resultInfo or result"
	CheckResultStatus           = "response resultStatus invalid"
	CheckResponseField          = "response field missing or malformed" // e.g. no passId in a createPass SUCCESS
)

// ProtocolError is a call that produced no trustworthy result: the request
// could not be sent or answered, or the response failed one of the checks
// of spec 2.11. Check names which (one of the Check constants); Err, if
// set, is the underlying cause. Use errors.As to get it; errors.Is sees
// through to the cause (e.g. context.DeadlineExceeded).
type ProtocolError struct {
	Operation  string // "createPass", ... (or the path given to Call)
	Check      string // the failed check, e.g. CheckSignatureInvalid
	StatusCode int    // HTTP status of the offending response; 0 when none arrived
	TracerID   string // response Tracer-Id if any (unsigned: for support only)
	Attempts   int    // requests sent, retries included
	Err        error  // cause, if any
}

// Error returns "ipass OPERATION: CHECK[: cause] (HTTP n)".
func (e *ProtocolError) Error() string {
	var b strings.Builder
	b.WriteString("ipass ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	b.WriteString(e.Check)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.StatusCode != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ProtocolError) Unwrap() error { return e.Err }
