package ipass

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a resultCode of the wire API (docs/api.md, "Result codes").
type Code string

// The result codes. Their resultStatus and HTTP status come from [Code.Status]
// and [Code.HTTPStatus].
const (
	CodeSuccess            Code = "SUCCESS"
	CodeParamIllegal       Code = "PARAM_ILLEGAL"
	CodeUnknownException   Code = "UNKNOWN_EXCEPTION"
	CodeUserNotExist       Code = "USER_NOT_EXIST"
	CodePassHasNotExist    Code = "PASS_HAS_NOT_EXIST"
	CodePassUsedOccupied   Code = "PASS_USED_OCCUPIED"
	CodePassHasNotUsed     Code = "PASS_HAS_NOT_USED" // reserved: never returned
	CodeBizNotSupport      Code = "BIZ_NOT_SUPPORT"
	CodePassStatusIllegal  Code = "PASS_STATUS_ILLEGAL"
	CodeAccessDenied       Code = "ACCESS_DENIED"
	CodeInvalidClient      Code = "INVALID_CLIENT"
	CodeKeyNotFound        Code = "KEY_NOT_FOUND"
	CodeInvalidSignature   Code = "INVALID_SIGNATURE"
	CodeRequestTimeExpired Code = "REQUEST_TIME_EXPIRED"
	CodeRepeatRequest      Code = "REPEAT_REQUEST"
	CodeDecryptFailed      Code = "DECRYPT_FAILED"
	CodeMediaTypeNotAccept Code = "MEDIA_TYPE_NOT_ACCEPTABLE"
	CodeMethodNotSupported Code = "METHOD_NOT_SUPPORTED"
	CodeNoInterfaceDef     Code = "NO_INTERFACE_DEF"
	CodeRequestTooLarge    Code = "REQUEST_TOO_LARGE"
	CodeTrafficExceedLimit Code = "REQUEST_TRAFFIC_EXCEED_LIMIT"
)

// resultTable is the single code → (resultStatus, HTTP status) table.
// Authentication and business failures stay HTTP 200 (spec 7.2 [decision]).
var resultTable = map[Code]struct {
	status string
	http   int
}{
	CodeSuccess:            {"S", http.StatusOK},
	CodeParamIllegal:       {"F", http.StatusOK},
	CodeUnknownException:   {"U", http.StatusInternalServerError},
	CodeUserNotExist:       {"F", http.StatusOK},
	CodePassHasNotExist:    {"F", http.StatusOK},
	CodePassUsedOccupied:   {"F", http.StatusOK},
	CodePassHasNotUsed:     {"F", http.StatusOK},
	CodeBizNotSupport:      {"F", http.StatusOK},
	CodePassStatusIllegal:  {"F", http.StatusOK},
	CodeAccessDenied:       {"F", http.StatusOK},
	CodeInvalidClient:      {"F", http.StatusOK},
	CodeKeyNotFound:        {"F", http.StatusOK},
	CodeInvalidSignature:   {"F", http.StatusOK},
	CodeRequestTimeExpired: {"F", http.StatusOK},
	CodeRepeatRequest:      {"F", http.StatusOK},
	CodeDecryptFailed:      {"F", http.StatusOK},
	CodeMediaTypeNotAccept: {"F", http.StatusUnsupportedMediaType},
	CodeMethodNotSupported: {"F", http.StatusMethodNotAllowed},
	CodeNoInterfaceDef:     {"F", http.StatusNotFound},
	CodeRequestTooLarge:    {"F", http.StatusRequestEntityTooLarge},
	CodeTrafficExceedLimit: {"U", http.StatusTooManyRequests},
}

// Known reports whether c is one of the codes of section 7.2.
func (c Code) Known() bool { _, ok := resultTable[c]; return ok }

// Status is the resultStatus of c: "S", "F" or "U". Unknown codes are "U".
func (c Code) Status() string {
	if r, ok := resultTable[c]; ok {
		return r.status
	}
	return "U"
}

// HTTPStatus is the HTTP status code a response carrying c is sent with.
func (c Code) HTTPStatus() int {
	if r, ok := resultTable[c]; ok {
		return r.http
	}
	return http.StatusInternalServerError
}

// Error is a failure with a result code and an English message that names the
// offending field or header. Anything that is not an *Error is internal: it is
// logged for operators and shown to callers only as UNKNOWN_EXCEPTION.
type Error struct {
	Code    Code
	Message string

	redacted string // Message without values, when made by Errorf (see [Redacted])
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), redacted: redact(format, args)}
}

// ErrorCode returns the code of the *Error in err's chain, SUCCESS for nil,
// and UNKNOWN_EXCEPTION for anything else.
func ErrorCode(err error) Code {
	if err == nil {
		return CodeSuccess
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknownException
}

// ErrorMessage returns the caller-facing message for err: the message of an
// *Error, "success" for nil, and a generic text for internal errors so that
// nothing internal leaks to callers.
func ErrorMessage(err error) string {
	if err == nil {
		return "success"
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal server error; nothing was changed, retry with a fresh signature"
}

// Storage sentinel errors. Stores wrap or return these; callers test with errors.Is.
var (
	// ErrNotFound: the looked-up record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is taken (e.g. merchantId + bizSerialId).
	ErrConflict = errors.New("conflict")
)

// AllCodes returns every result code, in no particular order (for
// documents and tests that must list them all).
func AllCodes() []Code {
	out := make([]Code, 0, len(resultTable))
	for c := range resultTable {
		out = append(out, c)
	}
	return out
}
