// Package server runs Hesar's HTTP listeners safely: server timeouts,
// graceful shutdown, hardened TLS (certificate files or ACME), the
// HTTP→HTTPS redirect, per-key rate limits, the client address behind
// trusted proxies, security headers and Prometheus metrics. It knows
// nothing of the API it serves.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts bound how long a connection may take over each part of its
// life. Zero fields take the defaults.
type Timeouts struct {
	// ReadHeader bounds reading the request line and headers: a slow
	// client (slowloris) is cut off after it.
	ReadHeader time.Duration
	Read       time.Duration
	Write      time.Duration
	Idle       time.Duration
}

// DefaultTimeouts are what `hesar serve` uses.
var DefaultTimeouts = Timeouts{ReadHeader: 5 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second}

// MaxHeaderBytes caps the request line and headers.
const MaxHeaderBytes = 64 << 10

func (t Timeouts) orDefaults() Timeouts {
	d := DefaultTimeouts
	if t.ReadHeader > 0 {
		d.ReadHeader = t.ReadHeader
	}
	if t.Read > 0 {
		d.Read = t.Read
	}
	if t.Write > 0 {
		d.Write = t.Write
	}
	if t.Idle > 0 {
		d.Idle = t.Idle
	}
	return d
}

// New builds an http.Server for h with the timeouts, a header size cap and
// net/http's own complaints (TLS handshake errors, …) logged at WARN.
func New(h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	t = t.orDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Listener is one server on one listener.
type Listener struct {
	// Name says what it is in errors: "api", "redirect", "metrics".
	Name     string
	Server   *http.Server
	Listener net.Listener
	// TLS serves TLS with Server.TLSConfig (which must carry a
	// certificate or GetCertificate).
	TLS bool
}

// Run serves every listener until ctx ends or one of them fails, then
// shuts them all down: they stop accepting connections and requests in
// flight get up to grace to finish. It returns nil after a clean shutdown
// on ctx, or the first failure.
func Run(ctx context.Context, grace time.Duration, ls ...Listener) error {
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			var err error
			if l.TLS {
				err = l.Server.ServeTLS(l.Listener, "", "")
			} else {
				err = l.Server.Serve(l.Listener)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				err = fmt.Errorf("%s listener: %w", l.Name, err)
			} else {
				err = nil
			}
			errc <- err
		}()
	}
	var first error
	select {
	case first = <-errc:
		if first == nil { // a server closed by someone else: treat as failure to serve
			first = errors.New("a listener stopped unexpectedly")
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	shutdownErrs := make([]error, len(ls))
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Server.Shutdown(sctx); err != nil {
				l.Server.Close()
				shutdownErrs[i] = fmt.Errorf("%s: requests still running after %s: %w", l.Name, grace, err)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return errors.Join(shutdownErrs...)
}
