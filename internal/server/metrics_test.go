package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/server"
)

func TestMetricsAreScraped(t *testing.T) {
	m := server.NewMetrics()
	m.RequestStarted()
	m.RequestDone("GET /healthz", 200, 3*time.Millisecond)
	m.RequestStarted()
	m.RequestDone("", 404, time.Millisecond)
	m.RateLimited("ip")
	m.AuthFailed()
	m.RequestStarted() // still running
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	body := string(b)
	for _, want := range []string{
		`hesar_http_requests_total{code="2xx",route="GET /healthz"} 1`,
		`hesar_http_requests_total{code="4xx",route="unmatched"} 1`,
		`hesar_http_request_duration_seconds_bucket{code="2xx",route="GET /healthz",le="0.005"} 1`,
		`hesar_http_requests_in_flight 1`,
		`hesar_rate_limited_total{limit="ip"} 1`,
		`hesar_auth_failures_total 1`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Permissions-Policy") == "" {
		t.Errorf("/metrics lacks security headers: %v", res.Header)
	}
	var none *server.Metrics // a nil Metrics records nothing and does not panic
	none.RequestStarted()
	none.RequestDone("x", 200, 0)
	none.RateLimited("ip")
	none.AuthFailed()
}
