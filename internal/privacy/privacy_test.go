package privacy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/privacy"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

// customerWithHistory gives the fixture's customer two tickets with a
// reply, an internal note and a file.
func customerWithHistory(t *testing.T, a *app.App, f *testutil.Fixture) []ticket.Ticket {
	t.Helper()
	cust := f.Scope(t, "customer")
	var out []ticket.Ticket
	for _, subject := range []string{"Lost parcel Quokka", "Refund for order Wombat"} {
		tk, err := a.Tickets.Create(ctx, cust, ticket.NewTicket{Subject: subject, Body: "hello from the customer about " + subject})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tk)
	}
	admin := f.Scope(t, "admin")
	if _, err := a.Tickets.AddMessage(ctx, admin, out[0].Number, ticket.NewMessage{Kind: ticket.KindNote, Body: "note about Quokka"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Attachments.Upload(ctx, cust, out[0].Number, "receipt.txt", strings.NewReader("receipt content Numbat")); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExportHoldsEverythingAboutTheCustomer(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		customerWithHistory(t, a, f)
		if err := a.Privacy.Export(ctx, f.Scope(t, "sales_agent"), f.Customer.ID, &bytes.Buffer{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("agent exports: %v, want forbidden", err)
		}
		var buf bytes.Buffer
		if err := a.Privacy.Export(ctx, f.Scope(t, "admin"), f.Customer.ID, &buf); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Customer struct{ Email string } `json:"customer"`
			Tickets  []struct {
				Subject     string `json:"subject"`
				Messages    []struct{ Kind, Body string }
				Attachments []struct {
					Name          string `json:"name"`
					ContentBase64 string `json:"content_base64"`
				}
			} `json:"tickets"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
		}
		if doc.Customer.Email != f.Customer.Email || len(doc.Tickets) != 2 {
			t.Fatalf("export = %+v", doc)
		}
		quokka := doc.Tickets[0]
		if !strings.Contains(quokka.Subject, "Quokka") {
			quokka = doc.Tickets[1]
		}
		if len(quokka.Messages) != 2 || quokka.Messages[1].Kind != "note" {
			t.Errorf("Quokka ticket's messages = %+v", quokka.Messages)
		}
		if len(quokka.Attachments) != 1 {
			t.Fatalf("attachments = %+v", quokka.Attachments)
		}
		content, _ := base64.StdEncoding.DecodeString(quokka.Attachments[0].ContentBase64)
		if string(content) != "receipt content Numbat" {
			t.Errorf("attachment content = %q", content)
		}
	})
}

func TestErasureKeepsAnonymousTicketsOrDeletesThem(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		for _, mode := range []string{privacy.KeepTickets, privacy.DeleteTickets} {
			t.Run(mode, func(t *testing.T) {
				f := testutil.NewFixture(t, a)
				tickets := customerWithHistory(t, a, f)
				admin := f.Scope(t, "admin")
				if _, err := a.Privacy.Erase(ctx, f.Scope(t, "supervisor"), f.Customer.ID, mode); !errors.Is(err, errs.ErrForbidden) {
					t.Errorf("supervisor erases: %v", err)
				}
				out, err := a.Privacy.Erase(ctx, admin, f.Customer.ID, mode)
				if err != nil {
					t.Fatal(err)
				}
				if out.Tickets != 2 || out.Messages != 3 || out.Attachments != 1 || out.Tokens != 1 {
					t.Errorf("erased %+v", out)
				}
				c, err := a.Customers.Get(ctx, admin, f.Customer.ID)
				if err != nil || c.Name != "" || strings.Contains(c.Email, "customer-") {
					t.Errorf("customer after erasure: %+v %v", c, err)
				}
				if _, err := a.Customers.FindByEmail(ctx, admin, f.Customer.Email); !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("old email still finds the customer: %v", err)
				}
				if _, err := a.Identity.Authenticate(ctx, f.Tokens["customer"]); err == nil {
					t.Errorf("the customer's token still works")
				}
				page, _ := a.Tickets.Search(ctx, admin, "Quokka", ticket.Filter{})
				if len(page.Tickets) != 0 {
					t.Errorf("erased words are still searchable")
				}
				got, err := a.Tickets.Get(ctx, admin, tickets[0].Number)
				if mode == privacy.DeleteTickets {
					if !errors.Is(err, errs.ErrNotFound) {
						t.Errorf("deleted ticket still there: %v", err)
					}
					return
				}
				if err != nil || strings.Contains(got.Subject, "Quokka") {
					t.Fatalf("kept ticket: %+v %v", got, err)
				}
				msgs, _ := a.Tickets.Messages(ctx, admin, tickets[0].Number, 0, 10)
				for _, m := range msgs {
					if strings.Contains(m.Body, "Quokka") || strings.Contains(m.Body, "hello from") {
						t.Errorf("message survived erasure: %q", m.Body)
					}
				}
				files, _ := a.Attachments.List(ctx, admin, tickets[0].Number, 0, 10)
				if len(files) != 0 {
					t.Errorf("attachments survived erasure: %+v", files)
				}
			})
		}
	})
}

// TestErasureReachesWhatTheCustomerWroteOnColleaguesTickets: with
// organization access a customer writes on colleagues' tickets; export
// must include it and erasure must remove it.
func TestErasureReachesWhatTheCustomerWroteOnColleaguesTickets(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		on := true
		if _, err := a.Customers.Update(ctx, f.System(), f.Customer.ID, customer.Patch{OrgAccess: &on}); err != nil {
			t.Fatal(err)
		}
		a.Identity.ForgetCachedIdentities()
		theirs, err := a.Tickets.Create(ctx, f.Scope(t, "colleague"), ticket.NewTicket{Subject: "colleague's ticket", Body: "colleague text Echidna"})
		if err != nil {
			t.Fatal(err)
		}
		cust := f.Scope(t, "customer")
		if _, err := a.Tickets.AddMessage(ctx, cust, theirs.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "my phone Platypus 0912"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Attachments.Upload(ctx, cust, theirs.Number, "passport.txt", strings.NewReader("passport scan")); err != nil {
			t.Fatal(err)
		}
		admin := f.Scope(t, "admin")
		var buf bytes.Buffer
		if err := a.Privacy.Export(ctx, admin, f.Customer.ID, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "Platypus") {
			t.Errorf("export lacks the message written on a colleague's ticket")
		}
		if _, err := a.Privacy.Erase(ctx, admin, f.Customer.ID, privacy.KeepTickets); err != nil {
			t.Fatal(err)
		}
		msgs, _ := a.Tickets.Messages(ctx, admin, theirs.Number, 0, 10)
		for _, m := range msgs {
			if strings.Contains(m.Body, "Platypus") {
				t.Errorf("erased customer's message survives on a colleague's ticket")
			}
		}
		if len(msgs) != 2 || !strings.Contains(msgs[0].Body, "Echidna") {
			t.Errorf("the colleague's own message was touched: %+v", msgs)
		}
		files, _ := a.Attachments.List(ctx, admin, theirs.Number, 0, 10)
		if len(files) != 0 {
			t.Errorf("erased customer's file survives: %+v", files)
		}
		if page, _ := a.Tickets.Search(ctx, admin, "Platypus", ticket.Filter{}); len(page.Tickets) != 0 {
			t.Errorf("erased words still find the colleague's ticket")
		}
		if page, _ := a.Tickets.Search(ctx, admin, "Echidna", ticket.Filter{}); len(page.Tickets) != 1 {
			t.Errorf("the colleague's own words no longer find their ticket")
		}
	})
}
