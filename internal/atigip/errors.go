package atigip

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes shared by every layer; internal/httpapi maps each to one HTTP status.
const (
	EINVALID      = "invalid"      // input fails validation
	ENOTFOUND     = "not_found"    // no such entity
	ECONFLICT     = "conflict"     // stale version or state that forbids the change
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, role not admitted
	ETOOLARGE     = "too_large"    // body or batch over the limit
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// ErrConcurrent is wrapped by the ECONFLICT errors that a concurrent
// writer caused (a stale version, a duplicate reference created at the
// same moment, a serialization failure or deadlock): the same operation
// redone on fresh data may succeed, unlike a conflict of state.
var ErrConcurrent = errors.New("concurrent modification")

// Concurrent reports whether err is a conflict with a concurrent writer,
// worth retrying on fresh data.
func Concurrent(err error) bool { return errors.Is(err, ErrConcurrent) }

// FieldError is one invalid field, with a French message for the screen.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one coded error type of the project. Message is French and
// safe to show to end users; Err carries the technical cause for logs.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error with a French user message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing French message of err, never the
// technical cause, which may hold details not meant for users.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Erreur interne du serveur."
}

// ErrorFields returns the field errors carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Problems accumulates field errors during validation.
type Problems []FieldError

// Add records a problem on field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Check records a problem on field when bad is true.
func (p *Problems) Check(bad bool, field, format string, args ...any) {
	if bad {
		p.Add(field, format, args...)
	}
}

// Err returns nil when there is no problem, or an EINVALID error listing them.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: fmt.Sprintf("%s invalide.", what), Fields: p}
}
