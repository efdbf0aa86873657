package monitor_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

// policy is a security_settings.changed observation by user id, from the
// old values to the new ones (mfa, idle minutes, password minimum, lockout).
func policy(id int64, from, to [4]string) monitor.Observation {
	d := map[string]string{}
	for i, key := range []string{"mfa_required", "staff_idle_minutes", "password_min_length", "lockout_threshold"} {
		d[key+"_from"], d[key] = from[i], to[i]
	}
	return monitor.Observation{Type: monitor.PolicyChanged, At: base, ActorKind: access.ActorUser, ActorID: id, IP: tehranIP, Details: d}
}

var defaultPolicy = [4]string{"admins", "30", "12", "100"}

func TestWeakerSignInPolicyAlertsAndStrongerOrSameDoesNot(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		admin := e.f.Admin.ID
		strict := [4]string{"everyone", "15", "16", "10"}
		e.observe(policy(admin, defaultPolicy, defaultPolicy), policy(admin, defaultPolicy, strict),
			policy(admin, [4]string{"staff", "60", "12", "100"}, [4]string{"everyone", "30", "14", "100"}),
			// Hesar itself (setup, operator tooling) is not questioned.
			monitor.Observation{Type: monitor.PolicyChanged, At: base, ActorKind: access.ActorSystem, Details: policy(0, strict, defaultPolicy).Details},
			// An event without the old values cannot be judged.
			monitor.Observation{Type: monitor.PolicyChanged, At: base, ActorKind: access.ActorUser, ActorID: admin,
				Details: map[string]string{"mfa_required": "none", "staff_idle_minutes": "600", "password_min_length": "12", "lockout_threshold": "100"}})
		if as := e.alerts(monitor.RulePolicyWeakened); len(as) != 0 {
			t.Fatalf("a stronger or unchanged policy raised %+v", as)
		}
		cases := []struct {
			name     string
			from, to [4]string
			says     string
		}{
			{"mfa", strict, [4]string{"staff", "15", "16", "10"}, "a second factor is now required of all staff instead of everyone"},
			{"mfa off", defaultPolicy, [4]string{"none", "30", "12", "100"}, "required of no one instead of admins only"},
			{"password", strict, [4]string{"everyone", "15", "12", "10"}, "minimum password length was lowered from 16 to 12 characters"},
			{"lockout", strict, [4]string{"everyone", "15", "16", "50"}, "accounts now lock after 50 failed sign-ins instead of 10"},
			{"idle", strict, [4]string{"everyone", "120", "16", "10"}, "idle staff sessions now end after 2 hours instead of 15 minutes"},
		}
		for i, c := range cases {
			// Each case by its own user, so each opens its own alert.
			by, err := a.Identity.CreateUser(ctx, e.f.System(), identity.NewUser{Email: "p" + itoa(int64(i)) + "-" + e.f.WS.Slug + "@policy.test",
				Name: "Admin " + c.name, Role: "admin"})
			if err != nil {
				t.Fatal(err)
			}
			e.observe(policy(by.ID, c.from, c.to))
			var got *monitor.Alert
			for _, al := range e.alerts(monitor.RulePolicyWeakened) {
				if al.AccountID == by.ID {
					got = &al
				}
			}
			if got == nil {
				t.Errorf("%s: weakening raised nothing", c.name)
				continue
			}
			if got.Severity != monitor.High || got.Title != "Sign-in policy weakened by user #"+itoa(by.ID) {
				t.Errorf("%s: %+v", c.name, got)
			}
			mustContain(t, got.Explanation, c.says, "by user #"+itoa(by.ID), "set the policy back", "audit log")
		}
		// Everything at once is one alert naming each change.
		e.observe(policy(admin, strict, [4]string{"none", "600", "12", "100"}))
		as := e.alerts(monitor.RulePolicyWeakened)
		i := slices.IndexFunc(as, func(x monitor.Alert) bool { return x.AccountID == admin })
		if i < 0 {
			t.Fatalf("no alert about the admin: %+v", as)
		}
		mustContain(t, as[i].Explanation, "no one instead of everyone", "from 16 to 12", "after 100 failed sign-ins instead of 10",
			"after 10 hours instead of 15 minutes")
		// The rule can be turned off.
		e.settings(func(s *monitor.Settings) {
			r := s.Rules[monitor.RulePolicyWeakened]
			r.Enabled = false
			s.Rules[monitor.RulePolicyWeakened] = r
		})
		e.observe(policy(e.f.Supervisor.ID, strict, defaultPolicy))
		if n := len(e.alerts(monitor.RulePolicyWeakened)); n != len(as) {
			t.Errorf("a disabled rule raised an alert (%d, was %d)", n, len(as))
		}
	})
}

// TestIdentityReportsThePolicyItReplaced drives the real identity service:
// its event says what the policy was, so the app's monitor can judge it.
func TestIdentityReportsThePolicyItReplaced(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		admin := f.Scope(t, "admin")
		set := func(change func(*identity.Security)) {
			t.Helper()
			p, err := a.Identity.SecuritySettings(ctx, f.WS.ID)
			if err != nil {
				t.Fatal(err)
			}
			change(&p)
			if _, err := a.Identity.SetSecuritySettings(ctx, admin, p, identity.Client{IP: tehranIP}); err != nil {
				t.Fatal(err)
			}
			if err := a.Monitor.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		alerts := func() []monitor.Alert {
			t.Helper()
			as, err := a.Monitor.Alerts(ctx, f.WS.ID, monitor.Filter{Rule: monitor.RulePolicyWeakened})
			if err != nil {
				t.Fatal(err)
			}
			return as
		}
		set(func(p *identity.Security) {
			p.MFARequired, p.PasswordMinLength, p.LockoutThreshold = identity.MFAEveryone, 16, 10
		})
		set(func(p *identity.Security) {})
		if as := alerts(); len(as) != 0 {
			t.Fatalf("a stronger or unchanged policy raised %+v", as)
		}
		set(func(p *identity.Security) { p.MFARequired, p.LockoutThreshold = identity.MFAAdmins, 50 })
		as := alerts()
		if len(as) != 1 || as[0].AccountID != f.Admin.ID {
			t.Fatalf("weakening through identity: %+v", as)
		}
		mustContain(t, as[0].Explanation, "admins only instead of everyone", "after 50 failed sign-ins instead of 10", "by user #"+itoa(f.Admin.ID))
		if strings.Contains(as[0].Explanation, "password") && strings.Contains(as[0].Explanation, "lowered") {
			t.Errorf("an unchanged password minimum is reported: %s", as[0].Explanation)
		}
	})
}

func TestAlertMailIsInEachAdminsLanguage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		e := newEnv(t, a, func(o *monitor.Options) { o.DashboardURL = "https://hesar.test/admin/security" })
		persian, err := a.Identity.CreateUser(ctx, e.f.System(), identity.NewUser{Email: "fa-" + e.f.WS.Slug + "@policy.test", Name: "Maryam", Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		e.locales[persian.ID] = "fa"
		e.observe(policy(e.f.Admin.ID, defaultPolicy, [4]string{"none", "30", "12", "100"}))
		as := e.alerts(monitor.RulePolicyWeakened)
		if len(as) != 1 {
			t.Fatalf("alerts: %+v", as)
		}
		if _, err := deliverer(a, srv).DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		// Creating the user mailed them too; the alert is the mail naming it.
		alertTo := func(addr string) smtpd.Received {
			return srv.WaitFor(t, func(r smtpd.Received) bool {
				return slices.Contains(r.To, addr) && strings.Contains(r.Subject, as[0].Title)
			}, 5*time.Second)
		}
		fa, en := alertTo(persian.Email), alertTo(e.f.Admin.Email)
		mustContain(t, fa.Subject, "هشدار امنیتی (بالا)", as[0].Title)
		mustContain(t, fa.Body, "Maryam گرامی", "«بالا»", "تضعیف سیاست ورود (policy_weakened)", "شمارهٔ", as[0].Explanation,
			"https://hesar.test/admin/security")
		mustContain(t, en.Subject, "Security alert (high): Sign-in policy weakened by user #"+itoa(e.f.Admin.ID))
		mustContain(t, en.Body, "Alert #"+itoa(as[0].ID)+", rule policy_weakened", as[0].Explanation, "https://hesar.test/admin/security")
		if hasArabicScript(en.Subject + en.Body) {
			t.Errorf("the English mail holds Persian text:\n%s", en.Body)
		}
	})
}

// TestEveryRuleHasAPersianName: a rule added to the monitor must be named
// in the Persian alert mail too.
func TestEveryRuleHasAPersianName(t *testing.T) {
	for rule := range monitor.Defaults().Rules {
		_, body, err := mail.RenderAlert("fa", mail.AlertMail{Workspace: "Acme", Rule: rule, Severity: monitor.High, Title: "t", Explanation: "e"})
		if err != nil || !strings.Contains(body, " ("+rule+")") {
			t.Errorf("%s has no Persian name in alert mail (%v)", rule, err)
		}
	}
}

func hasArabicScript(s string) bool {
	for _, r := range s {
		if r >= 0x0600 && r <= 0x06FF {
			return true
		}
	}
	return false
}
