// Package api is Hesar's JSON REST API under /api/v1: bearer-token
// authentication, one route table with the permission each route needs,
// strict decoding, and one error envelope.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/privacy"
	"github.com/hesar/hesar/internal/requestinfo"
	"github.com/hesar/hesar/internal/ticket"
)

// Server serves the API.
type Server struct {
	log         *slog.Logger
	identity    *identity.Service
	departments *department.Service
	customers   *customer.Service
	tickets     *ticket.Service
	attachments *attachment.Service
	privacy     *privacy.Service
	audit       *audit.Log
	monitor     *monitor.Monitor
	ready       func(context.Context) error
	version     string
	hard        Hardening
}

// Opts are the Server's dependencies.
type Opts struct {
	Logger      *slog.Logger
	Identity    *identity.Service
	Departments *department.Service
	Customers   *customer.Service
	Tickets     *ticket.Service
	Attachments *attachment.Service
	Privacy     *privacy.Service
	// Audit records reads of sensitive data (nil: none recorded).
	Audit *audit.Log
	// Monitor watches reads for mass access, and serves alerts.
	Monitor *monitor.Monitor
	// Ready reports whether the service can take traffic (/readyz).
	Ready   func(context.Context) error
	Version string
	// Hardening adds rate limits and metrics; see WithHardening.
	Hardening Hardening
}

// New builds the API server.
func New(o Opts) *Server {
	return &Server{log: o.Logger, identity: o.Identity, departments: o.Departments, customers: o.Customers,
		tickets: o.Tickets, attachments: o.Attachments, privacy: o.Privacy, audit: o.Audit, monitor: o.Monitor, ready: o.Ready, version: o.Version, hard: o.Hardening}
}

// Handler returns the HTTP handler for every route, with the request id,
// panic recovery, logging and security headers around it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
		allowed[rt.Pattern] = append(allowed[rt.Pattern], rt.Method)
	}
	// Known paths with a method they do not have: 405 in the JSON envelope,
	// with Allow, rather than the catch-all's 404.
	for pattern, methods := range allowed {
		allow := strings.Join(methods, ", ")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(methods, m) || (m == "GET" && slices.Contains(methods, "HEAD")) {
				continue
			}
			mux.HandleFunc(m+" "+pattern, func(w http.ResponseWriter, r *http.Request) {
				if !s.allowIP(w, r) {
					return
				}
				w.Header().Set("Allow", allow)
				writeError(w, r, s.log, newError(http.StatusMethodNotAllowed, "method_not_allowed", "this endpoint accepts "+allow))
			})
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !s.allowIP(w, r) {
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, r, s.log, newError(http.StatusNotFound, "no_route", "no such API endpoint; see /api/v1/openapi.json"))
			return
		}
		http.NotFound(w, r)
	})
	return s.withRequestContext(s.crossOriginProtection(mux))
}

// guard authenticates the caller when the route needs it, applies the
// rate limit (per token once authenticated, per address otherwise), checks
// the route's permission, then runs the handler and renders its error.
func (s *Server) guard(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p identity.Principal
		if rt.public() {
			if !s.allowIP(w, r) {
				return
			}
		} else {
			var err error
			if p, err = s.authenticate(r); err != nil {
				s.authFailed(w, r, err)
				return
			}
			if !s.allowCaller(w, r, p) {
				return
			}
			if err := sessionGate(rt, p); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			if !rt.allows(p.Scope) {
				writeError(w, r, s.log, errs.ErrForbidden)
				return
			}
			if needsStepUp(rt, p) {
				writeError(w, r, s.log, errs.ErrStepUpRequired)
				return
			}
		}
		r = r.WithContext(requestinfo.With(r.Context(), s.requestInfo(r, p)))
		if err := rt.Handle(s, w, r, p); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// authenticate accepts an API token (Authorization: Bearer) or, from a
// browser, the session cookie. A request carrying a token is judged by the
// token alone.
func (s *Server) authenticate(r *http.Request) (identity.Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return identity.Principal{}, errs.ErrUnauthenticated
		}
		return s.identity.Authenticate(r.Context(), strings.TrimSpace(token))
	}
	if secret := s.sessionSecret(r); secret != "" {
		return s.identity.AuthenticateSession(r.Context(), secret)
	}
	return identity.Principal{}, errs.ErrUnauthenticated
}

// requestInfo is who is asking and from where, for the services' records.
func (s *Server) requestInfo(r *http.Request, p identity.Principal) requestinfo.Info {
	c := s.client(r)
	info := requestinfo.Info{ActorKind: "anonymous", IP: c.IP, UserAgent: c.UserAgent, RequestID: requestID(r.Context()), TokenID: p.TokenID}
	if p.Scope.Kind != "" {
		info.ActorKind, info.ActorID = string(p.Scope.Kind), p.Scope.ActorID
	}
	if p.Session != nil {
		info.SessionID = p.Session.ID
	}
	return info
}

type ctxKey int

const requestIDKey ctxKey = 1

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// withRequestContext gives every request an id, strict security headers,
// a recovered panic as a bare 500, metrics, and one log line. The log line names the
// route pattern, never the URL: query strings can hold search terms.
func (s *Server) withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		// The web pages behind Wrap learn the request id this way too.
		ctx = requestinfo.With(ctx, requestinfo.Info{ActorKind: "anonymous", RequestID: id})
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		setHeaders(w, r)
		rec := &statusRecorder{ResponseWriter: w}
		s.hard.Metrics.RequestStarted()
		defer func() {
			p := recover()
			// http.ErrAbortHandler is a handler's way to cut the connection
			// after part of a response went out (a failed export): it must
			// reach net/http, or the client sees a short but clean reply.
			abort := p == http.ErrAbortHandler
			if p != nil && !abort {
				s.log.Error("panic", "request_id", id, "route", r.Pattern, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, r, s.log, fmt.Errorf("panic"))
				}
			}
			took := time.Since(start)
			s.hard.Metrics.RequestDone(r.Pattern, rec.status, took)
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("route", r.Pattern), slog.Int("status", rec.status), slog.Duration("duration", took))
			if abort {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
