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
	// The account's second factors: any of them proves it is the person;
	// an account without one confirms with its password.
	TOTP, Passkey, Recovery bool
	Next                    string
	Errors                  FieldErrors
}

// SecondFactor reports whether the account proves itself with a second
// factor (then the password is not enough).
func (v StepUpForm) SecondFactor() bool { return v.TOTP || v.Passkey || v.Recovery }

func (s *Server) stepUpView(r *http.Request, q *req, next string) (StepUpForm, error) {
	factors, err := s.identity.MyFactors(r.Context(), q.P)
	if err != nil {
		return StepUpForm{}, err
	}
	v := StepUpForm{Page: s.page(r, q, "title.step_up"), Next: localPath(next), Errors: FieldErrors{}}
	for _, f := range factors {
		switch f {
		case identity.FactorTOTP:
			v.TOTP = true
		case identity.FactorPasskey:
			v.Passkey = true
			v.Passkeys = true // the page loads passkey.js
		case identity.FactorRecovery:
			v.Recovery = true
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

// stepUpPasskeyOptions starts a passkey proof for a signed-in person
// (passkey.js asks for it from the step-up page).
func (s *Server) stepUpPasskeyOptions(w http.ResponseWriter, r *http.Request, q *req) error {
	options, handle, err := s.identity.BeginPasskeyProof(r.Context(), q.P)
	if err != nil {
		return err
	}
	writeCeremony(w, options, handle)
	return nil
}

// stepUp takes one proof: a code, a recovery code, a passkey's answer, or
// (for an account without a second factor) the password.
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := s.stepUpView(r, q, r.PostFormValue("next"))
	if err != nil {
		return err
	}
	pr := identity.Proof{TOTP: strings.TrimSpace(r.PostFormValue("code")), RecoveryCode: strings.TrimSpace(r.PostFormValue("recovery_code")),
		Challenge: r.PostFormValue("challenge")}
	if resp := r.PostFormValue("response"); resp != "" {
		pr.Passkey = []byte(resp)
	}
	field := "password"
	switch {
	case pr.TOTP != "":
		field = "code"
	case pr.RecoveryCode != "":
		field = "recovery_code"
	case pr.Challenge != "" || len(pr.Passkey) > 0:
		field = "form"
	}
	var secret string
	if v.SecondFactor() {
		if field == "password" { // nothing given
			field = "code"
			if !v.TOTP {
				field = "recovery_code"
			}
		}
		secret, err = s.identity.VerifySecondFactor(r.Context(), q.P, pr, s.client(r))
	} else {
		secret, err = s.identity.StepUpWithPassword(r.Context(), q.P, r.PostFormValue("password"), s.client(r))
	}
	if err != nil {
		if s.signInError(q.L, err) == nil {
			if _, ok := fieldErrors(q.L, err); !ok {
				return err
			}
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
		v.Sessions = append(v.Sessions, SessionRow{ID: x.ID, Device: q.L.Device(identity.ParseDevice(x.UserAgent)), Place: x.Place, IP: x.IP, CreatedAt: x.CreatedAt,
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
