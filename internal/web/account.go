package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/identity"
)

// The signed-in person's own account: proving identity again for a
// sensitive change (step-up), and their sessions.

// StepUpForm asks for a fresh proof: the second factor when the account
// has one, else the password (the identity service's rule).
type StepUpForm struct {
	Page
	TOTP   bool
	Next   string
	Errors FieldErrors
}

func (s *Server) stepUpView(r *http.Request, q *req, next string) (StepUpForm, error) {
	factors, err := s.identity.MyFactors(r.Context(), q.P)
	if err != nil {
		return StepUpForm{}, err
	}
	v := StepUpForm{Page: s.page(r, q, "title.step_up"), Next: localPath(next), Errors: FieldErrors{}}
	for _, f := range factors {
		if f == identity.FactorTOTP {
			v.TOTP = true
		}
	}
	return v, nil
}

func (s *Server) stepUpPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.stepUpView(r, q, r.URL.Query().Get("next"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "step_up", v)
}

func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.stepUpView(r, q, r.PostFormValue("next"))
	if err != nil {
		return err
	}
	var secret string
	if v.TOTP {
		secret, err = s.identity.VerifySecondFactor(r.Context(), q.P, identity.Proof{TOTP: strings.TrimSpace(r.PostFormValue("code"))}, s.client(r))
	} else {
		secret, err = s.identity.StepUpWithPassword(r.Context(), q.P, r.PostFormValue("password"), s.client(r))
	}
	if err != nil {
		if s.signInError(q.L, err) == nil {
			return err
		}
		field := "password"
		if v.TOTP {
			field = "code"
		}
		msg, throttled := throttleMessage(q.L, err)
		if !throttled {
			msg = q.L.T("error.step_up_failed")
		}
		v.Errors = FieldErrors{field: msg}
		return s.render(w, r, http.StatusUnprocessableEntity, "step_up", v)
	}
	s.setSession(w, r, secret)
	return seeOther(w, r, v.Next)
}

// SessionRow is one signed-in device.
type SessionRow struct {
	ID                  int64
	Device, Place, IP   string
	CreatedAt, LastSeen time.Time
	Current             bool
	Method              string
}

// SessionsPage lists the person's sessions, with a way to end each.
type SessionsPage struct {
	Page
	Sessions []SessionRow
}

func self(q *req) (identity.AccountKind, int64) {
	if q.P.Scope.Kind == access.ActorCustomer {
		return identity.Customer, q.P.Scope.ActorID
	}
	return identity.Staff, q.P.Scope.ActorID
}

func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	kind, id := self(q)
	xs, err := s.identity.ListSessions(r.Context(), q.P, kind, id)
	if err != nil {
		return err
	}
	v := SessionsPage{Page: s.page(r, q, "title.sessions")}
	for _, x := range xs {
		v.Sessions = append(v.Sessions, SessionRow{ID: x.ID, Device: x.Device, Place: x.Place, IP: x.IP, CreatedAt: x.CreatedAt,
			LastSeen: x.LastSeenAt, Current: x.Current, Method: x.Method})
	}
	return s.render(w, r, http.StatusOK, "sessions", v)
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, q *req) error {
	sid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || sid <= 0 {
		return errNotFoundPage
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind, id := self(q)
	if err := s.identity.RevokeSession(r.Context(), q.P, kind, id, sid, s.client(r)); err != nil {
		return err
	}
	if sid == q.P.Session.ID {
		s.clearSession(w, r)
		return seeOther(w, r, "/?notice=notice.signed_out")
	}
	return seeOther(w, r, "/account/sessions?notice=notice.session_ended")
}

func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	kind, id := self(q)
	if _, err := s.identity.RevokeSessions(r.Context(), q.P, kind, id, s.client(r)); err != nil {
		return err
	}
	return seeOther(w, r, "/account/sessions?notice=notice.sessions_ended")
}
