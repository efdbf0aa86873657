package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/server"
)

// Hardening is what `hesar serve` adds around the API: rate limits,
// metrics and TLS awareness. The zero value (what app.Build and the tests
// get) limits and measures nothing.
type Hardening struct {
	// IPLimit applies per client address to requests without valid
	// credentials: public routes, unknown paths and failed sign-ins.
	IPLimit *server.Limiter
	// TokenLimit applies per API token to authenticated requests.
	TokenLimit *server.Limiter
	// ClientIP finds the client address behind trusted proxies.
	ClientIP server.ClientIP
	Metrics  *server.Metrics
	// TLS is true when the API is served over TLS, so any cookie it sets
	// must be Secure.
	TLS bool
}

// WithHardening returns a copy of s that enforces h.
func (s *Server) WithHardening(h Hardening) *Server {
	c := *s
	c.hard = h
	return &c
}

// Wrap puts the API's middleware (request id, security headers, panic
// recovery, access log, metrics) around any handler.
func (s *Server) Wrap(h http.Handler) http.Handler { return s.withRequestContext(h) }

// setHeaders writes the security headers every response carries, with
// HSTS only over TLS (a browser ignores it over plain HTTP anyway, and a
// TLS-terminating proxy in front of Hesar should send its own).
func setHeaders(w http.ResponseWriter, r *http.Request) {
	server.SetSecurityHeaders(w.Header())
	if r.TLS != nil {
		w.Header().Set("Strict-Transport-Security", server.HSTS)
	}
}

// allowIP charges the client's address; false means it answered 429.
func (s *Server) allowIP(w http.ResponseWriter, r *http.Request) bool {
	if s.hard.IPLimit == nil {
		return true
	}
	ok, wait := s.hard.IPLimit.Allow(server.RateKey(s.hard.ClientIP.Of(r)))
	if !ok {
		s.rateLimited(w, r, "ip", wait)
	}
	return ok
}

// allowCaller charges the caller's token or session; false means it
// answered 429.
func (s *Server) allowCaller(w http.ResponseWriter, r *http.Request, p identity.Principal) bool {
	if s.hard.TokenLimit == nil {
		return true
	}
	key := strconv.FormatInt(p.TokenID, 10)
	if p.Session != nil {
		key = "s" + strconv.FormatInt(p.Session.ID, 10)
	}
	ok, wait := s.hard.TokenLimit.Allow(key)
	if !ok {
		s.rateLimited(w, r, "token", wait)
	}
	return ok
}

// authFailed counts a failed sign-in against the client's address, so
// guessing tokens is as slow as any anonymous traffic, and answers.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.hard.Metrics.AuthFailed()
	if s.allowIP(w, r) {
		writeError(w, r, s.log, err)
	}
}

func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, limit string, wait time.Duration) {
	s.hard.Metrics.RateLimited(limit)
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, r, s.log, newError(http.StatusTooManyRequests, "rate_limited",
		"too many requests; retry after "+strconv.Itoa(secs)+" second(s)"))
}
