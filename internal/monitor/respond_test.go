package monitor_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

func deliverer(a *app.App, srv *smtpd.Server) *mail.Deliverer {
	return mail.NewDeliverer(a.DB, a.Keys, mail.SMTPConfig{Host: srv.Host(), Port: srv.Port(), Security: "starttls",
		From: "Hesar <noreply@hesar.test>", Timeout: 5 * time.Second, RootCAs: srv.RootCAs()}, slog.New(slog.DiscardHandler))
}

func TestNewDeviceOrCountryAlertsAndMailsTheUser(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		srv := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		e := newEnv(t, a)
		u := e.f.SalesAgent
		e.observe(signin(base, u.ID, tehranIP, firefox, 1)) // the first sign-in known: nothing to compare with
		e.observe(signin(base.Add(24*time.Hour), u.ID, karajIP, firefox, 2))
		if as := e.alerts(monitor.RuleNewSignIn); len(as) != 0 {
			t.Fatalf("same device, same country raised %+v", as)
		}
		e.observe(signin(base.Add(48*time.Hour), u.ID, tehranIP, chrome, 3))
		as := e.alerts(monitor.RuleNewSignIn)
		if len(as) != 1 || as[0].Severity != monitor.Low || !strings.Contains(as[0].Title, "a new device") {
			t.Fatalf("new device: %+v", as)
		}
		if _, err := deliverer(a, srv).DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		msg := srv.WaitFor(t, func(r smtpd.Received) bool {
			return slices.Contains(r.To, u.Email) && strings.Contains(r.Subject, "New sign-in")
		}, 5*time.Second)
		mustContain(t, msg.Body, "Chrome on macOS", tehranIP, "Tehran, IR", "https://hesar.test/account/sessions")
		// Low alerts are not mailed to admins by default.
		for _, m := range srv.Messages() {
			if slices.Contains(m.To, e.f.Admin.Email) && strings.Contains(m.Subject, "Security alert") {
				t.Errorf("a low alert was mailed: %q", m.Subject)
			}
		}
		e.observe(signin(base.Add(72*time.Hour), u.ID, berlinIP, chrome, 4))
		if as := e.alerts(monitor.RuleNewSignIn); len(as) != 1 || as[0].Count != 2 || !slices.Contains(as[0].Evidence.Places, "Berlin, DE") {
			t.Fatalf("new country counts on the open alert: %+v", as)
		}
	})
}

func TestAccountChangesThatWeakenOrWiden(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		agent, admin := e.f.SalesAgent.ID, e.f.Admin.ID
		user := access.ActorUser
		quiet := []monitor.Observation{
			{Type: monitor.RoleChanged, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: agent, Details: map[string]string{"from": "admin", "to": "agent"}},
			{Type: monitor.TokenCreated, ActorKind: user, ActorID: agent, TargetKind: "user", TargetID: agent, Details: map[string]string{"permissions": "ticket.read ticket.reply", "token_id": "1"}},
			{Type: monitor.TokenCreated, ActorKind: user, ActorID: agent, TargetKind: "user", TargetID: agent, Details: map[string]string{"permissions": "owner's", "token_id": "2"}},
			{Type: monitor.TokenCreated, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: admin, Details: map[string]string{"permissions": "ticket.read", "token_id": "3"}},
		}
		e.observe(quiet...)
		if as := e.alerts(""); len(as) != 0 {
			t.Fatalf("harmless changes raised %+v", as)
		}
		cases := []struct {
			o             monitor.Observation
			rule, mention string
		}{
			{monitor.Observation{Type: monitor.MFARemoved, ActorKind: user, ActorID: agent, IP: tehranIP, Details: map[string]string{"factor": "totp"}}, monitor.RuleMFARemoved, "second factor (totp)"},
			{monitor.Observation{Type: monitor.RecoveryUsed, ActorKind: user, ActorID: agent, IP: tehranIP}, monitor.RuleRecoveryUsed, "recovery code"},
			{monitor.Observation{Type: monitor.RoleChanged, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: agent, Details: map[string]string{"from": "agent", "to": "admin"}}, monitor.RulePrivilege, "from agent to admin by user #"},
			{monitor.Observation{Type: monitor.TokenCreated, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: agent, Details: map[string]string{"permissions": "ticket.read user.manage", "token_id": "4"}}, monitor.RuleWideToken, "user.manage"},
			{monitor.Observation{Type: monitor.TokenCreated, ActorKind: user, ActorID: admin, TargetKind: "user", TargetID: admin, Details: map[string]string{"permissions": "owner's", "token_id": "5"}}, monitor.RuleWideToken, "every permission of an admin"},
		}
		for _, c := range cases {
			c.o.At = base
			e.observe(c.o)
			as := e.alerts(c.rule)
			if len(as) == 0 {
				t.Errorf("%s raised nothing", c.o.Type)
				continue
			}
			mustContain(t, as[0].Explanation, c.mention)
		}
	})
}

func TestAdminSignInOutsideBusinessHours(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.settings(func(s *monitor.Settings) {
			s.BusinessHours = monitor.BusinessHours{Enabled: true, TimeZone: "Asia/Tehran", Days: []int{6, 0, 1, 2, 3}, Start: "08:00", End: "18:00"}
		})
		admin := e.f.Admin.ID
		// base is Sunday 10:00 in Tehran; 17:59 is still in hours.
		e.observe(signin(base, admin, tehranIP, firefox, 1), signin(base.Add(7*time.Hour+59*time.Minute), admin, tehranIP, firefox, 2),
			signin(base.Add(12*time.Hour), e.f.SalesAgent.ID, tehranIP, firefox, 3))
		if as := e.alerts(monitor.RuleOffHours); len(as) != 0 {
			t.Fatalf("in-hours admin or an agent at night raised %+v", as)
		}
		e.observe(signin(base.Add(8*time.Hour), admin, tehranIP, firefox, 4)) // 18:00
		as := e.alerts(monitor.RuleOffHours)
		if len(as) != 1 {
			t.Fatalf("admin at 18:00: %+v", as)
		}
		mustContain(t, as[0].Explanation, "Sunday at 18:00 (Asia/Tehran)", "08:00 to 18:00")
	})
}

func TestAlertStatesAndDedup(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		raise := func(at time.Time) {
			e.observe(monitor.Observation{Type: monitor.RecoveryUsed, At: at, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID, IP: tehranIP})
		}
		raise(base)
		raise(base.Add(time.Minute))
		as := e.alerts(monitor.RuleRecoveryUsed)
		if len(as) != 1 || as[0].Count != 2 || as[0].State != monitor.StateOpen || !as[0].LastSeen.IsZero() && as[0].LastSeen.Before(as[0].FirstSeen) {
			t.Fatalf("dedup: %+v", as)
		}
		id := as[0].ID
		if err := e.m.SetAlertState(ctx, e.ws, id, monitor.StateAcknowledged, e.f.Admin.ID, "asked Sara, checking"); err != nil {
			t.Fatal(err)
		}
		raise(base.Add(2 * time.Minute))
		got, err := e.m.Alert(ctx, e.ws, id)
		if err != nil || got.State != monitor.StateAcknowledged || got.Count != 3 || got.StateBy != e.f.Admin.ID || got.StateNote != "asked Sara, checking" {
			t.Fatalf("acknowledged alert: %+v %v", got, err)
		}
		if err := e.m.SetAlertState(ctx, e.ws, id, monitor.StateResolved, e.f.Admin.ID, ""); err != nil {
			t.Fatal(err)
		}
		var conflict *errs.Conflict
		if err := e.m.SetAlertState(ctx, e.ws, id, monitor.StateOpen, e.f.Admin.ID, ""); !errors.As(err, &conflict) {
			t.Errorf("reopening a resolved alert: %v", err)
		}
		raise(base.Add(3 * time.Minute))
		if as := e.alerts(monitor.RuleRecoveryUsed); len(as) != 2 || as[0].State != monitor.StateOpen || as[0].Count != 1 {
			t.Fatalf("a repeat after resolving opens a new alert: %+v", as)
		}
		var invalid *errs.Invalid
		if err := e.m.SetAlertState(ctx, e.ws, id, "closed", 1, ""); !errors.As(err, &invalid) {
			t.Errorf("bad state: %v", err)
		}
		other := testutil.NewFixture(t, a)
		if err := e.m.SetAlertState(ctx, other.WS.ID, id, monitor.StateAcknowledged, 1, ""); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("another workspace's alert: %v", err)
		}
		if as, _ := e.m.Alerts(ctx, other.WS.ID, monitor.Filter{}); len(as) != 0 {
			t.Errorf("another workspace sees %d alerts", len(as))
		}
	})
}

func TestAutomaticResponsesCallTheResponderOnce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.settings(func(s *monitor.Settings) {
			r := s.Rules[monitor.RuleBruteForce]
			r.Threshold, r.Response = 3, []string{monitor.RespondRevokeSessions, monitor.RespondLock, monitor.RespondRequireMFA}
			s.Rules[monitor.RuleBruteForce] = r
		})
		agent := e.f.SalesAgent.ID
		for i := range 5 {
			e.observe(failed(base.Add(time.Duration(i)*time.Second), berlinIP, access.ActorUser, agent))
		}
		want := []string{"revoke user:" + itoa(agent), "lock user:" + itoa(agent), "mfa user:" + itoa(agent)}
		if !slices.Equal(e.resp.calls, want) {
			t.Fatalf("responder calls %v, want %v", e.resp.calls, want)
		}
		as := e.alerts(monitor.RuleBruteForce)
		if len(as) != 1 || as[0].Response != "revoke_sessions, lock, require_mfa" || as[0].Count != 3 {
			t.Fatalf("alert: %+v", as)
		}
	})
}

// receiver is a webhook endpoint that fails the first fail requests and
// verifies every signature.
type receiver struct {
	mu     sync.Mutex
	secret string
	fail   int
	tries  int
	bad    int
	got    []monitor.WebhookPayload
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	body, _ := io.ReadAll(req.Body)
	r.tries++
	if !monitor.Verify(r.secret, req.Header.Get(monitor.HeaderSignature), req.Header.Get(monitor.HeaderTimestamp), body, time.Now(), 5*time.Minute) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.tries <= r.fail {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p monitor.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, p)
}

func TestAlertsArriveByMailAndSignedWebhookWithRetries(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		smtp := smtpd.Start(t, smtpd.Options{STARTTLS: true})
		rcv := &receiver{secret: "whsec-0123456789abcdef", fail: 2}
		hook := httptest.NewServer(rcv)
		defer hook.Close()
		e := newEnv(t, a, func(o *monitor.Options) {
			o.HTTPClient = hook.Client()
			o.Now = time.Now // the receiver checks timestamps against its own clock
			o.Backoff = func(int) time.Duration { return 0 }
		})
		e.settings(func(s *monitor.Settings) { s.WebhookURL, s.WebhookSecret = hook.URL+"/hesar", rcv.secret })
		e.observe(monitor.Observation{Type: monitor.MFARemoved, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID, IP: tehranIP,
			Details: map[string]string{"factor": "totp"}})
		as := e.alerts(monitor.RuleMFARemoved)
		if len(as) != 1 {
			t.Fatalf("alerts: %+v", as)
		}
		for i := range 3 {
			n, err := e.m.DeliverDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[i == 2]; n != want {
				t.Fatalf("attempt %d delivered %d", i+1, n)
			}
		}
		if n, _ := e.m.DeliverDue(ctx); n != 0 {
			t.Errorf("a delivered webhook was sent again")
		}
		rcv.mu.Lock()
		if rcv.tries != 3 || rcv.bad != 0 || len(rcv.got) != 1 || rcv.got[0].AlertID != as[0].ID || rcv.got[0].Rule != monitor.RuleMFARemoved {
			t.Errorf("receiver: tries %d, bad signatures %d, got %+v", rcv.tries, rcv.bad, rcv.got)
		}
		rcv.mu.Unlock()
		if _, err := deliverer(a, smtp).DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		msg := smtp.WaitFor(t, func(r smtpd.Received) bool {
			return slices.Contains(r.To, e.f.Admin.Email) && strings.Contains(r.Subject, "Security alert")
		}, 5*time.Second)
		mustContain(t, msg.Subject, "Security alert (medium)", "Second factor removed")
		mustContain(t, msg.Body, "second factor (totp)", "Alert #"+itoa(as[0].ID))
		if strings.Contains(msg.Body, tehranIP) {
			t.Error("the alert mail carries an address")
		}
		if !monitor.Verify("k", monitor.Sign("k", 100, []byte("x")), "100", []byte("x"), time.Unix(100, 0), time.Minute) ||
			monitor.Verify("k", monitor.Sign("k", 100, []byte("x")), "100", []byte("y"), time.Unix(100, 0), time.Minute) ||
			monitor.Verify("k", monitor.Sign("k", 100, []byte("x")), "100", []byte("x"), time.Unix(1000, 0), time.Minute) {
			t.Error("Verify accepts a changed body or an old timestamp")
		}
	})
}

func TestWebhooksToPrivateAddressesAreRefusedByDefault(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		rcv := &receiver{secret: "whsec-0123456789abcdef"}
		hook := httptest.NewServer(rcv)
		defer hook.Close()
		e := newEnv(t, a)
		e.settings(func(s *monitor.Settings) { s.WebhookURL, s.WebhookSecret = hook.URL, rcv.secret })
		e.observe(monitor.Observation{Type: monitor.RecoveryUsed, At: base, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID})
		if n, err := e.m.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("delivered %d, %v", n, err)
		}
		if rcv.tries != 0 {
			t.Error("the default client connected to a loopback address")
		}
	})
}
