package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestRefusedPropertiesKeepWhatWasSent: when one field of the ticket's
// properties is refused, the page comes back with the agent's other
// choices as sent (not as stored), the error tied to its field, and
// nothing saved.
func TestRefusedPropertiesKeepWhatWasSent(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		e.setMFA("none")
		agent := e.staff("admin", "Mina", pw)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "props", Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		g := e.signInStaff("en", agent.Email, pw)
		page := fmt.Sprintf("/console/tickets/%d", tk.Number)
		p := g.post(page, url.Values{"status": {"pending"}, "priority": {"urgent"}, "department": {fmt.Sprint(e.f.Sales)},
			"assignee": {"0"}, "tags": {"vip, bad tag!"}}).must(t, 422)
		for _, want := range []string{
			`<option value="pending" selected>`,
			`<option value="urgent" selected>`,
			`value="vip, bad tag!"`,
			`aria-describedby="f-tags-error"`,
			`<p class="error" id="f-tags-error">`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the refused form lacks %s", want)
			}
		}
		if strings.Contains(p.body, `<option value="normal" selected>`) {
			t.Error("the refused form shows the stored priority, not the one sent")
		}
		got, err := a.Tickets.Get(ctx, e.f.System(), tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tk.Status || got.Priority != tk.Priority || len(got.Tags) != 0 {
			t.Errorf("a refused form saved something: %s %s %v", got.Status, got.Priority, got.Tags)
		}
		// A value the list does not offer keeps the stored choice shown.
		p = g.post(page, url.Values{"priority": {"sideways"}, "tags": {"bad tag!"}}).must(t, 422)
		if !strings.Contains(p.body, `<option value="normal" selected>`) {
			t.Error("an unknown priority left no choice shown")
		}
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
