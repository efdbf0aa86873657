package ticket_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

const card = "6037 9912 3456 7893" // Luhn-valid, Bank Melli prefix

func TestCardNumbersAreMaskedAndRevealedOnlyWithReason(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		cust := f.Scope(t, "customer")
		tk := create(t, a, cust, ticket.NewTicket{Subject: "پرداخت با کارت " + card,
			Body: "My card " + card + " cvv2 123 was charged twice"})
		if strings.Contains(tk.Subject, "3456") || !slices.Equal(tk.SubjectMasked, []string{"card"}) {
			t.Errorf("subject not masked: %q %v", tk.Subject, tk.SubjectMasked)
		}
		admin := f.Scope(t, "admin")
		msgs, err := a.Tickets.Messages(ctx, admin, tk.Number, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		body := msgs[0].Body
		if strings.Contains(body, "3456") || strings.Contains(body, "123 was") || !strings.Contains(body, "6037 99") || !strings.Contains(body, "7893") {
			t.Errorf("stored body = %q: want first 6 and last 4 digits only, and no CVV", body)
		}
		if !slices.Equal(msgs[0].Masked, []string{"card", "cvv"}) {
			t.Errorf("masked kinds = %v", msgs[0].Masked)
		}
		// Neither the customer who wrote it nor an agent may reveal.
		for _, who := range []string{"customer", "sales_agent", "supervisor"} {
			if _, err := a.Tickets.Reveal(ctx, f.Scope(t, who), tk.Number, msgs[0].ID, "checking a double charge"); !errors.Is(err, errs.ErrForbidden) {
				t.Errorf("%s reveals: %v, want forbidden", who, err)
			}
		}
		var inv *errs.Invalid
		if _, err := a.Tickets.Reveal(ctx, admin, tk.Number, msgs[0].ID, "why"); !errors.As(err, &inv) {
			t.Errorf("reveal without a real reason: %v", err)
		}
		orig, err := a.Tickets.Reveal(ctx, admin, tk.Number, msgs[0].ID, "customer disputes a double charge")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(orig, card) || strings.Contains(orig, "123 was") {
			t.Errorf("revealed %q: want the card number and never the CVV", orig)
		}
		subj, err := a.Tickets.Reveal(ctx, admin, tk.Number, 0, "customer disputes a double charge")
		if err != nil || !strings.Contains(subj, card) {
			t.Errorf("subject reveal: %q %v", subj, err)
		}
		events, _ := a.Tickets.Events(ctx, admin, tk.Number)
		reveals := 0
		for _, e := range events {
			if e.Kind == "reveal" {
				reveals++
				if e.ActorID != f.Admin.ID {
					t.Errorf("reveal recorded for actor %d", e.ActorID)
				}
			}
		}
		if reveals != 2 {
			t.Errorf("%d reveals in history, want 2", reveals)
		}
		// A card number is not searchable, masked or not.
		page, _ := a.Tickets.Search(ctx, admin, "6037991234567893", ticket.Filter{})
		if len(page.Tickets) != 0 {
			t.Errorf("card number is searchable")
		}
	})
}

func TestRedactPolicyKeepsNothing(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		if err := a.Tickets.SetMaskingPolicy(ctx, f.WS.ID, ticket.PolicyRedact); err != nil {
			t.Fatal(err)
		}
		admin := f.Scope(t, "admin")
		tk := create(t, a, admin, ticket.NewTicket{Subject: "refund", Body: "IBAN IR062960000000100324200001 please", CustomerID: f.Customer.ID})
		msgs, _ := a.Tickets.Messages(ctx, admin, tk.Number, 0, 10)
		if !strings.Contains(msgs[0].Body, "[REDACTED:iban]") || strings.Contains(msgs[0].Body, "0001") {
			t.Errorf("redacted body = %q", msgs[0].Body)
		}
		var inv *errs.Invalid
		if _, err := a.Tickets.Reveal(ctx, admin, tk.Number, msgs[0].ID, "customer disputes a double charge"); !errors.As(err, &inv) {
			t.Errorf("reveal under redact policy: %v, want nothing to reveal", err)
		}
		if err := a.Tickets.SetMaskingPolicy(ctx, f.WS.ID, "shred"); !errors.As(err, &inv) {
			t.Errorf("unknown policy accepted: %v", err)
		}
	})
}
