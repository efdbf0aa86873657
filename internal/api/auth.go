package api

import (
	"encoding/json"
	"net/http"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// Sign-in and account recovery over HTTP. Each successful sign-in step
// sets the session cookie; the body says what comes next.

type signInResponse struct {
	// State is "active", "mfa" (prove a second factor next) or "enroll"
	// (set one up next).
	State   string   `json:"state"`
	Factors []string `json:"factors"`
}

func (s *Server) startedSession(w http.ResponseWriter, r *http.Request, res identity.SignInResult) {
	s.setSession(w, r, res.Secret)
	writeJSON(w, http.StatusOK, signInResponse{State: res.State, Factors: orEmpty(res.Factors)})
}

func accountKind(v string) (identity.AccountKind, error) {
	if v == "" {
		return identity.Staff, nil
	}
	k, ok := identity.ParseAccountKind(v)
	if !ok {
		return "", fieldError(http.StatusUnprocessableEntity, "validation_failed", "account", "must be staff or customer")
	}
	return k, nil
}

type signInRequest struct {
	Workspace string `json:"workspace"`
	Account   string `json:"account"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req signInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	kind, err := accountKind(req.Account)
	if err != nil {
		return err
	}
	res, err := s.identity.SignIn(r.Context(), identity.SignIn{Workspace: req.Workspace, Account: kind, Email: req.Email, Password: req.Password}, s.client(r))
	if err != nil {
		return err
	}
	s.startedSession(w, r, res)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := s.identity.SignOut(r.Context(), p, s.client(r)); err != nil {
		return err
	}
	s.clearSession(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// proofRequest is a second factor: exactly one of code, recovery_code, or
// a passkey response with the challenge it answers.
type proofRequest struct {
	Code         string          `json:"code"`
	RecoveryCode string          `json:"recovery_code"`
	Challenge    string          `json:"challenge"`
	Response     json.RawMessage `json:"response"`
	// Password is accepted by step-up only.
	Password string `json:"password"`
}

func (pr proofRequest) proof() identity.Proof {
	return identity.Proof{TOTP: pr.Code, RecoveryCode: pr.RecoveryCode, Challenge: pr.Challenge, Passkey: pr.Response}
}

func (s *Server) verifyMFA(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	var req proofRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Password != "" {
		return fieldError(http.StatusUnprocessableEntity, "validation_failed", "password", "is not a second factor")
	}
	secret, err := s.identity.VerifySecondFactor(r.Context(), p, req.proof(), s.client(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, secret)
	writeJSON(w, http.StatusOK, signInResponse{State: identity.StateActive, Factors: []string{}})
	return nil
}

func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	var req proofRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var secret string
	var err error
	if req.Password != "" {
		if req.Code != "" || req.RecoveryCode != "" || req.Challenge != "" {
			return fieldError(http.StatusUnprocessableEntity, "validation_failed", "password", "give a password or a second factor, not both")
		}
		secret, err = s.identity.StepUpWithPassword(r.Context(), p, req.Password, s.client(r))
	} else {
		if p.Session != nil && p.Session.State != identity.StateActive {
			return errs.ErrMFARequired
		}
		secret, err = s.identity.VerifySecondFactor(r.Context(), p, req.proof(), s.client(r))
	}
	if err != nil {
		return err
	}
	s.setSession(w, r, secret)
	writeJSON(w, http.StatusOK, map[string]any{"fresh_for_seconds": int(identity.StepUpWindow.Seconds())})
	return nil
}

type challengeResponse struct {
	Challenge string          `json:"challenge"`
	Options   json.RawMessage `json:"options"`
}

func (s *Server) passkeyChallenge(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := sessionOnly(p); err != nil {
		return err
	}
	if err := decodeEmpty(w, r); err != nil {
		return err
	}
	options, handle, err := s.identity.BeginPasskeyProof(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, challengeResponse{Challenge: handle, Options: options})
	return nil
}

type workspaceRequest struct {
	Workspace string `json:"workspace"`
}

func (s *Server) beginPasswordless(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req workspaceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	options, handle, err := s.identity.BeginPasswordless(r.Context(), req.Workspace, s.client(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, challengeResponse{Challenge: handle, Options: options})
	return nil
}

type passkeyAnswer struct {
	Challenge string          `json:"challenge"`
	Response  json.RawMessage `json:"response"`
}

func (a passkeyAnswer) validate() error {
	var v errs.Validator
	v.Text("challenge", a.Challenge, true, 100)
	if len(a.Response) == 0 || string(a.Response) == "null" {
		v.Add("response", "is required: the authenticator's answer as navigator.credentials returns it")
	}
	return v.Err()
}

func (s *Server) finishPasswordless(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req passkeyAnswer
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	res, err := s.identity.FinishPasswordless(r.Context(), req.Challenge, req.Response, s.client(r))
	if err != nil {
		return err
	}
	s.startedSession(w, r, res)
	return nil
}

type accountRequest struct {
	Workspace string `json:"workspace"`
	Account   string `json:"account"`
	Email     string `json:"email"`
}

func (s *Server) readAccountRequest(w http.ResponseWriter, r *http.Request) (identity.AccountRequest, error) {
	var req accountRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return identity.AccountRequest{}, err
	}
	kind, err := accountKind(req.Account)
	if err != nil {
		return identity.AccountRequest{}, err
	}
	return identity.AccountRequest{Workspace: req.Workspace, Account: kind, Email: req.Email}, nil
}

// accepted is the answer to every "email me" request: the same whether
// or not the account exists.
func accepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "if an account matches, an email is on its way"})
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	req, err := s.readAccountRequest(w, r)
	if err != nil {
		return err
	}
	if err := s.identity.RequestPasswordReset(r.Context(), req, s.client(r)); err != nil {
		return err
	}
	accepted(w)
	return nil
}

func (s *Server) requestVerification(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	req, err := s.readAccountRequest(w, r)
	if err != nil {
		return err
	}
	if err := s.identity.RequestVerification(r.Context(), req, s.client(r)); err != nil {
		return err
	}
	accepted(w)
	return nil
}

type signInLinkRequest struct {
	Workspace string `json:"workspace"`
	Email     string `json:"email"`
}

// requestSignInLink mails a customer a one-time sign-in link (a portal
// feature: staff always use a password and second factor).
func (s *Server) requestSignInLink(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req signInLinkRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := identity.AccountRequest{Workspace: req.Workspace, Account: identity.Customer, Email: req.Email}
	if err := s.identity.RequestSignInLink(r.Context(), in, s.client(r)); err != nil {
		return err
	}
	accepted(w)
	return nil
}

type tokenRequest struct {
	Token string `json:"token"`
}

func (s *Server) signInWithLink(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := s.identity.SignInWithLink(r.Context(), req.Token, s.client(r))
	if err != nil {
		return err
	}
	s.startedSession(w, r, res)
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.identity.VerifyEmail(r.Context(), req.Token, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req resetRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.identity.ResetPassword(r.Context(), req.Token, req.Password, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type signUpRequest struct {
	Workspace string `json:"workspace"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Password  string `json:"password"`
	Locale    string `json:"locale"`
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request, _ identity.Principal) error {
	var req signUpRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	err := s.identity.SignUpCustomer(r.Context(), identity.SignUp{Workspace: req.Workspace, Email: req.Email, Name: req.Name,
		Password: req.Password, Locale: req.Locale}, s.client(r))
	if err != nil {
		return err
	}
	accepted(w)
	return nil
}
