package web_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

// auditedEnv serves the whole app the way `hesar serve` does (a.Handler:
// the API's recorder wired into the pages), so what a page records can be
// read back from the audit log.
func auditedEnv(t *testing.T, a *app.App) *env {
	t.Helper()
	e := newEnv(t, a)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

var (
	formRe        = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe       = regexp.MustCompile(`<input [^>]*>`)
	selectRe      = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRe    = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	firstOptionRe = regexp.MustCompile(`<option value="([^"]*)"`)
	attrRe        = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// formValues reads the post form with this action from a page as a
// browser would send it untouched: text and hidden inputs, checked boxes,
// selected options.
func formValues(t testing.TB, body, action string) url.Values {
	t.Helper()
	for _, f := range formRe.FindAllStringSubmatch(body, -1) {
		if f[1] != action {
			continue
		}
		out := url.Values{}
		for _, in := range inputRe.FindAllString(f[2], -1) {
			attrs := map[string]string{}
			for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
				attrs[a[1]] = html.UnescapeString(a[2])
			}
			if attrs["name"] == "" {
				continue
			}
			if attrs["type"] == "checkbox" || attrs["type"] == "radio" {
				if regexp.MustCompile(`\schecked\b`).MatchString(in) {
					v := attrs["value"]
					if v == "" {
						v = "on"
					}
					out.Add(attrs["name"], v)
				}
				continue
			}
			out.Add(attrs["name"], attrs["value"])
		}
		for _, s := range selectRe.FindAllStringSubmatch(f[2], -1) {
			if m := selectedRe.FindStringSubmatch(s[2]); m != nil {
				out.Set(s[1], html.UnescapeString(m[1]))
			} else if m := firstOptionRe.FindStringSubmatch(s[2]); m != nil {
				out.Set(s[1], html.UnescapeString(m[1]))
			}
		}
		return out
	}
	t.Fatalf("no form posting to %s in %.2000s", action, body)
	return nil
}

// The password typed on the new-user page is the one the person signs in
// with, under the workspace's password policy; no invitation is sent.
func TestNewUserSignsInWithThePasswordTheAdminSet(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		c := e.signInStaff("en", admin.Email, passphrase)
		email := "sima-" + e.f.WS.Slug + "@staff.test"
		form := url.Values{"email": {email}, "name": {"Sima"}, "role": {"agent"}, "departments": {strconv.FormatInt(e.f.Sales, 10)}}
		for _, bad := range []string{"short", "password1234"} {
			form.Set("initial_password", bad)
			p := c.post("/admin/users", form).must(t, http.StatusUnprocessableEntity)
			if !strings.Contains(p.body, `id="f-initial_password-error"`) || strings.Contains(p.body, bad) {
				t.Fatalf("%q: no error at the password field, or the password shown again: %.3000s", bad, p.body)
			}
			if _, err := a.Identity.ByEmail(ctx, e.f.WS.ID, email); !errors.Is(err, errs.ErrNotFound) {
				t.Fatalf("%q: a user was created: %v", bad, err)
			}
		}
		form.Set("initial_password", passphrase2)
		p := c.post("/admin/users", form).redirect(t, "/admin/users/")
		if !strings.Contains(p.location, "notice.user_created") {
			t.Fatalf("went to %s", p.location)
		}
		e.signInStaff("en", email, passphrase2).get("/console/").page(t, "en")
		e.deliver()
		for _, m := range e.smtp.Messages() {
			if len(m.To) == 1 && strings.EqualFold(m.To[0], email) {
				t.Fatalf("a user with a password was mailed %q", m.Subject)
			}
		}
		// The name field is the person's name, not the reader's.
		if p := c.get("/admin/users/new").page(t, "en"); !strings.Contains(p.body, `<label for="f-name">Name</label>`) || strings.Contains(p.body, "Your name") {
			t.Fatalf("name label: %.3000s", p.body)
		}
		if p := c.get(p.location).page(t, "en"); !strings.Contains(p.body, `<label for="f-name">Name</label>`) {
			t.Fatalf("name label on the user page: %.3000s", p.body)
		}
	})
}

// An invitation says who invites whom to what, until when, and what to do
// if it was not expected, in the language the admin chose for it; it is
// not the password-reset mail.
func TestInvitationMailIsAnInvitationInTheChosenLanguage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		c := e.signInStaff("en", admin.Email, passphrase)
		// The choice defaults to the admin's page language.
		if p := c.get("/admin/users/new").page(t, "en"); !strings.Contains(p.body, `<option value="en" selected>`) {
			t.Fatalf("invitation language: %.3000s", p.body)
		}
		ws := e.f.WS.Name
		for _, tc := range []struct {
			lang string
			want []string
		}{
			{"fa", []string{"دعوت", "«حصار»", ws, "۳ روز", "اگر انتظار این دعوت را نداشتید"}},
			{"en", []string{"You are invited", "Hesar, the help desk", ws, "expires in 3 days", "If you did not expect this invitation"}},
		} {
			email := "new-" + tc.lang + "-" + e.f.WS.Slug + "@staff.test"
			p := c.post("/admin/users", url.Values{"email": {email}, "name": {"Leila"}, "role": {"agent"}, "invite_locale": {tc.lang}}).redirect(t, "/admin/users/")
			if !strings.Contains(p.location, "notice.user_invited") {
				t.Fatalf("went to %s", p.location)
			}
			m, _ := e.mailedLink(email, "/auth/reset-password")
			checkInvitation(t, tc.lang, m, admin.Email, tc.want)
			// The link, as mailed, greets them in the invitation's
			// language, whatever their browser says.
			link := regexp.MustCompile(`/auth/reset-password\?[^\s]+`).FindString(m.Body)
			if !strings.Contains(link, "welcome=1") {
				t.Fatalf("%s: the invitation's link %q does not say it is one", tc.lang, link)
			}
			if p := e.client(map[string]string{"fa": "en", "en": "fa"}[tc.lang]).get(link).must(t, http.StatusOK); !strings.Contains(p.body, `lang="`+tc.lang+`"`) ||
				!strings.Contains(p.body, msg(t, tc.lang, "title.welcome")) {
				t.Errorf("%s: the invitation's page is not a welcome in its language", tc.lang)
			}
			// Sending the link again, before they have a password, invites
			// them again; it does not claim they asked for a reset.
			id := userPathRe.FindStringSubmatch(p.location)[1]
			e.signInStaff(tc.lang, admin.Email, passphrase).post("/admin/users/"+id+"/password-setup", url.Values{}).redirect(t, "/admin/users/"+id+"?notice=notice.password_setup_sent")
			e.deliver()
			again := e.smtp.WaitFor(t, func(r smtpd.Received) bool {
				return len(r.To) == 1 && strings.EqualFold(r.To[0], email) && r.Body != m.Body
			}, 5*time.Second)
			if !strings.Contains(again.Body, "/auth/reset-password?token=") {
				t.Errorf("%s: the invitation sent again has no link: %q", tc.lang, again.Body)
			}
			checkInvitation(t, tc.lang, again, admin.Email, tc.want)
		}
		c.post("/admin/users", url.Values{"email": {"x-" + e.f.WS.Slug + "@staff.test"}, "name": {"X"}, "role": {"agent"}, "invite_locale": {"de"}}).
			must(t, http.StatusUnprocessableEntity)
	})
}

func checkInvitation(t *testing.T, lang string, m smtpd.Received, inviter string, want []string) {
	t.Helper()
	text := linkToken.ReplaceAllString(m.Subject+"\n"+m.Body, "")
	text = strings.ReplaceAll(text, "/auth/reset-password?", "")
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s invitation lacks %q: %s", lang, w, text)
		}
	}
	// Not the reset mail, and not the admin's address.
	for _, bad := range []string{"reset", "Reset", "بازنشانی", inviter} {
		if strings.Contains(text, bad) {
			t.Errorf("%s invitation holds %q: %s", lang, bad, text)
		}
	}
	if (lang == "fa") != persianLetters.MatchString(m.Subject) {
		t.Errorf("%s invitation subject %q", lang, m.Subject)
	}
}

// auditCount counts the workspace's records of one action.
func auditCount(t *testing.T, e *env, action string) int {
	t.Helper()
	e.seal()
	rs, err := e.a.Audit.List(context.Background(), e.f.WS.ID, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

// Every admin change that decides what someone may see or whether they
// are signed in is shown first, from what to what in words, and made only
// when confirmed; then it is made once and recorded once.
func TestAdminChangesAreConfirmedBeforeTheyAreMadeAndAudited(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := auditedEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent, secret := e.staffWithTOTP("agent", "omid", passphrase, e.f.Sales)
		c := e.signInStaff("en", admin.Email, passphrase)
		// omid signed in, with the second factor.
		m := e.client("en")
		m.post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {agent.Email}, "password": {passphrase}}).redirect(t, "/auth/mfa")
		m.post("/auth/mfa", url.Values{"code": {totpCode(t, secret, time.Now().Add(30*time.Second))}}).must(t, http.StatusSeeOther)
		user := "/admin/users/" + strconv.FormatInt(agent.ID, 10)
		sales, finance := strconv.FormatInt(e.f.Sales, 10), strconv.FormatInt(e.f.Finance, 10)
		status := func() (sessions, factors int) {
			st, err := a.Identity.UserAccountStatus(ctx, identity.Principal{Scope: e.f.System()}, agent.ID)
			if err != nil {
				t.Fatal(err)
			}
			return st.ActiveSessions, len(st.Factors)
		}
		steps := []struct {
			name, path string
			form       url.Values
			action     string
			shows      []string
			unchanged  func() bool
			notice     string
		}{
			{"sessions", user + "/sessions/revoke", url.Values{}, "session.revoked",
				[]string{"omid will be signed out on every device.", "</td><td><strong>0</strong></td>"},
				func() bool { n, _ := status(); return n > 0 }, "notice.user_sessions_ended"},
			{"second factors", user + "/mfa-reset", url.Values{}, "mfa.reset",
				[]string{"The second factors of omid will be removed.", "<td>Authenticator app, Recovery codes</td><td><strong>None</strong></td>"},
				func() bool { _, f := status(); return f > 0 }, "notice.mfa_reset"},
			{"role", user, url.Values{"name": {"omid"}, "role": {"supervisor"}, "departments": {sales}}, "user.role_changed",
				[]string{"These changes to the account of omid will be saved:", "<td>Agent</td><td><strong>Supervisor</strong></td>", "signs them out on every device"},
				func() bool { u, _ := a.Identity.GetUser(ctx, e.f.System(), agent.ID); return u.Role == "agent" }, "notice.user_saved"},
			{"departments", user, url.Values{"name": {"omid"}, "role": {"supervisor"}, "departments": {finance}}, "user.departments_changed",
				[]string{"<td>Sales</td><td><strong>Finance</strong></td>", "Departments decide which tickets they see."},
				func() bool {
					u, _ := a.Identity.GetUser(ctx, e.f.System(), agent.ID)
					return u.Departments[0] == e.f.Sales
				}, "notice.user_saved"},
			{"disable", user, url.Values{"name": {"omid"}, "role": {"supervisor"}, "departments": {finance}, "disabled": {"on"}}, "user.disabled",
				[]string{"<td>Active</td><td><strong>Disabled</strong></td>", "They will not be able to sign in"},
				func() bool { u, _ := a.Identity.GetUser(ctx, e.f.System(), agent.ID); return !u.Disabled }, "notice.user_saved"},
			{"add member", "/admin/departments/" + sales + "/members", url.Values{"user": {strconv.FormatInt(agent.ID, 10)}}, "department.member_added",
				[]string{"omid will be added to Sales and will see its tickets.", "<td>Not a member</td><td><strong>Member</strong></td>"},
				func() bool { u, _ := a.Identity.GetUser(ctx, e.f.System(), agent.ID); return len(u.Departments) == 1 }, "notice.members_changed"},
			{"remove member", "/admin/departments/" + sales + "/members/" + strconv.FormatInt(agent.ID, 10) + "/remove", url.Values{}, "department.member_removed",
				[]string{"omid will be removed from Sales", "<td>Member</td><td><strong>Not a member</strong></td>"},
				func() bool { u, _ := a.Identity.GetUser(ctx, e.f.System(), agent.ID); return len(u.Departments) == 2 }, "notice.members_changed"},
		}
		for _, st := range steps {
			before := auditCount(t, e, st.action)
			p := c.post(st.path, st.form).page(t, "en")
			body := strings.ReplaceAll(p.body, ` dir="auto"`, "")
			for _, w := range append([]string{"Confirm the changes", `name="confirm" value="yes"`}, st.shows...) {
				if !strings.Contains(body, w) {
					t.Errorf("%s: the confirmation lacks %q: %s", st.name, w, regexp.MustCompile(`(?s)<table.*</table>`).FindString(body))
				}
			}
			if !st.unchanged() || auditCount(t, e, st.action) != before {
				t.Fatalf("%s: changed before it was confirmed", st.name)
			}
			confirm := formValues(t, p.body, st.path)
			r := c.post(st.path, confirm)
			if r.status != http.StatusSeeOther || !strings.Contains(r.location, "notice="+st.notice) {
				t.Fatalf("%s: confirmed: %d %s %.500s", st.name, r.status, r.location, r.body)
			}
			if st.unchanged() {
				t.Fatalf("%s: not changed when confirmed", st.name)
			}
			if got := auditCount(t, e, st.action); got != before+1 {
				t.Errorf("%s: %d new %s records, want 1", st.name, got-before, st.action)
			}
		}
		// Nothing left to change: no confirmation, nothing recorded.
		c.post(user+"/mfa-reset", url.Values{}).redirect(t, user+"?notice=notice.nothing_changed")
		c.post(user, url.Values{"name": {"omid"}, "role": {"supervisor"}, "departments": {finance}, "disabled": {"on"}}).
			redirect(t, user+"?notice=notice.nothing_changed")
		// Creating and renaming a department are recorded too.
		created := auditCount(t, e, "department.created")
		c.post("/admin/departments", url.Values{"department_name": {"Support"}}).redirect(t, "/admin/departments")
		if auditCount(t, e, "department.created") != created+1 {
			t.Error("department.created not recorded")
		}
		rep, err := a.Audit.Verify(ctx, e.f.WS.ID, nil)
		if err != nil || !rep.OK {
			t.Fatalf("chain: %+v %v", rep, err)
		}
		// The confirmation pages are whole in Persian too.
		fa := e.signInStaff("fa", admin.Email, passphrase)
		p := fa.post(user, url.Values{"name": {"omid"}, "role": {"agent"}, "departments": {sales}}).page(t, "fa")
		if !strings.Contains(p.body, "این تغییرات در حساب omid ذخیره می‌شود") {
			t.Errorf("Persian confirmation: %.3000s", p.body)
		}
		fa.post("/admin/departments/"+finance+"/members/"+strconv.FormatInt(agent.ID, 10)+"/remove", url.Values{}).page(t, "fa")
	})
}
