package api_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

const dataProtectionPath = "/api/v1/settings/data-protection"

type dataProtectionJSON struct {
	Masking     string `json:"masking"`
	Attachments struct {
		MaxBytes  int64  `json:"max_bytes"`
		Dangerous string `json:"dangerous"`
	} `json:"attachments"`
}

func (d dataProtectionJSON) String() string {
	return fmt.Sprintf("%s/%d/%s", d.Masking, d.Attachments.MaxBytes, d.Attachments.Dangerous)
}

// TestAdminChangesDataProtectionThroughTheAPI: bad bodies change nothing,
// a good one keeps the other settings, is audited from→to, and takes
// effect at once: a redacted ticket keeps no original, a bigger upload is
// refused.
func TestAdminChangesDataProtectionThroughTheAPI(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		e := newAttachEnv(t, a)
		admin := e.as(t, "admin")
		get := func() dataProtectionJSON {
			t.Helper()
			var d dataProtectionJSON
			admin.must(200, "GET", dataProtectionPath, nil, &d)
			return d
		}
		if d := get(); d.String() != "mask/26214400/block" {
			t.Fatalf("defaults: %s", d)
		}
		admin.must(200, "PUT", "/api/v1/settings/security", map[string]any{"lockout_threshold": 50}, nil)
		rawSettings := func() string {
			t.Helper()
			var s string
			if err := a.DB.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, e.f.WS.ID).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		before := rawSettings()

		bad := []struct {
			body        string
			status      int
			code, field string
		}{
			{`{"masking": "shred"}`, 422, "validation_failed", "masking"},
			{`{"attachments": {"max_bytes": 1000}}`, 422, "validation_failed", "attachments.max_bytes"},
			{`{"attachments": {"max_bytes": 2147483648}}`, 422, "validation_failed", "attachments.max_bytes"},
			// A good value beside a bad one is not saved either.
			{`{"masking": "redact", "attachments": {"dangerous": "allow"}}`, 422, "validation_failed", "attachments.dangerous"},
			{`{"attachments": {"max_bytes": "big"}}`, 400, "invalid_type", "attachments.max_bytes"},
			{`{"attachments": {"max_bytes": 1.5}}`, 400, "invalid_type", "attachments.max_bytes"},
			{`{"masking": 1}`, 400, "invalid_type", "masking"},
			{`{"masking": "redact", "retention": 5}`, 400, "unknown_field", "retention"},
			// decodeJSON names an unknown nested field without its parent.
			{`{"attachments": {"scan": true}}`, 400, "unknown_field", "scan"},
			{`[]`, 400, "invalid_type", ""},
			{`{"masking": "redact"`, 400, "malformed_json", ""},
		}
		for _, c := range bad {
			r := admin.raw("PUT", dataProtectionPath, "application/json", []byte(c.body))
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.body, r.Status, c.status, r.Body)
				continue
			}
			eb := r.err(t)
			if eb.Error.Code != c.code {
				t.Errorf("%s: code %s, want %s", c.body, eb.Error.Code, c.code)
			}
			if _, ok := eb.Error.Fields[c.field]; c.field != "" && !ok {
				t.Errorf("%s: fields %v, want %s", c.body, eb.Error.Fields, c.field)
			}
		}
		if after := rawSettings(); after != before {
			t.Fatalf("refused bodies changed the settings:\n%s\n%s", before, after)
		}

		// Under the default (mask) the originals are kept, sealed: the
		// control for the redact check below. It also warms the ticket
		// service's cache of the policy, which the change must drop.
		createSensitive := func() ticketJSON {
			t.Helper()
			var tk ticketJSON
			admin.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": "card 6037991234567893", "body": "IBAN IR062960000000100324200001 please",
				"customer_id": e.f.Customer.ID, "department_id": e.f.Finance}, &tk)
			return tk
		}
		originals := func(number int64) int {
			t.Helper()
			var n int
			if err := a.DB.Read().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM tickets WHERE workspace_id = $1 AND number = $2 AND subject_original_enc IS NOT NULL) +
				(SELECT COUNT(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace_id = $1 AND t.number = $2 AND m.body_original_enc IS NOT NULL)`,
				e.f.WS.ID, number).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := originals(createSensitive().ID); n != 2 {
			t.Fatalf("%d originals kept under mask, want the subject's and the body's", n)
		}

		// Only the fields named change.
		var d dataProtectionJSON
		admin.must(200, "PUT", dataProtectionPath, map[string]any{"masking": "redact", "attachments": map[string]any{"max_bytes": 1 << 20}}, &d)
		if d.String() != "redact/1048576/block" || get().String() != d.String() {
			t.Fatalf("after the change: %s, then %s", d, get())
		}
		if st, _ := a.Identity.SecuritySettings(ctx, e.f.WS.ID); st.LockoutThreshold != 50 {
			t.Errorf("the sign-in policy was not kept: %+v", st)
		}
		admin.must(200, "PUT", dataProtectionPath, map[string]any{"attachments": map[string]any{"dangerous": "download-only"}}, &d)
		if d.String() != "redact/1048576/download-only" {
			t.Fatalf("after the second change: %s", d)
		}
		admin.must(200, "PUT", dataProtectionPath, map[string]any{}, &d) // nothing changes, nothing recorded

		// Each change is in the audit log with what it replaced.
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		masking, _ := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: audit.ActionMaskingPolicyChanged})
		files, _ := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: audit.ActionAttachmentPolicyChanged})
		if len(masking) != 1 || len(files) != 2 {
			t.Fatalf("audit: %d masking and %d attachment records, want 1 and 2", len(masking), len(files))
		}
		if m := masking[0]; m.Details["masking_from"] != "mask" || m.Details["masking"] != "redact" || m.ActorKind != audit.ActorUser ||
			m.ActorID != e.f.Admin.ID || m.TargetKind != "workspace" || m.TargetID != e.f.WS.ID {
			t.Errorf("masking record: %+v", m)
		}
		if f := files[1].Details; f["max_bytes_from"] != "26214400" || f["max_bytes"] != "1048576" || f["dangerous_from"] != "block" || f["dangerous"] != "block" {
			t.Errorf("first attachment record: %v", f)
		}
		if f := files[0].Details; f["dangerous_from"] != "block" || f["dangerous"] != "download-only" {
			t.Errorf("second attachment record: %v", f)
		}
		// The monitor judged the change: block → download-only is a weakening.
		if err := a.Monitor.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		as, _ := a.Monitor.Alerts(ctx, e.f.WS.ID, monitor.Filter{Rule: monitor.RulePolicyWeakened})
		if len(as) != 1 || as[0].AccountID != e.f.Admin.ID {
			t.Errorf("policy_weakened alerts: %+v", as)
		}

		// The next ticket follows the redact policy: nothing is kept.
		tk := createSensitive()
		if n := originals(tk.ID); n != 0 {
			t.Errorf("%d originals kept under redact", n)
		}
		if bytes.Contains(admin.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil, nil).Body, []byte("0001")) {
			t.Error("the IBAN is shown")
		}

		// The new limit refuses a bigger upload and takes a smaller one.
		up := client{t, e.url, e.f.Tokens["finance_agent"]}
		big := up.raw("POST", e.files()+"?name=big.txt", "text/plain", bytes.Repeat([]byte("a"), 1<<20+1))
		if big.Status != 413 || big.err(t).Error.Code != "file_too_large" {
			t.Errorf("an upload over the limit: %d %s", big.Status, big.Body)
		}
		if r := up.raw("POST", e.files()+"?name=ok.txt", "text/plain", bytes.Repeat([]byte("a"), 1<<20)); r.Status != 201 {
			t.Errorf("an upload at the limit: %d %s", r.Status, r.Body)
		}

		// Only user.manage reads or changes it.
		for _, role := range []string{"supervisor", "finance_agent", "customer"} {
			c := e.as(t, role)
			c.must(403, "GET", dataProtectionPath, nil, nil)
			c.must(403, "PUT", dataProtectionPath, map[string]any{"masking": "mask"}, nil)
		}
		if get().Masking != "redact" {
			t.Error("a refused caller changed the masking policy")
		}
	})
}

// TestDataProtectionChangeNeedsARecentProof: a browser session signed in
// long ago must prove itself again first.
func TestDataProtectionChangeNeedsARecentProof(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
		const pw = "data protection admin passphrase"
		admin := e.staff("admin", "dara", pw)
		b := e.browser()
		b.signIn(e.f.WS.Slug, "staff", admin.Email, pw)
		b.must(200, "PUT", dataProtectionPath, map[string]any{"masking": "redact"}, nil)
		e.exec(`UPDATE sessions SET auth_at = $1 WHERE user_id = $2`, time.Now().Add(-10*time.Minute).UnixMicro(), admin.ID)
		b.wantError(403, "step_up_required", "PUT", dataProtectionPath, map[string]any{"masking": "mask"})
		b.must(200, "GET", dataProtectionPath, nil, nil)
		b.must(200, "POST", "/api/v1/auth/step-up", map[string]string{"password": pw}, nil)
		var d dataProtectionJSON
		b.must(200, "PUT", dataProtectionPath, map[string]any{"masking": "mask"}, &d)
		if d.Masking != "mask" {
			t.Fatalf("after step-up: %s", d)
		}
	})
}
