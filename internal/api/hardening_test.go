package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/server"
	"github.com/hesar/hesar/internal/testutil"
)

// The hardening is the same on both databases, so these tests use SQLite.

var securityHeaders = map[string]string{
	"X-Content-Type-Options":       "nosniff",
	"Cache-Control":                "no-store",
	"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
	"Referrer-Policy":              "no-referrer",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=()",
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header, overTLS bool) {
	t.Helper()
	for k, v := range securityHeaders {
		if h.Get(k) != v {
			t.Errorf("%s: %s = %q, want %q", what, k, h.Get(k), v)
		}
	}
	if got := h.Get("Strict-Transport-Security"); overTLS && got != server.HSTS || !overTLS && got != "" {
		t.Errorf("%s: Strict-Transport-Security = %q over TLS=%v", what, got, overTLS)
	}
}

// TestEveryResponseCarriesSecurityHeadersAndHSTSOnlyOverTLS: success, 401, 404 (API and
// elsewhere), 405 and a panic, over plain HTTP and over TLS, where HSTS
// is added.
func TestEveryResponseCarriesSecurityHeadersAndHSTSOnlyOverTLS(t *testing.T) {
	a := testutil.App(t, "sqlite")
	mux := http.NewServeMux()
	mux.Handle("/", a.API.Handler())
	mux.Handle("/boom", a.API.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	for _, overTLS := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(mux)
		if overTLS {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		defer srv.Close()
		for _, c := range []struct{ method, path string }{
			{"GET", "/healthz"}, {"GET", "/api/v1/me"}, {"GET", "/api/v1/nowhere"}, {"GET", "/elsewhere"},
			{"POST", "/healthz"}, {"GET", "/boom"},
		} {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			checkSecurityHeaders(t, c.method+" "+c.path, res.Header, overTLS)
		}
	}
}

func TestPanicIsA500ThatRevealsNothing(t *testing.T) {
	a := testutil.App(t, "sqlite")
	var logs bytes.Buffer
	s := api.New(api.Opts{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Identity: a.Identity})
	srv := httptest.NewServer(s.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail at /srv/hesar/db.go:42")
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := response{Status: res.StatusCode, Header: res.Header, Body: b}
	if r.Status != 500 || r.err(t).Error.Code != "internal" {
		t.Errorf("panic answered %d %s", r.Status, b)
	}
	if strings.Contains(string(b), "secret") || strings.Contains(string(b), ".go") {
		t.Errorf("panic details reached the client: %s", b)
	}
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), `"stack"`) {
		t.Errorf("panic not logged with its stack for operators")
	}
}

// hardened serves the shared test app's API with h.
func hardened(t *testing.T, h api.Hardening) (*testutil.Fixture, string) {
	t.Helper()
	a := testutil.App(t, "sqlite")
	f := testutil.NewFixture(t, a)
	srv := httptest.NewServer(a.API.WithHardening(h).Handler())
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func expectRateLimited(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: status %d, want 429: %s", what, r.Status, r.Body)
	}
	if r.err(t).Error.Code != "rate_limited" || r.Header.Get("Retry-After") != "1" {
		t.Errorf("%s: code %q Retry-After %q", what, r.err(t).Error.Code, r.Header.Get("Retry-After"))
	}
	checkSecurityHeaders(t, what, r.Header, false)
}

func TestAnonymousTrafficIsLimitedPerAddress(t *testing.T) {
	_, base := hardened(t, api.Hardening{IPLimit: server.NewLimiter(server.Rate{PerSecond: 1, Burst: 2})})
	anon := client{t, base, ""}
	anon.must(200, "GET", "/healthz", nil, nil)
	anon.must(404, "GET", "/api/v1/nowhere", nil, nil)
	expectRateLimited(t, "third anonymous request", anon.do("GET", "/healthz", nil))
}

func TestFailedSignInsAreLimitedPerAddressAndValidTokensPerToken(t *testing.T) {
	f, base := hardened(t, api.Hardening{
		IPLimit:    server.NewLimiter(server.Rate{PerSecond: 1, Burst: 2}),
		TokenLimit: server.NewLimiter(server.Rate{PerSecond: 1, Burst: 3}),
	})
	guesser := client{t, base, "hsr_" + strings.Repeat("a", 52)}
	guesser.must(401, "GET", "/api/v1/me", nil, nil)
	guesser.must(401, "GET", "/api/v1/me", nil, nil)
	expectRateLimited(t, "third wrong token", guesser.do("GET", "/api/v1/me", nil))

	// The same address with a valid token is limited per token, not by
	// the guesses made from it.
	agent := client{t, base, f.Tokens["sales_agent"]}
	for range 3 {
		agent.must(200, "GET", "/api/v1/me", nil, nil)
	}
	expectRateLimited(t, "fourth request on one token", agent.do("GET", "/api/v1/me", nil))
	client{t, base, f.Tokens["admin"]}.must(200, "GET", "/api/v1/me", nil, nil)
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	send := func(base, xff string) int {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	limit := func() *server.Limiter { return server.NewLimiter(server.Rate{PerSecond: 0.001, Burst: 1}) }

	_, behindProxy := hardened(t, api.Hardening{IPLimit: limit(),
		ClientIP: server.NewClientIP([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})})
	if a, b, c := send(behindProxy, "198.51.100.1"), send(behindProxy, "198.51.100.1"), send(behindProxy, "198.51.100.2"); a != 200 || b != 429 || c != 200 {
		t.Errorf("behind a trusted proxy, clients share or escape limits: %d %d %d", a, b, c)
	}
	_, direct := hardened(t, api.Hardening{IPLimit: limit()})
	if a, b := send(direct, "198.51.100.1"), send(direct, "198.51.100.2"); a != 200 || b != 429 {
		t.Errorf("an untrusted client escaped its limit by forging X-Forwarded-For: %d %d", a, b)
	}
}

func TestMetricsCountRequestsRejectionsAndAuthFailures(t *testing.T) {
	m := server.NewMetrics()
	f, base := hardened(t, api.Hardening{Metrics: m, TokenLimit: server.NewLimiter(server.Rate{PerSecond: 0.001, Burst: 1})})
	client{t, base, ""}.must(200, "GET", "/healthz", nil, nil)
	client{t, base, ""}.must(401, "GET", "/api/v1/tickets", nil, nil)
	agent := client{t, base, f.Tokens["sales_agent"]}
	agent.must(200, "GET", "/api/v1/tickets", nil, nil)
	agent.must(429, "GET", "/api/v1/tickets", nil, nil)
	client{t, base, ""}.must(404, "GET", "/api/v1/nowhere/near", nil, nil)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`hesar_http_requests_total{code="2xx",route="GET /healthz"} 1`,
		`hesar_http_requests_total{code="2xx",route="GET /api/v1/tickets"} 1`,
		`hesar_http_requests_total{code="4xx",route="GET /api/v1/tickets"} 2`,
		`hesar_http_requests_total{code="4xx",route="/"} 1`,
		`hesar_http_request_duration_seconds_count{code="2xx",route="GET /api/v1/tickets"} 1`,
		`hesar_http_requests_in_flight 0`,
		`hesar_rate_limited_total{limit="token"} 1`,
		`hesar_auth_failures_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "nowhere") {
		t.Error("a URL reached the metrics labels; only route patterns may")
	}
}
