package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

// ticketMails are the mails addr has received about requests, oldest
// first, after sending what is due.
func (e *authEnv) ticketMails(addr string) []smtpd.Received {
	e.t.Helper()
	e.deliver()
	var out []smtpd.Received
	for _, m := range e.smtp.Messages() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) && strings.Contains(m.Body, "/portal/requests/") {
			out = append(out, m)
		}
	}
	return out
}

// TestCustomerIsToldOfTheirRequestAndOfAnswersByMailWithoutItsText opens a
// request and answers it through the API: the customer gets a receipt and
// then one "new answer" mail per burst of replies, in their language, with
// a link to the request and none of the subject or messages.
func TestCustomerIsToldOfTheirRequestAndOfAnswersByMailWithoutItsText(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		agent := client{t, e.url, e.f.Tokens["sales_agent"]}
		addr := e.f.Customer.Email
		const subject, body = "Card 6037-9975-1234-5678 lost", "My national code is 0012345678"

		var tk ticketJSON
		agent.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": subject, "body": body, "customer_id": e.f.Customer.ID}, &tk)
		got := e.ticketMails(addr)
		if len(got) != 1 {
			t.Fatalf("after opening: %d mails, want the receipt", len(got))
		}
		link := fmt.Sprintf("http://localhost:8080/portal/requests/%d", tk.ID)
		receipt := got[0]
		// No language chosen: the workspace's default, Persian, with
		// Persian digits in the text and the link as it is.
		if !strings.Contains(receipt.Subject, "دریافت کردیم") || !strings.Contains(receipt.Body, link) ||
			!strings.Contains(receipt.Subject, persianDigits(tk.ID)) || !strings.Contains(receipt.Body, e.f.WS.Name) {
			t.Fatalf("receipt: %q\n%s", receipt.Subject, receipt.Body)
		}

		path := fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID)
		agent.must(201, "POST", path, map[string]any{"kind": "note", "body": "internal: check card 6037"}, nil)
		if got := e.ticketMails(addr); len(got) != 1 {
			t.Fatalf("a note mailed the customer: %d mails", len(got))
		}
		const answer = "We blocked the card ending 5678"
		agent.must(201, "POST", path, map[string]any{"body": answer, "status": "pending"}, nil)
		agent.must(201, "POST", path, map[string]any{"body": "And a new one is on its way"}, nil)
		got = e.ticketMails(addr)
		if len(got) != 2 {
			t.Fatalf("two quick replies: %d mails in all, want the receipt and one answer", len(got))
		}
		answered := got[1]
		if !strings.Contains(answered.Subject, "پاسخ تازه") || !strings.Contains(answered.Body, link) {
			t.Fatalf("answer mail: %q\n%s", answered.Subject, answered.Body)
		}
		for _, m := range got {
			for _, secret := range []string{subject, body, answer, "6037", "5678", "0012345678", "new one", "internal"} {
				if strings.Contains(m.Subject+string(m.Data)+m.Body, secret) {
					t.Errorf("mail %q carries %q", m.Subject, secret)
				}
			}
		}
		if n := e.queryInt(`SELECT COUNT(*) FROM mail_outbox WHERE workspace_id = $1 AND kind = 'ticket_answered'`, e.f.WS.ID); n != 1 {
			t.Errorf("outbox holds %d answer mails, want 1", n)
		}

		// The customer's own messages are no news to them.
		cust := client{t, e.url, e.f.Tokens["customer"]}
		cust.must(201, "POST", path, map[string]any{"body": "Thanks"}, nil)
		if got := e.ticketMails(addr); len(got) != 2 {
			t.Fatalf("the customer's reply mailed them: %d mails", len(got))
		}

		// A customer who chose English is written to in English; an
		// answer after the quiet period mails again.
		e.exec(`UPDATE customers SET locale = 'en' WHERE id = $1`, e.f.Customer.ID)
		e.exec(`UPDATE messages SET created_at = created_at - $1 WHERE ticket_id IN (SELECT id FROM tickets WHERE workspace_id = $2 AND number = $3)`,
			int64(6*60*1_000_000), e.f.WS.ID, tk.ID)
		agent.must(201, "POST", path, map[string]any{"body": "Your new card was sent"}, nil)
		got = e.ticketMails(addr)
		if len(got) != 3 {
			t.Fatalf("a reply after the quiet period: %d mails in all, want 3", len(got))
		}
		en := got[2]
		if en.Subject != fmt.Sprintf("New answer to your request #%d (%s)", tk.ID, e.f.WS.Name) || !strings.Contains(en.Body, link) {
			t.Fatalf("English answer mail: %q\n%s", en.Subject, en.Body)
		}
	})
}

// TestRequestsOfNewAndErasedCustomers: a customer created with their first
// request through the API (no portal account yet) gets the receipt with
// the same link; an erased customer gets nothing more.
func TestRequestsOfNewAndErasedCustomers(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAuthEnv(t, a)
		agent := client{t, e.url, e.f.Tokens["sales_agent"]}
		addr := "walk-in-" + e.f.WS.Slug + "@example.com"
		var tk ticketJSON
		agent.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": "Hello", "body": "Help",
			"customer": map[string]string{"email": addr, "name": "Walk In"}}, &tk)
		got := e.ticketMails(addr)
		if len(got) != 1 || !strings.Contains(got[0].Body, fmt.Sprintf("/portal/requests/%d", tk.ID)) || !strings.Contains(got[0].Body, "Walk In") {
			t.Fatalf("new customer's receipt: %d mails %+v", len(got), got)
		}

		admin := client{t, e.url, e.f.Tokens["admin"]}
		admin.must(200, "POST", fmt.Sprintf("/api/v1/customers/%d/erase", tk.CustomerID), map[string]any{"tickets": "keep", "confirm": "ERASE"}, nil)
		before := e.queryInt(`SELECT COUNT(*) FROM mail_outbox WHERE workspace_id = $1`, e.f.WS.ID)
		agent.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "Answer"}, nil)
		if after := e.queryInt(`SELECT COUNT(*) FROM mail_outbox WHERE workspace_id = $1`, e.f.WS.ID); after != before {
			t.Fatalf("an erased customer was mailed: outbox %d -> %d", before, after)
		}
	})
}

func persianDigits(n int64) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + (r - '0')
		}
		return r
	}, fmt.Sprint(n))
}
