// Package web is Hesar's browser interface: the agent console under
// /console, the customer portal under /portal and the pages emailed links
// open under /auth. Pages are server-rendered with html/template from
// embedded templates, styles and a little vanilla JavaScript (passkeys
// only), under a strict Content-Security-Policy. Every page reaches data
// through the same domain services and access scopes as the JSON API.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/server"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/ticket"
)

// Opts are the Server's dependencies.
type Opts struct {
	Log         *slog.Logger
	Identity    *identity.Service
	Tickets     *ticket.Service
	Customers   *customer.Service
	Attachments *attachment.Service
	Departments *department.Service
	// TLS is true when Hesar is served over TLS (directly or behind a
	// TLS-terminating proxy): cookies are then Secure and __Host-.
	TLS bool
	// ClientIP finds the client's address (behind trusted proxies); nil
	// uses the connection's address.
	ClientIP func(*http.Request) string
	// RecordRead puts a read of sensitive data in the audit log before the
	// page shows it (the API's recorder; nil records nothing, for tests of
	// the pages alone).
	RecordRead func(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error
	// Monitor feeds the security dashboard and alerts pages (nil: those
	// pages say monitoring is not available here).
	Monitor *monitor.Monitor
	// Audit feeds the audit log viewer and its export (nil: not available).
	Audit *audit.Log
	// Submits keeps a request or a reply from being made twice by one
	// form (nil: a form sent twice makes two).
	Submits *submit.Store
}

// Server serves the web pages.
type Server struct {
	log         *slog.Logger
	identity    *identity.Service
	tickets     *ticket.Service
	customers   *customer.Service
	attachments *attachment.Service
	departments *department.Service
	tls         bool
	clientIP    func(*http.Request) string
	recordRead  func(r *http.Request, ws int64, action, targetKind string, targetID int64, details map[string]string) error
	monitor     *monitor.Monitor
	audit       *audit.Log

	pages    map[string]*pageTemplate
	catalogs map[string]Catalog
	zone     *time.Location
	assets   assetSet
	// openable knows which paths are pages (GET routes).
	openable pageIndex
	submits  *submit.Store
}

// New builds the web server, parsing every template and catalog once.
func New(o Opts) (*Server, error) {
	if o.Identity == nil || o.Tickets == nil || o.Customers == nil || o.Attachments == nil || o.Departments == nil {
		return nil, errors.New("web: every service is required")
	}
	s := &Server{log: o.Log, identity: o.Identity, tickets: o.Tickets, customers: o.Customers, attachments: o.Attachments,
		departments: o.Departments, tls: o.TLS, clientIP: o.ClientIP, recordRead: o.RecordRead, monitor: o.Monitor, audit: o.Audit,
		openable: newPageIndex(routes()), submits: o.Submits}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clientIP == nil {
		s.clientIP = remoteIP
	}
	if s.recordRead == nil {
		s.recordRead = func(*http.Request, int64, string, string, int64, map[string]string) error { return nil }
	}
	var err error
	if s.catalogs, err = loadCatalogs(); err != nil {
		return nil, err
	}
	if s.zone, err = time.LoadLocation("Asia/Tehran"); err != nil {
		s.zone = time.FixedZone("IRST", 3*3600+1800)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return s, nil
}

// CSP is the Content-Security-Policy of every HTML page: nothing but
// Hesar's own files, no inline script or style, images also as data: URLs
// (the TOTP QR code), forms only back to Hesar, never framed.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves every path that is not the API's (/api/…, /healthz,
// /readyz), behind cross-origin protection for every state change.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes() {
		mux.Handle(rt.Pattern, s.guard(rt))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, s.newReq(r), errNotFoundPage)
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, s.newReq(r), errCrossOrigin)
	}))
	return s.wrap(cop.Handler(mux))
}

type ctxKey int

const requestIDKey ctxKey = 1

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// wrap gives every response the security headers and a request id, and
// turns a panic into a plain error page logged once.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		h := w.Header()
		server.SetSecurityHeaders(h)
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Request-Id", id)
		if r.TLS != nil || s.tls {
			h.Set("Strict-Transport-Security", server.HSTS)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", id, "route", r.Pattern, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// client is where the request came from, for throttling and security events.
func (s *Server) client(r *http.Request) identity.Client {
	return identity.Client{IP: s.clientIP(r), UserAgent: r.UserAgent()}
}
