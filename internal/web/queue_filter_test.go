package web_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestQueueFiltersByTagAndByCustomerEmail: an agent on the phone with a
// customer finds their requests by email address; a tag narrows the
// queue; both are kept by the tabs; an unknown address says so on its
// field; someone without customer.read has no such field and cannot use
// it by URL.
func TestQueueFiltersByTagAndByCustomerEmail(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		sara, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "Sara.Ahmadi@Example.com", Name: "سارا"})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(subject string, cust int64, tags ...string) ticket.Ticket {
			tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: subject, Body: "b", CustomerID: cust, DepartmentID: e.f.Sales, Tags: tags})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		s1 := mk("sara refund", sara.ID, "refund")
		s2 := mk("sara delivery", sara.ID)
		o1 := mk("other refund", e.f.Customer.ID, "refund")
		agent := e.staff("agent", "Hamid", pw, e.f.Sales)
		g := e.signInStaff("en", agent.Email, pw)
		num := func(tk ticket.Ticket) string { return strconv.FormatInt(tk.Number, 10) }

		// The address as the customer spells it today, any case.
		p := g.get("/console/?view=all&status=active&customer="+url.QueryEscape("sara.ahmadi@example.COM")).must(t, 200).body
		if got := strings.Join(queueRows(p), " "); got != num(s2)+" "+num(s1) {
			t.Errorf("by customer: %s, want %s %s", got, num(s2), num(s1))
		}
		if !strings.Contains(p, `href="/console/?customer=sara.ahmadi%40example.COM&amp;status=active&amp;view=mine"`) {
			t.Error("the tabs drop the customer filter")
		}
		p = g.get("/console/?view=all&status=active&tag=refund").must(t, 200).body
		if got := strings.Join(queueRows(p), " "); got != num(o1)+" "+num(s1) {
			t.Errorf("by tag: %s, want %s %s", got, num(o1), num(s1))
		}
		p = g.get("/console/?view=all&status=active&tag=refund&customer=sara.ahmadi@example.com").must(t, 200).body
		if got := strings.Join(queueRows(p), " "); got != num(s1) {
			t.Errorf("by tag and customer: %s, want %s", got, num(s1))
		}
		p = g.get("/console/?view=all&status=active&customer=nobody@example.com").must(t, 200).body
		if len(queueRows(p)) != 0 || !strings.Contains(p, `<p class="error" id="f-customer-error">No customer has this email address.</p>`) {
			t.Error("an unknown address did not say so on its field, or listed tickets")
		}

		// A supervisor (no customer.read): no field, and the URL does nothing
		// but say there is no such customer for them.
		sv := e.staff("supervisor", "Vida", pw, e.f.Sales)
		sc := e.signInStaff("en", sv.Email, pw)
		p = sc.get("/console/?view=all&status=active").must(t, 200).body
		if strings.Contains(p, `name="customer"`) {
			t.Error("a supervisor is offered the customer filter")
		}
		p = sc.get("/console/?view=all&status=active&customer=sara.ahmadi@example.com").must(t, 200).body
		if len(queueRows(p)) != 0 {
			t.Error("a supervisor found a customer's tickets by email")
		}
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
