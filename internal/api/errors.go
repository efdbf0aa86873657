package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

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
	// retryAfter, when set, becomes a Retry-After header.
	retryAfter time.Duration
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
	var throttled *errs.Throttled
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
	case errors.As(err, &throttled):
		e := newError(http.StatusTooManyRequests, "too_many_attempts", "too many failed attempts; wait before trying again")
		e.retryAfter = throttled.Wait
		return e
	case errors.Is(err, errs.ErrSignInFailed):
		return newError(http.StatusUnauthorized, "sign_in_failed", "the email address or password is not right, or the account cannot sign in now")
	case errors.Is(err, errs.ErrStepUpRequired):
		return newError(http.StatusForbidden, "step_up_required", "this action needs a recent proof of identity: confirm your password or second factor at POST /api/v1/auth/step-up, then retry")
	case errors.Is(err, errs.ErrMFARequired):
		return newError(http.StatusForbidden, "mfa_required", "finish signing in with your second factor, or enroll one as your workspace requires, before doing anything else")
	case errors.Is(err, errs.ErrLinkInvalid):
		return newError(http.StatusBadRequest, "link_invalid", "this link is not valid: it may have been used already or expired; ask for a new one")
	case errors.Is(err, errs.ErrUnauthenticated):
		return newError(http.StatusUnauthorized, "unauthenticated", "no valid session or API token: sign in (a session ends after inactivity), or send 'Authorization: Bearer <token>'")
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
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.retryAfter.Seconds())))))
	}
	if e.Status == http.StatusUnauthorized && e.Code == "unauthenticated" {
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
