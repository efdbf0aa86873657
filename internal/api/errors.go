package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Error is a failure with the HTTP status and machine-readable code the
// client sees. Handlers return it (or a domain error, mapped by toError).
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

func fieldError(status int, code, field, msg string) *Error {
	return &Error{Status: status, Code: code, Message: field + " " + msg, Fields: map[string]string{field: msg}}
}

// toError maps any error to what the client may see. Unknown errors become
// a 500 that says nothing about internals.
func toError(err error) *Error {
	var apiErr *Error
	var invalid *errs.Invalid
	var conflict *errs.Conflict
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &invalid):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "some fields are not valid", Fields: invalid.Fields}
	case errors.As(err, &conflict):
		e := &Error{Status: http.StatusConflict, Code: "conflict", Message: conflict.Message}
		if conflict.Field != "" {
			e.Fields = map[string]string{conflict.Field: conflict.Message}
		}
		return e
	case errors.As(err, &maxBytes):
		return newError(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this endpoint accepts")
	case errors.Is(err, errs.ErrNotFound):
		return newError(http.StatusNotFound, "not_found", "no such resource, or you may not see it")
	case errors.Is(err, errs.ErrForbidden):
		return newError(http.StatusForbidden, "forbidden", "you do not have permission to do this")
	case errors.Is(err, errs.ErrUnauthenticated):
		return newError(http.StatusUnauthorized, "unauthenticated", "send a valid API token as 'Authorization: Bearer <token>'")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newError(http.StatusServiceUnavailable, "timeout", "the request took too long; try again")
	}
	return newError(http.StatusInternalServerError, "internal", "something went wrong on our side; the request id in X-Request-Id helps us find it")
}

// writeError sends err as the JSON error envelope and logs it once, here.
// Only 5xx are logged as errors; the message logged is the internal one,
// which never carries customer data (stores return ids, not values).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := toError(err)
	if e.Status >= 500 {
		attrs := []any{"request_id", requestID(r.Context()), "route", r.Pattern, "error", err.Error()}
		if errors.Is(err, keyring.ErrDecrypt) {
			attrs = append(attrs, "hint", "a stored value failed to decrypt: tampering or a wrong key")
		}
		log.Error("request failed", attrs...)
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hesar"`)
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
