package gateway

import "errors"

// Reason is why a message was rejected. Its values equal the wire resultCodes
// of spec section 7.2, so a server can copy a Reason into a response as is.
type Reason string

// The reasons this package can decide on its own. Other gateway codes
// (INVALID_CLIENT, REQUEST_TIME_EXPIRED, REPEAT_REQUEST, ...) need state the
// package does not have, so their checks live with the caller.
const (
	ReasonInvalidSignature Reason = "INVALID_SIGNATURE"
	ReasonKeyNotFound      Reason = "KEY_NOT_FOUND"
	ReasonDecryptFailed    Reason = "DECRYPT_FAILED"
	ReasonParamIllegal     Reason = "PARAM_ILLEGAL"
)

// Error is a protocol rejection. It names the failing part of the message
// (a header, or a header item such as "Signature.keyVersion") so the
// resultMessage can tell the caller what to fix.
//
// Msg is written for the remote party and never contains key material or
// the text of a wrapped library error; Err keeps that cause for logs and
// errors.Is/As.
type Error struct {
	Reason Reason // wire resultCode
	Part   string // failing header or header item, e.g. "Signature.signature", "Request-Time", "body"
	Msg    string // why, in a few words
	Err    error  // underlying cause, if any; not shown by Error
}

// Error returns "<Part>: <Msg>", the form used as resultMessage.
func (e *Error) Error() string {
	if e.Part == "" {
		return e.Msg
	}
	return e.Part + ": " + e.Msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of the first *Error in err's chain, or "" when
// there is none (a local failure rather than a protocol rejection).
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func newError(r Reason, part, msg string, cause error) *Error {
	return &Error{Reason: r, Part: part, Msg: msg, Err: cause}
}
