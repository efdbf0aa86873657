package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestCustomerPanelMasksContactUntilAskedAndRecordsTheAsking: the ticket
// page's customer card shows the email and phone masked; asking to see
// them shows them whole and puts a customer.view in the audit log. The
// customer's other requests are listed only where the agent may go.
func TestCustomerPanelMasksContactUntilAskedAndRecordsTheAsking(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		sys := e.f.System()
		c, err := a.Customers.Create(ctx, sys, customer.NewCustomer{Email: "parisa.rahimi@example.ir", Name: "پریسا رحیمی", Phone: "+98 912 345 6789"})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(subject string, dept int64) ticket.Ticket {
			tk, err := a.Tickets.Create(ctx, sys, ticket.NewTicket{Subject: subject, Body: "b", DepartmentID: dept, CustomerID: c.ID})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		this := mk("printer on fire", e.f.Sales)
		mk("older sales question", e.f.Sales)
		mk("secret finance dispute", e.f.Finance)
		html := `<p>Our <b>order</b> <img src="https://tracker.example/p.gif"> <a href="https://shop.example/o/1">link</a><script>alert(1)</script></p>`
		if _, err := a.Tickets.AddMessage(ctx, sys, this.Number, ticket.NewMessage{Kind: ticket.KindReply, HTML: html}); err != nil {
			t.Fatal(err)
		}

		const pw = "customer panel passphrase"
		u := e.staff("agent", "paneler", pw, e.f.Sales)
		ag := e.signInStaff("en", u.Email, pw)
		page := fmt.Sprintf("/console/tickets/%d", this.Number)
		p := ag.get(page).must(t, 200)
		for _, leak := range []string{"parisa.rahimi@", "345 6789", "secret finance dispute", "tracker.example", "<script>alert(1)"} {
			if strings.Contains(p.body, leak) {
				t.Errorf("ticket page shows %q", leak)
			}
		}
		for _, want := range []string{"p•••@example.ir", "•• ••• ••• ••89", "پریسا رحیمی", "older sales question", "?contact=show",
			"<b>order</b>", `href="https://shop.example/o/1"`, `target="_blank"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("ticket page lacks %q", want)
			}
		}

		p = ag.get(page+"?contact=show").must(t, 200)
		if !strings.Contains(p.body, "parisa.rahimi@example.ir") || !strings.Contains(p.body, "98 912 345 6789") {
			t.Error("asking did not show the contact details")
		}
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: "customer.view", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].ActorID != u.ID || recs[0].TargetKind != "customer" || recs[0].TargetID != c.ID {
			t.Fatalf("customer.view records = %+v, want one, of this agent reading this customer", recs)
		}

		// A supervisor holds no customer.read: no panel at all.
		sv := e.staff("supervisor", "watcher", pw, e.f.Sales)
		p = e.signInStaff("en", sv.Email, pw).get(page+"?contact=show").must(t, 200)
		if strings.Contains(p.body, "example.ir") || strings.Contains(p.body, `id="customer"`) {
			t.Error("a supervisor sees the customer card")
		}
	})
}
