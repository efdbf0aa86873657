package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

// TestSavedLanguageFollowsThePersonAcrossDevicesAndIntoMail: the switch a
// signed-in person clicks is saved with their account; another device
// whose browser prefers Persian then shows English, and so does the mail
// sent to them. A switch link followed from another site saves nothing.
func TestSavedLanguageFollowsThePersonAcrossDevicesAndIntoMail(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		u := e.staff("agent", "polyglot", "language test passphrase 1", e.f.Sales)
		me := access.ForUser(e.f.WS.ID, u.ID, access.RoleAgent, []int64{e.f.Sales})
		saved := func() string {
			t.Helper()
			l, err := a.Identity.Locale(ctx, me)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		lang := func(c *client, path string) string {
			t.Helper()
			body := c.get(path).must(t, 200).body
			i := strings.Index(body, `<html lang="`)
			if i < 0 {
				t.Fatalf("%s: no <html lang>", path)
			}
			return body[i+12 : i+14]
		}

		phone := e.signInStaff("fa", u.Email, "language test passphrase 1")
		if got := lang(phone, "/console/"); got != "fa" || saved() != "" {
			t.Fatalf("before any choice: page %q, saved %q; want fa and nothing saved", got, saved())
		}
		// A link on another site switches nothing that is saved.
		phone.do("GET", "/lang/en?next=/console/", nil, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if saved() != "" {
			t.Fatalf("a cross-site switch saved %q", saved())
		}
		phone.get("/lang/en?next=/console/").redirect(t, "/console/")
		if saved() != "en" {
			t.Fatalf("the switch on our page saved %q, want en", saved())
		}

		laptop := e.signInStaff("fa", u.Email, "language test passphrase 1")
		if got := lang(laptop, "/console/"); got != "en" {
			t.Fatalf("another device whose browser prefers Persian shows %q, want the saved en", got)
		}
		laptop.post("/auth/signout", url.Values{})
		anon := e.client("fa")
		anon.post("/auth/forgot", url.Values{"workspace": {e.f.WS.Slug}, "account": {"staff"}, "email": {u.Email}}).must(t, 200)
		e.deliver()
		m := e.smtp.WaitFor(t, func(m smtpd.Received) bool {
			return len(m.To) == 1 && strings.EqualFold(m.To[0], u.Email)
		}, 5*time.Second)
		if !strings.Contains(m.Subject, "Reset your") {
			t.Errorf("reset mail subject %q, want the English one", m.Subject)
		}

		// The security page's form: a bad value is a field error and changes nothing.
		p := phone.post("/account/language", url.Values{"locale": {"de"}, "next": {"/account/security"}}).must(t, 422)
		if !strings.Contains(p.body, `id="f-locale-error"`) {
			t.Errorf("no error tied to the language field")
		}
		if saved() != "en" {
			t.Fatalf("a refused choice changed the saved language to %q", saved())
		}
		phone.post("/account/language", url.Values{"locale": {"fa"}, "next": {"/account/security"}}).redirect(t, "/account/security")
		// A browser that prefers English now gets the saved Persian.
		if got := lang(e.signInStaff("en", u.Email, "language test passphrase 1"), "/console/"); got != "fa" || saved() != "fa" {
			t.Fatalf("after saving fa: page %q, saved %q", got, saved())
		}
		// "As my browser prefers" clears the choice.
		phone.post("/account/language", url.Values{"locale": {""}, "next": {"/account/security"}}).redirect(t, "/account/security")
		if saved() != "" {
			t.Fatalf("clearing left %q saved", saved())
		}
		if got := lang(e.signInStaff("en", u.Email, "language test passphrase 1"), "/console/"); got != "en" {
			t.Fatalf("with nothing saved an English browser sees %q", got)
		}
	})
}
