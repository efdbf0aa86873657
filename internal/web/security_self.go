package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// My security (/account/security): the signed-in person's password, second
// factors, passkeys and API tokens, through the same identity calls and
// step-up rule as the API's /api/v1/account/… and /api/v1/tokens routes.

// stale applies the API's step-up rule (api stepUpRoutes): a sensitive
// change from a session whose last proof is older than the step-up window
// must first go through /auth/step-up.
func stale(q *req) bool {
	return q.P.Session != nil && q.P.Session.State == identity.StateActive && !q.P.Session.Fresh(nowFunc())
}

// stepUpFirst sends the browser to prove itself again, then back to next
// (a page, since the form must be sent again after the proof).
func stepUpFirst(w http.ResponseWriter, r *http.Request, next string) error {
	if strings.Contains(next, "?") {
		next += "&notice=notice.stepped_up"
	} else {
		next += "?notice=notice.stepped_up"
	}
	return seeOther(w, r, "/auth/step-up?next="+url.QueryEscape(next))
}

// PasskeyRow is one of my passkeys.
type PasskeyRow struct {
	ID                  int64
	Name                string
	CreatedAt, LastUsed time.Time
}

// TokenRow is one of my API tokens.
type TokenRow struct {
	ID                             int64
	Name, Prefix                   string
	CreatedAt, LastUsed, ExpiresAt time.Time
	Revoked                        bool
	Permissions                    []string
}

// PermChoice is one permission offered for a new token.
type PermChoice struct {
	Name string
	// Text says in the page's language what the permission allows.
	Text    string
	Checked bool
}

// SecurityPage is /account/security.
type SecurityPage struct {
	Page
	TOTP  bool
	Keys  []PasskeyRow
	Fresh bool
	// RecoveryCodes are new codes, shown once on the response that made them.
	RecoveryCodes []string
	CanTokens     bool
	Tokens        []TokenRow
	Perms         []PermChoice
	// NewToken is a token's secret, shown once on the response that made it.
	NewToken, NewTokenName string
	TokenLimited           bool
	// Locale is the saved language ("" follows the browser), one of
	// LocaleChoices.
	Locale        string
	LocaleChoices []string
	Errors        FieldErrors
}

func (s *Server) securityView(r *http.Request, q *req) (SecurityPage, error) {
	v := SecurityPage{Page: s.page(r, q, "title.security"), Fresh: !stale(q), Errors: FieldErrors{},
		LocaleChoices: []string{"fa", "en", ""}}
	if q.P.Session != nil {
		v.Locale = q.P.Session.Locale
	}
	v.Passkeys = true
	factors, err := s.identity.MyFactors(r.Context(), q.P)
	if err != nil {
		return v, err
	}
	for _, f := range factors {
		if f == identity.FactorTOTP {
			v.TOTP = true
		}
	}
	keys, err := s.identity.ListPasskeys(r.Context(), q.P)
	if err != nil {
		return v, err
	}
	for _, k := range keys {
		v.Keys = append(v.Keys, PasskeyRow{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsed: k.LastUsedAt})
	}
	if q.isStaff() && q.P.Scope.Can(access.TokenCreate) {
		v.CanTokens = true
		ts, err := s.identity.ListTokens(r.Context(), q.P.Scope)
		if err != nil {
			return v, err
		}
		for _, t := range ts {
			if t.UserID != q.P.Scope.ActorID { // an admin's list holds everyone's
				continue
			}
			row := TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, LastUsed: t.LastUsedAt, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked}
			for _, p := range t.Permissions {
				row.Permissions = append(row.Permissions, string(p))
			}
			v.Tokens = append(v.Tokens, row)
		}
		for _, p := range access.AllPermissions {
			if q.P.Scope.Can(p) {
				v.Perms = append(v.Perms, PermChoice{Name: string(p), Text: q.L.T("perm." + string(p))})
			}
		}
	}
	return v, nil
}

func (s *Server) securityPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.securityView(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "security", v)
}

// formFailed re-renders the security page with the form's errors, or
// returns err when it is not the person's to fix.
func (s *Server) securityFailed(w http.ResponseWriter, r *http.Request, q *req, err error, fix func(FieldErrors) FieldErrors) error {
	fe, ok := fieldErrors(q.L, err)
	if !ok {
		if fe = s.signInError(q.L, err); fe == nil {
			return err
		}
	}
	v, verr := s.securityView(r, q)
	if verr != nil {
		return verr
	}
	v.Errors = fe
	if fix != nil {
		v.Errors = fix(fe)
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "security", v)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	secret, err := s.identity.ChangePassword(r.Context(), q.P, r.PostFormValue("current_password"), r.PostFormValue("new_password"), s.client(r))
	if err != nil {
		return s.securityFailed(w, r, q, err, func(fe FieldErrors) FieldErrors {
			if msg := fe.Get("form"); msg != "" { // a wrong current password
				return FieldErrors{"current_password": msg}
			}
			return fe
		})
	}
	s.setSession(w, r, secret)
	return seeOther(w, r, "/account/security?notice=notice.password_changed")
}

func (s *Server) removeTOTP(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/account/security")
	}
	if err := s.identity.RemoveTOTP(r.Context(), q.P, s.client(r)); err != nil {
		return s.securityFailed(w, r, q, err, nil)
	}
	return seeOther(w, r, "/account/security?notice=notice.totp_removed")
}

func (s *Server) renewRecoveryCodes(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/account/security")
	}
	codes, err := s.identity.RegenerateRecoveryCodes(r.Context(), q.P, s.client(r))
	if err != nil {
		return s.securityFailed(w, r, q, err, nil)
	}
	v, err := s.securityView(r, q)
	if err != nil {
		return err
	}
	v.RecoveryCodes = codes
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "security", v)
}

func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFoundPage
	}
	return id, nil
}

func (s *Server) renamePasskey(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.identity.RenamePasskey(r.Context(), q.P, id, strings.TrimSpace(r.PostFormValue("passkey_name"))); err != nil {
		return s.securityFailed(w, r, q, err, func(fe FieldErrors) FieldErrors {
			if msg := fe.Get("name"); msg != "" {
				return FieldErrors{"passkey_name": msg}
			}
			return fe
		})
	}
	return seeOther(w, r, "/account/security?notice=notice.passkey_renamed")
}

func (s *Server) removePasskey(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/account/security")
	}
	if err := s.identity.RemovePasskey(r.Context(), q.P, id, s.client(r)); err != nil {
		return s.securityFailed(w, r, q, err, nil)
	}
	return seeOther(w, r, "/account/security?notice=notice.passkey_removed")
}

// tokenLifetimes are the expiry choices of a new token, in days (0: never).
var tokenLifetimes = []int{30, 90, 365, 0}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/account/security")
	}
	days, err := strconv.Atoi(r.PostFormValue("expires_in_days"))
	if err != nil || days < 0 || days > 3650 {
		return s.securityFailed(w, r, q, errs.Field("expires_in_days", "must be one of the choices"), nil)
	}
	in := identity.NewToken{Name: strings.TrimSpace(r.PostFormValue("token_name")), UserID: q.P.Scope.ActorID,
		TTL: time.Duration(days) * 24 * time.Hour, Client: s.client(r)}
	limited := r.PostFormValue("token_scope") == "some"
	if limited {
		in.Permissions = []access.Permission{}
		for _, name := range r.PostForm["permissions"] {
			p, ok := access.ParsePermission(name)
			if !ok {
				return errBadForm
			}
			in.Permissions = append(in.Permissions, p)
		}
		if len(in.Permissions) == 0 {
			return s.securityFailed(w, r, q, errs.Field("permissions", "choose at least one permission, or all of them"), nil)
		}
	}
	_, secret, err := s.identity.CreateToken(r.Context(), q.P.Scope, in)
	if err != nil {
		return s.securityFailed(w, r, q, err, func(fe FieldErrors) FieldErrors {
			if msg := fe.Get("name"); msg != "" {
				return FieldErrors{"token_name": msg}
			}
			return fe
		})
	}
	v, err := s.securityView(r, q)
	if err != nil {
		return err
	}
	v.NewToken, v.NewTokenName = secret, in.Name
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "security", v)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := s.identity.RevokeToken(r.Context(), q.P.Scope, id, s.client(r)); err != nil {
		return err
	}
	return seeOther(w, r, "/account/security?notice=notice.token_revoked")
}
