package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/identity"
)

// Coming back after signing in. A page that needs a session sends the
// browser to the right sign-in page with next=<the page>; the sign-in
// forms carry next on, and the steps that follow a password (the second
// factor, enrolling one, an emailed link) find it in a short-lived cookie,
// since their pages have no place for it. next is only ever a page of the
// person's own side of the site.

const (
	// nextCookie holds next while a sign-in waits for its second factor,
	// its enrollment or its emailed link (which lasts 15 minutes).
	nextCookie = "hesar_next"
	nextMaxAge = 15 * 60
	// sideCookie remembers, until the browser closes, whether the last
	// person to sign in here was staff or a customer: after their session
	// ends it chooses the sign-in page for paths both sides share
	// (/account, /auth). It chooses a page only; it grants nothing.
	sideCookie = "hesar_side"
)

// side is the kind of account a path belongs to: staff for /console and
// /admin, customer for /portal, "" for the pages both use.
func side(p string) identity.AccountKind {
	switch {
	case p == "/console" || strings.HasPrefix(p, "/console/") || p == "/admin" || strings.HasPrefix(p, "/admin/"):
		return identity.Staff
	case p == "/portal" || strings.HasPrefix(p, "/portal/"):
		return identity.Customer
	}
	return ""
}

// notAfterSignIn are pages no sign-in should land on.
var notAfterSignIn = map[string]bool{"/console/signin": true, "/portal/signin": true, "/portal/signup": true}

// nextFor is raw when it is a page this kind of account may be sent to
// after signing in, else "". A customer is never sent into /console or
// /admin, staff never into /portal; /account pages suit both; anything
// else (another site, a form's address, /auth) is refused.
func (s *Server) nextFor(kind identity.AccountKind, raw string) string {
	if raw == "" || !isLocalPath(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || notAfterSignIn[u.Path] || !s.openable.has(u.Path) {
		return ""
	}
	switch sd := side(u.Path); {
	case sd != "" && sd != kind:
		return ""
	case sd == "" && !strings.HasPrefix(u.Path, "/account/"):
		return ""
	}
	return raw
}

// signInTarget is where a request without a (live) session goes: the
// sign-in page of the path's side, or for a shared path the side of the
// person who last signed in here, with next set to the page the request
// came from (for a form, the page it was on).
func (s *Server) signInTarget(r *http.Request) string {
	back := s.openable.returnPath(r)
	if r.URL.Path == "/auth/step-up" && r.Method == http.MethodGet {
		// Signing in again is proof enough: go on to what the step-up was for.
		back = r.URL.Query().Get("next")
	}
	backPath := back
	if u, err := url.Parse(back); err == nil {
		backPath = u.Path
	}
	kind := side(backPath)
	if kind == "" {
		kind = lastSide(r)
	}
	target := "/console/signin"
	if kind == identity.Customer {
		target = "/portal/signin"
	}
	if kind == "" {
		// Unknown: the staff page, which offers the portal's for such a
		// path (SignInForm.Other).
		kind = identity.Staff
	}
	v := url.Values{}
	if next := s.nextFor(kind, back); next != "" {
		v.Set("next", next)
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		v.Set("notice", "notice.signin_needed")
	} else {
		v.Set("notice", "notice.signin_again")
	}
	return target + "?" + v.Encode()
}

// lastSide reads sideCookie ("" when absent or not a kind).
func lastSide(r *http.Request) identity.AccountKind {
	c, err := r.Cookie(sideCookie)
	if err != nil {
		return ""
	}
	switch k := identity.AccountKind(c.Value); k {
	case identity.Staff, identity.Customer:
		return k
	}
	return ""
}

func (s *Server) setSide(w http.ResponseWriter, r *http.Request, kind identity.AccountKind) {
	http.SetCookie(w, &http.Cookie{Name: sideCookie, Value: string(kind), Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode})
}

// rememberNext keeps next for the step after this one; "" forgets it.
func (s *Server) rememberNext(w http.ResponseWriter, r *http.Request, next string) {
	c := &http.Cookie{Name: nextCookie, Value: url.QueryEscape(next), Path: "/auth", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: nextMaxAge}
	if next == "" {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
}

// rememberedNext is the next kept by rememberNext, checked again for this
// kind of account.
func (s *Server) rememberedNext(r *http.Request, kind identity.AccountKind) string {
	c, err := r.Cookie(nextCookie)
	if err != nil {
		return ""
	}
	raw, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return s.nextFor(kind, raw)
}

// kindOf is the kind of account of a (possibly half) signed-in session.
func kindOf(q *req) identity.AccountKind {
	if q.isCustomer() {
		return identity.Customer
	}
	return identity.Staff
}

// finished sends a person who has just completed signing in to next (kept
// from the sign-in page), or else their home page.
func (s *Server) finished(w http.ResponseWriter, r *http.Request, q *req) error {
	next := s.rememberedNext(r, kindOf(q))
	s.rememberNext(w, r, "")
	if next == "" {
		next = homeOf(q)
	}
	return seeOther(w, r, next)
}

// otherSignIn is the portal's sign-in page for a next both sides share,
// offered on the staff page when who is signing in is not known.
func otherSignIn(next string) string {
	if next == "" || !strings.HasPrefix(next, "/account/") {
		return ""
	}
	return "/portal/signin?next=" + url.QueryEscape(next)
}

// draftScope labels the signed-in person's drafts (drafts.js keys them by
// it, and shows a tab's drafts only to whoever wrote them): a digest of
// workspace, kind and id, so the page carries no ids in the clear.
func draftScope(q *req, signed bool) string {
	if !signed {
		return ""
	}
	sum := sha256.Sum256([]byte("hesar draft\x00" + strconv.FormatInt(q.P.Scope.WorkspaceID, 10) + "\x00" + string(q.P.Scope.Kind) + "\x00" +
		strconv.FormatInt(q.P.Scope.ActorID, 10)))
	return hex.EncodeToString(sum[:8])
}
