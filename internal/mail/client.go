package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The client is emersion/go-smtp rather than net/smtp: net/smtp is frozen,
// has no per-command timeouts and cannot report why STARTTLS was missing.
// go-smtp gives deadlines on every command and typed server replies, which
// decide between retrying and giving up.

// conn is one SMTP session, reused for the messages of one pass.
type conn struct {
	c    *smtp.Client
	stop func() bool // detaches the context watcher
}

// dial connects, secures and authenticates a session as cfg says.
func dial(ctx context.Context, cfg SMTPConfig) (*conn, error) {
	dialer := net.Dialer{Timeout: cfg.Timeout}
	raw, err := dialer.DialContext(ctx, "tcp", cfg.addr())
	if err != nil {
		return nil, &stageError{stage: "connect", err: err}
	}
	tlsConfig := &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	var c *smtp.Client
	switch cfg.Security {
	case SecurityTLS:
		tc := tls.Client(raw, tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			raw.Close()
			return nil, &stageError{stage: "tls", err: err}
		}
		c = smtp.NewClient(tc)
	case SecuritySTARTTLS:
		c, err = newClientStartTLS(ctx, raw, tlsConfig, cfg)
		if err != nil {
			raw.Close()
			return nil, err
		}
	default: // none, localhost only (checked by Validate)
		c = smtp.NewClient(raw)
	}
	c.CommandTimeout, c.SubmissionTimeout = cfg.Timeout, cfg.Timeout
	// A cancelled context closes the socket, ending any command in flight.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	s := &conn{c: c, stop: stop}
	if err := s.hello(cfg); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// newClientStartTLS upgrades a plain connection, refusing to continue when
// the server does not offer STARTTLS: nothing is sent in plain text.
func newClientStartTLS(ctx context.Context, raw net.Conn, tlsConfig *tls.Config, cfg SMTPConfig) (*smtp.Client, error) {
	// go-smtp greets, says EHLO (as "localhost") and upgrades under its own
	// five-minute command timeout; bound the whole step by ours.
	// The configured EHLO name is given after, over TLS.
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(tctx, func() { raw.Close() })
	c, err := smtp.NewClientStartTLS(raw, tlsConfig)
	if !stop() && err == nil {
		err = tctx.Err()
	}
	if err != nil {
		if strings.Contains(err.Error(), "support STARTTLS") {
			return nil, &stageError{stage: "starttls", err: errNoSTARTTLS}
		}
		return nil, &stageError{stage: "starttls", err: err}
	}
	return c, nil
}

// errNoSTARTTLS is the refusal to send over a server without STARTTLS.
var errNoSTARTTLS = errors.New("the server does not offer STARTTLS, so nothing was sent; fix the server, or use HESAR_SMTP_SECURITY=tls if it listens for implicit TLS (port 465)")

func (s *conn) hello(cfg SMTPConfig) error {
	if err := s.c.Hello(cfg.HeloName); err != nil {
		return &stageError{stage: "ehlo", err: err}
	}
	if cfg.Username == "" {
		return nil
	}
	// AUTH PLAIN shows the password to anyone on the path unless the
	// session is encrypted; plain text is only accepted for localhost.
	if _, isTLS := s.c.TLSConnectionState(); !isTLS && !(cfg.Security == SecurityNone && isLoopback(cfg.Host)) {
		return &stageError{stage: "auth", err: errors.New("refusing to send the password without TLS")}
	}
	if !s.c.SupportsAuth("PLAIN") {
		return &stageError{stage: "auth", err: errors.New("the server does not offer AUTH PLAIN")}
	}
	if err := s.c.Auth(sasl.NewPlainClient("", cfg.Username, cfg.Password)); err != nil {
		return &stageError{stage: "auth", err: err}
	}
	return nil
}

// send delivers one message on the session.
func (s *conn) send(e envelope) error {
	if err := s.c.Mail(e.from, nil); err != nil {
		return &stageError{stage: "mail from", err: err}
	}
	if err := s.c.Rcpt(e.to, nil); err != nil {
		return &stageError{stage: "rcpt to", err: err}
	}
	w, err := s.c.Data()
	if err != nil {
		return &stageError{stage: "data", err: err}
	}
	if _, err := w.Write(e.data); err != nil {
		w.Close()
		return &stageError{stage: "data", err: err}
	}
	if err := w.Close(); err != nil {
		return &stageError{stage: "data", err: err}
	}
	return nil
}

// reset readies the session for the next message after a refused one; it
// fails when the session is no longer usable.
func (s *conn) reset() error { return s.c.Reset() }

func (s *conn) close() {
	s.stop()
	_ = s.c.Quit() // closes the connection too, polite or not
	_ = s.c.Close()
}

// stageError is a delivery failure with the step it happened in. Its text
// is what is stored in last_error and logged, so it never carries the
// server's words from the steps that may echo the recipient or message.
type stageError struct {
	stage string
	err   error
}

func (e *stageError) Unwrap() error { return e.err }

func (e *stageError) Error() string {
	var se *smtp.SMTPError
	if errors.As(e.err, &se) {
		s := fmt.Sprintf("%s: server replied %d", e.stage, se.Code)
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
			s += fmt.Sprintf(" %d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		switch e.stage {
		case "connect", "ehlo", "starttls", "auth":
			// Before any address is sent the reply cannot echo one.
			s += " " + clean(se.Message)
		}
		return s
	}
	switch e.stage {
	case "mail from", "rcpt to", "data":
		// Client-side errors here are I/O failures or go-smtp refusing a
		// line; keep their class, not their text.
		var ne net.Error
		if errors.As(e.err, &ne) && ne.Timeout() {
			return e.stage + ": timed out"
		}
		return e.stage + ": connection failed"
	}
	return e.stage + ": " + clean(e.err.Error())
}

// permanent reports a refusal that retrying cannot fix: the server
// rejected the recipient or the message with a 5xx reply. Connection,
// TLS and authentication failures stay retryable: an operator can fix them.
func permanent(err error) bool {
	var st *stageError
	var se *smtp.SMTPError
	if !errors.As(err, &st) || !errors.As(err, &se) {
		return false
	}
	return se.Code >= 500 && (st.stage == "rcpt to" || st.stage == "data")
}

// clean keeps a server or library message to one short printable line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.TrimSpace(s)
}
