package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

// TestWeakerDataProtectionIsNotCalledASignInPolicyChange: both weakenings
// raise policy_weakened alerts; the pages tell them apart by the alert's
// details, in both languages.
func TestWeakerDataProtectionIsNotCalledASignInPolicyChange(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		e := newEnv(t, a)
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		scope := access.Scope{WorkspaceID: e.f.WS.ID, Kind: access.ActorUser, ActorID: admin.ID}
		a.Monitor.Observe(ctx, monitor.DataProtectionObservation(scope, 0, "198.51.100.7", "test",
			map[string]string{"masking": "mask", "masking_from": "redact", "dangerous": "block", "dangerous_from": "block"}))
		if err := a.Monitor.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ lang, want, not string }{
			{"fa", "تضعیف حفاظت از داده‌ها توسط roya", "تضعیف سیاست ورود"},
			{"en", "Data protection weakened by roya", "Sign-in policy weakened"},
		} {
			p := e.signInStaff(c.lang, admin.Email, passphrase).get("/admin/security/alerts").page(t, c.lang)
			if !strings.Contains(p.body, c.want) || strings.Contains(p.body, c.not) {
				t.Errorf("%s: want %q and no %q: %.4000s", c.lang, c.want, c.not, p.body)
			}
		}
	})
}
