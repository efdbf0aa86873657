package web_test

import (
	"context"
	"encoding/base32"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/password"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
	"github.com/hesar/hesar/internal/web"
)

func TestMain(m *testing.M) {
	code := testutil.Run(m)
	stopChromium()
	os.Exit(code)
}

// env is a fixture workspace served the way `hesar serve` will: the API
// under /api/, the web pages everywhere else, with a real SMTP server
// receiving the workspace's mail.
type env struct {
	t    testing.TB
	a    *app.App
	f    *testutil.Fixture
	url  string
	smtp *smtpd.Server
	mail *mail.Deliverer
}

func newEnv(t testing.TB, a *app.App) *env {
	t.Helper()
	f := testutil.NewFixture(t, a)
	w, err := web.New(web.Opts{Log: slog.New(slog.DiscardHandler), Identity: a.Identity, Tickets: a.Tickets, Customers: a.Customers,
		Attachments: a.Attachments, Departments: a.Departments, Monitor: a.Monitor, Audit: a.Audit, RecordRead: a.API.RecordRead, Submits: submit.New(a.DB), ClientIP: func(r *http.Request) string {
			if ip := r.Header.Get("X-Forwarded-For"); ip != "" {
				return ip
			}
			return "127.0.0.1"
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := a.Handler()
	mux.Handle("/api/", api)
	mux.Handle("/healthz", api)
	mux.Handle("/readyz", api)
	mux.Handle("/", w.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := smtpd.Start(t, smtpd.Options{STARTTLS: true, Username: "hesar", Password: "smtp-test-password"})
	cfg := mail.SMTPConfig{Host: s.Host(), Port: s.Port(), Username: "hesar", Password: "smtp-test-password",
		Security: "starttls", From: "Hesar <desk@hesar.test>", RootCAs: s.RootCAs()}
	return &env{t: t, a: a, f: f, url: srv.URL, smtp: s, mail: mail.NewDeliverer(a.DB, a.Keys, cfg, slog.New(slog.DiscardHandler))}
}

var addrSeq atomic.Int64

// client is one person's browser without JavaScript: a cookie jar, its
// own address, a language.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	ip   string
	lang string
}

func (e *env) client(lang string) *client {
	jar, _ := cookiejar.New(nil)
	n := addrSeq.Add(1) + time.Now().UnixNano()%1000
	return &client{t: e.t, base: e.url, ip: "203.0." + strconv.FormatInt(113+n/250%100, 10) + "." + strconv.FormatInt(1+n%250, 10), lang: lang,
		http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
	// location is where a redirect goes.
	location string
}

func (c *client) do(method, path string, form url.Values, header map[string]string) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	req.Header.Set("Accept-Language", c.lang)
	// What a browser sends for a page of the same site.
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b), location: res.Header.Get("Location")}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do("GET", path, nil, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do("POST", path, form, nil)
}

// must checks the status of a page.
func (p response) must(t testing.TB, status int) response {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; location %q; body: %.600s", p.status, status, p.location, p.body)
	}
	return p
}

// redirect checks that p sends the browser on to a path with this prefix.
func (p response) redirect(t testing.TB, prefix string) response {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, prefix) {
		t.Fatalf("got %d to %q, want a redirect to %s…; body: %.400s", p.status, p.location, prefix, p.body)
	}
	return p
}

var hiddenToken = regexp.MustCompile(`name="token" value="([^"]+)"`)
var linkToken = regexp.MustCompile(`token=(hsl_[A-Za-z0-9_-]+)`)

// deliver waits for background identity work and sends the outbox.
func (e *env) deliver() {
	e.t.Helper()
	e.a.Identity.WaitBackground()
	if _, err := e.mail.DeliverDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// linkTo returns the path (with token) of the newest emailed link to addr
// whose path starts with want.
func (e *env) linkTo(addr, want string) string {
	e.t.Helper()
	e.deliver()
	m := e.smtp.WaitFor(e.t, func(m smtpd.Received) bool {
		return len(m.To) == 1 && strings.EqualFold(m.To[0], addr) && strings.Contains(m.Body, want+"?token=")
	}, 5*time.Second)
	got := linkToken.FindAllStringSubmatch(m.Body, -1)
	if got == nil {
		e.t.Fatalf("no link in %q", m.Body)
	}
	return want + "?token=" + got[len(got)-1][1]
}

// staff makes a staff member with a password.
func (e *env) staff(role, name, pw string, depts ...int64) identity.User {
	e.t.Helper()
	u, err := e.a.Identity.CreateUser(context.Background(), e.f.System(), identity.NewUser{
		Email: name + "-" + e.f.WS.Slug + "@staff.test", Name: name, Role: role, Password: pw, Departments: depts})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// customerPassword gives a fixture customer a password and a confirmed
// address, as sign-up and the emailed link would.
func (e *env) customerPassword(id int64, pw string) {
	e.t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	err = e.a.DB.Write(context.Background(), func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE customers SET password_hash = $1, email_verified_at = $2 WHERE id = $3`, hash, db.Now(), id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// requireMFA makes the workspace require a second factor of staff.
func (e *env) requireMFA() { e.t.Helper(); e.setMFA("staff") }

// setMFA sets whom the workspace requires a second factor of.
func (e *env) setMFA(who string) {
	e.t.Helper()
	p, err := e.a.Identity.SecuritySettings(context.Background(), e.f.WS.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	p.MFARequired = who
	if _, err := e.a.Identity.SetSecuritySettings(context.Background(), e.f.System(), p, identity.Client{}); err != nil {
		e.t.Fatal(err)
	}
}

// age makes a staff member's sessions an hour old, past the step-up window.
func (e *env) age(userID int64) {
	e.t.Helper()
	ctx := context.Background()
	err := e.a.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET auth_at = auth_at - $1 WHERE user_id = $2`, time.Hour.Microseconds(), userID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// signInStaff signs a staff member in with a password (the workspace must
// not require a second factor of them).
func (e *env) signInStaff(lang, email, pw string) *client {
	e.t.Helper()
	c := e.client(lang)
	c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {email}, "password": {pw}}).redirect(e.t, "/console/")
	return c
}

// totpCode computes the current code for a secret as the enrollment page
// shows it ("ABCD EFGH …").
func totpCode(t testing.TB, shown string, at time.Time) string {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(shown, " ", ""))
	if err != nil {
		t.Fatalf("secret %q: %v", shown, err)
	}
	return mfa.TOTPCode(raw, at)
}
