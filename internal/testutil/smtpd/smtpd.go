// Package smtpd is a real SMTP server for tests: it listens on 127.0.0.1,
// speaks STARTTLS or implicit TLS with a certificate made at start, checks
// AUTH PLAIN, can refuse the first messages with 451, and keeps what it
// receives, decoded, for assertions.
package smtpd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options shape the server.
type Options struct {
	// STARTTLS offers STARTTLS and then requires it before MAIL.
	STARTTLS bool
	// ImplicitTLS speaks TLS from the first byte (like port 465).
	ImplicitTLS bool
	// Username and Password, when set, require AUTH PLAIN before MAIL.
	Username, Password string
	// FailFirst answers 451 to the first FailFirst messages (at DATA).
	FailFirst int
	// RejectRecipient, when set, answers 550 to RCPT TO addresses it
	// returns true for.
	RejectRecipient func(addr string) bool
}

// Received is one accepted message.
type Received struct {
	From    string
	To      []string
	Data    []byte      // the message exactly as sent, dot-unstuffed
	Header  mail.Header // parsed header
	Subject string      // decoded (RFC 2047)
	Body    string      // decoded (quoted-printable or base64), "\n" line ends
	TLS     bool        // the session was encrypted
	User    string      // the AUTH user, if any
}

// Server is a running test SMTP server.
type Server struct {
	opts  Options
	srv   *smtp.Server
	ln    net.Listener
	roots *x509.CertPool

	mu       sync.Mutex
	msgs     []Received
	attempts int           // messages seen at DATA, accepted or not
	changed  chan struct{} // closed and replaced when msgs grows
}

// Start runs a server on 127.0.0.1 on a free port until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpd: listen: %v", err)
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS, conn: c}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if opts.STARTTLS || opts.ImplicitTLS {
		cert, roots, err := selfSigned()
		if err != nil {
			ln.Close()
			t.Fatalf("smtpd: certificate: %v", err)
		}
		s.roots = roots
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opts.ImplicitTLS {
			ln = tls.NewListener(ln, s.srv.TLSConfig)
		}
	} else {
		// Without TLS there is nothing to wait for: allow AUTH in plain
		// text, as a localhost relay would.
		s.srv.AllowInsecureAuth = true
	}
	s.ln = ln
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the address the server listens on, 127.0.0.1.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs trusts the server's certificate (nil without TLS).
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns what was accepted so far, in order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Attempts counts messages that reached the end of DATA, refused ones
// included.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// WaitFor returns the first accepted message match accepts, waiting up to
// timeout for it; the test fails if none comes.
func (s *Server) WaitFor(t testing.TB, match func(Received) bool, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for _, m := range s.msgs {
			if match(m) {
				s.mu.Unlock()
				return m
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("smtpd: no matching message within %v (%d received)", timeout, len(s.Messages()))
			return Received{}
		}
	}
}

func (s *Server) add(r Received) {
	s.mu.Lock()
	s.msgs = append(s.msgs, r)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// shouldFail counts a message at DATA and says whether to refuse it.
func (s *Server) shouldFail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	return s.attempts <= s.opts.FailFirst
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

var (
	errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errTryLater   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	errRejected   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.Username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return errAuthFailed
		}
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return errAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.s.opts.RejectRecipient; f != nil && f(to) {
		return errRejected
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.shouldFail() {
		return errTryLater
	}
	rec := Received{From: ss.from, To: append([]string(nil), ss.to...), Data: data, TLS: ss.tlsNow(), User: ss.user}
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		rec.Header = msg.Header
		rec.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		rec.Body = decodeBody(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	}
	ss.s.add(rec)
	return nil
}

func (ss *session) tlsNow() bool {
	_, ok := ss.conn.TLSConnectionState()
	return ok || ss.tls
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

func decodeBody(cte string, body io.Reader) string {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	default:
		r = body
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "(undecodable: " + err.Error() + ")"
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// newlineStripper drops CR and LF, which base64 bodies wrap with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// selfSigned makes a certificate for localhost and 127.0.0.1, valid for a
// day, and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"Hesar test SMTP " + strconv.FormatInt(serial.Int64()%1000, 10)}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
