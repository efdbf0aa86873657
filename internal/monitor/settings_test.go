package monitor_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

func TestSettingsHaveDefaultsAndRefuseNonsense(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		s, err := e.m.Settings(ctx, e.ws)
		if err != nil || s.Rules[monitor.RuleBruteForce].Threshold != 10 || s.Rules[monitor.RuleTravel].Threshold != 1000 || s.EmailSeverity != monitor.Medium {
			t.Fatalf("defaults: %+v %v", s, err)
		}
		bad := []struct {
			field  string
			change func(*monitor.Settings)
		}{
			{"rules.brute_force.threshold", func(s *monitor.Settings) {
				r := s.Rules[monitor.RuleBruteForce]
				r.Threshold = 1
				s.Rules[monitor.RuleBruteForce] = r
			}},
			{"rules.brute_force.window", func(s *monitor.Settings) {
				r := s.Rules[monitor.RuleBruteForce]
				r.Window = 0
				s.Rules[monitor.RuleBruteForce] = r
			}},
			{"rules.impossible_travel.severity", func(s *monitor.Settings) {
				r := s.Rules[monitor.RuleTravel]
				r.Severity = "urgent"
				s.Rules[monitor.RuleTravel] = r
			}},
			{"rules.password_spraying.response", func(s *monitor.Settings) {
				r := s.Rules[monitor.RuleSpraying]
				r.Response = []string{monitor.RespondLock}
				s.Rules[monitor.RuleSpraying] = r
			}},
			{"rules.mfa_removed.response", func(s *monitor.Settings) {
				r := s.Rules[monitor.RuleMFARemoved]
				r.Response = []string{"wipe"}
				s.Rules[monitor.RuleMFARemoved] = r
			}},
			{"rules.nonsense", func(s *monitor.Settings) { s.Rules["nonsense"] = monitor.Rule{} }},
			{"exfiltration.factor", func(s *monitor.Settings) { s.Exfiltration.Factor = 1 }},
			{"exfiltration.floors.ticket.print", func(s *monitor.Settings) { s.Exfiltration.Floors["ticket.print"] = 3 }},
			{"business_hours.time_zone", func(s *monitor.Settings) { s.BusinessHours.Enabled, s.BusinessHours.TimeZone = true, "Mars/Olympus" }},
			{"business_hours.end", func(s *monitor.Settings) { s.BusinessHours.Start, s.BusinessHours.End = "18:00", "08:00" }},
			{"business_hours.start", func(s *monitor.Settings) { s.BusinessHours.Start = "8am" }},
			{"email_severity", func(s *monitor.Settings) { s.EmailSeverity = "" }},
			{"recipients", func(s *monitor.Settings) { s.Recipients = []int64{-1} }},
			{"webhook_url", func(s *monitor.Settings) {
				s.WebhookURL, s.WebhookSecret = "ftp://example.com/hook", "0123456789abcdef"
			}},
			{"webhook_url", func(s *monitor.Settings) {
				s.WebhookURL, s.WebhookSecret = "https://user:pw@example.com/hook", "0123456789abcdef"
			}},
			{"webhook_secret", func(s *monitor.Settings) { s.WebhookURL, s.WebhookSecret = "https://example.com/hook", "short" }},
			{"webhook_secret", func(s *monitor.Settings) { s.WebhookURL = "https://example.com/hook" }},
		}
		for _, c := range bad {
			s, _ := e.m.Settings(ctx, e.ws)
			c.change(&s)
			err := e.m.SetSettings(ctx, e.ws, s)
			var invalid *errs.Invalid
			if !errors.As(err, &invalid) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("%s: got %v", c.field, err)
			}
		}
		e.settings(func(s *monitor.Settings) {
			s.WebhookURL, s.WebhookSecret = "https://hooks.example.com/hesar", "0123456789abcdef-secret"
			r := s.Rules[monitor.RuleBruteForce]
			r.Threshold = 5
			s.Rules[monitor.RuleBruteForce] = r
		})
		got, _ := e.m.Settings(ctx, e.ws)
		if got.WebhookSecret != "" || !got.WebhookSecretSet || got.WebhookURL != "https://hooks.example.com/hesar" || got.Rules[monitor.RuleBruteForce].Threshold != 5 {
			t.Fatalf("stored: %+v", got)
		}
		// Saving again without the secret keeps it.
		if err := e.m.SetSettings(ctx, e.ws, got); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.m.Settings(ctx, e.ws); !got.WebhookSecretSet {
			t.Error("the secret was lost")
		}
	})
}

// TestNothingPersonalIsStoredInTheClear plants an address, a user agent, a
// webhook URL and secret and a note, then reads every monitor table raw.
func TestNothingPersonalIsStoredInTheClear(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		const ip, agentMark, secret, hook, note = "198.51.100.213", "PlantedAgent/9.9", "planted-webhook-secret-4711", "https://planted-hook.example.com/x", "planted note about Sara"
		e.settings(func(s *monitor.Settings) {
			s.WebhookURL, s.WebhookSecret = hook, secret
			r := s.Rules[monitor.RuleBruteForce]
			r.Threshold = 3
			s.Rules[monitor.RuleBruteForce] = r
		})
		for i := range 3 {
			o := failed(base.Add(time.Duration(i)*time.Second), ip, access.ActorUser, e.f.SalesAgent.ID)
			o.UserAgent = agentMark
			e.observe(o)
		}
		e.observe(signin(base, e.f.SalesAgent.ID, ip, agentMark, 9))
		as := e.alerts(monitor.RuleBruteForce)
		if len(as) != 1 {
			t.Fatalf("alerts: %+v", as)
		}
		if err := e.m.SetAlertState(ctx, e.ws, as[0].ID, monitor.StateAcknowledged, e.f.Admin.ID, note); err != nil {
			t.Fatal(err)
		}
		planted := []string{ip, agentMark, secret, hook, "planted note", "planted-hook"}
		for _, table := range []string{"monitor_settings", "monitor_marks", "monitor_hourly", "monitor_signins", "monitor_alerts", "monitor_deliveries"} {
			rows, err := a.DB.Read().QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				n++
				for i, v := range vals {
					raw := []byte(fmt.Sprint(v))
					if b, ok := v.([]byte); ok {
						raw = b
					}
					for _, p := range planted {
						if bytes.Contains(raw, []byte(p)) {
							t.Errorf("%s.%s holds %q in the clear", table, cols[i], p)
						}
					}
				}
			}
			rows.Close()
			if n == 0 && table != "monitor_hourly" {
				t.Errorf("%s is empty: the scan proves nothing", table)
			}
		}
		// What the admins see is opened for them.
		if got := e.alerts(monitor.RuleBruteForce)[0]; got.Evidence.Addresses[0] != ip || got.StateNote != note {
			t.Errorf("opened alert: %+v", got)
		}
	})
}

func TestDashboardShowsAlertsSignInsTrendAndAccessors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		now := base.Add(30 * time.Hour).Truncate(time.Hour).Add(20 * time.Minute)
		e.clock.t = now
		e.observe(signin(now.Add(-time.Minute), e.f.SalesAgent.ID, tehranIP, firefox, 1),
			failed(now.Add(-2*time.Hour), berlinIP, access.ActorUser, e.f.Admin.ID),
			failed(now.Add(-2*time.Hour+time.Minute), berlinIP, "", 0),
			failed(now.Add(-30*time.Hour), berlinIP, access.ActorUser, e.f.Admin.ID), // outside the 24 hours
			monitor.Observation{Type: monitor.RecoveryUsed, At: now, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID})
		for i := range 7 {
			e.observe(view(now.Add(-time.Duration(i)*time.Minute), e.f.SalesAgent.ID, int64(i+1)))
		}
		e.observe(view(now, e.f.FinanceAgent.ID, 99), monitor.Observation{Type: monitor.AccessSearch, At: now, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID})
		d, err := e.m.Dashboard(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		if d.OpenBySeverity[monitor.Medium] != 1 || len(d.Open) != 1 || d.Open[0].Rule != monitor.RuleRecoveryUsed {
			t.Errorf("open alerts: %+v %+v", d.OpenBySeverity, d.Open)
		}
		if len(d.SignIns) != 4 {
			t.Fatalf("sign-ins: %+v", d.SignIns)
		}
		first := d.SignIns[0]
		if first.Result != "succeeded" || first.AccountID != e.f.SalesAgent.ID || first.Place != "Tehran, IR" || first.Device != identity.DescribeDevice(firefox) || first.IP != tehranIP {
			t.Errorf("latest sign-in: %+v", first)
		}
		if len(d.FailedPerHour) != 24 || d.FailedPerHour[21].Count != 2 || d.FailedPerHour[23].Count != 0 {
			t.Errorf("failed per hour: %+v", d.FailedPerHour)
		}
		total := 0
		for _, h := range d.FailedPerHour {
			total += h.Count
		}
		if total != 2 {
			t.Errorf("%d failures in 24 hours, want 2", total)
		}
		if len(d.TopAccessors) != 2 || d.TopAccessors[0].AccountID != e.f.SalesAgent.ID || d.TopAccessors[0].Total != 8 ||
			d.TopAccessors[0].ByKind[monitor.AccessView] != 7 || d.TopAccessors[1].Total != 1 {
			t.Errorf("top accessors: %+v", d.TopAccessors)
		}
	})
}
