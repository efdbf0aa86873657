package web

import (
	"net/http"
	"strings"

	"github.com/hesar/hesar/internal/identity"
)

// Passkeys. passkey.js asks one of the *options routes for the WebAuthn
// options, lets the browser talk to the authenticator, and submits the
// answer with the form; the answer is then checked like any other proof.
// Without JavaScript these parts of the pages stay hidden.

// writeCeremony answers passkey.js: the challenge handle and the options
// exactly as the identity service made them.
func writeCeremony(w http.ResponseWriter, options []byte, handle string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte(`{"challenge":` + jsonString(handle) + `,"options":`))
	_, _ = w.Write(options)
	_, _ = w.Write([]byte("}"))
}

// passkeyOptions: a second-factor proof for a session waiting for one.
func (s *Server) passkeyOptions(w http.ResponseWriter, r *http.Request, q *req) error {
	options, handle, err := s.identity.BeginPasskeyProof(r.Context(), q.P)
	if err != nil {
		return err
	}
	writeCeremony(w, options, handle)
	return nil
}

// registerOptions: adding a passkey (under the same step-up rule as an
// authenticator app).
func (s *Server) registerOptions(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := mayEnroll(q); err != nil {
		return err
	}
	options, handle, err := s.identity.BeginPasskeyRegistration(r.Context(), q.P)
	if err != nil {
		return err
	}
	writeCeremony(w, options, handle)
	return nil
}

func (s *Server) registerPasskey(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := mayEnroll(q); err != nil {
		return seeOther(w, r, "/auth/step-up?next=/auth/enroll")
	}
	name := strings.TrimSpace(r.PostFormValue("passkey_name"))
	_, codes, secret, err := s.identity.FinishPasskeyRegistration(r.Context(), q.P, r.PostFormValue("challenge"), name,
		[]byte(r.PostFormValue("response")), s.client(r))
	v := s.enrollView(r, q)
	if err != nil {
		if fe, ok := fieldErrors(q.L, err); ok {
			v.Errors = FieldErrors{"form": q.L.T("error.passkey_failed")}
			if msg := fe.Get("name"); msg != "" {
				v.Errors = FieldErrors{"passkey_name": msg}
			}
			return s.render(w, r, http.StatusUnprocessableEntity, "enroll", v)
		}
		return err
	}
	s.setSession(w, r, secret)
	w.Header().Set("Cache-Control", "no-store")
	v.Done, v.Required, v.RecoveryCodes, v.PasskeyAdded = true, false, codes, true
	if r.PostFormValue("back") == "/account/security" {
		v.Continue = "/account/security"
	}
	return s.render(w, r, http.StatusOK, "enroll", v)
}

// signInOptions: signing in with a passkey alone (no email, no password).
func (s *Server) signInOptions(w http.ResponseWriter, r *http.Request, _ *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	options, handle, err := s.identity.BeginPasswordless(r.Context(), strings.TrimSpace(r.PostFormValue("workspace")), s.client(r))
	if err != nil {
		return err
	}
	writeCeremony(w, options, handle)
	return nil
}

func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	res, err := s.identity.FinishPasswordless(r.Context(), r.PostFormValue("challenge"), []byte(r.PostFormValue("response")), s.client(r))
	if err != nil {
		v := SignInForm{Page: s.page(r, q, "title.signin_staff"), Workspace: strings.TrimSpace(r.PostFormValue("workspace"))}
		if v.Errors = s.signInError(q.L, err); v.Errors == nil {
			return err
		}
		if _, throttled := throttleMessage(q.L, err); !throttled {
			v.Errors = FieldErrors{"form": q.L.T("error.passkey_failed")}
		}
		v.Passkeys = true
		return s.render(w, r, http.StatusUnprocessableEntity, "signin_staff", v)
	}
	// The passkey says whose account it is; ask the session which kind.
	p, err := s.identity.AuthenticateSession(r.Context(), res.Secret)
	if err != nil {
		return err
	}
	kind := identity.Staff
	if p.Session.Kind == identity.Customer {
		kind = identity.Customer
	}
	return s.started(w, r, kind, res)
}
