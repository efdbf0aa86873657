package notify_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/notify"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

// failAfter queues the real mail, then fails the write, as any later step
// of the write could.
type failAfter struct{ n *notify.Notifier }

var errLater = errors.New("a later step of the write failed")

func (f failAfter) TicketOpened(ctx context.Context, tx *db.Tx, t ticket.Ticket) error {
	if err := f.n.TicketOpened(ctx, tx, t); err != nil {
		return err
	}
	return errLater
}

func (f failAfter) ReplyAdded(ctx context.Context, tx *db.Tx, t ticket.Ticket, id int64) error {
	if err := f.n.ReplyAdded(ctx, tx, t, id); err != nil {
		return err
	}
	return errLater
}

func outboxRows(t *testing.T, a *app.App, ws int64) int {
	t.Helper()
	var n int
	if err := a.DB.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mail_outbox WHERE workspace_id = $1 AND kind IN ('ticket_received', 'ticket_answered')`, ws).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMailIsQueuedInTheWriteOfTheTicketOrNotAtAll: the customer's mail
// is written in the transaction of the ticket or reply, so a write that
// fails after the mail was queued leaves neither the message nor the mail.
func TestMailIsQueuedInTheWriteOfTheTicketOrNotAtAll(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		f := testutil.NewFixture(t, a)
		n, err := notify.New(notify.Opts{Keys: a.Keys, Outbox: a.Mail, PublicURL: "https://desk.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		failing := ticket.New(ticket.Opts{DB: a.DB, Keys: a.Keys, Customers: a.Customers, Audit: a.Audit, Notifier: failAfter{n}})
		staff := f.Scope(t, "sales_agent")
		if _, err := failing.Create(ctx, staff, ticket.NewTicket{Subject: "s", Body: "b", CustomerID: f.Customer.ID}); !errors.Is(err, errLater) {
			t.Fatalf("create: %v", err)
		}
		if got := outboxRows(t, a, f.WS.ID); got != 0 {
			t.Fatalf("a ticket that was not created left %d mails", got)
		}

		// The real service opens it (and queues the receipt); the failing
		// one cannot answer it.
		tk, err := a.Tickets.Create(ctx, staff, ticket.NewTicket{Subject: "s", Body: "b", CustomerID: f.Customer.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := outboxRows(t, a, f.WS.ID); got != 1 {
			t.Fatalf("after opening: %d mails, want the receipt", got)
		}
		if _, err := failing.AddMessage(ctx, staff, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "answer"}); !errors.Is(err, errLater) {
			t.Fatalf("reply: %v", err)
		}
		if got := outboxRows(t, a, f.WS.ID); got != 1 {
			t.Fatalf("a reply that was not written left a mail: %d mails", got)
		}
		msgs, err := a.Tickets.Messages(ctx, staff, tk.Number, 0, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages after the failed reply: %d %v", len(msgs), err)
		}
		// And the failed reply does not count as a recent one: the next
		// reply mails.
		if _, err := a.Tickets.AddMessage(ctx, staff, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "answer"}); err != nil {
			t.Fatal(err)
		}
		if got := outboxRows(t, a, f.WS.ID); got != 2 {
			t.Fatalf("after a reply: %d mails, want 2", got)
		}
	})
}

func TestNewRefusesAPublicURLWithoutSchemeOrHost(t *testing.T) {
	for _, u := range []string{"", "desk.example.com", "ftp://desk.example.com", "https://"} {
		if _, err := notify.New(notify.Opts{PublicURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
