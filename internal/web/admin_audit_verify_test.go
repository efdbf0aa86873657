package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

func TestAuditVerifyPageSaysIntactThenNamesTheTamperedRecord(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		ws := e.f.WS.ID
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		sup := e.staff("supervisor", "dara", passphrase, e.f.Sales)

		// security.manage only, as the API's GET /audit/verify.
		for _, who := range []string{agent.Email, sup.Email} {
			c := e.signInStaff("en", who, passphrase)
			c.get("/admin/audit/verify").must(t, http.StatusForbidden)
			c.post("/admin/audit/verify", url.Values{}).must(t, http.StatusForbidden)
		}
		// Supervisors read the log but are not offered the check.
		if p := e.signInStaff("en", sup.Email, passphrase).get("/admin/audit").page(t, "en"); strings.Contains(p.body, "/admin/audit/verify") {
			t.Error("a supervisor is offered the verification")
		}

		c := e.signInStaff("en", admin.Email, passphrase)
		fa := e.signInStaff("fa", admin.Email, passphrase)
		if p := c.get("/admin/audit").page(t, "en"); !strings.Contains(p.body, `<a href="/admin/audit/verify">Verify the audit log</a>`) {
			t.Error("no way to the verification from the audit log")
		}
		c.get("/admin/audit/verify").page(t, "en")
		fa.get("/admin/audit/verify").page(t, "fa")
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		var last int64
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT MAX(seq) FROM audit_log WHERE workspace_id = $1`, ws).Scan(&last); err != nil || last < 3 {
			t.Fatalf("chained records: %d, %v", last, err)
		}

		// Intact: how many records, from where to where.
		p := c.post("/admin/audit/verify", url.Values{}).page(t, "en")
		m := regexp.MustCompile(`(\d+) records were checked, from No\. (\d+) to No\. (\d+)`).FindStringSubmatch(p.body)
		if !strings.Contains(p.body, "The audit log is intact") || m == nil || m[2] != "1" {
			t.Fatalf("intact log: %.3000s", p.body)
		}
		if got, _ := strconv.ParseInt(m[3], 10, 64); got < last {
			t.Fatalf("checked up to %d, the log holds %d", got, last)
		}
		if p = fa.post("/admin/audit/verify", url.Values{}).page(t, "fa"); !strings.Contains(p.body, "گزارش ممیزی سالم است") {
			t.Fatalf("intact log in Persian: %.3000s", p.body)
		}

		// Someone with database access rewrites what record 2 says.
		err := a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE audit_log SET action = 'ticket.list' WHERE workspace_id = $1 AND seq = 2`, ws)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		p = c.post("/admin/audit/verify", url.Values{}).page(t, "en")
		for _, want := range []string{"The audit log has been tampered with", "The first problem is at record No. 2.", `<code dir="ltr">edited</code>`,
			"contents were changed after it was written", "What to do", "hesar audit verify"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("broken log: no %q in %.4000s", want, p.body)
			}
		}
		if strings.Contains(p.body, "The audit log is intact") {
			t.Error("a broken log is called intact")
		}
		if p = fa.post("/admin/audit/verify", url.Values{}).page(t, "fa"); !strings.Contains(p.body, "نخستین مشکل در رکورد شمارهٔ ۲ است.") ||
			!strings.Contains(p.body, "در گزارش ممیزی دست برده شده است") {
			t.Errorf("broken log in Persian: %.4000s", p.body)
		}
	})
}
