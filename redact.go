package ipass

import (
	"errors"
	"fmt"
)

// Field marks an [Errorf] argument as a field name or path the server
// chose (passId, codeInfo), not a value from the request. A redacted
// message keeps Field arguments and leaves every other argument out.
type Field string

// redactedValue stands for a left-out argument whatever its verb.
type redactedValue struct{}

func (redactedValue) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("…")) }

// redact formats like Errorf with every argument but Field values
// replaced by "…".
func redact(format string, args []any) string {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(Field); ok {
			out[i] = string(f)
		} else {
			out[i] = redactedValue{}
		}
	}
	return fmt.Sprintf(format, out...)
}

// withheld is the redacted message of an *Error not made by Errorf, whose
// message cannot be told apart into field names and values.
const withheld = "refused; details are withheld because the request was encrypted"

// Redacted returns err with a message that names fields but echoes no value
// of the request: for an answer to an encrypted request, which another
// client could have assembled from blocks of someone else's ciphertext
// (AES-ECB) to read that ciphertext back through an error message.
// Internal errors and nil are returned unchanged (their message is generic).
func Redacted(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.redacted
	if msg == "" {
		msg = withheld
	}
	return &Error{Code: e.Code, Message: msg, redacted: msg}
}
