package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestCustomerPanelMasksContactUntilAskedAndRecordsTheAsking: the ticket
// page's customer card shows the email and phone masked. Seeing them
// whole takes a POST (a link or a GET shows nothing more), a fresh
// sign-in (step-up) and a reason; the reveal is written with its reason
// sealed, in the ticket's history, and as ticket.reveal and customer.view
// in the audit log. The customer's other requests are listed only where
// the agent may go.
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
		for _, want := range []string{"p•••@example.ir", "•• ••• ••• ••89", "پریسا رحیمی", "older sales question", `action="/console/tickets/` + fmt.Sprint(this.Number) + `/contact"`,
			"<b>order</b>", `href="https://shop.example/o/1"`, `target="_blank"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("ticket page lacks %q", want)
			}
		}

		// The old way of asking, a GET, shows nothing more.
		if p = ag.get(page+"?contact=show").must(t, 200); strings.Contains(p.body, "parisa.rahimi@") {
			t.Error("a GET showed the contact details")
		}
		// No reason, or too short a one: refused on the field, nothing shown.
		for _, reason := range []string{"", "   ", "because"} {
			p = ag.post(page+"/contact", url.Values{"reason": {reason}}).must(t, 422)
			if strings.Contains(p.body, "parisa.rahimi@") || !strings.Contains(p.body, `id="f-contact-reason-error"`) {
				t.Errorf("reason %q: the refusal showed the details or no field error", reason)
			}
		}
		// A session past the step-up window confirms who it is first.
		e.age(u.ID)
		if p = ag.get(page).must(t, 200); !strings.Contains(p.body, "confirm it is you first") {
			t.Error("the form does not say a step-up comes first")
		}
		const why = "customer asked us to call back about order 1"
		ag.post(page+"/contact", url.Values{"reason": {why}}).redirect(t, "/auth/step-up?next="+url.QueryEscape(page+"#customer"))
		ag.post("/auth/step-up", url.Values{"password": {pw}, "next": {page}}).redirect(t, page)

		p = ag.post(page+"/contact", url.Values{"reason": {why}}).must(t, 200)
		if !strings.Contains(p.body, "parisa.rahimi@example.ir") || !strings.Contains(p.body, "98 912 345 6789") {
			t.Error("asking did not show the contact details")
		}
		if cc := p.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		if !strings.Contains(p.body, "viewed the customer&#39;s contact details in full") {
			t.Error("the history does not show the reveal")
		}
		var target string
		var reasonEnc []byte
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT target, reason_enc FROM reveals WHERE ticket_id = $1`, this.ID).Scan(&target, &reasonEnc); err != nil {
			t.Fatal(err)
		}
		if target != "contact" || strings.Contains(string(reasonEnc), "order 1") {
			t.Errorf("reveal row: target %q, reason stored in the clear: %v", target, strings.Contains(string(reasonEnc), "order 1"))
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
		recs, err = a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: "ticket.reveal", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].ActorID != u.ID || recs[0].TargetID != this.ID || recs[0].Details["target"] != "contact" {
			t.Fatalf("ticket.reveal records = %+v, want one, of this agent revealing this ticket's contact", recs)
		}

		// A supervisor holds no customer.read: no panel at all.
		sv := e.staff("supervisor", "watcher", pw, e.f.Sales)
		svc := e.signInStaff("en", sv.Email, pw)
		p = svc.get(page).must(t, 200)
		if strings.Contains(p.body, "example.ir") || strings.Contains(p.body, `id="customer"`) {
			t.Error("a supervisor sees the customer card")
		}
		if p = svc.post(page+"/contact", url.Values{"reason": {why}}).must(t, 403); strings.Contains(p.body, "example.ir") {
			t.Error("a supervisor's reveal showed the contact details")
		}
	})
}
