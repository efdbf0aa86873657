package monitor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

func TestBruteForceOnOneAccountAlertsAtTheThresholdOnce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		agent := e.f.SalesAgent.ID
		for i := range 9 {
			e.observe(failed(base.Add(time.Duration(i)*time.Minute), fmt.Sprintf("198.51.100.%d", 10+i%3), access.ActorUser, agent))
		}
		if as := e.alerts(monitor.RuleBruteForce); len(as) != 0 {
			t.Fatalf("9 failures (threshold 10) raised %+v", as)
		}
		e.observe(failed(base.Add(9*time.Minute), tehranIP, access.ActorUser, agent))
		as := e.alerts(monitor.RuleBruteForce)
		if len(as) != 1 || as[0].Severity != monitor.High || as[0].AccountID != agent || as[0].Count != 1 {
			t.Fatalf("10th failure: %+v", as)
		}
		mustContain(t, as[0].Explanation, "10 failed sign-ins", fmt.Sprintf("user #%d", agent), "4 addresses", "15 minutes", "reset the password")
		if len(as[0].Evidence.Addresses) != 1 || as[0].Evidence.Addresses[0] != tehranIP {
			t.Errorf("evidence: %+v", as[0].Evidence)
		}
		e.observe(failed(base.Add(10*time.Minute), berlinIP, access.ActorUser, agent))
		as = e.alerts(monitor.RuleBruteForce)
		if len(as) != 1 || as[0].Count != 2 || len(as[0].Evidence.Addresses) != 2 {
			t.Fatalf("a repeat is counted on the open alert: %+v", as)
		}
		// Failures spread beyond the window never add up.
		other := e.f.FinanceAgent.ID
		for i := range 12 {
			e.observe(failed(base.Add(time.Duration(i)*2*time.Hour), tehranIP2, access.ActorUser, other))
		}
		for _, a := range e.alerts(monitor.RuleBruteForce) {
			if a.AccountID == other {
				t.Errorf("12 failures two hours apart raised %+v", a)
			}
		}
	})
}

func TestSprayingFromOneAddressAcrossManyAccounts(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		at := base
		for i := range 8 {
			at = at.Add(time.Minute)
			e.observe(monitor.Observation{Type: monitor.SignInFailed, At: at, IP: berlinIP, Details: map[string]string{"account_key": fmt.Sprintf("k%d", i)}})
		}
		// One account tried again and again counts once.
		e.observe(failed(at, berlinIP, access.ActorUser, e.f.Admin.ID), failed(at, berlinIP, access.ActorUser, e.f.Admin.ID),
			monitor.Observation{Type: monitor.SignInFailed, At: at, IP: berlinIP, Details: map[string]string{"account_key": "k0"}})
		if as := e.alerts(monitor.RuleSpraying); len(as) != 0 {
			t.Fatalf("9 accounts (threshold 10) raised %+v", as)
		}
		e.observe(failed(at.Add(time.Minute), berlinIP, access.ActorUser, e.f.SalesAgent.ID))
		as := e.alerts(monitor.RuleSpraying)
		if len(as) != 1 || as[0].AccountID != 0 || as[0].Evidence.Addresses[0] != berlinIP {
			t.Fatalf("10th account: %+v", as)
		}
		mustContain(t, as[0].Explanation, "10 different accounts", "12 attempts", "block it at your firewall")
	})
}

// travelTime is how long a trip between two places takes at kmh, on the
// detector's terms (distance less both accuracy radii).
func travelTime(a, b geoip.Place, kmh float64) time.Duration {
	km := geoip.DistanceKm(a, b) - a.RadiusKm - b.RadiusKm
	return time.Duration(km / kmh * float64(time.Hour))
}

func TestImpossibleTravelAboveThousandKmPerHour(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		w := places(t)
		tehran, berlin := w.Locate(tehranIP), w.Locate(berlinIP)
		slow, fast := e.f.SalesAgent.ID, e.f.FinanceAgent.ID
		e.observe(signin(base, slow, tehranIP, firefox, 1), signin(base.Add(travelTime(tehran, berlin, 999)), slow, berlinIP, firefox, 2))
		if as := e.alerts(monitor.RuleTravel); len(as) != 0 {
			t.Fatalf("999 km/h raised %+v", as)
		}
		e.observe(signin(base, fast, tehranIP, firefox, 3), signin(base.Add(travelTime(tehran, berlin, 1001)), fast, berlinIP, firefox, 4))
		as := e.alerts(monitor.RuleTravel)
		if len(as) != 1 || as[0].AccountID != fast {
			t.Fatalf("1001 km/h: %+v", as)
		}
		mustContain(t, as[0].Explanation, "1,001 km/h", "faster than the 1000 km/h", "end the account's sessions")
		if got := as[0].Evidence.Places; len(got) != 2 || got[0] != "Tehran, IR" || got[1] != "Berlin, DE" {
			t.Errorf("evidence places: %v", got)
		}
		// Tehran to Karaj in ten minutes is a short drive's distance.
		e.observe(signin(base.Add(5*time.Hour), e.f.Admin.ID, tehranIP, firefox, 5), signin(base.Add(5*time.Hour+10*time.Minute), e.f.Admin.ID, karajIP, firefox, 6))
		if as := e.alerts(monitor.RuleTravel); len(as) != 1 {
			t.Errorf("Tehran-Karaj raised travel: %+v", as)
		}
	})
}

func TestConcurrentSessionsFromTwoCountries(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ended, live := e.f.SalesAgent.ID, e.f.FinanceAgent.ID
		e.observe(signin(base, ended, tehranIP, firefox, 11),
			monitor.Observation{Type: monitor.SessionEnded, At: base.Add(time.Hour), ActorKind: access.ActorUser, ActorID: ended, SessionID: 11},
			signin(base.Add(10*time.Hour), ended, berlinIP, firefox, 12))
		if as := e.alerts(monitor.RuleConcurrent); len(as) != 0 {
			t.Fatalf("an ended session counted: %+v", as)
		}
		e.observe(signin(base, live, tehranIP, firefox, 13), signin(base.Add(10*time.Hour), live, berlinIP, firefox, 14))
		as := e.alerts(monitor.RuleConcurrent)
		if len(as) != 1 || as[0].AccountID != live || as[0].Severity != monitor.Medium {
			t.Fatalf("live session in another country: %+v", as)
		}
		if as := e.alerts(monitor.RuleTravel); len(as) != 0 {
			t.Errorf("ten hours Tehran-Berlin is not impossible: %+v", as)
		}
	})
}

func TestNormalTrafficRaisesNothing(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ticket := int64(1000)
		for day := range 8 {
			start := base.Add(time.Duration(day) * 24 * time.Hour)
			e.observe(signin(start, e.f.SalesAgent.ID, tehranIP, firefox, int64(100+day)),
				signin(start.Add(time.Minute), e.f.Admin.ID, tehranIP2, chrome, int64(200+day)),
				monitor.Observation{Type: monitor.SessionEnded, At: start.Add(9 * time.Hour), ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID, SessionID: int64(100 + day)})
			// One mistyped password a day.
			e.observe(failed(start.Add(-time.Minute), tehranIP, access.ActorUser, e.f.SalesAgent.ID))
			var obs []monitor.Observation
			for h := range 3 {
				for i := range 30 {
					ticket++
					obs = append(obs, view(start.Add(time.Duration(h)*time.Hour+time.Duration(i)*time.Minute), e.f.SalesAgent.ID, ticket))
				}
			}
			e.observe(obs...)
		}
		if as := e.alerts(""); len(as) != 0 {
			t.Fatalf("normal traffic raised %d alerts, first %+v", len(as), as[0])
		}
	})
}

func TestExfiltrationAboveCeilingAndBaseline(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		agent := e.f.SalesAgent.ID
		ticket := int64(0)
		views := func(start time.Time, n int, id int64) {
			var obs []monitor.Observation
			for i := range n {
				ticket++
				obs = append(obs, view(start.Add(time.Duration(i)*time.Second), id, ticket))
			}
			e.observe(obs...)
		}
		views(base, 299, agent)
		// Viewing the same ticket again is not more data.
		e.observe(view(base.Add(5*time.Minute), agent, ticket), view(base.Add(5*time.Minute), agent, ticket))
		if as := e.alerts(monitor.RuleExfiltration); len(as) != 0 {
			t.Fatalf("299 tickets (ceiling 300) raised %+v", as)
		}
		views(base.Add(10*time.Minute), 1, agent)
		as := e.alerts(monitor.RuleExfiltration)
		if len(as) != 1 || as[0].AccountID != agent {
			t.Fatalf("300th ticket: %+v", as)
		}
		mustContain(t, as[0].Explanation, "300 distinct ticket.view in 1 hour", "fixed ceiling 300", "lock the account")

		// A heavy reader is held to five times their own baseline.
		e.settings(func(s *monitor.Settings) { s.Exfiltration.Floors[monitor.AccessView] = 50 })
		heavy := e.f.FinanceAgent.ID
		for h := range 4 {
			views(base.Add(time.Duration(h+2)*time.Hour), 20, heavy)
		}
		now := base.Add(12 * time.Hour)
		views(now, 99, heavy)
		for _, a := range e.alerts(monitor.RuleExfiltration) {
			if a.AccountID == heavy {
				t.Fatalf("99 against a baseline of 20 an hour (limit 100) raised %+v", a)
			}
		}
		views(now.Add(time.Minute), 1, heavy)
		found := false
		for _, a := range e.alerts(monitor.RuleExfiltration) {
			if a.AccountID == heavy {
				found = true
				mustContain(t, a.Explanation, "100 distinct", "threshold is 100", "usual 20.0 an hour")
			}
		}
		if !found {
			t.Fatal("100 against a baseline of 20 an hour raised nothing")
		}
	})
}
