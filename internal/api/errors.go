package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sluice-gw/sluice/internal/rules"
	"github.com/sluice-gw/sluice/internal/store"
)

// The error catalog: every error the API answers carries one of these
// stable codes with its HTTP status.
const (
	codeBadRequest     = "BAD_REQUEST"          // 400: malformed JSON, bad query parameter
	codeUnauthorized   = "UNAUTHORIZED"         // 401: missing or wrong API key
	codeNotFound       = "NOT_FOUND"            // 404: unknown id or route
	codeConflict       = "CONFLICT"             // 409: duplicate name, event being delivered
	codeTooLarge       = "PAYLOAD_TOO_LARGE"    // 413: body over MaxBodyBytes
	codeUnprocessable  = "UNPROCESSABLE_ENTITY" // 422: a field fails validation, a state forbids the action
	codeInternal       = "INTERNAL_SERVER_ERROR"
	codeNotImplemented = "NOT_IMPLEMENTED" // 501: the route's service is not wired
	codeUnavailable    = "SERVICE_UNAVAILABLE"
)

// apiError is an error answer: {"code","status","message","data"}.
type apiError struct {
	Code    string         `json:"code"`
	Status  int            `json:"status"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// badRequest is a 400 about one query parameter or body field.
func badRequest(field, msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeBadRequest,
		Message: fmt.Sprintf("%s: %s", field, msg), Data: map[string]any{"field": field}}
}

// invalid is a 422 about one body field.
func invalid(field, msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: codeUnprocessable,
		Message: fmt.Sprintf("%s: %s", field, msg), Data: map[string]any{"field": field}}
}

// unprocessable is a 422 about the state of a resource.
func unprocessable(msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: codeUnprocessable, Message: msg}
}

// notFound is a 404 naming the resource kind and id.
func notFound(kind, id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound,
		Message: fmt.Sprintf("%s %q not found", kind, id), Data: map[string]any{"id": id}}
}

// conflict is a 409.
func conflict(msg string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: codeConflict, Message: msg}
}

// notImplemented is a 501 for a route whose service is not wired.
func notImplemented(what string) *apiError {
	return &apiError{Status: http.StatusNotImplemented, Code: codeNotImplemented, Message: what + " is not available on this server"}
}

// lookupErr maps a store error from a lookup of one resource: ErrNotFound
// becomes a 404 naming it; others pass through.
func lookupErr(kind, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(kind, id)
	}
	return fmt.Errorf("%s %s: %w", kind, id, err)
}

// rulesError turns a rules validation error into a 422 naming the rule
// index and field.
func rulesError(err error) error {
	var ve *rules.ValidationError
	if !errors.As(err, &ve) {
		return invalid("rules", err.Error())
	}
	field := "rules"
	if ve.Index >= 0 {
		field = fmt.Sprintf("rules[%d]", ve.Index)
		if ve.Field != "" {
			field += "." + ve.Field
		}
	}
	e := invalid(field, ve.Message)
	e.Data["index"] = ve.Index
	e.Data["rule_field"] = ve.Field
	return e
}

// toAPIError maps any error to its catalog entry. Unknown errors are 500s.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge,
			Message: fmt.Sprintf("the request body is over %d bytes", mbe.Limit)}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "not found"}
	case errors.Is(err, store.ErrConflict):
		return conflict("the change conflicts with the current state (a duplicate name?)")
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"}
}

// fail writes err as an API error, logging server-side failures.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, ae)
}

// writeError writes an API error answer.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, e)
}
