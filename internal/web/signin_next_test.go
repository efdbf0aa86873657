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
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// idle makes a person's sessions look untouched for two hours, past any
// idle timeout: the next request finds them ended.
func (e *env) idle(column string, id int64) {
	e.t.Helper()
	ctx := context.Background()
	err := e.a.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = last_seen_at - $1 WHERE `+column+` = $2`, (2 * time.Hour).Microseconds(), id)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// seal checks the audit log's pending reads and seals it, as every audited
// web test does.
func (e *env) seal() {
	e.t.Helper()
	ctx := context.Background()
	if err := e.a.Audit.FlushReads(ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.a.Audit.SealPending(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// signInAt is a sign-in redirect's target page and its next.
func signInAt(t *testing.T, p response) (string, string) {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to sign in; body %.300s", p.status, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path, u.Query().Get("next")
}

var hiddenNext = regexp.MustCompile(`name="next" value="([^"]*)"`)

// TestSignInComesBackToThePageAfterPasswordAndTOTP: a link to a ticket
// opened without a session (or after it ended while idle) leads to the
// staff sign-in page and, after the password — and after enrolling an
// authenticator, and later its code — to that ticket, not the queue.
func TestSignInComesBackToThePageAfterPasswordAndTOTP(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "an agent passphrase of some length"
		u := e.staff("agent", "shirin", pw, e.f.Sales)
		tk, err := a.Tickets.Create(context.Background(), e.f.System(), ticket.NewTicket{Subject: "printer", Body: "it jams",
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		page := "/console/tickets/" + strconv.FormatInt(tk.Number, 10) + "?before=99"
		signIn := url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}}

		// Signed out: to the staff sign-in page, which carries next on.
		c := e.client("en")
		at, next := signInAt(t, c.get(page))
		if at != "/console/signin" || next != page {
			t.Fatalf("sent to %s with next %q, want /console/signin with next %q", at, next, page)
		}
		p := c.get("/console/signin?next="+url.QueryEscape(next)).must(t, http.StatusOK)
		if m := hiddenNext.FindAllStringSubmatch(p.body, -1); len(m) < 2 || strings.ReplaceAll(m[0][1], "&amp;", "&") != page {
			t.Fatalf("the sign-in forms do not carry next: %v", m)
		}
		// A wrong password keeps next on the page that says so.
		bad := url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {"wrong"}, "next": {page}}
		if p := c.post("/console/signin", bad).must(t, http.StatusUnprocessableEntity); !strings.Contains(p.body, `name="next" value="`+page) {
			t.Fatalf("a failed sign-in dropped next: %.2000s", p.body)
		}
		with := func(v url.Values, next string) url.Values {
			out := url.Values{}
			for k, x := range v {
				out[k] = x
			}
			out.Set("next", next)
			return out
		}
		c.post("/console/signin", with(signIn, page)).redirect(t, page)
		c.get(page).must(t, http.StatusOK)
		// Without next: the queue, as before.
		e.client("en").post("/console/signin", with(signIn, "")).redirect(t, "/console/")

		// Idle too long: the same again, with an ended session's cookie.
		e.idle("user_id", u.ID)
		at, next = signInAt(t, c.get(page))
		if at != "/console/signin" || next != page {
			t.Fatalf("after idling: sent to %s with next %q", at, next)
		}
		c.post("/console/signin", with(signIn, next)).redirect(t, page)

		// With a second factor required: enroll on the way, then continue
		// to the page; next time the code leads there.
		e.requireMFA()
		m := e.client("en")
		m.post("/console/signin", with(signIn, page)).redirect(t, "/auth/enroll")
		p = m.post("/auth/enroll/totp", url.Values{}).must(t, http.StatusOK)
		secret := secretPattern.FindStringSubmatch(p.body)[1]
		p = m.post("/auth/enroll/confirm", url.Values{"code": {totpCode(t, secret, time.Now())}}).must(t, http.StatusOK)
		if !strings.Contains(p.body, `class="button" href="`+page) {
			t.Fatalf("after enrolling, continue does not lead to %s: %.3000s", page, p.body)
		}
		codes := shownCode.FindAllStringSubmatch(p.body, -1)
		if len(codes) < 2 {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		m.post("/auth/signout", url.Values{}).redirect(t, "/console/signin")

		_, next = signInAt(t, m.get(page))
		m.post("/console/signin", with(signIn, next)).redirect(t, "/auth/mfa")
		m.post("/auth/mfa", url.Values{"code": {"000000"}}).must(t, http.StatusUnprocessableEntity)
		m.post("/auth/mfa", url.Values{"code": {totpCode(t, secret, time.Now().Add(30*time.Second))}}).redirect(t, page)
		// The next was spent: a later sign-in without one goes home.
		m.post("/auth/signout", url.Values{}).redirect(t, "/console/signin")
		m.post("/console/signin", with(signIn, "")).redirect(t, "/auth/mfa")
		m.post("/auth/mfa", url.Values{"recovery_code": {"not-a-code"}}).must(t, http.StatusUnprocessableEntity)
		m.post("/auth/mfa", url.Values{"recovery_code": {codes[0][1]}}).redirect(t, "/console/")

		// A page opened while the code is still owed is where it ends.
		m.post("/auth/signout", url.Values{}).redirect(t, "/console/signin")
		m.post("/console/signin", with(signIn, "")).redirect(t, "/auth/mfa")
		m.get(page).redirect(t, "/auth/mfa")
		m.post("/auth/mfa", url.Values{"recovery_code": {codes[1][1]}}).redirect(t, page)
		e.seal()
	})
}

// TestExpiredSessionFormGoesBackToItsPage: a reply sent after the session
// ended is not saved; signing in again leads back to the ticket the form
// was on (the text waits there in the tab: browser_draft_test.go).
func TestExpiredSessionFormGoesBackToItsPage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "an agent passphrase of some length"
		u := e.staff("agent", "omid", pw, e.f.Sales)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "refund", Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		c := e.signInStaff("en", u.Email, pw)
		page := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		c.get(page).must(t, http.StatusOK)
		e.idle("user_id", u.ID)
		p := c.post(page+"/messages", url.Values{"kind": {"reply"}, "body": {"the refund is on its way"}})
		at, next := signInAt(t, p)
		if at != "/console/signin" || next != page {
			t.Fatalf("a reply after the session ended went to %s with next %q, want /console/signin with next %s", at, next, page)
		}
		if !strings.Contains(p.location, "notice=notice.signin_again") {
			t.Errorf("no notice that the session ended: %s", p.location)
		}
		if got := c.get(p.location).must(t, http.StatusOK).body; !strings.Contains(got, "Your session has ended") {
			t.Error("the sign-in page does not say the session ended")
		}
		c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}, "next": {next}}).redirect(t, page)
		if body := c.get(page).must(t, http.StatusOK).body; strings.Contains(body, "the refund is on its way") {
			t.Fatal("a reply sent without a session was saved")
		}
		e.seal()
	})
}

// TestSignInNextStaysOnSiteAndOnTheirSide: next is refused — the person
// goes to their home page — for another site in any disguise, a form's
// address, a sign-in page, or the other side's pages.
func TestSignInNextStaysOnSiteAndOnTheirSide(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "a passphrase long enough to pass"
		u := e.staff("agent", "darius", pw, e.f.Sales)
		e.customerPassword(e.f.Customer.ID, pw)
		attempts := []string{
			"//evil.example/", "///evil.example", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
			"https://evil.example/console/", "http:/evil.example", "javascript:alert(1)", "/\t/evil.example", "/\r\n/evil.example",
			"/console/\x00", " /console/", "evil.example", "/auth/signout", "/console/signin", "/auth/mfa",
			"/console/tickets/1/messages", "/lang/en?next=//evil.example", "/nowhere",
		}
		staffOnly := append(append([]string{}, attempts...), "/portal/", "/portal/requests/1")
		customerOnly := append(append([]string{}, attempts...), "/console/", "/console/tickets/1", "/admin/users")
		for _, next := range staffOnly {
			c := e.client("en")
			if p := c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}, "next": {next}}); p.location != "/console/" {
				t.Errorf("staff next %q led to %q, want /console/", next, p.location)
			}
			if p := c.get("/console/signin?next="+url.QueryEscape(next)).must(t, http.StatusOK); hiddenNext.MatchString(p.body) {
				t.Errorf("the staff sign-in page kept next %q", next)
			}
		}
		for _, next := range customerOnly {
			c := e.client("en")
			if p := c.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}, "next": {next}}); p.location != "/portal/" {
				t.Errorf("customer next %q led to %q, want /portal/", next, p.location)
			}
		}
		// Pages of one's own side, and the shared /account pages, are kept.
		for next, want := range map[string]string{"/admin/users?page=2": "/admin/users?page=2", "/account/security": "/account/security"} {
			c := e.client("en")
			c.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {u.Email}, "password": {pw}, "next": {next}}).redirect(t, want)
		}
		c := e.client("en")
		c.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}, "next": {"/account/sessions"}}).
			redirect(t, "/account/sessions")
		// The language switch is held to the same rule.
		if p := c.get("/lang/en?next=" + url.QueryEscape("/\t/evil.example")); p.location != "/" {
			t.Errorf("the language switch followed a tab-disguised //host to %q", p.location)
		}
		e.seal()
	})
}

// TestSignInPageFitsThePathAndThePerson: staff paths lead to the staff
// sign-in page, the portal's to the customers'; the pages both use lead
// to the one of whoever signed in here last, and with nobody known to the
// staff page, which offers the customers' page too.
func TestSignInPageFitsThePathAndThePerson(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "a passphrase long enough to pass"
		e.customerPassword(e.f.Customer.ID, pw)
		u := e.staff("agent", "mina", pw, e.f.Sales)
		nobody := e.client("en")
		for path, want := range map[string][2]string{
			"/console/":                          {"/console/signin", "/console/"},
			"/admin/users":                       {"/console/signin", "/admin/users"},
			"/admin/roles":                       {"/console/signin", "/admin/roles"},
			"/portal/requests/new":               {"/portal/signin", "/portal/requests/new"},
			"/account/security":                  {"/console/signin", "/account/security"},
			"/auth/step-up?next=/console/search": {"/console/signin", "/console/search"},
			"/auth/step-up?next=/portal/":        {"/portal/signin", "/portal/"},
		} {
			at, next := signInAt(t, nobody.get(path))
			if at != want[0] || next != want[1] {
				t.Errorf("%s: sent to %s next %q, want %s next %q", path, at, next, want[0], want[1])
			}
		}
		p := nobody.get("/console/signin?next=/account/security").must(t, http.StatusOK)
		if !strings.Contains(p.body, `href="/portal/signin?next=%2Faccount%2Fsecurity"`) {
			t.Errorf("the staff page does not offer the customers' page for a shared path: %.3000s", p.body)
		}
		if p := nobody.get("/console/signin?next=/console/").must(t, http.StatusOK); strings.Contains(p.body, `href="/portal/signin?next=`) {
			t.Error("the staff page offers the customers' page for a staff path")
		}
		// A form sent without a session comes back to its page.
		at, next := signInAt(t, nobody.post("/account/sessions/revoke-others", url.Values{}))
		if at != "/console/signin" || next != "/account/sessions" {
			t.Errorf("a form on /account/sessions went to %s next %q", at, next)
		}

		// A customer whose session ended: shared pages lead to the portal's sign-in.
		cu := e.client("en")
		cu.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")
		e.idle("customer_id", e.f.Customer.ID)
		for _, path := range []string{"/account/security", "/account/sessions", "/portal/"} {
			if at, _ := signInAt(t, cu.get(path)); at != "/portal/signin" {
				t.Errorf("customer, expired, %s: sent to %s", path, at)
			}
		}
		// ...but a staff path still leads to the staff page.
		if at, _ := signInAt(t, cu.get("/admin/")); at != "/console/signin" {
			t.Errorf("customer cookie, /admin/: sent to %s", at)
		}
		// Staff whose session ended: shared pages lead to the staff sign-in.
		g := e.signInStaff("en", u.Email, pw)
		e.idle("user_id", u.ID)
		if at, next := signInAt(t, g.get("/account/sessions")); at != "/console/signin" || next != "/account/sessions" {
			t.Errorf("staff, expired, /account/sessions: sent to %s next %q", at, next)
		}
		// Signing out forgets who was here: the page that offers both.
		c2 := e.client("en")
		c2.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")
		c2.post("/auth/signout", url.Values{}).redirect(t, "/portal/signin")
		if at, _ := signInAt(t, c2.get("/account/security")); at != "/console/signin" {
			t.Errorf("after signing out, /account/security went to %s, not the page that offers both", at)
		}
		e.seal()
	})
}

// TestCustomerComesBackThroughAnEmailedLink: a customer who asked for a
// sign-in link from a page's sign-in lands on that page when the link is
// opened in the same browser.
func TestCustomerComesBackThroughAnEmailedLink(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		tk, err := a.Tickets.Create(context.Background(), e.f.System(), ticket.NewTicket{Subject: "parcel", Body: "where is it",
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(e.f.Customer.ID, "a passphrase long enough to pass")
		page := "/portal/requests/" + strconv.FormatInt(tk.Number, 10)
		c := e.client("en")
		at, next := signInAt(t, c.get(page))
		if at != "/portal/signin" || next != page {
			t.Fatalf("sent to %s next %q", at, next)
		}
		p := c.post("/portal/signin-link", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "next": {next}}).must(t, http.StatusOK)
		if !strings.Contains(p.body, `name="next" value="`+page+`"`) {
			t.Error("the page after asking for a link dropped next")
		}
		link := e.linkTo(e.f.Customer.Email, "/auth/signin-link")
		p = c.get(link).must(t, http.StatusOK)
		token := hiddenToken.FindStringSubmatch(p.body)[1]
		c.post("/auth/signin-link", url.Values{"token": {token}}).redirect(t, page)
		c.get(page).must(t, http.StatusOK)
		e.seal()
	})
}

// TestAgentWithoutRevealIsRefusedBeforeSteppingUp: an agent who may not
// reveal masked data is told so at once, not first sent to prove who they
// are.
func TestAgentWithoutRevealIsRefusedBeforeSteppingUp(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const pw = "an agent passphrase of some length"
		tk, err := a.Tickets.Create(context.Background(), e.f.System(), ticket.NewTicket{Subject: "refund", Body: "card 6037 9912 3456 7893",
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		u := e.staff("agent", "babak", pw, e.f.Sales)
		c := e.signInStaff("en", u.Email, pw)
		path := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		e.age(u.ID)
		c.post(path+"/reveal", url.Values{"message_id": {"0"}, "reason": {"the customer asked for it"}}).must(t, http.StatusForbidden)
		// One who may is sent to step up, and back to the ticket.
		e.setMFA("none")
		admin := e.staff("admin", "parvin", pw)
		g := e.signInStaff("en", admin.Email, pw)
		e.age(admin.ID)
		g.post(path+"/reveal", url.Values{"message_id": {"0"}, "reason": {"the customer asked for it"}}).redirect(t, "/auth/step-up?next="+path)
		g.post("/auth/step-up", url.Values{"password": {pw}, "next": {path}}).redirect(t, path)
		e.seal()
	})
}
