package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil/smtpd"
	"github.com/hesar/hesar/internal/web"
)

// The browser tests check what a person reads against the message
// catalogs, so a changed wording does not break them and a page in the
// wrong language does.
var (
	catalogsOnce sync.Once
	catalogs     map[string]map[string]string
	catalogsErr  error
)

// msg is the text a page shows for key in lang, the way Locale.T writes
// it (Persian digits in Persian).
func msg(t testing.TB, lang, key string) string {
	t.Helper()
	catalogsOnce.Do(func() {
		catalogs = map[string]map[string]string{}
		for _, l := range web.Languages {
			files, _ := filepath.Glob(filepath.Join("messages", "*"+l+".json"))
			catalogs[l] = map[string]string{}
			for _, f := range files {
				if b := filepath.Base(f); b != l+".json" && !strings.HasSuffix(b, "."+l+".json") {
					continue
				}
				raw, err := os.ReadFile(f)
				if err != nil {
					catalogsErr = err
					return
				}
				var part map[string]string
				if err := json.Unmarshal(raw, &part); err != nil {
					catalogsErr = err
					return
				}
				for k, v := range part {
					catalogs[l][k] = v
				}
			}
		}
	})
	if catalogsErr != nil {
		t.Fatal(catalogsErr)
	}
	m, ok := catalogs[lang][key]
	if !ok {
		t.Fatalf("no message %q in %s", key, lang)
	}
	if lang == "fa" {
		m = web.PersianDigits(m)
	}
	return m
}

var persianLetters = regexp.MustCompile(`\p{Arabic}`)

// mailedLink waits for the newest mail to addr carrying a link to path and
// returns it with the link's path and token.
func (e *env) mailedLink(addr, path string) (smtpd.Received, string) {
	e.t.Helper()
	link := e.linkTo(addr, path)
	m := e.smtp.WaitFor(e.t, func(m smtpd.Received) bool {
		return len(m.To) == 1 && strings.EqualFold(m.To[0], addr) && strings.Contains(m.Body, link)
	}, 5*time.Second)
	return m, link
}

// staffWithTOTP makes a staff member who has set up an authenticator app
// (through the pages, without a browser) and returns its secret.
func (e *env) staffWithTOTP(role, name, pw string, depts ...int64) (identity.User, string) {
	e.t.Helper()
	u := e.staff(role, name, pw, depts...)
	c := e.client("en")
	c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}}).must(e.t, 303)
	p := c.post("/auth/enroll/totp", url.Values{}).must(e.t, 200)
	m := secretPattern.FindStringSubmatch(p.body)
	if m == nil {
		e.t.Fatalf("no secret on the enrollment page: %.1500s", p.body)
	}
	c.post("/auth/enroll/confirm", url.Values{"code": {totpCode(e.t, m[1], time.Now())}}).must(e.t, 200)
	return u, m[1]
}

// seeText fails unless the element shows exactly want.
func (b *browser) seeText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); got != want {
		b.t.Fatalf("%s shows %q, want %q", sel, got, want)
	}
}

// submitSee presses a button and waits until the page that follows shows
// want in sel (a page of the same kind may be showing sel already).
func (b *browser) submitSee(button, sel, want string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(button)))
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); return e ? e.textContent.trim() : ""; })()`
	got := ""
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// While the next page loads the old one's context goes away; try again.
		if v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js)); err == nil {
			if got = v; got == want {
				b.safe()
				return
			}
		}
	}
	b.t.Fatalf("after pressing %s, %s shows %q, want %q", button, sel, got, want)
}

// TestBrowserCustomerSignsUpConfirmsAndSignsInByEmailedLink: a new
// customer signs up in the Persian portal (a weak password is refused
// next to its field first), confirms the address with the emailed link,
// signs in, submits a request, signs out, and signs in again with an
// emailed one-time link, which works once. The mails are in Persian.
func TestBrowserCustomerSignsUpConfirmsAndSignsInByEmailedLink(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		ws := e.f.WS.Slug
		email := "shirin-" + ws + "@example.com"
		const name = "شیرین احمدی"
		const pw = "انارهای باغ فین در پاییز سرخ است"
		const subject = "چاپگر دفتر کار نمی‌کند"

		c := newBrowser(t, browserCtx, e.url, shots)
		c.open("/lang/fa?next=/portal/signup?workspace="+ws, "title.signup")
		c.seeText("h1", msg(t, "fa", "signup.heading"))
		if got := c.eval(`document.querySelector('#f-workspace').value`); got != ws {
			t.Fatalf("the workspace field holds %v", got)
		}
		c.shot("signup")
		c.do(fill("#f-name", name, "#f-email", email, "#f-password", "12345678"))
		c.submitThen(`form[action="/portal/signup"] button`, `#f-password[aria-invalid="true"]`)
		c.seeText("#f-password-error", msg(t, "fa", "error.field.password"))
		if got := c.eval(`document.querySelector('#f-password').getAttribute('aria-describedby')`); got != "f-password-error" {
			t.Fatalf("the password error is not tied to its field: %v", got)
		}
		if got := c.eval(`[document.querySelector('#f-name').value, document.querySelector('#f-email').value, document.querySelector('#f-password').value]`); got.([]any)[0] != name || got.([]any)[1] != email || got.([]any)[2] != "" {
			t.Fatalf("after the error the form holds %v", got)
		}
		c.shot("signup-error")
		c.do(fill("#f-password", pw))
		c.submitSee(`form[action="/portal/signup"] button`, ".notice", msg(t, "fa", "signup.sent"))
		c.shot("signup-sent")

		mail, verify := e.mailedLink(email, "/auth/verify-email")
		if !persianLetters.MatchString(mail.Subject) || !strings.Contains(mail.Body, name) {
			t.Fatalf("the confirmation mail is not in Persian or not to %s: %q", name, mail.Subject)
		}
		c.open(verify, "title.verify_email")
		c.seeText("h1", msg(t, "fa", "title.verify_email"))
		c.shot("verify-email")
		c.submitSee(`form[action="/auth/verify-email"] button`, ".notice", msg(t, "fa", "title.verify_email.done"))
		c.shot("verify-email-done")

		// Sign in with the password; the workspace is remembered.
		c.submit(`main a.button[href="/portal/signin"]`, "title.signin_customer")
		if got := c.eval(`document.querySelector('#f-workspace').value`); got != ws {
			t.Fatalf("the workspace is not remembered: %v", got)
		}
		c.do(fill("#f-email", email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		c.submit(`header a[href="/portal/requests/new"]`, "title.new_request")
		c.do(fill("#f-subject", subject, "#f-body", "از امروز صبح هیچ برگه‌ای چاپ نمی‌شود."))
		c.submit(`form[action="/portal/requests"] button`, "title.request")
		c.seeText(".notice", msg(t, "fa", "notice.request_sent"))
		c.seeText("h1", subject)

		// Signed out, then in again with an emailed link.
		c.submit(`header form[action="/auth/signout"] button`, "title.signin_customer")
		c.seeText(".notice", msg(t, "fa", "notice.signed_out"))
		c.do(fill("#f-link-email", email))
		c.submitSee(`form[action="/portal/signin-link"] button`, ".narrow .notice", msg(t, "fa", "signin.link_sent"))
		c.shot("portal-signin-link-sent")
		mail, link := e.mailedLink(email, "/auth/signin-link")
		if !persianLetters.MatchString(mail.Subject) {
			t.Fatalf("the sign-in link mail is not in Persian: %q", mail.Subject)
		}
		c.open(link, "title.signin_link")
		c.seeText("h1", msg(t, "fa", "title.signin_link"))
		c.shot("signin-link")
		c.submit(`form[action="/auth/signin-link"] button`, "title.my_requests")
		if got := c.text("main table"); !strings.Contains(got, subject) {
			t.Fatalf("the request is not in the list: %q", got)
		}

		// The link worked once: someone else who opens it later is told so.
		o := newBrowser(t, browserCtx, e.url, "")
		o.open("/lang/fa?next=/", "title.home")
		o.open(link, "title.signin_link")
		o.submitSee(`form[action="/auth/signin-link"] button`, `[role="alert"]`, msg(t, "fa", "error.link_invalid"))

		// The same pages in English, for the screenshots.
		if shots != "" {
			en := newBrowser(t, browserCtx, e.url, shots)
			en.open("/lang/en?next=/portal/signup?workspace="+ws, "title.signup")
			en.seeText("h1", msg(t, "en", "signup.heading"))
			en.shot("signup")
			for _, p := range []struct{ path, key, name string }{
				{"/auth/verify-email?token=hsl_example", "title.verify_email", "verify-email"},
				{"/auth/signin-link?token=hsl_example", "title.signin_link", "signin-link"},
				{"/auth/reset-password?token=hsl_example", "title.reset_password", "invitation"},
			} {
				en.open(p.path, p.key)
				en.seeText("h1", msg(t, "en", p.key))
				en.shot(p.name)
			}
		}
	})
}
