package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

func TestEveryPageCarriesStrictHeadersInBothLanguages(t *testing.T) {
	e := newEnv(t, testutil.App(t, "sqlite"))
	for _, lang := range []string{"fa", "en"} {
		c := e.client(lang)
		for _, path := range []string{"/", "/console/signin", "/portal/signin", "/portal/signup", "/auth/forgot", "/auth/verify-email?token=x", "/no/such/page"} {
			p := c.get(path)
			want := http.StatusOK
			if path == "/no/such/page" {
				want = http.StatusNotFound
			}
			p.must(t, want)
			h := p.header
			if got := h.Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("%s: CSP %q", path, got)
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
				"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
				if h.Get(k) != v {
					t.Errorf("%s: %s = %q, want %q", path, k, h.Get(k), v)
				}
			}
			dir := map[string]string{"fa": "rtl", "en": "ltr"}[lang]
			if !strings.Contains(p.body, `<html lang="`+lang+`" dir="`+dir+`">`) {
				t.Errorf("%s in %s: no lang/dir on <html>: %.200s", path, lang, p.body)
			}
			if !strings.Contains(p.body, `id="lang-switch"`) {
				t.Errorf("%s: no language switch", path)
			}
			if strings.Contains(p.body, "<script>") || strings.Contains(p.body, "style=") || strings.Contains(p.body, "<style") {
				t.Errorf("%s: inline script or style", path)
			}
			if strings.Contains(p.body, "[") && regexp.MustCompile(`\[[a-z_]+\.[a-z_.\-]+\]`).MatchString(p.body) {
				t.Errorf("%s: a message key is missing: %s", path, regexp.MustCompile(`\[[a-z_]+\.[a-z_.\-]+\]`).FindString(p.body))
			}
		}
	}
}

func TestLanguageSwitchRemembersTheChoiceAndStaysOnSite(t *testing.T) {
	e := newEnv(t, testutil.App(t, "sqlite"))
	c := e.client("fa")
	c.get("/lang/en?next=/portal/signin").redirect(t, "/portal/signin")
	if p := c.get("/portal/signin"); !strings.Contains(p.body, `lang="en"`) {
		t.Fatal("the switch did not stick")
	}
	c.get("/lang/fa?next=//evil.example/").redirect(t, "/")
	if p := c.get("/lang/fa?next=https://evil.example/"); p.location != "/" {
		t.Fatalf("redirected off site to %q", p.location)
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	e := newEnv(t, testutil.App(t, "sqlite"))
	c := e.client("en")
	p := c.do("POST", "/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {"x@y.z"}, "password": {"p"}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	p.must(t, http.StatusForbidden)
	if !strings.Contains(p.body, "another site") {
		t.Fatalf("refusal page: %.300s", p.body)
	}
	c.do("POST", "/auth/signout", url.Values{}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}).must(t, http.StatusForbidden)
}

// TestEmailedLinksWorkOnlyWhenSubmitted: a customer signs up, confirms the
// address, resets the password and signs in by link; opening a link (as a
// mail scanner does) never spends it.
func TestEmailedLinksWorkOnlyWhenSubmitted(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ws := e.f.WS.Slug
		email := "shirin." + ws + "@example.com"
		c := e.client("fa")
		p := c.post("/portal/signup", url.Values{"workspace": {ws}, "name": {"شیرین"}, "email": {email}, "password": {"12345678"}})
		p.must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(p.body, `aria-invalid="true" aria-describedby="f-password-error"`) {
			t.Fatalf("the password error is not tied to its field: %.2000s", p.body)
		}
		c.post("/portal/signup", url.Values{"workspace": {ws}, "name": {"شیرین"}, "email": {email}, "password": {"pomegranates in the garden of Fin"}}).must(t, http.StatusOK)
		verify := e.linkTo(email, "/auth/verify-email")
		for range 2 {
			if p := c.get(verify).must(t, http.StatusOK); !strings.Contains(p.body, `name="token"`) {
				t.Fatal("the link page has no form")
			}
		}
		token := hiddenToken.FindStringSubmatch(c.get(verify).body)[1]
		c.post("/auth/verify-email", url.Values{"token": {token}}).must(t, http.StatusOK)
		c.post("/auth/verify-email", url.Values{"token": {token}}).must(t, http.StatusUnprocessableEntity)

		c.post("/portal/signin", url.Values{"workspace": {ws}, "email": {email}, "password": {"pomegranates in the garden of Fin"}}).redirect(t, "/portal/")
		c.get("/portal/").must(t, http.StatusOK)

		other := e.client("en")
		other.post("/auth/forgot", url.Values{"workspace": {ws}, "account": {"customer"}, "email": {email}}).must(t, http.StatusOK)
		reset := e.linkTo(email, "/auth/reset-password")
		other.get(reset).must(t, http.StatusOK)
		token = hiddenToken.FindStringSubmatch(other.get(reset).body)[1]
		other.post("/auth/reset-password", url.Values{"token": {token}, "password": {"a brand new passphrase for Fin"}}).must(t, http.StatusOK)
		c.get("/portal/").redirect(t, "/portal/signin") // the old session ended with the old password

		other.post("/portal/signin-link", url.Values{"workspace": {ws}, "email": {email}}).must(t, http.StatusOK)
		link := e.linkTo(email, "/auth/signin-link")
		scanner := e.client("en")
		scanner.get(link).must(t, http.StatusOK)
		token = hiddenToken.FindStringSubmatch(scanner.get(link).body)[1]
		other.post("/auth/signin-link", url.Values{"token": {token}}).redirect(t, "/portal/")
		other.get("/portal/").must(t, http.StatusOK)
		scanner.post("/auth/signin-link", url.Values{"token": {token}}).must(t, http.StatusUnprocessableEntity)
	})
}

var secretPattern = regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`)

// TestStaffEnrollTOTPThenSignInWithIt: a workspace that requires a second
// factor sends a new agent to enrollment, then asks for the code.
func TestStaffEnrollTOTPThenSignInWithIt(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.requireMFA()
		const pw = "an agent passphrase of some length"
		u := e.staff("agent", "parisa", pw, e.f.Sales)
		c := e.client("en")
		signIn := url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}}
		c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {"wrong"}}).must(t, http.StatusUnprocessableEntity)
		c.post("/console/signin", signIn).redirect(t, "/auth/enroll")
		c.get("/console/").redirect(t, "/auth/enroll")
		c.get("/auth/enroll").must(t, http.StatusOK)
		p := c.post("/auth/enroll/totp", url.Values{}).must(t, http.StatusOK)
		if !strings.Contains(p.body, `src="data:image/png;base64,`) {
			t.Fatal("no QR code")
		}
		secret := secretPattern.FindStringSubmatch(p.body)[1]
		c.post("/auth/enroll/confirm", url.Values{"code": {"000000"}, "secret": {secret}}).must(t, http.StatusUnprocessableEntity)
		p = c.post("/auth/enroll/confirm", url.Values{"code": {totpCode(t, secret, time.Now())}}).must(t, http.StatusOK)
		if strings.Count(p.body, "<code>") != 10 {
			t.Fatalf("want 10 recovery codes: %.1500s", p.body)
		}
		c.get("/console/").must(t, http.StatusOK)
		c.post("/auth/signout", url.Values{}).redirect(t, "/console/signin")
		c.get("/console/").redirect(t, "/console/signin")

		c.post("/console/signin", signIn).redirect(t, "/auth/mfa")
		c.get("/console/").redirect(t, "/auth/mfa")
		c.post("/auth/mfa", url.Values{"code": {"123456"}}).must(t, http.StatusUnprocessableEntity)
		c.post("/auth/mfa", url.Values{"code": {totpCode(t, secret, time.Now().Add(30*time.Second))}}).redirect(t, "/console/")
		c.get("/console/").must(t, http.StatusOK)
	})
}

// TestPortalAndConsoleKeepToTheirOwnPeople: customers reach only their
// own requests, agents only their departments' tickets, and neither the
// other's pages.
func TestPortalAndConsoleKeepToTheirOwnPeople(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		e.customerPassword(e.f.Customer.ID, pw)
		stranger, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "stranger-" + e.f.WS.Slug + "@example.com", Name: "Stranger"})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(stranger.ID, pw)
		mine, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "mine", Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		finance, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "finance", Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Finance})
		if err != nil {
			t.Fatal(err)
		}
		c := e.client("en")
		c.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")
		c.get("/portal/requests/"+strconv.FormatInt(mine.Number, 10)).must(t, http.StatusOK)
		c.get("/console/").must(t, http.StatusForbidden)
		c.get("/console/tickets/"+strconv.FormatInt(mine.Number, 10)).must(t, http.StatusForbidden)

		s := e.client("en")
		s.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {stranger.Email}, "password": {pw}}).redirect(t, "/portal/")
		s.get("/portal/requests/"+strconv.FormatInt(mine.Number, 10)).must(t, http.StatusNotFound)
		s.post("/portal/requests/"+strconv.FormatInt(mine.Number, 10)+"/close", url.Values{}).must(t, http.StatusNotFound)

		agent := e.staff("agent", "kian", pw, e.f.Sales)
		g := e.client("en")
		g.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {agent.Email}, "password": {pw}}).redirect(t, "/console/")
		g.get("/console/tickets/"+strconv.FormatInt(mine.Number, 10)).must(t, http.StatusOK)
		g.get("/console/tickets/"+strconv.FormatInt(finance.Number, 10)).must(t, http.StatusNotFound)
		g.post("/console/tickets/"+strconv.FormatInt(finance.Number, 10), url.Values{"status": {"solved"}}).must(t, http.StatusNotFound)
		g.get("/portal/").must(t, http.StatusForbidden)
	})
}

// TestAgentSearchesSessionsAndSteppingUp: search stays within the agent's
// departments; a person ends their other sessions; an old session must
// prove itself again before setting up a second factor.
func TestAgentSearchesSessionsAndSteppingUp(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "an agent passphrase of some length"
		for _, d := range []int64{e.f.Sales, e.f.Finance} {
			if _, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "zanjan invoice " + strconv.FormatInt(d, 10), Body: "b",
				CustomerID: e.f.Customer.ID, DepartmentID: d}); err != nil {
				t.Fatal(err)
			}
		}
		u := e.staff("agent", "nima", pw, e.f.Sales)
		signIn := url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}}
		c := e.client("en")
		c.post("/console/signin", signIn).redirect(t, "/console/")
		p := c.get("/console/search?q=zanjan").must(t, http.StatusOK)
		if !strings.Contains(p.body, "zanjan invoice "+strconv.FormatInt(e.f.Sales, 10)) || strings.Contains(p.body, "zanjan invoice "+strconv.FormatInt(e.f.Finance, 10)) {
			t.Fatalf("search results: %.3000s", p.body)
		}

		other := e.client("fa")
		other.post("/console/signin", signIn).redirect(t, "/console/")
		if p := c.get("/account/sessions").must(t, http.StatusOK); strings.Count(p.body, "/revoke\"") != 2 {
			t.Fatalf("want two sessions listed: %.3000s", p.body)
		}
		c.post("/account/sessions/revoke-others", url.Values{}).redirect(t, "/account/sessions")
		other.get("/console/").redirect(t, "/console/signin")
		c.get("/console/").must(t, http.StatusOK)

		// An hour later, setting up a second factor needs the password again.
		err := a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET auth_at = auth_at - $1 WHERE user_id = $2`, time.Hour.Microseconds(), u.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c.post("/auth/enroll/totp", url.Values{}).redirect(t, "/auth/step-up?next=/auth/enroll")
		c.post("/auth/step-up", url.Values{"password": {"wrong"}, "next": {"/auth/enroll"}}).must(t, http.StatusUnprocessableEntity)
		c.post("/auth/step-up", url.Values{"password": {pw}, "next": {"//evil.example"}}).redirect(t, "/")
		if p := c.post("/auth/enroll/totp", url.Values{}).must(t, http.StatusOK); !secretPattern.MatchString(p.body) {
			t.Fatal("no secret after stepping up")
		}
	})
}

// TestAdminRevealsMaskedCardAfterStepUpAndHistorySaysSo: a masked card
// number shows masked; revealing it needs a recent sign-in and a reason,
// shows the original once, and the history records it. Tags and status
// changes appear in the history in words.
func TestAdminRevealsMaskedCardAfterStepUpAndHistorySaysSo(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "an admin passphrase of some length"
		const card = "6037 9912 3456 7893"
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "refund", Body: "please refund to " + card,
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		e.setMFA("none")
		admin := e.staff("admin", "roya", pw)
		c := e.client("en")
		c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {admin.Email}, "password": {pw}}).redirect(t, "/console/")
		path := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		p := c.get(path).must(t, http.StatusOK)
		if strings.Contains(p.body, "3456") || !strings.Contains(p.body, "Show the original") {
			t.Fatalf("the card is not masked, or cannot be revealed: %.4000s", p.body)
		}
		msgID := regexp.MustCompile(`name="message_id" value="(\d+)"`).FindStringSubmatch(p.body)[1]
		c.post(path+"/reveal", url.Values{"message_id": {msgID}, "reason": {"short"}}).must(t, http.StatusUnprocessableEntity)
		p = c.post(path+"/reveal", url.Values{"message_id": {msgID}, "reason": {"the customer asked for a refund to this card"}}).must(t, http.StatusOK)
		if !strings.Contains(p.body, card) {
			t.Fatal("the original is not shown")
		}
		if p = c.get(path); strings.Contains(p.body, "3456") || !strings.Contains(p.body, "revealed masked data") {
			t.Fatalf("the original stayed on the page, or the history does not say it was revealed: %.4000s", p.body)
		}
		c.post(path, url.Values{"status": {"pending"}, "tags": {"refund, vip"}}).redirect(t, path)
		if p = c.get(path); !strings.Contains(p.body, "changed the status from Open to Waiting for customer") &&
			!strings.Contains(p.body, "changed the status from New to Waiting for customer") || !strings.Contains(p.body, "set the tags: refund vip") {
			t.Fatalf("history: %.6000s", p.body)
		}

		// An hour later the reveal asks for the password first.
		err = a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET auth_at = auth_at - $1 WHERE user_id = $2`, time.Hour.Microseconds(), admin.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c.post(path+"/reveal", url.Values{"message_id": {msgID}, "reason": {"the customer asked again today"}}).redirect(t, "/auth/step-up?next="+path)
	})
}
