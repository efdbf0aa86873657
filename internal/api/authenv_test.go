package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/password"
	"github.com/hesar/hesar/internal/server"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

// authEnv is a workspace served over real HTTP with a real SMTP server
// receiving its mail. Clients may claim any address with X-Forwarded-For
// (the server trusts loopback as a proxy), so tests that fail sign-ins on
// purpose do not throttle each other.
type authEnv struct {
	t    testing.TB
	a    *app.App
	f    *testutil.Fixture
	url  string
	smtp *smtpd.Server
	mail *mail.Deliverer
}

func newAuthEnv(t testing.TB, a *app.App) *authEnv {
	t.Helper()
	return newAuthEnvLogged(t, a, slog.New(slog.DiscardHandler))
}

// newAuthEnvLogged is newAuthEnv with the mail deliverer logging to log.
func newAuthEnvLogged(t testing.TB, a *app.App, log *slog.Logger) *authEnv {
	t.Helper()
	f := testutil.NewFixture(t, a)
	h := a.HTTPHandler(api.Hardening{ClientIP: server.NewClientIP(loopbackProxies)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := smtpd.Start(t, smtpd.Options{STARTTLS: true, Username: "hesar", Password: "smtp-test-password"})
	cfg := mail.SMTPConfig{Host: s.Host(), Port: s.Port(), Username: "hesar", Password: "smtp-test-password",
		Security: "starttls", From: "Hesar <desk@hesar.test>", RootCAs: s.RootCAs()}
	return &authEnv{t: t, a: a, f: f, url: srv.URL, smtp: s, mail: mail.NewDeliverer(a.DB, a.Keys, cfg, log)}
}

// loopbackProxies makes the test server believe X-Forwarded-For from the
// test's own connections.
var loopbackProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

var addrSeq = time.Now().UnixNano() % 200

// newIP returns a client address no other test uses.
func newIP() string {
	addrSeq++
	return "198.51." + itoa(100+addrSeq/250%100) + "." + itoa(1+addrSeq%250)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// browser is one person's browser: a cookie jar, an address and a user
// agent.
type browser struct {
	t    testing.TB
	base string
	http *http.Client
	ip   string
	ua   string
	// header is added to every request (Origin, Sec-Fetch-Site …).
	header http.Header
}

func (e *authEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.url, http: &http.Client{Jar: jar}, ip: newIP(),
		ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", header: http.Header{}}
}

func (b *browser) do(method, path string, v any) response {
	b.t.Helper()
	var body io.Reader
	if v != nil {
		raw, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	req.Header.Set("User-Agent", b.ua)
	for k, vs := range b.header {
		req.Header[k] = vs
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

func (b *browser) must(want int, method, path string, v any, out any) response {
	b.t.Helper()
	r := b.do(method, path, v)
	if r.Status != want {
		b.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, strings.TrimSpace(string(r.Body)))
	}
	if out != nil {
		r.decode(b.t, out)
	}
	return r
}

// wantError checks a failure's status and code.
func (b *browser) wantError(status int, code, method, path string, v any) response {
	b.t.Helper()
	r := b.do(method, path, v)
	if r.Status != status || r.err(b.t).Error.Code != code {
		b.t.Fatalf("%s %s: got %d %s, want %d %s", method, path, r.Status, r.Body, status, code)
	}
	return r
}

// cookie is the session cookie's current value.
func (b *browser) cookie() string {
	u, _ := http.NewRequest("GET", b.base+"/", nil)
	for _, c := range b.http.Jar.Cookies(u.URL) {
		if c.Name == identity.SessionCookieNoTLS {
			return c.Value
		}
	}
	return ""
}

// withCookie makes a browser that presents a given (perhaps stale) cookie.
func (e *authEnv) withCookie(value string) *browser {
	b := e.browser()
	u, _ := http.NewRequest("GET", e.url+"/", nil)
	b.http.Jar.SetCookies(u.URL, []*http.Cookie{{Name: identity.SessionCookieNoTLS, Value: value, Path: "/"}})
	return b
}

type signInJSON struct {
	State   string   `json:"state"`
	Factors []string `json:"factors"`
}

func (b *browser) signIn(ws, account, email, pw string) signInJSON {
	b.t.Helper()
	var out signInJSON
	b.must(200, "POST", "/api/v1/auth/signin", map[string]string{"workspace": ws, "account": account, "email": email, "password": pw}, &out)
	return out
}

// staff makes a staff member with a password.
func (e *authEnv) staff(role, name, pw string, depts ...int64) identity.User {
	e.t.Helper()
	u, err := e.a.Identity.CreateUser(context.Background(), e.f.System(), identity.NewUser{
		Email: name + "-" + e.f.WS.Slug + "@staff.test", Name: name, Role: role, Password: pw, Departments: depts})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// setPolicy changes the workspace's sign-in policy.
func (e *authEnv) setPolicy(change func(*identity.Security)) {
	e.t.Helper()
	p, err := e.a.Identity.SecuritySettings(context.Background(), e.f.WS.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	change(&p)
	if _, err := e.a.Identity.SetSecuritySettings(context.Background(), e.f.System(), p, identity.Client{}); err != nil {
		e.t.Fatal(err)
	}
}

// verifiedCustomerPassword gives a fixture customer a password and a
// confirmed address (as sign-up and the emailed link would).
func (e *authEnv) verifiedCustomerPassword(id int64, pw string) {
	e.t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	e.exec(`UPDATE customers SET password_hash = $1, email_verified_at = $2 WHERE id = $3`, hash, db.Now(), id)
}

func (e *authEnv) exec(q string, args ...any) {
	e.t.Helper()
	err := e.a.DB.Write(context.Background(), func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *authEnv) queryInt(q string, args ...any) int64 {
	e.t.Helper()
	var n sql.NullInt64
	if err := e.a.DB.Read().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n.Int64
}

// deliver waits for background identity work, then sends the outbox over
// SMTP.
func (e *authEnv) deliver() {
	e.t.Helper()
	e.a.Identity.WaitBackground()
	if _, err := e.mail.DeliverDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// mailTo delivers and returns the newest message to addr whose subject
// or body contains want (any, when empty).
func (e *authEnv) mailTo(addr, want string) smtpd.Received {
	e.t.Helper()
	e.deliver()
	match := func(m smtpd.Received) bool {
		return len(m.To) == 1 && strings.EqualFold(m.To[0], addr) && (want == "" || strings.Contains(m.Subject+m.Body, want))
	}
	msgs := e.smtp.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if match(msgs[i]) {
			return msgs[i]
		}
	}
	return e.smtp.WaitFor(e.t, match, 5*time.Second)
}

// mailCount is how many messages addr has received.
func (e *authEnv) mailCount(addr string) int {
	e.deliver()
	n := 0
	for _, m := range e.smtp.Messages() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) {
			n++
		}
	}
	return n
}

var linkToken = regexp.MustCompile(`token=(hsl_[A-Za-z0-9_-]+)`)

// tokenIn pulls the link token out of a mail.
func tokenIn(t testing.TB, m smtpd.Received) string {
	t.Helper()
	got := linkToken.FindStringSubmatch(m.Body)
	if got == nil {
		t.Fatalf("no link in mail %q: %s", m.Subject, m.Body)
	}
	return got[1]
}

// totpSecret decodes the secret the enrollment shows as text.
func totpSecret(t testing.TB, shown string) []byte {
	t.Helper()
	s := strings.ToUpper(strings.ReplaceAll(shown, " ", ""))
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		t.Fatalf("secret %q: %v", shown, err)
	}
	return b
}
