package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

const monitoringPath = "/admin/security/monitoring"

func TestMonitoringSettingsAreConfirmedCheckedAuditedAndNeedStepUp(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := auditedEnv(t, a)
		ctx := context.Background()
		ws := e.f.WS.ID
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		sup := e.staff("supervisor", "dara", passphrase, e.f.Sales)

		// Only security.manage: agents and supervisors get Forbidden.
		for _, who := range []string{agent.Email, sup.Email} {
			c := e.signInStaff("en", who, passphrase)
			c.get(monitoringPath).must(t, http.StatusForbidden)
			c.post(monitoringPath, url.Values{"confirm": {"yes"}}).must(t, http.StatusForbidden)
		}

		c := e.signInStaff("en", admin.Email, passphrase)
		fa := e.signInStaff("fa", admin.Email, passphrase)
		fa.get(monitoringPath).page(t, "fa")
		p := c.get(monitoringPath).page(t, "en")
		if !strings.Contains(c.get("/admin/security").body, `href="/admin/security/monitoring"`) {
			t.Error("the security overview does not link to the monitoring settings")
		}
		form := formValues(t, p.body, monitoringPath)
		if form.Get("rules.brute_force.threshold") != "10" || form.Get("rules.brute_force.window") != "15" ||
			form.Get("rules.brute_force.window_unit") != "m" || form.Get("rules.new_signin.window_unit") != "d" {
			t.Fatalf("the form does not show the defaults: %v", form)
		}

		// Nothing changed: nothing to confirm.
		c.post(monitoringPath, form).redirect(t, monitoringPath+"?notice=notice.nothing_changed")

		// Bad values: each error at its own field, nothing saved.
		bad := func(cl *client, field, value, want string) {
			t.Helper()
			f := formValues(t, p.body, monitoringPath)
			f.Set(field, value)
			r := cl.post(monitoringPath, f).must(t, http.StatusUnprocessableEntity)
			errID := `id="f-` + field + `-error">`
			i := strings.Index(r.body, errID)
			if i < 0 || !strings.Contains(r.body[i:min(len(r.body), i+300)], want) {
				t.Errorf("%s=%q: no error %q at the field: %.300s", field, value, want, r.body[max(0, i):])
			}
			if !strings.Contains(r.body, `aria-describedby="f-`+field+`-error"`) {
				t.Errorf("%s: the error is not tied to its field", field)
			}
		}
		bad(c, "rules.brute_force.threshold", "ten", "Enter a whole number")
		bad(c, "rules.brute_force.threshold", "1", "Must be from 3 to 10000")
		bad(fa, "rules.brute_force.threshold", "1", "باید از ۳ تا ۱۰۰۰۰ باشد")
		bad(fa, "rules.brute_force.window", "100000", "باید از ۱ دقیقه تا ۱ روز باشد")
		bad(c, "rules.brute_force.severity", "apocalyptic", "Must be one of")
		bad(c, "exfiltration.factor", "1", "Must be from 1.5 to 100")
		bad(c, "exfiltration.floors.search", "0", "Must be from 1 to 1000000")
		bad(fa, "business_hours.time_zone", "Mars/Olympus", "منطقهٔ زمانی IANA")
		bad(c, "business_hours.end", "07:00", "Must be after the start")
		bad(c, "webhook_url", "ftp://hooks.example/x", "http or https")
		f := formValues(t, p.body, monitoringPath)
		f.Set("webhook_url", "https://hooks.example/x")
		if r := c.post(monitoringPath, f).must(t, http.StatusUnprocessableEntity); !strings.Contains(r.body, `id="f-webhook_secret-error">A webhook needs a signing secret.`) {
			t.Errorf("a webhook without a secret: %.3000s", r.body)
		}
		f = formValues(t, p.body, monitoringPath)
		// Spraying watches an address, not an account: the form offers it
		// no response, and one sent anyway is not taken.
		f.Add("rules.password_spraying.response", "lock")
		c.post(monitoringPath, f).redirect(t, monitoringPath+"?notice=notice.nothing_changed")
		if st, _ := a.Monitor.Settings(ctx, ws); st.Rules[monitor.RuleBruteForce].Threshold != 10 {
			t.Fatal("saved despite errors")
		}

		// A change is shown from → to first, typed in Persian digits too.
		f = formValues(t, p.body, monitoringPath)
		f.Set("rules.brute_force.threshold", "۵")
		f.Set("rules.impossible_travel.severity", "critical")
		f.Del("rules.mfa_removed.enabled")
		f.Add("rules.exfiltration.response", "lock")
		f.Add("rules.exfiltration.response", "lock") // sent twice, taken once
		f.Set("webhook_url", "https://hooks.example/hesar")
		f.Set("webhook_secret", "a webhook secret of some length")
		f.Set("recipients", "")
		f.Del("recipients")
		f.Add("recipients", strconv.FormatInt(admin.ID, 10))
		r := c.post(monitoringPath, f).page(t, "en")
		for _, want := range []string{"Confirm the changes", "Brute force on an account — Threshold", "<td>10</td><td><strong>5</strong>",
			"Impossible travel — Severity", "<strong>Critical</strong>", "Second factor removed — On or off", "Lock the account",
			"Webhook signing secret", "A new secret", "Every admin", "<strong>roya</strong>"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("confirmation lacks %q", want)
			}
		}
		if st, _ := a.Monitor.Settings(ctx, ws); st.Rules[monitor.RuleBruteForce].Threshold != 10 || st.WebhookURL != "" {
			t.Fatal("saved before confirmation")
		}
		confirm := formValues(t, r.body, monitoringPath)
		if confirm.Get("confirm") != "yes" {
			t.Fatalf("confirmation form: %v", confirm)
		}
		c.post(monitoringPath, confirm).redirect(t, monitoringPath+"?notice=notice.monitoring_saved")
		st, err := a.Monitor.Settings(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rules[monitor.RuleBruteForce].Threshold != 5 || st.Rules[monitor.RuleTravel].Severity != monitor.Critical ||
			st.Rules[monitor.RuleMFARemoved].Enabled || len(st.Rules[monitor.RuleExfiltration].Response) != 1 ||
			st.WebhookURL != "https://hooks.example/hesar" || !st.WebhookSecretSet || len(st.Recipients) != 1 || st.Recipients[0] != admin.ID {
			t.Fatalf("saved: %+v", st)
		}
		// Unchanged fields kept their values.
		if st.Rules[monitor.RuleBruteForce].Window != monitor.Duration(15*time.Minute) || st.Exfiltration.Floors[monitor.AccessSearch] != 150 {
			t.Fatalf("other settings moved: %+v", st)
		}

		// Audited as the API's PUT is.
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err := a.Audit.List(ctx, ws, audit.Filter{Action: "security.monitoring.changed", Limit: 10})
		if err != nil || len(recs) != 1 || recs[0].ActorID != admin.ID || recs[0].TargetKind != "workspace" || recs[0].TargetID != ws {
			t.Fatalf("audit: %+v %v", recs, err)
		}

		// The secret is never shown again, and an empty field keeps it.
		p = c.get(monitoringPath).page(t, "en")
		if strings.Contains(p.body, "a webhook secret of some length") || !strings.Contains(p.body, "A secret is saved") {
			t.Fatalf("webhook secret on the page: %.200s", p.body)
		}
		f = formValues(t, p.body, monitoringPath)
		f.Set("email_severity", "high")
		confirm = formValues(t, c.post(monitoringPath, f).page(t, "en").body, monitoringPath)
		c.post(monitoringPath, confirm).redirect(t, monitoringPath+"?notice=notice.monitoring_saved")
		if st, _ = a.Monitor.Settings(ctx, ws); st.EmailSeverity != monitor.High || !st.WebhookSecretSet {
			t.Fatalf("after a second save: %+v", st)
		}

		// An hour after signing in, saving needs a fresh proof first.
		e.age(admin.ID)
		c.post(monitoringPath, confirm).redirect(t, "/auth/step-up?next="+url.QueryEscape(monitoringPath+"?notice=notice.stepped_up"))
	})
}
