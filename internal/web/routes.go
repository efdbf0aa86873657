package web

import (
	"github.com/hesar/hesar/internal/requestinfo"
	"net/http"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// need is who may open a page. The services apply the scope again to
// every object; need only decides who gets as far as the handler.
type need int

const (
	// anyone, signed in or not.
	public need = iota
	// a session waiting for its second factor.
	mfaPending
	// a session that must enroll a second factor, or an active one.
	enrolling
	// any session at all (sign-out).
	anySession
	// a fully signed-in staff member.
	staff
	// a fully signed-in customer.
	customerOnly
	// anyone fully signed in, staff or customer (their own account).
	active
)

// route is one page: method and path, who may open it, and the handler.
type route struct {
	Pattern string
	Need    need
	// Perm is the permission a staff page also needs ("" for none): the
	// same one the API's route for the same action names.
	Perm   access.Permission
	Handle func(s *Server, w http.ResponseWriter, r *http.Request, q *req) error
}

// routes is the whole web surface. A test fails for a route whose need is
// not one the guard knows.
func routes() []route {
	return []route{
		{"GET /{$}", public, "", (*Server).home},
		{"GET /assets/{name}", public, "", (*Server).asset},
		{"GET /lang/{lang}", public, "", (*Server).switchLanguage},

		// Pages that emailed links open: the token is POSTed, never spent by a GET.
		{"GET /auth/reset-password", public, "", (*Server).resetPasswordPage},
		{"POST /auth/reset-password", public, "", (*Server).resetPassword},
		{"GET /auth/verify-email", public, "", (*Server).verifyEmailPage},
		{"POST /auth/verify-email", public, "", (*Server).verifyEmail},
		{"GET /auth/signin-link", public, "", (*Server).signInLinkPage},
		{"POST /auth/signin-link", public, "", (*Server).signInWithLink},
		{"GET /auth/forgot", public, "", (*Server).forgotPage},
		{"POST /auth/forgot", public, "", (*Server).forgot},

		// Second factors and signing out, for staff and customers alike.
		{"GET /auth/mfa", mfaPending, "", (*Server).mfaPage},
		{"POST /auth/mfa", mfaPending, "", (*Server).verifyMFA},
		{"POST /auth/passkey/options", mfaPending, "", (*Server).passkeyOptions},
		{"POST /auth/passkey/register/options", enrolling, "", (*Server).registerOptions},
		{"POST /auth/passkey/register", enrolling, "", (*Server).registerPasskey},
		{"POST /auth/passkey/signin/options", public, "", (*Server).signInOptions},
		{"POST /auth/passkey/signin", public, "", (*Server).passkeySignIn},
		{"GET /auth/enroll", enrolling, "", (*Server).enrollPage},
		{"POST /auth/enroll/totp", enrolling, "", (*Server).beginTOTP},
		{"POST /auth/enroll/confirm", enrolling, "", (*Server).confirmTOTP},
		{"POST /auth/signout", anySession, "", (*Server).signOut},
		{"GET /auth/step-up", active, "", (*Server).stepUpPage},
		{"POST /auth/step-up", active, "", (*Server).stepUp},
		{"POST /auth/step-up/passkey/options", active, "", (*Server).stepUpPasskeyOptions},

		// The signed-in person's own sessions.
		{"GET /account/sessions", active, "", (*Server).sessionsPage},
		{"POST /account/sessions/{id}/revoke", active, "", (*Server).revokeSession},
		{"POST /account/sessions/revoke-others", active, "", (*Server).revokeOtherSessions},
		{"POST /account/language", active, "", (*Server).saveLanguage},

		// Agent console.
		{"GET /console/signin", public, "", (*Server).staffSignInPage},
		{"POST /console/signin", public, "", (*Server).staffSignIn},
		{"GET /console/{$}", staff, "", (*Server).queue},
		{"GET /console/search", staff, "", (*Server).search},
		{"GET /console/tickets/{number}", staff, "", (*Server).consoleTicket},
		{"POST /console/tickets/{number}", staff, "", (*Server).consoleUpdate},
		{"POST /console/tickets/{number}/messages", staff, "", (*Server).consoleMessage},
		{"POST /console/tickets/{number}/reveal", staff, "", (*Server).reveal},
		{"POST /console/tickets/{number}/contact", staff, access.CustomerRead, (*Server).revealContact},
		{"GET /console/files/{id}", staff, "", (*Server).download},

		// Customer portal.
		{"GET /portal/signin", public, "", (*Server).customerSignInPage},
		{"POST /portal/signin", public, "", (*Server).customerSignIn},
		{"POST /portal/signin-link", public, "", (*Server).requestSignInLink},
		{"GET /portal/signup", public, "", (*Server).signUpPage},
		{"POST /portal/signup", public, "", (*Server).signUp},
		{"GET /portal/{$}", customerOnly, "", (*Server).myRequests},
		{"GET /portal/requests/new", customerOnly, "", (*Server).newRequestPage},
		{"POST /portal/requests", customerOnly, "", (*Server).createRequest},
		{"GET /portal/requests/{number}", customerOnly, "", (*Server).portalTicket},
		{"POST /portal/requests/{number}/messages", customerOnly, "", (*Server).portalReply},
		{"POST /portal/requests/{number}/close", customerOnly, "", (*Server).portalClose},
		{"GET /portal/files/{id}", customerOnly, "", (*Server).download},

		// My security: password, second factors, passkeys, API tokens.
		{"GET /account/security", active, "", (*Server).securityPage},
		{"POST /account/security/password", active, "", (*Server).changePassword},
		{"POST /account/security/totp/remove", active, "", (*Server).removeTOTP},
		{"POST /account/security/recovery-codes", active, "", (*Server).renewRecoveryCodes},
		{"POST /account/security/passkeys/{id}/rename", active, "", (*Server).renamePasskey},
		{"POST /account/security/passkeys/{id}/remove", active, "", (*Server).removePasskey},
		{"POST /account/tokens", staff, access.TokenCreate, (*Server).createToken},
		{"POST /account/tokens/{id}/revoke", staff, access.TokenCreate, (*Server).revokeToken},

		// Admin: people, departments, workspace security settings.
		{"GET /admin/{$}", staff, access.UserRead, (*Server).adminHome},
		{"GET /admin/users", staff, access.UserManage, (*Server).adminUsers},
		{"GET /admin/users/new", staff, access.UserManage, (*Server).newUserPage},
		{"POST /admin/users", staff, access.UserManage, (*Server).createUser},
		{"GET /admin/users/{id}", staff, access.UserManage, (*Server).adminUser},
		{"POST /admin/users/{id}", staff, access.UserManage, (*Server).updateUser},
		{"POST /admin/users/{id}/mfa-reset", staff, access.UserManage, (*Server).resetUserMFA},
		{"POST /admin/users/{id}/unlock", staff, access.UserManage, (*Server).unlockUser},
		{"POST /admin/users/{id}/sessions/revoke", staff, access.UserManage, (*Server).revokeUserSessions},
		{"POST /admin/users/{id}/password-setup", staff, access.UserManage, (*Server).sendPasswordSetup},
		{"GET /admin/departments", staff, access.DepartmentManage, (*Server).adminDepartments},
		{"POST /admin/departments", staff, access.DepartmentManage, (*Server).createDepartment},
		{"POST /admin/departments/{id}/rename", staff, access.DepartmentManage, (*Server).renameDepartment},
		{"POST /admin/departments/{id}/members", staff, access.DepartmentManage, (*Server).addMember},
		{"POST /admin/departments/{id}/members/{user}/remove", staff, access.DepartmentManage, (*Server).removeMember},
		{"GET /admin/settings", staff, access.UserManage, (*Server).settingsPage},
		{"POST /admin/settings", staff, access.UserManage, (*Server).saveSettings},
		{"POST /admin/settings/data-protection", staff, access.UserManage, (*Server).saveDataProtection},

		// Security monitoring and the audit log.
		{"GET /admin/security", staff, access.SecurityManage, (*Server).securityDashboard},
		{"GET /admin/security/alerts", staff, access.SecurityManage, (*Server).alertsPage},
		{"POST /admin/security/alerts/{id}", staff, access.SecurityManage, (*Server).setAlertState},
		{"GET /admin/audit", staff, access.AuditRead, (*Server).auditPage},
		{"GET /admin/audit/export", staff, access.AuditRead, (*Server).exportAudit},
		{"GET /admin/roles", staff, access.UserRead, (*Server).rolesPage},
		{"GET /admin/security/monitoring", staff, access.SecurityManage, (*Server).monitoringPage},
		{"POST /admin/security/monitoring", staff, access.SecurityManage, (*Server).saveMonitoring},
		{"GET /admin/audit/verify", staff, access.SecurityManage, (*Server).auditVerifyPage},
		{"POST /admin/audit/verify", staff, access.SecurityManage, (*Server).verifyAudit},
	}
}

// req is what a handler knows about its request: the language, and the
// signed-in person when there is one.
type req struct {
	L *Locale
	// P is the session's principal (zero when signed out).
	P      identity.Principal
	signed bool
}

// staffSession and the rest read the session's state.
func (q *req) isStaff() bool    { return q.signed && q.P.Scope.Kind == access.ActorUser }
func (q *req) isCustomer() bool { return q.signed && q.P.Scope.Kind == access.ActorCustomer }
func (q *req) state() string {
	if !q.signed {
		return ""
	}
	return q.P.Session.State
}

func (s *Server) newReq(r *http.Request) *req {
	return &req{L: s.locale(pickLanguage(r))}
}

func (s *Server) locale(lang string) *Locale {
	return &Locale{Lang: lang, msgs: s.catalogs[lang], zone: s.zone}
}

// guard resolves the session, keeps each page to the people it is for,
// runs the handler and renders its error as a page.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := s.newReq(r)
		if secret := s.sessionSecret(r); secret != "" {
			p, err := s.identity.AuthenticateSession(r.Context(), secret)
			if err == nil {
				q.P, q.signed = p, true
				// The language the person saved comes before the
				// browser's: they chose it, on whatever device.
				if p.Session != nil && validLang(p.Session.Locale) {
					q.L = s.locale(p.Session.Locale)
				}
				// Dates are said in the workspace's zone, in either language.
				if loc, err := s.identity.TimeZone(r.Context(), p.Scope.WorkspaceID); err == nil {
					q.L.zone = loc
				}
			}
		}
		if err := allowed(rt.Need, q); err != nil {
			s.renderError(w, r, q, err)
			return
		}
		if rt.Perm != "" && !q.P.Scope.Can(rt.Perm) {
			s.renderError(w, r, q, errs.ErrForbidden)
			return
		}
		r = r.WithContext(requestinfo.With(r.Context(), s.requestInfo(r, q)))
		if err := rt.Handle(s, w, r, q); err != nil {
			s.renderError(w, r, q, err)
		}
	})
}

// requestInfo is who is asking and from where, for the audit log.
func (s *Server) requestInfo(r *http.Request, q *req) requestinfo.Info {
	info := requestinfo.Info{ActorKind: "anonymous", IP: s.clientIP(r), UserAgent: r.UserAgent(), RequestID: requestinfo.From(r.Context()).RequestID}
	if q.signed {
		info.ActorKind, info.ActorID = string(q.P.Scope.Kind), q.P.Scope.ActorID
		if q.P.Session != nil {
			info.SessionID = q.P.Session.ID
		}
	}
	return info
}

// allowed checks a page's need against the session. A half-signed-in
// session is kept to the page that finishes signing in.
func allowed(n need, q *req) error {
	switch n {
	case public:
		return nil
	case mfaPending:
		if q.state() != identity.StateMFA {
			return errs.ErrUnauthenticated
		}
		return nil
	case enrolling:
		if st := q.state(); st != identity.StateEnroll && st != identity.StateActive {
			return errs.ErrUnauthenticated
		}
		return nil
	case anySession:
		if !q.signed {
			return errs.ErrUnauthenticated
		}
		return nil
	case active:
		if !q.signed {
			return errs.ErrUnauthenticated
		}
		if q.state() != identity.StateActive {
			return errs.ErrMFARequired
		}
		return nil
	case staff, customerOnly:
		if !q.signed {
			return errs.ErrUnauthenticated
		}
		if q.state() != identity.StateActive {
			return errs.ErrMFARequired
		}
		if (n == staff) != q.isStaff() {
			return errs.ErrForbidden
		}
		return nil
	}
	return errs.ErrForbidden
}

// Cookies. The session cookie is the API's: same name, HttpOnly,
// SameSite=Lax, Secure and __Host- under TLS, lasting until the browser
// closes (the server ends it earlier on idle or age).

func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.tls }

func (s *Server) cookieName(r *http.Request) string {
	if s.secure(r) {
		return identity.SessionCookie
	}
	return identity.SessionCookieNoTLS
}

func (s *Server) sessionSecret(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: secret, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: "", Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// setPreference stores a harmless preference (language, last workspace)
// for a year.
func (s *Server) setPreference(w http.ResponseWriter, r *http.Request, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
}

// workspaceCookie remembers the workspace last signed in to, to fill the
// sign-in form next time.
const workspaceCookie = "hesar_workspace"

func lastWorkspace(r *http.Request) string {
	if v := r.URL.Query().Get("workspace"); v != "" {
		return v
	}
	if c, err := r.Cookie(workspaceCookie); err == nil {
		return c.Value
	}
	return ""
}

// homeOf is where a signed-in person lands.
func homeOf(q *req) string {
	if q.isCustomer() {
		return "/portal/"
	}
	return "/console/"
}

// seeOther redirects after a POST (or to a sign-in page).
func seeOther(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}
