package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestAdminChangesDataProtectionAfterConfirming: the settings page shows
// the masking and attachment policies with what each choice means, shows
// a change from → to before saving it, refuses a bad value next to its
// field, saves only after confirmation (audited, the sign-in policy kept),
// and needs a recent proof of identity.
func TestAdminChangesDataProtectionAfterConfirming(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		stored := func() attachment.DataProtection {
			t.Helper()
			d, err := a.Attachments.DataProtection(ctx, e.f.System())
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		defaults := attachment.DataProtection{Masking: ticket.PolicyMask, Attachments: attachment.DefaultPolicy()}

		fa := e.signInStaff("fa", admin.Email, passphrase)
		p := fa.get("/admin/settings").page(t, "fa")
		for _, want := range []string{"حفاظت از داده‌ها", "حذف همیشگی", "هرگز آن‌ها را نخواهد دید", "فقط دانلود", `value="25"`,
			`action="/admin/settings/data-protection"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the Persian page lacks %q", want)
			}
		}
		c := e.signInStaff("en", admin.Email, passphrase)
		p = c.get("/admin/settings").page(t, "en")
		for _, want := range []string{"Data protection", "Remove for good", "not even an admin, can ever see them again",
			"never opened in the browser", `name="masking" value="mask" aria-describedby="f-masking-mask-hint" checked`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}

		// An agent may neither see nor change it.
		e.signInStaff("en", agent.Email, passphrase).post("/admin/settings/data-protection",
			url.Values{"masking": {"redact"}, "max_mib": {"10"}, "dangerous": {"block"}}).must(t, http.StatusForbidden)

		// A change is shown from → to first, and not saved.
		form := url.Values{"masking": {"redact"}, "max_mib": {"10"}, "dangerous": {"download-only"}}
		p = c.post("/admin/settings/data-protection", form).page(t, "en")
		for _, want := range []string{"Confirm the changes", "<td>Mask</td><td><strong>Remove for good</strong>", "<td>25 MB</td><td><strong>10 MB</strong>",
			"<td>Refuse them</td><td><strong>Download only</strong>", "cannot be brought back later", `name="confirm" value="yes"`,
			`name="max_mib" value="10"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the confirmation lacks %q", want)
			}
		}
		if got := stored(); got != defaults {
			t.Fatalf("saved before confirmation: %+v", got)
		}

		// Bad values are refused next to their fields, even when confirmed.
		form.Set("confirm", "yes")
		for _, c2 := range []struct {
			lang, field, value, says string
		}{
			{"en", "max_mib", "5000", "Enter a whole number of MB from 1 to 1024."},
			{"en", "max_mib", "0", "Enter a whole number of MB from 1 to 1024."},
			{"en", "max_mib", "ten", "Enter a whole number."},
			{"fa", "max_mib", "2048", "عددی صحیح از ۱ تا ۱۰۲۴ مگابایت وارد کنید."},
			{"en", "masking", "shred", "Choose one of the options."},
			{"en", "dangerous", "allow", "Choose one of the options."},
		} {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(c2.field, c2.value)
			cl := c
			if c2.lang == "fa" {
				cl = fa
			}
			p = cl.post("/admin/settings/data-protection", bad).must(t, http.StatusUnprocessableEntity)
			errID := "f-" + c2.field + "-error"
			if !strings.Contains(p.body, `<p class="error" id="`+errID+`">`+c2.says+`</p>`) {
				t.Errorf("%s=%s: no error %q tied to the field: %.3000s", c2.field, c2.value, c2.says, p.body)
			}
			if !strings.Contains(p.body, `aria-describedby="`+errID+`"`) && !strings.Contains(p.body, ` `+errID+`"`) {
				t.Errorf("%s=%s: the field does not point at its error", c2.field, c2.value)
			}
			if !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Errorf("%s=%s: nothing marked invalid", c2.field, c2.value)
			}
			if strings.Contains(p.body, "Confirm the changes") {
				t.Errorf("%s=%s: a refused change is offered for confirmation", c2.field, c2.value)
			}
			if got := stored(); got != defaults {
				t.Fatalf("%s=%s: saved %+v", c2.field, c2.value, got)
			}
		}

		// Confirmed, it is saved; the sign-in policy is kept.
		c.post("/admin/settings/data-protection", form).redirect(t, "/admin/settings?notice=notice.data_protection_saved")
		want := attachment.DataProtection{Masking: ticket.PolicyRedact, Attachments: attachment.Policy{MaxBytes: 10 << 20, Dangerous: attachment.DownloadOnly}}
		if got := stored(); got != want {
			t.Fatalf("saved %+v, want %+v", got, want)
		}
		if st, _ := a.Identity.SecuritySettings(ctx, e.f.WS.ID); st.MFARequired != identity.MFANone {
			t.Errorf("the sign-in policy changed: %+v", st)
		}
		p = c.get("/admin/settings?notice=notice.data_protection_saved").page(t, "en")
		if !strings.Contains(p.body, "The data-protection settings were saved.") || !strings.Contains(p.body, `value="10"`) {
			t.Error("the saved settings are not shown")
		}
		c.post("/admin/settings/data-protection", form).redirect(t, "/admin/settings?notice=notice.nothing_changed")

		// Each policy's change is in the audit log, from → to, by the admin.
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		ms, _ := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: audit.ActionMaskingPolicyChanged})
		fs, _ := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: audit.ActionAttachmentPolicyChanged})
		if len(ms) != 1 || len(fs) != 1 {
			t.Fatalf("audit: %d masking and %d attachment records, want 1 each", len(ms), len(fs))
		}
		if m := ms[0]; m.ActorKind != audit.ActorUser || m.ActorID != admin.ID || m.Details["masking_from"] != "mask" || m.Details["masking"] != "redact" {
			t.Errorf("masking record: %+v", m)
		}
		if d := fs[0].Details; d["max_bytes_from"] != "26214400" || d["max_bytes"] != "10485760" || d["dangerous_from"] != "block" ||
			d["dangerous"] != "download-only" || fs[0].ActorID != admin.ID {
			t.Errorf("attachment record: %+v", fs[0])
		}
		if p = c.get("/admin/audit?action=attachment_policy.changed").page(t, "en"); !strings.Contains(p.body, "attachment_policy.changed") {
			t.Error("the audit page does not show the change")
		}
		// Dangerous files let in: the monitor raises policy_weakened.
		if err := a.Monitor.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if as, _ := a.Monitor.Alerts(ctx, e.f.WS.ID, monitor.Filter{Rule: monitor.RulePolicyWeakened}); len(as) != 1 || as[0].AccountID != admin.ID {
			t.Errorf("policy_weakened alerts: %+v", as)
		}

		// An hour later a change asks for a fresh proof first.
		e.age(admin.ID)
		form.Set("masking", "mask")
		c.post("/admin/settings/data-protection", form).redirect(t, "/auth/step-up?next=")
		if got := stored(); got.Masking != ticket.PolicyRedact {
			t.Fatal("saved without step-up")
		}
	})
}
