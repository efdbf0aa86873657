package api

import (
	"net/http"
	"time"

	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// tlsCookies reports whether the session cookie is set Secure with the
// __Host- prefix: when this request came over TLS, or Hesar is served
// behind TLS.
func (s *Server) tlsCookies(r *http.Request) bool { return r.TLS != nil || s.hard.TLS }

func (s *Server) cookieName(r *http.Request) string {
	if s.tlsCookies(r) {
		return identity.SessionCookie
	}
	return identity.SessionCookieNoTLS
}

// sessionSecret reads the session cookie. Under TLS only the __Host-
// cookie counts, so a cookie planted over plain HTTP is ignored.
func (s *Server) sessionSecret(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

// setSession hands the browser a session secret: HttpOnly (no script can
// read it), SameSite=Lax, Secure under TLS, host-only, path /. It lasts
// until the browser closes; the server ends it earlier on idle or age.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: secret, Path: "/", HttpOnly: true,
		Secure: s.tlsCookies(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: "", Path: "/", HttpOnly: true,
		Secure: s.tlsCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

// client is where the request came from, for throttling and events.
func (s *Server) client(r *http.Request) identity.Client {
	ip := s.hard.ClientIP.Of(r)
	c := identity.Client{UserAgent: r.UserAgent()}
	if ip.IsValid() {
		c.IP = ip.String()
	}
	return c
}

// crossOriginProtection refuses state-changing requests a browser sent
// from another site (Sec-Fetch-Site, or Origin against Host), so a page
// elsewhere cannot act with a signed-in person's cookie. API clients,
// which send neither header, are not affected; SameSite=Lax on the cookie
// is the second wall.
func (s *Server) crossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, newError(http.StatusForbidden, "cross_origin", "cross-origin requests that change data are refused"))
	}))
	return cop.Handler(next)
}

// Routes a session may use before it is fully signed in.
var (
	// While the second factor is pending.
	mfaPendingRoutes = map[string]bool{
		"GET /api/v1/me":                      true,
		"POST /api/v1/auth/mfa/verify":        true,
		"POST /api/v1/auth/passkey/challenge": true,
		"POST /api/v1/auth/signout":           true,
	}
	// While the workspace requires a second factor the account lacks.
	enrollRoutes = map[string]bool{
		"GET /api/v1/me":                      true,
		"POST /api/v1/auth/signout":           true,
		"GET /api/v1/account/security":        true,
		"POST /api/v1/account/totp":           true,
		"POST /api/v1/account/totp/confirm":   true,
		"POST /api/v1/account/passkeys/begin": true,
		"POST /api/v1/account/passkeys":       true,
	}
)

// stepUpRoutes need a proof of identity from the last five minutes when a
// browser session calls them. API tokens are exempt: a token is itself
// made under step-up and can be limited to the permissions it needs.
var stepUpRoutes = map[string]bool{
	"POST /api/v1/tokens":                               true,
	"POST /api/v1/tickets/{id}/reveal":                  true,
	"GET /api/v1/customers/{id}/export":                 true,
	"POST /api/v1/customers/{id}/erase":                 true,
	"POST /api/v1/users":                                true,
	"PATCH /api/v1/users/{id}":                          true,
	"PUT /api/v1/departments/{id}/members/{user_id}":    true,
	"DELETE /api/v1/departments/{id}/members/{user_id}": true,
	"POST /api/v1/account/totp":                         true,
	"DELETE /api/v1/account/totp":                       true,
	"POST /api/v1/account/recovery-codes":               true,
	"POST /api/v1/account/passkeys/begin":               true,
	"DELETE /api/v1/account/passkeys/{id}":              true,
	"DELETE /api/v1/users/{id}/sessions":                true,
	"POST /api/v1/users/{id}/mfa-reset":                 true,
	"POST /api/v1/users/{id}/unlock":                    true,
	"PUT /api/v1/settings/security":                     true,
	"PUT /api/v1/settings/data-protection":              true,
	"GET /api/v1/audit/export":                          true,
	"PUT /api/v1/security/monitoring":                   true,
}

func routeKey(rt Route) string { return rt.Method + " " + rt.Pattern }

// sessionGate keeps a half-signed-in session to the routes that finish
// signing in.
func sessionGate(rt Route, p identity.Principal) error {
	if p.Session == nil {
		return nil
	}
	switch p.Session.State {
	case identity.StateMFA:
		if !mfaPendingRoutes[routeKey(rt)] {
			return errs.ErrMFARequired
		}
	case identity.StateEnroll:
		if !enrollRoutes[routeKey(rt)] {
			return errs.ErrMFARequired
		}
	}
	return nil
}

func needsStepUp(rt Route, p identity.Principal) bool {
	return p.Session != nil && p.Session.State == identity.StateActive && stepUpRoutes[routeKey(rt)] && !p.Session.Fresh(time.Now())
}
