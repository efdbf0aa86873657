package monitor_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

// TestEveryAlertKeepsTheValuesItsWordsAreMadeOf drives every detector
// and reads its alert back from the database: the details the pages
// write the alert from are stored with it, by name, and hold no contact
// details or addresses.
func TestEveryAlertKeepsTheValuesItsWordsAreMadeOf(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.settings(func(s *monitor.Settings) {
			s.BusinessHours.Enabled = true
			s.Exfiltration.Floors[monitor.AccessView] = 5
		})
		user := access.ActorUser
		sales, finance, admin, sup := e.f.SalesAgent.ID, e.f.FinanceAgent.ID, e.f.Admin.ID, e.f.Supervisor.ID
		w := places(t)
		tehran, berlin := w.Locate(tehranIP), w.Locate(berlinIP)

		for i := range 10 {
			e.observe(failed(base.Add(time.Duration(i)*time.Minute), tehranIP, user, sales))
		}
		for i := range 10 {
			e.observe(monitor.Observation{Type: monitor.SignInFailed, At: base.Add(time.Duration(i) * time.Minute), IP: berlinIP,
				Details: map[string]string{"account_key": fmt.Sprintf("k%d", i)}})
		}
		e.observe(signin(base, finance, tehranIP, firefox, 1), signin(base.Add(travelTime(tehran, berlin, 2000)), finance, berlinIP, firefox, 2))
		e.observe(signin(base, sup, tehranIP, firefox, 3), signin(base.Add(10*time.Hour), sup, berlinIP, chrome, 4))
		for i := range 5 {
			e.observe(view(base.Add(time.Duration(i)*time.Second), sales, int64(100+i)))
		}
		e.observe(
			monitor.Observation{Type: monitor.MFARemoved, At: base, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: sales,
				IP: tehranIP, Details: map[string]string{"factor": "totp"}},
			monitor.Observation{Type: monitor.RecoveryUsed, At: base, ActorKind: user, ActorID: sales, IP: tehranIP},
			monitor.Observation{Type: monitor.RoleChanged, At: base, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: sales,
				Details: map[string]string{"from": "agent", "to": "supervisor"}},
			monitor.Observation{Type: monitor.TokenCreated, At: base, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: sales,
				Details: map[string]string{"permissions": "ticket.read user.manage", "token_id": "4"}},
			signin(base.Add(8*time.Hour), admin, tehranIP, firefox, 5), // Sunday 18:00 in Tehran
			policy(admin, defaultPolicy, [4]string{"none", "30", "8", "100"}),
			monitor.Observation{Type: monitor.DataProtectionChanged, At: base, ActorKind: user, ActorID: sup, IP: tehranIP,
				Details: map[string]string{"masking": "mask", "masking_from": "redact", "dangerous": "block", "dangerous_from": "block",
					"max_bytes": "20971520", "max_bytes_from": "10485760"}},
		)

		type key struct {
			rule string
			id   int64
		}
		want := map[key]map[string]string{
			{monitor.RuleBruteForce, sales}: {"attempts": "10", "addresses": "1", "window_seconds": "900", "threshold": "10"},
			{monitor.RuleSpraying, 0}:       {"accounts": "10", "attempts": "10", "window_seconds": "3600", "threshold": "10"},
			{monitor.RuleTravel, finance}:   {"threshold_kmh": "1000"},
			{monitor.RuleConcurrent, sup}:   {"interval_seconds": "36000"},
			{monitor.RuleNewSignIn, sup}:    {monitor.DetailNew: monitor.NewDeviceCountry, "window_seconds": "7776000"},
			{monitor.RuleExfiltration, sales}: {monitor.DetailAccessKind: monitor.AccessView, "count": "5", "ceiling": "5",
				"window_seconds": "3600"},
			{monitor.RuleMFARemoved, sales}:   {"factor": "totp", "by": "user:" + itoa(admin)},
			{monitor.RuleRecoveryUsed, sales}: {},
			{monitor.RulePrivilege, sales}:    {"from": "agent", monitor.DetailRoleTo: "supervisor", "by": "user:" + itoa(admin)},
			{monitor.RuleWideToken, sales}:    {"token_id": "4", "permissions": "user.manage", "by": "user:" + itoa(admin)},
			{monitor.RuleOffHours, admin}:     {"weekday": "0", "local_time": "18:00", "time_zone": "Asia/Tehran", "start": "08:00", "end": "18:00"},
			{monitor.RulePolicyWeakened, admin}: {monitor.DetailPolicy: monitor.PolicySignIn, "weakened": "mfa_required password_min_length",
				"mfa_required": "none", "mfa_required_from": "admins", "password_min_length": "8", "password_min_length_from": "12"},
			{monitor.RulePolicyWeakened, sup}: {monitor.DetailPolicy: monitor.PolicyDataProtection, "weakened": "masking max_bytes",
				"masking": "mask", "masking_from": "redact", "max_bytes": "20971520", "max_bytes_from": "10485760"},
		}
		seen := map[key]bool{}
		for _, al := range e.alerts("") {
			k := key{al.Rule, al.AccountID}
			w, ok := want[k]
			if !ok {
				continue
			}
			seen[k] = true
			for name, v := range w {
				if al.Details[name] != v {
					t.Errorf("%s of %d: %s = %q, want %q (all: %v)", al.Rule, al.AccountID, name, al.Details[name], v, al.Details)
				}
			}
			for name, v := range al.Details {
				if strings.Contains(v, "@") || strings.Contains(v, tehranIP) || strings.Contains(v, berlinIP) || strings.Contains(v, "Tehran,") {
					t.Errorf("%s: detail %s holds %q", al.Rule, name, v)
				}
			}
		}
		for k := range want {
			if !seen[k] {
				t.Errorf("no %s alert for account %d", k.rule, k.id)
			}
		}
		// Travel's numbers are whole and above the threshold.
		for _, al := range e.alerts(monitor.RuleTravel) {
			speed, err1 := strconv.Atoi(al.Details["speed_kmh"])
			km, err2 := strconv.Atoi(al.Details["distance_km"])
			if err1 != nil || err2 != nil || speed <= 1000 || km <= 0 || al.Details["interval_seconds"] == "" {
				t.Errorf("travel details: %v", al.Details)
			}
		}
	})
}
