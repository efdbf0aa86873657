package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// HSTS is the Strict-Transport-Security value sent on every response over
// TLS: browsers then refuse plain HTTP to this host (and its subdomains)
// for a year.
const HSTS = "max-age=31536000; includeSubDomains"

// CipherSuites are the TLS 1.2 suites Hesar accepts: forward secrecy
// (ECDHE) and AEAD only. Go's defaults still include CBC suites, which is
// why the list is explicit. TLS 1.3 suites are not configurable, and all
// of them are AEAD.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig is the hardened base every TLS listener starts from: TLS 1.2
// at least, the AEAD suites above, key exchange over X25519 or P-256 (and
// the X25519+ML-KEM hybrid first, for TLS 1.3 clients that offer it), and
// HTTP/2. The caller adds the certificate.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     CipherSuites,
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256},
		NextProtos:       []string{"h2", "http/1.1"},
	}
}

// TLSOptions choose where the public listener's certificate comes from:
// files, or ACME (Let's Encrypt by default). Neither: plain HTTP.
type TLSOptions struct {
	CertFile, KeyFile string
	// ACMEDomains are the host names to obtain certificates for.
	ACMEDomains []string
	ACMEEmail   string
	// ACMECacheDir keeps the ACME account key and certificates (mode 0700).
	ACMECacheDir string
	// ACMEDirectoryURL is the CA's directory; empty: Let's Encrypt.
	ACMEDirectoryURL string
}

// Enabled reports whether the public listener serves TLS.
func (o TLSOptions) Enabled() bool {
	return o.CertFile != "" || o.KeyFile != "" || len(o.ACMEDomains) > 0
}

// ParseDomains splits a comma-separated list of host names.
func ParseDomains(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, ":/ *") || !strings.Contains(d, ".") || net.ParseIP(d) != nil {
			return nil, fmt.Errorf("%q is not a host name a certificate can be issued for", d)
		}
		out = append(out, d)
	}
	return out, nil
}

// Build returns the TLS configuration and, with ACME, the manager whose
// HTTPHandler must answer the CA's challenges on port 80. It loads the
// certificate files now, so a wrong path or a key that does not match
// stops the start, not the first client.
func (o TLSOptions) Build() (*tls.Config, *autocert.Manager, error) {
	files := o.CertFile != "" || o.KeyFile != ""
	switch {
	case files && len(o.ACMEDomains) > 0:
		return nil, nil, errors.New("choose either --tls-cert/--tls-key or --acme-domains, not both")
	case files && (o.CertFile == "" || o.KeyFile == ""):
		return nil, nil, errors.New("--tls-cert and --tls-key go together")
	case files:
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		cfg := TLSConfig()
		cfg.Certificates = []tls.Certificate{cert}
		return cfg, nil, nil
	case len(o.ACMEDomains) > 0:
		if o.ACMECacheDir == "" {
			return nil, nil, errors.New("ACME needs a cache directory")
		}
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(o.ACMECacheDir),
			HostPolicy: autocert.HostWhitelist(o.ACMEDomains...),
			Email:      o.ACMEEmail,
		}
		if o.ACMEDirectoryURL != "" {
			m.Client = &acme.Client{DirectoryURL: o.ACMEDirectoryURL}
		}
		cfg := TLSConfig()
		cfg.GetCertificate = m.GetCertificate
		// tls-alpn-01 challenges arrive on the TLS port itself.
		cfg.NextProtos = append(cfg.NextProtos, acme.ALPNProto)
		return cfg, m, nil
	}
	return nil, nil, nil
}

// Redirect answers plain HTTP: GET and HEAD are sent to the same host and
// path over HTTPS (on httpsPort, when not 443); other methods get 400, so
// an integration misconfigured with http:// fails loudly instead of
// working in clear text.
func Redirect(httpsPort string) http.Handler {
	return SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use HTTPS", http.StatusBadRequest)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" || strings.ContainsAny(host, "/\\@ ") {
			http.Error(w, "use HTTPS", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") { // IPv6 literal
			host = "[" + host + "]"
		}
		if httpsPort != "" && httpsPort != "443" {
			host += ":" + httpsPort
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
}
