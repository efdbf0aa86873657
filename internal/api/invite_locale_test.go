package api_test

import (
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
)

// TestAPIInvitationInTheChosenLanguage: a user created through the API
// without a password is invited by mail in invite_locale; anything but
// fa, en or empty is refused on that field and creates no one.
func TestAPIInvitationInTheChosenLanguage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "an admin passphrase long enough"
		admin := e.staff("admin", "Roya", pw)
		b := e.browser()
		b.signIn(e.f.WS.Slug, "staff", admin.Email, pw)

		users := func() int64 { return e.queryInt(`SELECT COUNT(*) FROM users WHERE workspace_id = $1`, e.f.WS.ID) }
		before := users()
		b.wantError(422, "validation_failed", "POST", "/api/v1/users",
			map[string]any{"email": "x@example.com", "name": "X", "role": "agent", "invite_locale": "de"})
		if n := users() - before; n != 0 {
			t.Fatalf("a refused invitation made %d users", n)
		}
		b.must(201, "POST", "/api/v1/users", map[string]any{"email": "nasim@example.com", "name": "نسیم", "role": "agent", "invite_locale": "fa"}, nil)
		if m := e.mailTo("nasim@example.com", ""); !strings.Contains(m.Subject, "دعوت") {
			t.Errorf("the Persian invitation's subject is %q", m.Subject)
		}
		b.must(201, "POST", "/api/v1/users", map[string]any{"email": "omid@example.com", "name": "Omid", "role": "agent"}, nil)
		if m := e.mailTo("omid@example.com", ""); !strings.Contains(m.Subject, "invited") {
			t.Errorf("the default invitation's subject is %q", m.Subject)
		}
	})
}
