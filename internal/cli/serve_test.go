package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/cli"
)

// syncBuffer collects serve's standard error while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a 'hesar serve' started by a test.
type running struct {
	api, redirect, metrics string // addresses, as announced
	logs                   *syncBuffer
	stop                   func() int
}

var announced = map[string]*regexp.Regexp{
	"api":      regexp.MustCompile(`listening on https?://(\S+)`),
	"redirect": regexp.MustCompile(`redirecting http://(\S+) to HTTPS`),
	"metrics":  regexp.MustCompile(`metrics on http://(\S+)/metrics`),
}

// startServe runs 'hesar serve args…' until the test ends and waits until
// it has announced the listeners named in want.
func startServe(t *testing.T, want []string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := cli.Main(ctx, append([]string{"serve"}, args...), cli.Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.MultiWriter(logs, pw)})
		pw.Close()
		done <- code
	}()
	r := &running{logs: logs}
	found := map[string]string{}
	sc := bufio.NewScanner(pr)
	for len(found) < len(want) && sc.Scan() {
		for _, name := range want {
			if m := announced[name].FindStringSubmatch(sc.Text()); m != nil {
				found[name] = m[1]
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if len(found) < len(want) {
		cancel()
		t.Fatalf("serve announced %v, want %v; output:\n%s", found, want, logs)
	}
	r.api, r.redirect, r.metrics = found["api"], found["redirect"], found["metrics"]
	var code *int
	r.stop = func() int {
		if code != nil {
			return *code
		}
		cancel()
		select {
		case c := <-done:
			code = &c
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not shut down")
		}
		return *code
	}
	t.Cleanup(func() { r.stop() })
	return r
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hesar test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestServeOverTLS runs serve with a certificate file, a redirect
// listener and a metrics listener, the way production would.
func TestServeOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	s := startServe(t, []string{"api", "redirect", "metrics"}, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0",
		"--tls-cert", certFile, "--tls-key", keyFile, "--http-redirect-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn")

	dial := func(c *tls.Config) error {
		c.InsecureSkipVerify = true // self-signed
		conn, err := tls.Dial("tcp", s.api, c)
		if err == nil {
			conn.Close()
		}
		return err
	}
	if dial(&tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}) == nil {
		t.Error("TLS 1.1 accepted")
	}
	if dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}) == nil {
		t.Error("TLS 1.2 with a CBC suite accepted")
	}
	if err := dial(&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}); err != nil {
		t.Errorf("TLS 1.2 GCM refused: %v", err)
	}
	if err := dial(&tls.Config{MinVersion: tls.VersionTLS13}); err != nil {
		t.Errorf("TLS 1.3 refused: %v", err)
	}

	httpsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string) *http.Response {
		t.Helper()
		res, err := httpsClient.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	res := get("https://" + s.api + "/healthz")
	if res.StatusCode != 200 || res.Header.Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" {
		t.Errorf("healthz over TLS: %d HSTS %q", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	}
	if get("https://"+s.api+"/metrics").StatusCode != 404 {
		t.Error("metrics are served on the public listener")
	}
	_, port, _ := net.SplitHostPort(s.api)
	res = get("http://" + s.redirect + "/api/v1/me")
	if res.StatusCode != 301 || res.Header.Get("Location") != "https://127.0.0.1:"+port+"/api/v1/me" {
		t.Errorf("redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, err := http.Get("http://" + s.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `hesar_http_requests_total{code="2xx",route="GET /healthz"} 1`) || !strings.Contains(string(b), "go_goroutines") {
		t.Errorf("metrics after one healthz:\n%s", b)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, s.logs)
	}
}

func TestServeRefusesBadHardeningFlags(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--rate-ip", "fast"}, "--rate-ip"},
		{[]string{"--rate-token", "5:0"}, "--rate-token"},
		{[]string{"--trusted-proxies", "10.0.0.0/40"}, "--trusted-proxies"},
		{[]string{"--tls-cert", "x.pem"}, "--tls-key"},
		{[]string{"--http-redirect-addr", ":8081"}, "needs TLS"},
		{[]string{"--acme-domains", "localhost"}, "--acme-domains"},
		{[]string{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"}, "load TLS certificate"},
	} {
		args := append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, c.args...)
		code, _, errOut := run(t, "", args...)
		if code == 0 || !strings.Contains(errOut, c.says) {
			t.Errorf("%v: exit %d, %s", c.args, code, errOut)
		}
	}
}

// TestLogsCarryNoCustomerDataOrSecrets drives a whole flow through the
// API of a real 'hesar serve' logging JSON at debug level, then searches
// every byte it wrote for what was planted.
func TestLogsCarryNoCustomerDataOrSecrets(t *testing.T) {
	data := t.TempDir()
	common := []string{"--data", data}
	if code, _, errOut := run(t, "", append([]string{"workspace", "create", "--slug", "acme", "--name", "Acme"}, common...)...); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := run(t, "a long enough passphrase\n", append([]string{"user", "create", "--workspace", "acme", "--email", "admin@acme.test", "--name", "Admin", "--role", "admin"}, common...)...); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := run(t, "", append([]string{"token", "create", "--workspace", "acme", "--user", "admin@acme.test", "--name", "laptop"}, common...)...)
	if code != 0 {
		t.Fatal(errOut)
	}
	adminToken := strings.TrimSpace(out)
	s := startServe(t, []string{"api"}, "--data", data, "--addr", "127.0.0.1:0", "--log-level", "debug", "--log-format", "json", "--metrics-addr", "off")

	planted := map[string]string{
		"customer name":  "Zenobia Quillfeather",
		"customer email": "zenobia.planted@example.org",
		"customer phone": "+98 912 555 0147",
		"subject":        "Xylograph refund for Quillfeather",
		"body word":      "marmalade-octopus",
		"card number":    "4111 1111 1111 1111",
		"card digits":    "4111111111111111",
		"search word":    "xylograph",
		"token secret":   adminToken,
	}
	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "http://"+s.api+path, rd)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS sent over plain HTTP")
		}
		var v map[string]any
		json.NewDecoder(res.Body).Decode(&v)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, res.StatusCode, want, v)
		}
		return v
	}
	cust := call("POST", "/api/v1/customers", map[string]any{"name": planted["customer name"], "email": planted["customer email"], "phone": planted["customer phone"]}, 201)
	tk := call("POST", "/api/v1/tickets", map[string]any{"subject": planted["subject"], "customer_id": cust["id"],
		"body": "Please refund, my card is " + planted["card number"] + " and the code word is " + planted["body word"]}, 201)
	call("POST", fmt.Sprintf("/api/v1/tickets/%v/messages", tk["id"]), map[string]any{"body": "Refund sent for " + planted["body word"]}, 201)
	found := call("GET", "/api/v1/search?q="+planted["search word"], nil, 200)
	if hits, _ := found["data"].([]any); len(hits) != 1 {
		t.Errorf("search found %v", found["data"])
	}
	call("GET", fmt.Sprintf("/api/v1/customers/%v", cust["id"]), nil, 200)
	me := call("GET", "/api/v1/me", nil, 200)
	newToken := call("POST", "/api/v1/tokens", map[string]any{"name": "integration", "user_id": me["id"]}, 201)
	secret, _ := newToken["token"].(string)
	if !strings.HasPrefix(secret, "hsr_") {
		t.Fatalf("token create answered %v", newToken)
	}
	planted["new token secret"] = secret
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	logs := s.logs.String()

	if !strings.Contains(logs, `"level":"INFO","msg":"request"`) || !strings.Contains(logs, `"route":"GET /api/v1/search"`) {
		t.Fatalf("the flow left no request logs; is logging on?\n%s", logs)
	}
	lower := strings.ToLower(logs)
	for what, v := range planted {
		if strings.Contains(lower, strings.ToLower(v)) {
			t.Errorf("the logs contain the %s %q", what, v)
		}
	}
	// Part of the card number: four-digit groups alone would match request
	// ids and durations by chance, so look for two groups together.
	if strings.Contains(logs, "4111 1111") || strings.Contains(logs, "41111111") {
		t.Error("the logs contain part of the card number")
	}
}
