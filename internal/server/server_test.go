package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/server"
)

// selfSigned writes a fresh certificate and key for 127.0.0.1 and
// localhost into dir and returns their paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hesar test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// start serves h on a free port until the test ends and returns the
// address and a func that begins the graceful shutdown.
func start(t *testing.T, h http.Handler, to server.Timeouts, cfg *tls.Config) (addr string, shutdown func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(h, to, nil)
	srv.TLSConfig = cfg
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, 5*time.Second, server.Listener{Name: "test", Server: srv, Listener: ln, TLS: cfg != nil})
	}()
	var once bool
	shutdown = func() error {
		if once {
			return nil
		}
		once = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = shutdown() })
	return ln.Addr().String(), shutdown
}

func ok(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

func TestTLSRefusesOldVersionsAndCBCSuites(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	cfg, m, err := server.TLSOptions{CertFile: certFile, KeyFile: keyFile}.Build()
	if err != nil || m != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, http.HandlerFunc(ok), server.Timeouts{}, cfg)
	cases := []struct {
		name   string
		client *tls.Config
		accept bool
	}{
		{"TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}}, false},
		{"TLS 1.2 GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true},
		{"TLS 1.2 P-256 only", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}}, true},
		{"TLS 1.2 P-384 only", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP384}}, false},
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := c.client
			cc.InsecureSkipVerify = true // self-signed; the test is about protocol, not trust
			conn, err := tls.Dial("tcp", addr, cc)
			if err == nil {
				conn.Close()
			}
			if c.accept && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.accept && err == nil {
				t.Errorf("accepted %s", tls.CipherSuiteName(conn.ConnectionState().CipherSuite))
			}
		})
	}
}

func TestTLSOptionsAreChecked(t *testing.T) {
	for _, o := range []server.TLSOptions{
		{CertFile: "a.pem"},
		{CertFile: "a.pem", KeyFile: "b.pem", ACMEDomains: []string{"x.example"}},
		{CertFile: "/nonexistent/a.pem", KeyFile: "/nonexistent/b.pem"},
	} {
		if _, _, err := o.Build(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	cfg, m, err := server.TLSOptions{ACMEDomains: []string{"help.example.com"}, ACMECacheDir: t.TempDir()}.Build()
	if err != nil || m == nil || cfg.GetCertificate == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("ACME: %v %v", m, err)
	}
	for _, bad := range []string{"localhost", "1.2.3.4", "a.example:443", "*.example.com"} {
		if _, err := server.ParseDomains(bad); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
}

// TestSlowHeadersAreCutOff is the slowloris attack: a client that sends
// its headers a byte at a time is disconnected after ReadHeaderTimeout.
func TestSlowHeadersAreCutOff(t *testing.T) {
	addr, _ := start(t, http.HandlerFunc(ok), server.Timeouts{ReadHeader: 300 * time.Millisecond}, nil)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	begin := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		closed <- time.Since(begin)
	}()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case took := <-closed:
			if took < 250*time.Millisecond || took > 2*time.Second {
				t.Errorf("connection closed after %v, want about 300ms", took)
			}
			return
		case <-tick.C:
			_, _ = io.WriteString(conn, "X") // trickle a header, never finishing
		case <-time.After(5 * time.Second):
			t.Fatal("slow client still connected after 5s")
		}
	}
}

// TestShutdownFinishesRequestsInFlight: SIGTERM while a request runs lets
// it complete, and refuses new connections.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(400 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	addr, shutdown := start(t, slow, server.Timeouts{}, nil)
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{string(b), err}
	}()
	<-entered
	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- shutdown() }()
	// New connections are refused once shutdown has begun.
	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted during shutdown")
	}
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-shutdownErr; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestRunReportsAListenerThatFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once
	err = server.Run(context.Background(), time.Second, server.Listener{Name: "metrics", Server: server.New(http.NotFoundHandler(), server.Timeouts{}, nil), Listener: ln})
	if err == nil || !strings.Contains(err.Error(), "metrics listener") {
		t.Errorf("Run = %v", err)
	}
}

func TestRedirectSendsGETToHTTPSAndRefusesOthers(t *testing.T) {
	addr, _ := start(t, server.Redirect("8443"), server.Timeouts{}, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/me?x=1", nil)
	req.Host = "help.example.com"
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "https://help.example.com:8443/api/v1/me?x=1" {
		t.Errorf("GET: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("redirect lacks security headers")
	}
	res, err = noFollow.Post("http://"+addr+"/api/v1/tickets", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST over HTTP: %d", res.StatusCode)
	}
}
