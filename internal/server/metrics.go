package server

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are Hesar's Prometheus metrics, in a registry of their own (no
// globals, so tests can run many). They are served by Handler on a
// separate listener, never on the public one. A nil *Metrics records
// nothing.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	rateLimited  *prometheus.CounterVec
	authFailures prometheus.Counter
}

// NewMetrics registers the HTTP metrics and the Go runtime and process
// collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hesar_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status class.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hesar_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "code"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hesar_http_requests_in_flight",
		Help: "HTTP requests being answered now.",
	})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hesar_rate_limited_total",
		Help: "Requests refused with 429, by the limit hit (ip or token).",
	}, []string{"limit"})
	m.authFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hesar_auth_failures_total",
		Help: "API requests whose credentials were missing or not valid.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.rateLimited, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live, for adding more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchDB exports a connection pool's statistics (open, in use, idle,
// waits, …) under db_name=name.
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// Handler serves the metrics in the Prometheus text format, with the
// security headers.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	return SecurityHeaders(mux)
}

// RequestStarted counts a request in flight; RequestDone ends it.
func (m *Metrics) RequestStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// RequestDone records an answered request. route must be a route pattern
// (a bounded set), never a URL.
func (m *Metrics) RequestDone(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	if route == "" {
		route = "unmatched"
	}
	class := StatusClass(status)
	m.requests.WithLabelValues(route, class).Inc()
	m.duration.WithLabelValues(route, class).Observe(d.Seconds())
}

// RateLimited counts a request refused by the named limit.
func (m *Metrics) RateLimited(limit string) {
	if m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

// AuthFailed counts a request with missing or invalid credentials.
func (m *Metrics) AuthFailed() {
	if m != nil {
		m.authFailures.Inc()
	}
}

// StatusClass turns 404 into "4xx"; 0 (nothing written) counts as 200.
func StatusClass(status int) string {
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}
