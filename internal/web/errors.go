package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// Errors of the web layer itself.
var (
	errNotFoundPage = errors.New("no such page")
	errCrossOrigin  = errors.New("cross-origin request refused")
	errStepUp       = errors.New("recent sign-in required")
	errBadForm      = errors.New("malformed form")
)

// ErrorPage is the view model of an error page.
type ErrorPage struct {
	Page
	Status  int
	Message string
	Home    string
}

// renderError turns a handler's error into a redirect (to sign in, or to
// finish signing in) or an error page in the person's language. Only
// unexpected errors are logged, once, here, without customer data.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, q *req, err error) {
	status, key := http.StatusInternalServerError, "error.internal"
	var throttled *errs.Throttled
	switch {
	case errors.Is(err, errs.ErrUnauthenticated):
		_ = seeOther(w, r, s.signInTarget(r))
		return
	case errors.Is(err, errs.ErrMFARequired):
		// A page opened half-way through signing in is where it ends.
		if r.Method == http.MethodGet && q.signed {
			if next := s.nextFor(kindOf(q), r.URL.RequestURI()); next != "" {
				s.rememberNext(w, r, next)
			}
		}
		if q.state() == identity.StateEnroll {
			_ = seeOther(w, r, "/auth/enroll")
		} else {
			_ = seeOther(w, r, "/auth/mfa")
		}
		return
	case errors.Is(err, errNotFoundPage), errors.Is(err, errs.ErrNotFound):
		status, key = http.StatusNotFound, "error.not_found"
	case errors.Is(err, errs.ErrForbidden):
		status, key = http.StatusForbidden, "error.forbidden"
	case errors.Is(err, errCrossOrigin):
		status, key = http.StatusForbidden, "error.cross_origin"
	case errors.Is(err, errStepUp), errors.Is(err, errs.ErrStepUpRequired):
		status, key = http.StatusForbidden, "error.step_up"
	case errors.Is(err, errs.ErrLinkInvalid):
		status, key = http.StatusBadRequest, "error.link_invalid"
	case errors.Is(err, errBadForm):
		status, key = http.StatusBadRequest, "error.bad_form"
	case errors.As(err, &throttled):
		status, key = http.StatusTooManyRequests, "error.throttled"
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(throttled.Wait.Seconds())))))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, key = http.StatusServiceUnavailable, "error.timeout"
	default:
		if _, ok := fieldErrors(q.L, err); ok {
			status, key = http.StatusUnprocessableEntity, "error.invalid"
		}
	}
	if status >= 500 {
		s.log.Error("page failed", "request_id", requestID(r.Context()), "route", r.Pattern, "error", err.Error())
	}
	view := ErrorPage{Page: s.page(r, q, "title.error"), Status: status, Message: key, Home: "/"}
	if q.signed && q.state() == identity.StateActive {
		view.Home = homeOf(q)
	}
	if rerr := s.render(w, r, status, "error", view); rerr != nil {
		s.log.Error("error page failed", "request_id", requestID(r.Context()), "error", rerr.Error())
		http.Error(w, http.StatusText(status), status)
	}
}

// throttleMessage is the form error for too many attempts.
func throttleMessage(l *Locale, err error) (string, bool) {
	var throttled *errs.Throttled
	if !errors.As(err, &throttled) {
		return "", false
	}
	return l.T("error.throttled_wait", l.Num(int64(max(1, math.Ceil(throttled.Wait.Seconds()))))), true
}
