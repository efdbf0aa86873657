package web

import (
	"net/http"
	"strings"

	"github.com/hesar/hesar/internal/identity"
)

// The pages emailed links open. Opening one shows a form with the token
// in a hidden field; only submitting it (a POST) spends the token, so a
// mail scanner that fetches every link spends nothing.

// TokenForm is the view model of a page an emailed link opens.
type TokenForm struct {
	Page
	Action string
	Token  string
	// Password asks for a new password (reset).
	Password bool
	Errors   FieldErrors
	Done     bool
}

func (s *Server) tokenPage(w http.ResponseWriter, r *http.Request, q *req, name, title, action string, password bool) error {
	w.Header().Set("Referrer-Policy", "no-referrer")
	v := TokenForm{Page: s.page(r, q, title), Action: action, Token: r.URL.Query().Get("token"), Password: password, Errors: FieldErrors{}}
	v.Path = action // the switch must not carry the token into another URL
	if v.Token == "" {
		return errLinkMissing(w, r, s, q)
	}
	return s.render(w, r, http.StatusOK, name, v)
}

func errLinkMissing(w http.ResponseWriter, r *http.Request, s *Server, q *req) error {
	v := ErrorPage{Page: s.page(r, q, "title.error"), Status: http.StatusBadRequest, Message: "error.link_invalid", Home: "/"}
	return s.render(w, r, http.StatusBadRequest, "error", v)
}

func (s *Server) resetPasswordPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if r.URL.Query().Get("welcome") == "1" {
		// An invitation: in the language it was written in (until the
		// person switches), greeting them rather than speaking of a reset.
		if lang := r.URL.Query().Get("lang"); validLang(lang) && !q.signed {
			q.L = s.locale(lang)
		}
		return s.tokenPage(w, r, q, "token", "title.welcome", "/auth/reset-password", true)
	}
	return s.tokenPage(w, r, q, "token", "title.reset_password", "/auth/reset-password", true)
}

func (s *Server) verifyEmailPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.tokenPage(w, r, q, "token", "title.verify_email", "/auth/verify-email", false)
}

func (s *Server) signInLinkPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.tokenPage(w, r, q, "token", "title.signin_link", "/auth/signin-link", false)
}

// tokenFailed re-renders a link page with the reason it did not work.
func (s *Server) tokenFailed(w http.ResponseWriter, r *http.Request, q *req, v TokenForm, err error) error {
	if v.Errors = s.signInError(q.L, err); v.Errors == nil {
		return err
	}
	v.Path = v.Action
	return s.render(w, r, http.StatusUnprocessableEntity, "token", v)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := TokenForm{Page: s.page(r, q, "title.reset_password"), Action: "/auth/reset-password", Token: r.PostFormValue("token"), Password: true}
	if err := s.identity.ResetPassword(r.Context(), v.Token, r.PostFormValue("password"), s.client(r)); err != nil {
		return s.tokenFailed(w, r, q, v, err)
	}
	v.Done, v.Token = true, ""
	return s.render(w, r, http.StatusOK, "token", v)
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := TokenForm{Page: s.page(r, q, "title.verify_email"), Action: "/auth/verify-email", Token: r.PostFormValue("token")}
	if err := s.identity.VerifyEmail(r.Context(), v.Token, s.client(r)); err != nil {
		return s.tokenFailed(w, r, q, v, err)
	}
	v.Done, v.Token = true, ""
	return s.render(w, r, http.StatusOK, "token", v)
}

func (s *Server) signInWithLink(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := TokenForm{Page: s.page(r, q, "title.signin_link"), Action: "/auth/signin-link", Token: r.PostFormValue("token")}
	res, err := s.identity.SignInWithLink(r.Context(), v.Token, s.client(r))
	if err != nil {
		return s.tokenFailed(w, r, q, v, err)
	}
	return s.started(w, r, identity.Customer, res)
}

// ForgotForm asks for a password-reset link.
type ForgotForm struct {
	Page
	Workspace, Email, Account string
	Errors                    FieldErrors
	Sent                      bool
}

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request, q *req) error {
	acct := "customer"
	if r.URL.Query().Get("account") == "staff" {
		acct = "staff"
	}
	return s.render(w, r, http.StatusOK, "forgot", ForgotForm{Page: s.page(r, q, "title.forgot"), Workspace: lastWorkspace(r), Account: acct, Errors: FieldErrors{}})
}

// forgot answers the same whether or not the account exists.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := ForgotForm{Page: s.page(r, q, "title.forgot"), Workspace: strings.TrimSpace(r.PostFormValue("workspace")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Account: "customer"}
	kind := identity.Customer
	if r.PostFormValue("account") == "staff" {
		kind, v.Account = identity.Staff, "staff"
	}
	err := s.identity.RequestPasswordReset(r.Context(), identity.AccountRequest{Workspace: v.Workspace, Account: kind, Email: v.Email}, s.client(r))
	if err != nil {
		if v.Errors = s.signInError(q.L, err); v.Errors == nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "forgot", v)
	}
	v.Sent = true
	return s.render(w, r, http.StatusOK, "forgot", v)
}

// requestSignInLink mails a customer a one-time sign-in link; the answer
// is the same whether or not the address is known.
func (s *Server) requestSignInLink(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := SignInForm{Page: s.page(r, q, "title.signin_customer"), Workspace: strings.TrimSpace(r.PostFormValue("workspace")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Next: s.nextFor(identity.Customer, r.PostFormValue("next"))}
	err := s.identity.RequestSignInLink(r.Context(), identity.AccountRequest{Workspace: v.Workspace, Account: identity.Customer, Email: v.Email}, s.client(r))
	if err != nil {
		if v.Errors = s.signInError(q.L, err); v.Errors == nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "signin_customer", v)
	}
	s.setPreference(w, r, workspaceCookie, v.Workspace)
	s.rememberNext(w, r, v.Next) // for when the link is opened in this browser
	v.LinkSent = true
	return s.render(w, r, http.StatusOK, "signin_customer", v)
}

// SignUpForm is a new customer's registration.
type SignUpForm struct {
	Page
	Workspace, Email, Name string
	Errors                 FieldErrors
	Sent                   bool
}

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, http.StatusOK, "signup", SignUpForm{Page: s.page(r, q, "title.signup"), Workspace: lastWorkspace(r), Errors: FieldErrors{}})
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := SignUpForm{Page: s.page(r, q, "title.signup"), Workspace: strings.TrimSpace(r.PostFormValue("workspace")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name"))}
	err := s.identity.SignUpCustomer(r.Context(), identity.SignUp{Workspace: v.Workspace, Email: v.Email, Name: v.Name,
		Password: r.PostFormValue("password"), Locale: q.L.Lang}, s.client(r))
	if err != nil {
		if v.Errors = s.signInError(q.L, err); v.Errors == nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "signup", v)
	}
	s.setPreference(w, r, workspaceCookie, v.Workspace)
	v.Sent = true
	return s.render(w, r, http.StatusOK, "signup", v)
}
