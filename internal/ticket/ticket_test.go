package ticket_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

func create(t *testing.T, a *app.App, scope access.Scope, in ticket.NewTicket) ticket.Ticket {
	t.Helper()
	if in.Body == "" {
		in.Body = "body of " + in.Subject
	}
	tk, err := a.Tickets.Create(ctx, scope, in)
	if err != nil {
		t.Fatalf("create %q: %v", in.Subject, err)
	}
	return tk
}

func numbers(p ticket.Page) []int64 {
	out := make([]int64, len(p.Tickets))
	for i, t := range p.Tickets {
		out[i] = t.Number
	}
	return out
}

func TestSalesAgentCannotSeeFinanceTicket(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		fin := create(t, a, f.System(), ticket.NewTicket{Subject: "refund invoice zebra", DepartmentID: f.Finance, CustomerID: f.Customer.ID})
		sales := create(t, a, f.System(), ticket.NewTicket{Subject: "pricing question zebra", DepartmentID: f.Sales, CustomerID: f.Customer.ID})
		agent := f.Scope(t, "sales_agent")

		if _, err := a.Tickets.Get(ctx, agent, fin.Number); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("get finance ticket as sales agent: err = %v, want not found", err)
		}
		if _, err := a.Tickets.Get(ctx, agent, sales.Number); err != nil {
			t.Errorf("get own department's ticket: %v", err)
		}
		page, err := a.Tickets.List(ctx, agent, ticket.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := numbers(page); !slices.Equal(got, []int64{sales.Number}) {
			t.Errorf("list = %v, want only %d", got, sales.Number)
		}
		page, err = a.Tickets.List(ctx, agent, ticket.Filter{DepartmentID: f.Finance})
		if err != nil || len(page.Tickets) != 0 {
			t.Errorf("list filtered to Finance = %v, %v; want nothing", numbers(page), err)
		}
		counts, err := a.Tickets.Counts(ctx, agent, ticket.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		if total != 1 {
			t.Errorf("counts total = %d, want 1 (finance ticket must not be counted)", total)
		}
		found, err := a.Tickets.Search(ctx, agent, "zebra", ticket.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got := numbers(found); !slices.Equal(got, []int64{sales.Number}) {
			t.Errorf("search = %v, want only %d", got, sales.Number)
		}
		if _, err := a.Tickets.Update(ctx, agent, fin.Number, ticket.Patch{Priority: ptr(ticket.PriorityHigh)}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("update finance ticket: %v, want not found", err)
		}
		if _, err := a.Tickets.AddMessage(ctx, agent, fin.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "hi"}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("reply to finance ticket: %v, want not found", err)
		}
		if _, err := a.Tickets.Messages(ctx, agent, fin.Number, 0, 10); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("read finance messages: %v, want not found", err)
		}
		// The admin sees both.
		page, _ = a.Tickets.List(ctx, f.Scope(t, "admin"), ticket.Filter{})
		if len(page.Tickets) != 2 {
			t.Errorf("admin sees %d tickets, want 2", len(page.Tickets))
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestCustomerSeesOnlyOwnTicketsUnlessOrganizationAccess(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		mine := create(t, a, f.System(), ticket.NewTicket{Subject: "mine", CustomerID: f.Customer.ID})
		theirs := create(t, a, f.System(), ticket.NewTicket{Subject: "colleague's", CustomerID: f.Colleague.ID})
		cust := f.Scope(t, "customer")
		if _, err := a.Tickets.Get(ctx, cust, theirs.Number); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("customer reads colleague's ticket: %v", err)
		}
		page, _ := a.Tickets.List(ctx, cust, ticket.Filter{})
		if got := numbers(page); !slices.Equal(got, []int64{mine.Number}) {
			t.Errorf("customer list = %v, want %d", got, mine.Number)
		}
		if _, err := a.Customers.Update(ctx, f.System(), f.Customer.ID, customer.Patch{OrgAccess: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		a.Identity.ForgetCachedIdentities()
		cust = f.Scope(t, "customer")
		page, _ = a.Tickets.List(ctx, cust, ticket.Filter{})
		if len(page.Tickets) != 2 {
			t.Errorf("with organization access the customer sees %v, want both", numbers(page))
		}
		// The colleague, without organization access, still sees only theirs.
		page, _ = a.Tickets.List(ctx, f.Scope(t, "colleague"), ticket.Filter{})
		if got := numbers(page); !slices.Equal(got, []int64{theirs.Number}) {
			t.Errorf("colleague list = %v", got)
		}
	})
}

func TestCustomerNeverSeesInternalNotesNorFindsThem(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		cust := f.Scope(t, "customer")
		tk := create(t, a, cust, ticket.NewTicket{Subject: "my order", Body: "where is it"})
		agent := f.Scope(t, "admin")
		if _, err := a.Tickets.AddMessage(ctx, agent, tk.Number, ticket.NewMessage{Kind: ticket.KindNote, Body: "suspected chargeback fraud"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Tickets.AddMessage(ctx, agent, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "on its way"}); err != nil {
			t.Fatal(err)
		}
		msgs, err := a.Tickets.Messages(ctx, cust, tk.Number, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Kind == ticket.KindNote {
				t.Errorf("customer sees note %q", m.Body)
			}
		}
		if len(msgs) != 2 {
			t.Errorf("customer sees %d messages, want 2 replies", len(msgs))
		}
		found, _ := a.Tickets.Search(ctx, cust, "chargeback", ticket.Filter{})
		if len(found.Tickets) != 0 {
			t.Errorf("customer search finds a word of an internal note")
		}
		found, _ = a.Tickets.Search(ctx, agent, "chargeback", ticket.Filter{})
		if len(found.Tickets) != 1 {
			t.Errorf("staff search for a note's word found %d, want 1", len(found.Tickets))
		}
		if _, err := a.Tickets.AddMessage(ctx, cust, tk.Number, ticket.NewMessage{Kind: ticket.KindNote, Body: "x"}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("customer adds a note: %v, want forbidden", err)
		}
	})
}

func TestStatusTransitionsAreValidatedAndRecorded(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sys := f.Scope(t, "admin")
		tk := create(t, a, sys, ticket.NewTicket{Subject: "flow", CustomerID: f.Customer.ID})
		steps := []struct {
			to ticket.Status
			ok bool
		}{
			{ticket.StatusPending, true}, {ticket.StatusSolved, true}, {ticket.StatusPending, false},
			{ticket.StatusOpen, true}, {ticket.StatusClosed, true}, {ticket.StatusOpen, false},
		}
		for _, s := range steps {
			_, err := a.Tickets.Update(ctx, sys, tk.Number, ticket.Patch{Status: ptr(s.to)})
			var inv *errs.Invalid
			if s.ok && err != nil {
				t.Fatalf("move to %s: %v", s.to, err)
			}
			if !s.ok && !errors.As(err, &inv) {
				t.Fatalf("move to %s: err = %v, want a validation error", s.to, err)
			}
		}
		got, _ := a.Tickets.Get(ctx, sys, tk.Number)
		if got.Status != ticket.StatusClosed || got.ClosedAt.IsZero() || got.SolvedAt.IsZero() {
			t.Errorf("final ticket = %+v", got)
		}
		events, err := a.Tickets.Events(ctx, sys, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		var trail []string
		for _, e := range events {
			if e.ActorID != f.Admin.ID {
				t.Errorf("event %s has actor %d, want the admin", e.Kind, e.ActorID)
			}
			trail = append(trail, e.Kind+":"+e.NewValue)
		}
		want := []string{"created:new", "status:pending", "status:solved", "status:open", "status:closed"}
		if !slices.Equal(trail, want) {
			t.Errorf("history = %v, want %v", trail, want)
		}
		if _, err := a.Tickets.AddMessage(ctx, sys, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "late"}); err == nil {
			t.Errorf("reply to a closed ticket succeeded")
		}
	})
}

func TestRepliesSetFirstResponseAndReopen(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		cust := f.Scope(t, "customer")
		agent := f.Scope(t, "admin")
		tk := create(t, a, cust, ticket.NewTicket{Subject: "help"})
		if tk.Status != ticket.StatusNew || tk.Channel != ticket.ChannelAPI {
			t.Fatalf("new ticket = %+v", tk)
		}
		pending := ticket.StatusPending
		if _, err := a.Tickets.AddMessage(ctx, agent, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "which order?", Status: &pending}); err != nil {
			t.Fatal(err)
		}
		got, _ := a.Tickets.Get(ctx, agent, tk.Number)
		if got.FirstResponseAt.IsZero() || got.Status != ticket.StatusPending {
			t.Fatalf("after staff reply: status %s, first response %v", got.Status, got.FirstResponseAt)
		}
		if _, err := a.Tickets.AddMessage(ctx, cust, tk.Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "order 42"}); err != nil {
			t.Fatal(err)
		}
		got, _ = a.Tickets.Get(ctx, agent, tk.Number)
		if got.Status != ticket.StatusOpen {
			t.Errorf("customer reply left status %s, want open", got.Status)
		}
	})
}

func TestQueuePaginationVisitsEveryTicketOnce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sys := f.System()
		want := map[int64]bool{}
		statuses := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved}
		for i := 0; i < 37; i++ {
			dept := f.Sales
			if i%3 == 0 {
				dept = f.Finance
			}
			tk := create(t, a, sys, ticket.NewTicket{Subject: fmt.Sprintf("t%d", i), DepartmentID: dept,
				CustomerID: f.Customer.ID, Status: statuses[i%len(statuses)]})
			want[tk.Number] = true
		}
		for _, tc := range []struct {
			name  string
			scope access.Scope
			f     ticket.Filter
			n     int
		}{
			{"admin, all", f.Scope(t, "admin"), ticket.Filter{Limit: 5}, 37},
			{"admin, oldest first", f.Scope(t, "admin"), ticket.Filter{Limit: 4, Order: ticket.OrderOldest}, 37},
			{"admin, open or new", f.Scope(t, "admin"), ticket.Filter{Limit: 3, Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}}, 19},
			{"sales agent", f.Scope(t, "sales_agent"), ticket.Filter{Limit: 7}, 24},
			{"sales agent, pending", f.Scope(t, "sales_agent"), ticket.Filter{Limit: 2, Statuses: []ticket.Status{ticket.StatusPending}}, 6},
		} {
			t.Run(tc.name, func(t *testing.T) {
				seen := map[int64]bool{}
				filter := tc.f
				var prev ticket.Ticket
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatal("pagination does not end")
					}
					page, err := a.Tickets.List(ctx, tc.scope, filter)
					if err != nil {
						t.Fatal(err)
					}
					for _, tk := range page.Tickets {
						if seen[tk.Number] {
							t.Fatalf("ticket %d seen twice", tk.Number)
						}
						seen[tk.Number] = true
						if prev.ID != 0 && ordered(prev, tk, tc.f.Order == ticket.OrderOldest) {
							t.Fatalf("ticket %d listed after %d out of order", tk.Number, prev.Number)
						}
						prev = tk
					}
					if page.NextCursor == "" {
						break
					}
					filter.Cursor = page.NextCursor
				}
				if len(seen) != tc.n {
					t.Errorf("saw %d tickets, want %d", len(seen), tc.n)
				}
			})
		}
	})
}

// ordered reports whether b wrongly comes before a in the list order.
func ordered(a, b ticket.Ticket, oldest bool) bool {
	ka, kb := [2]int64{a.UpdatedAt.UnixMicro(), a.ID}, [2]int64{b.UpdatedAt.UnixMicro(), b.ID}
	if oldest {
		return kb[0] < ka[0] || (kb[0] == ka[0] && kb[1] < ka[1])
	}
	return kb[0] > ka[0] || (kb[0] == ka[0] && kb[1] > ka[1])
}

func TestPersianSearchFindsArabicLetterForms(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sys := f.Scope(t, "admin")
		// Written with Arabic yeh and kaf and Arabic-Indic digits.
		tk := create(t, a, sys, ticket.NewTicket{Subject: "مشكل كارت بانكي", Body: "شماره سفارش ٤٥٦ مي‌خواهم", CustomerID: f.Customer.ID})
		create(t, a, sys, ticket.NewTicket{Subject: "unrelated", Body: "nothing here", CustomerID: f.Customer.ID})
		for _, q := range []string{"کارت بانکی", "۴۵۶", "456", "میخواهم"} {
			page, err := a.Tickets.Search(ctx, sys, q, ticket.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if got := numbers(page); !slices.Equal(got, []int64{tk.Number}) {
				t.Errorf("search %q = %v, want [%d]", q, got, tk.Number)
			}
		}
	})
}

func TestTicketNumbersArePerWorkspace(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f1, f2 := testutil.NewFixture(t, a), testutil.NewFixture(t, a)
		a1 := create(t, a, f1.System(), ticket.NewTicket{Subject: "a", CustomerID: f1.Customer.ID})
		b1 := create(t, a, f2.System(), ticket.NewTicket{Subject: "b", CustomerID: f2.Customer.ID})
		a2 := create(t, a, f1.System(), ticket.NewTicket{Subject: "c", CustomerID: f1.Customer.ID})
		if a1.Number != 1 || b1.Number != 1 || a2.Number != 2 {
			t.Errorf("numbers = %d, %d, %d; want 1, 1, 2", a1.Number, b1.Number, a2.Number)
		}
		// A workspace's scope never reaches another's tickets, even by number.
		got, err := a.Tickets.Get(ctx, f2.Scope(t, "admin"), a2.Number)
		if err == nil {
			t.Errorf("workspace 2 reads ticket %d: %+v", a2.Number, got)
		}
	})
}

func TestNewAndKnownCustomersAreMatchedByEmail(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sys := f.Scope(t, "admin")
		t1 := create(t, a, sys, ticket.NewTicket{Subject: "x", Customer: &customer.NewCustomer{Email: "New.Person@Example.com", Name: "New"}})
		t2 := create(t, a, sys, ticket.NewTicket{Subject: "y", Customer: &customer.NewCustomer{Email: "new.person@example.com"}})
		if t1.CustomerID != t2.CustomerID {
			t.Errorf("same email (different case) made two customers: %d, %d", t1.CustomerID, t2.CustomerID)
		}
		t3 := create(t, a, sys, ticket.NewTicket{Subject: "z", Customer: &customer.NewCustomer{Email: f.Customer.Email}})
		if t3.CustomerID != f.Customer.ID || t3.OrganizationID == 0 {
			t.Errorf("known customer not matched: %+v", t3)
		}
	})
}

func TestInvalidTicketsAreRejectedWithFieldErrors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sys := f.Scope(t, "admin")
		cases := map[string]ticket.NewTicket{
			"subject":        {Body: "b", CustomerID: f.Customer.ID},
			"priority":       {Subject: "s", Body: "b", CustomerID: f.Customer.ID, Priority: "asap"},
			"customer":       {Subject: "s", Body: "b"},
			"customer_id":    {Subject: "s", Body: "b", CustomerID: 999999999},
			"department_id":  {Subject: "s", Body: "b", CustomerID: f.Customer.ID, DepartmentID: 999999999},
			"assignee_id":    {Subject: "s", Body: "b", CustomerID: f.Customer.ID, DepartmentID: f.Finance, AssigneeID: f.SalesAgent.ID},
			"tags":           {Subject: "s", Body: "b", CustomerID: f.Customer.ID, Tags: []string{"no spaces allowed"}},
			"customer.email": {Subject: "s", Body: "b", Customer: &customer.NewCustomer{Email: "not-an-email"}},
		}
		for field, in := range cases {
			_, err := a.Tickets.Create(ctx, sys, in)
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Fields[field] == "" {
				t.Errorf("%s: err = %v, want a field error on %s", field, err, field)
			}
		}
		page, _ := a.Tickets.List(ctx, sys, ticket.Filter{})
		if len(page.Tickets) != 0 {
			t.Errorf("rejected tickets left %d rows behind", len(page.Tickets))
		}
		// A sales agent may not file into Finance directly.
		_, err := a.Tickets.Create(ctx, f.Scope(t, "sales_agent"), ticket.NewTicket{Subject: "s", Body: "b", CustomerID: f.Customer.ID, DepartmentID: f.Finance})
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Fields["department_id"] == "" {
			t.Errorf("sales agent filing into Finance: %v", err)
		}
	})
}

func TestHandingTicketToAnotherDepartmentUnassignsOutsider(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		agent := f.Scope(t, "sales_agent")
		tk := create(t, a, agent, ticket.NewTicket{Subject: "billing question", CustomerID: f.Customer.ID, AssigneeID: f.SalesAgent.ID})
		if tk.DepartmentID != f.Sales || tk.AssigneeID != f.SalesAgent.ID {
			t.Fatalf("created %+v", tk)
		}
		moved, err := a.Tickets.Update(ctx, agent, tk.Number, ticket.Patch{DepartmentID: &f.Finance})
		if err != nil {
			t.Fatal(err)
		}
		if moved.DepartmentID != f.Finance || moved.AssigneeID != 0 {
			t.Errorf("after hand-off: department %d assignee %d", moved.DepartmentID, moved.AssigneeID)
		}
		if _, err := a.Tickets.Get(ctx, agent, tk.Number); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("sales agent still sees the handed-off ticket")
		}
		if _, err := a.Tickets.Get(ctx, f.Scope(t, "finance_agent"), tk.Number); err != nil {
			t.Errorf("finance agent cannot see the handed-off ticket: %v", err)
		}
	})
}

func TestSupervisorSeesMetadataButNoCustomerContent(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		tk := create(t, a, f.System(), ticket.NewTicket{Subject: "my phone is 0912 555 1234", DepartmentID: f.Sales, CustomerID: f.Customer.ID, Tags: []string{"fraud-suspect"}})
		sup := f.Scope(t, "supervisor")
		got, err := a.Tickets.Get(ctx, sup, tk.Number)
		if err != nil || got.Subject != "" || got.Status != ticket.StatusNew {
			t.Errorf("supervisor's view: %+v %v; want metadata without the subject", got, err)
		}
		if _, err := a.Tickets.Messages(ctx, sup, tk.Number, 0, 10); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("supervisor reads messages: %v", err)
		}
		if _, err := a.Tickets.Search(ctx, sup, "phone", ticket.Filter{}); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("supervisor searches: %v", err)
		}
		if _, err := a.Tickets.Update(ctx, sup, tk.Number, ticket.Patch{Priority: ptr(ticket.PriorityUrgent)}); err != nil {
			t.Errorf("supervisor cannot steer priority: %v", err)
		}
		// Customers see neither tags nor the assignee, nor filter by them.
		cust := f.Scope(t, "customer")
		mine, _ := a.Tickets.Get(ctx, cust, tk.Number)
		if len(mine.Tags) != 0 {
			t.Errorf("customer sees staff tags %v", mine.Tags)
		}
		if _, err := a.Tickets.List(ctx, cust, ticket.Filter{Tag: "fraud-suspect"}); err == nil {
			t.Errorf("customer may filter by a staff tag")
		}
	})
}
