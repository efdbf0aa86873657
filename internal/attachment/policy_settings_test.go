package attachment_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestDataProtectionKeepsTheRestOfTheSettings: a change rewrites only the
// masking and attachment keys it owns (other keys, and keys inside
// "attachments" it does not know, stay), is refused to non-admins and for
// bad values without writing, and a change to nothing writes nothing.
func TestDataProtectionKeepsTheRestOfTheSettings(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		admin := f.Scope(t, "admin")
		settings := func() string {
			t.Helper()
			var s string
			if err := a.DB.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, f.WS.ID).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		err := a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`,
				`{"security":{"lockout_threshold":20},"attachments":{"max_bytes":5242880,"scanner":"clamav"},"theme":"dark"}`, f.WS.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		before := settings()

		for _, role := range []string{"supervisor", "finance_agent"} {
			if _, err := a.Attachments.DataProtection(ctx, f.Scope(t, role)); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s read the settings: %v", role, err)
			}
			if _, err := a.Attachments.SetDataProtection(ctx, f.Scope(t, role), attachment.DataProtection{Masking: ticket.PolicyRedact,
				Attachments: attachment.DefaultPolicy()}); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s changed the settings: %v", role, err)
			}
		}
		var inv *errs.Invalid
		_, err = a.Attachments.SetDataProtection(ctx, admin, attachment.DataProtection{Masking: "hide",
			Attachments: attachment.Policy{MaxBytes: attachment.CeilingMaxBytes + 1, Dangerous: "allow"}})
		if !errors.As(err, &inv) || len(inv.Fields) != 3 || inv.Fields["masking"] == "" || inv.Fields["attachments.max_bytes"] == "" ||
			inv.Fields["attachments.dangerous"] == "" {
			t.Fatalf("bad values: %v", err)
		}
		if got := settings(); got != before {
			t.Fatalf("a refused change wrote %s", got)
		}

		cur, err := a.Attachments.DataProtection(ctx, admin)
		if err != nil || cur.Masking != ticket.PolicyMask || cur.Attachments.MaxBytes != 5<<20 || cur.Attachments.Dangerous != attachment.Block {
			t.Fatalf("read %+v, %v", cur, err)
		}
		if c, err := a.Attachments.SetDataProtection(ctx, admin, cur); err != nil || c.Changed() || settings() != before {
			t.Fatalf("a change to nothing: %+v, %v, %s", c, err, settings())
		}

		next := attachment.DataProtection{Masking: ticket.PolicyRedact, Attachments: attachment.Policy{MaxBytes: 2 << 20, Dangerous: attachment.DownloadOnly}}
		c, err := a.Attachments.SetDataProtection(ctx, admin, next)
		if err != nil || c.From != cur || c.To != next || !c.MaskingChanged() || !c.AttachmentsChanged() {
			t.Fatalf("change: %+v, %v", c, err)
		}
		var all map[string]any
		if err := json.Unmarshal([]byte(settings()), &all); err != nil {
			t.Fatal(err)
		}
		att, _ := all["attachments"].(map[string]any)
		sec, _ := all["security"].(map[string]any)
		if all["theme"] != "dark" || all["masking"] != "redact" || sec["lockout_threshold"] != float64(20) || att["scanner"] != "clamav" ||
			att["max_bytes"] != float64(2<<20) || att["dangerous"] != "download-only" {
			t.Errorf("settings after the change: %s", settings())
		}
		if p, _ := a.Attachments.Policy(ctx, f.WS.ID); p != next.Attachments {
			t.Errorf("the upload path reads %+v", p)
		}
	})
}
