package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// Home is the landing page: the way into the portal and the console.
type Home struct{ Page }

func (s *Server) home(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, http.StatusOK, "home", Home{s.page(r, q, "title.home")})
}

// switchLanguage remembers the chosen language and goes back to the page
// it was chosen on (a path on this site only).
func (s *Server) switchLanguage(w http.ResponseWriter, r *http.Request, q *req) error {
	lang := r.PathValue("lang")
	if !validLang(lang) {
		return errNotFoundPage
	}
	s.setPreference(w, r, langCookie, lang)
	// A signed-in person's choice is saved with their account, so it
	// follows them to other devices and into the mail Hesar sends them.
	// Only when they clicked it here: a link on another site must not
	// change anyone's settings (this is a GET).
	if q.signed && sameSiteNavigation(r) {
		if err := s.identity.SetLocale(r.Context(), q.P.Scope, lang); err != nil {
			s.log.WarnContext(r.Context(), "could not save the language chosen", "err", err)
		}
	}
	return seeOther(w, r, localPath(r.URL.Query().Get("next")))
}

// sameSiteNavigation reports whether the browser says the request came
// from this site's own page, or was typed or bookmarked.
func sameSiteNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	}
	return false
}

// saveLanguage saves the language chosen on the security page: fa, en, or
// none (the browser decides).
func (s *Server) saveLanguage(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	lang := r.PostFormValue("locale")
	if err := s.identity.SetLocale(r.Context(), q.P.Scope, lang); err != nil {
		return s.securityFailed(w, r, q, err, nil)
	}
	if lang != "" {
		s.setPreference(w, r, langCookie, lang)
	}
	return seeOther(w, r, localPath(r.PostFormValue("next")))
}

// localPath keeps a redirect target on this site: a path, never a scheme,
// host or protocol-relative //host.
func localPath(p string) string {
	if !isLocalPath(p) {
		return "/"
	}
	return p
}

// isLocalPath reports whether p is a path on this site and nothing else.
// Browsers read /\host as //host and drop tabs and newlines from a URL
// (so "/<tab>/host" is //host too): a backslash or any control character
// anywhere refuses the path.
func isLocalPath(p string) bool {
	if len(p) > 2048 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == utf8.RuneError {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// SignInForm is the view model of both sign-in pages.
type SignInForm struct {
	Page
	Workspace, Email string
	Errors           FieldErrors
	// LinkSent says an emailed sign-in link was asked for.
	LinkSent bool
	// Next is the page to go on to after signing in ("" for home).
	Next string
	// Other is the portal's sign-in page, offered on the staff page when
	// next is a page customers have too and who is signing in is unknown.
	Other string
}

func (s *Server) staffSignInPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v := SignInForm{Page: s.page(r, q, "title.signin_staff"), Workspace: lastWorkspace(r),
		Next: s.nextFor(identity.Staff, r.URL.Query().Get("next"))}
	v.Passkeys, v.Other = true, otherSignIn(v.Next)
	return s.render(w, r, http.StatusOK, "signin_staff", v)
}

func (s *Server) customerSignInPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v := SignInForm{Page: s.page(r, q, "title.signin_customer"), Workspace: lastWorkspace(r),
		Next: s.nextFor(identity.Customer, r.URL.Query().Get("next"))}
	v.Passkeys = true
	return s.render(w, r, http.StatusOK, "signin_customer", v)
}

func (s *Server) staffSignIn(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.passwordSignIn(w, r, q, identity.Staff, "signin_staff", "title.signin_staff")
}

func (s *Server) customerSignIn(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.passwordSignIn(w, r, q, identity.Customer, "signin_customer", "title.signin_customer")
}

func (s *Server) passwordSignIn(w http.ResponseWriter, r *http.Request, q *req, kind identity.AccountKind, tmpl, title string) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	view := SignInForm{Page: s.page(r, q, title), Workspace: strings.TrimSpace(r.PostFormValue("workspace")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Next: s.nextFor(kind, r.PostFormValue("next"))}
	view.Passkeys = true
	if kind == identity.Staff {
		view.Other = otherSignIn(view.Next)
	}
	res, err := s.identity.SignIn(r.Context(), identity.SignIn{Workspace: view.Workspace, Account: kind, Email: view.Email,
		Password: r.PostFormValue("password")}, s.client(r))
	if err != nil {
		if view.Errors = s.signInError(q.L, err); view.Errors == nil {
			return err
		}
		return s.render(w, r, http.StatusUnprocessableEntity, tmpl, view)
	}
	s.setPreference(w, r, workspaceCookie, view.Workspace)
	return s.started(w, r, kind, res)
}

// signInError is the form error of a failed sign-in; nil for an error
// that is not the person's to fix.
func (s *Server) signInError(l *Locale, err error) FieldErrors {
	if msg, ok := throttleMessage(l, err); ok {
		return FieldErrors{"form": msg}
	}
	if errors.Is(err, errs.ErrSignInFailed) {
		return FieldErrors{"form": l.T("error.signin_failed")}
	}
	if errors.Is(err, errs.ErrLinkInvalid) {
		return FieldErrors{"form": l.T("error.link_invalid")}
	}
	if fe, ok := fieldErrors(l, err); ok {
		return fe
	}
	return nil
}

// started sets the new session's cookie and sends the person on to what
// comes next: their second factor, enrolling one, or the page they came
// for (next), else their home page. next comes from the sign-in form; a
// form without the field (the emailed link's page) uses the one kept when
// the link was asked for.
func (s *Server) started(w http.ResponseWriter, r *http.Request, kind identity.AccountKind, res identity.SignInResult) error {
	s.setSession(w, r, res.Secret)
	s.setSide(w, r, kind)
	var next string
	if _, ok := r.PostForm["next"]; ok {
		next = s.nextFor(kind, r.PostFormValue("next"))
	} else {
		next = s.rememberedNext(r, kind)
	}
	switch res.State {
	case identity.StateMFA:
		s.rememberNext(w, r, next)
		return seeOther(w, r, "/auth/mfa")
	case identity.StateEnroll:
		s.rememberNext(w, r, next)
		return seeOther(w, r, "/auth/enroll")
	}
	s.rememberNext(w, r, "")
	switch {
	case next != "":
		return seeOther(w, r, next)
	case kind == identity.Customer:
		return seeOther(w, r, "/portal/")
	}
	return seeOther(w, r, "/console/")
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := s.identity.SignOut(r.Context(), q.P, s.client(r)); err != nil {
		return err
	}
	s.clearSession(w, r)
	// Nothing of who was here stays behind (the page that follows also
	// empties this tab's drafts: drafts.js).
	s.rememberNext(w, r, "")
	http.SetCookie(w, &http.Cookie{Name: sideCookie, Path: "/", HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	target := "/portal/signin?notice=notice.signed_out"
	if q.isStaff() {
		target = "/console/signin?notice=notice.signed_out"
	}
	return seeOther(w, r, target)
}

// MFAForm is the second-factor page.
type MFAForm struct {
	Page
	TOTP, Passkey bool
	Errors        FieldErrors
}

func (s *Server) mfaView(r *http.Request, q *req) (MFAForm, error) {
	factors, err := s.identity.MyFactors(r.Context(), q.P)
	if err != nil {
		return MFAForm{}, err
	}
	v := MFAForm{Page: s.page(r, q, "title.mfa"), Errors: FieldErrors{}}
	for _, f := range factors {
		switch f {
		case identity.FactorTOTP:
			v.TOTP = true
		case identity.FactorPasskey:
			v.Passkey = true
		}
	}
	v.Passkeys = v.Passkey
	return v, nil
}

func (s *Server) mfaPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.mfaView(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "mfa", v)
}

// verifyMFA takes one proof: a code, a recovery code, or a passkey's
// answer (filled in by passkey.js).
func (s *Server) verifyMFA(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	pr := identity.Proof{TOTP: strings.TrimSpace(r.PostFormValue("code")), RecoveryCode: strings.TrimSpace(r.PostFormValue("recovery_code")),
		Challenge: r.PostFormValue("challenge")}
	if resp := r.PostFormValue("response"); resp != "" {
		pr.Passkey = []byte(resp)
	}
	secret, err := s.identity.VerifySecondFactor(r.Context(), q.P, pr, s.client(r))
	if err != nil {
		v, verr := s.mfaView(r, q)
		if verr != nil {
			return verr
		}
		fe := s.signInError(q.L, err)
		if fe == nil {
			return err
		}
		msg, throttled := throttleMessage(q.L, err)
		if !throttled {
			msg = q.L.T("error.mfa_failed")
		}
		field := "form"
		switch {
		case pr.TOTP != "":
			field = "code"
		case pr.RecoveryCode != "":
			field = "recovery_code"
		}
		v.Errors = FieldErrors{field: msg}
		return s.render(w, r, http.StatusUnprocessableEntity, "mfa", v)
	}
	s.setSession(w, r, secret)
	return s.finished(w, r, q)
}

// EnrollPage sets up an authenticator app: first a button, then the QR
// code and a field for the first code, then the recovery codes.
type EnrollPage struct {
	Page
	// Required says the workspace requires a second factor now.
	Required bool
	// Started: the QR code and secret are shown.
	Started bool
	// QR is a data: URL of the PNG the identity service drew.
	QR            template.URL
	Secret, URI   string
	RecoveryCodes []string
	Done          bool
	PasskeyAdded  bool
	Errors        FieldErrors
	Continue      string
}

func (s *Server) enrollView(r *http.Request, q *req) EnrollPage {
	v := EnrollPage{Page: s.page(r, q, "title.enroll"), Required: q.state() == identity.StateEnroll, Errors: FieldErrors{}, Continue: homeOf(q)}
	v.Passkeys = true
	if v.Required {
		// Enrolling is the last step of signing in: continue to next.
		if next := s.rememberedNext(r, kindOf(q)); next != "" {
			v.Continue = next
		}
	}
	return v
}

// mayEnroll applies the API's step-up rule: changing second factors from
// an active session needs a recent sign-in.
func mayEnroll(q *req) error {
	if q.state() == identity.StateActive && !q.P.Session.Fresh(nowFunc()) {
		return errStepUp
	}
	return nil
}

func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, http.StatusOK, "enroll", s.enrollView(r, q))
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := mayEnroll(q); err != nil {
		return seeOther(w, r, "/auth/step-up?next=/auth/enroll")
	}
	e, err := s.identity.BeginTOTP(r.Context(), q.P)
	v := s.enrollView(r, q)
	if err != nil {
		if v.Errors, _ = fieldErrors(q.L, err); v.Errors == nil {
			return err
		}
		return s.render(w, r, http.StatusConflict, "enroll", v)
	}
	w.Header().Set("Cache-Control", "no-store")
	v.Started, v.Secret, v.URI = true, e.Secret, e.URI
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG)) //nolint:gosec // our own PNG
	return s.render(w, r, http.StatusOK, "enroll", v)
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := mayEnroll(q); err != nil {
		return err
	}
	codes, secret, err := s.identity.ConfirmTOTP(r.Context(), q.P, strings.TrimSpace(r.PostFormValue("code")), s.client(r))
	v := s.enrollView(r, q)
	if err != nil {
		fe := s.signInError(q.L, err)
		if fe == nil {
			return err
		}
		// Show the same secret again: it stays pending until a right code.
		v.Started, v.Secret, v.URI, v.Errors = true, r.PostFormValue("secret"), r.PostFormValue("uri"), FieldErrors{"code": q.L.T("error.mfa_failed")}
		if msg := fe.Get("form"); msg != "" {
			v.Errors["code"] = msg
		}
		if v.QR, err = qrDataURL(v.URI); err != nil {
			v.Started = false
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "enroll", v)
	}
	s.setSession(w, r, secret)
	s.rememberNext(w, r, "")
	w.Header().Set("Cache-Control", "no-store")
	v.Done, v.Required, v.RecoveryCodes = true, false, codes
	return s.render(w, r, http.StatusOK, "enroll", v)
}
