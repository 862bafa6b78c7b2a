package axelor

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies every error the client returns, so callers decide
// without parsing text (retry later, re-read and merge, give up).
type Code string

// Error codes.
const (
	CodeAuth           Code = "auth"            // credentials refused (login or API key)
	CodeSessionLost    Code = "session_lost"    // session still lost after a new login
	CodeConflict       Code = "conflict"        // optimistic lock: stale version or deleted record
	CodeNotFound       Code = "not_found"       // no such record
	CodeValidation     Code = "validation"      // server-side validation failed (status -4 or bean validation)
	CodeRemote         Code = "remote"          // any other status -1 application error
	CodeSwallowedQuery Code = "swallowed_query" // search answered status 0 without total
	CodeNoEffect       Code = "no_effect"       // update accepted but the record does not hold the written values
	CodeUnavailable    Code = "unavailable"     // 5xx/429/network errors after every retry
	CodeCircuitOpen    Code = "circuit_open"    // breaker open: the CRM is considered down
	CodeProtocol       Code = "protocol"        // answer that breaks the protocol (bad JSON, bad envelope)
	CodeHTTP           Code = "http"            // a plain HTTP error (400, 403, 404, 405…)
	CodeInvalid        Code = "invalid"         // the caller's request is invalid, nothing was sent
)

// frenchMessages are the user-facing texts, shown to TIG referents in the
// sync status; they never hold record contents.
var frenchMessages = map[Code]string{
	CodeAuth:           "identifiants Axelor refusés",
	CodeSessionLost:    "session Axelor perdue malgré une nouvelle connexion",
	CodeConflict:       "modification concurrente dans Axelor (version périmée)",
	CodeNotFound:       "fiche introuvable dans Axelor",
	CodeValidation:     "données refusées par Axelor (validation)",
	CodeRemote:         "erreur signalée par Axelor",
	CodeSwallowedQuery: "recherche Axelor en échec (réponse sans total)",
	CodeNoEffect:       "mise à jour Axelor sans effet",
	CodeUnavailable:    "Axelor indisponible après plusieurs tentatives",
	CodeCircuitOpen:    "Axelor considéré comme hors service, appels suspendus",
	CodeProtocol:       "réponse Axelor illisible",
	CodeHTTP:           "erreur HTTP d'Axelor",
	CodeInvalid:        "requête Axelor invalide",
}

// Error is the coded error of the client.
type Error struct {
	Code Code
	Op   string // e.g. "update com.axelor.apps.base.db.Partner/12"
	// HTTPStatus is the HTTP status of the last answer, 0 when none arrived.
	HTTPStatus int
	// Status is Axelor's envelope status (0, -1, -4, -7…) when one was read.
	Status int
	// Title and Message come from the server's error report, when any.
	Title, Message string
	// EntityID is set by the server on optimistic-lock failures.
	EntityID int64
	Err      error
}

// Sentinels for errors.Is: an *Error matches the sentinel of its Code.
var (
	ErrAuth           = &Error{Code: CodeAuth}
	ErrSessionLost    = &Error{Code: CodeSessionLost}
	ErrConflict       = &Error{Code: CodeConflict}
	ErrNotFound       = &Error{Code: CodeNotFound}
	ErrValidation     = &Error{Code: CodeValidation}
	ErrRemote         = &Error{Code: CodeRemote}
	ErrSwallowedQuery = &Error{Code: CodeSwallowedQuery}
	ErrNoEffect       = &Error{Code: CodeNoEffect}
	ErrUnavailable    = &Error{Code: CodeUnavailable}
	ErrCircuitOpen    = &Error{Code: CodeCircuitOpen}
	ErrProtocol       = &Error{Code: CodeProtocol}
	ErrHTTP           = &Error{Code: CodeHTTP}
	ErrInvalid        = &Error{Code: CodeInvalid}
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("axelor: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(frenchMessages[e.Code])
	if e.HTTPStatus != 0 && e.HTTPStatus != 200 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// UserMessage is the French text for end users, without technical details.
func (e *Error) UserMessage() string { return frenchMessages[e.Code] }

func (e *Error) Unwrap() error { return e.Err }

// Is matches sentinels by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Op == "" && t.Err == nil
}

// CodeOf returns the code of the first *Error in err's chain, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Temporary reports whether trying the same call later may succeed.
func Temporary(err error) bool {
	switch CodeOf(err) {
	case CodeUnavailable, CodeCircuitOpen, CodeSessionLost, CodeConflict:
		return true
	}
	return false
}
