package ticket_test

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// tiedQueue creates 40 tickets across departments, statuses, priorities,
// assignees and two customers of one organization, then gives them
// timestamps that tie in runs (five share an updated_at, seven a
// created_at, neither run following creation), so pages of three end
// inside runs of equal keys. It returns the tickets as stored.
func tiedQueue(t *testing.T, a *app.App, f *testutil.Fixture) []ticket.Ticket {
	t.Helper()
	statuses := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved}
	var all []ticket.Ticket
	for i := range 40 {
		in := ticket.NewTicket{Subject: fmt.Sprintf("t%d", i), DepartmentID: f.Sales, CustomerID: f.Customer.ID,
			Priority: ticket.Priorities[i%len(ticket.Priorities)], Status: statuses[(i/4)%len(statuses)]}
		switch {
		case i%3 == 0:
			in.DepartmentID = f.Finance
		case i%5 == 1:
			in.AssigneeID = f.SalesAgent.ID
		}
		if i%7 == 3 {
			in.CustomerID = f.Colleague.ID
		}
		all = append(all, create(t, a, f.System(), in))
	}
	base := time.Now().Add(-time.Hour).UnixMicro()
	err := a.DB.Write(ctx, func(tx *db.Tx) error {
		for i := range all {
			updated := base + int64((i*17%40)/5)*1000
			created := base - int64((i*13%40)/7)*1000
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $1, created_at = $2 WHERE id = $3`, updated, created, all[i].ID); err != nil {
				return err
			}
			all[i].UpdatedAt, all[i].CreatedAt = db.Time(updated), db.Time(created)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// listOrder is what each order promises, written out apart from the SQL
// that keeps it: it reports how a sorts against b.
func listOrder(o ticket.Order) func(a, b ticket.Ticket) int {
	rank := func(p ticket.Priority) int { return -slices.Index(ticket.Priorities, p) } // urgent first
	return func(a, b ticket.Ticket) int {
		switch o {
		case ticket.OrderOldest:
			return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
		case ticket.OrderCreated:
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		case ticket.OrderCreatedAsc:
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		case ticket.OrderPriority:
			return cmp.Or(cmp.Compare(rank(a.Priority), rank(b.Priority)), b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
		default:
			return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
		}
	}
}

// listAll follows the cursor to the end and returns the numbers in the
// order the pages gave them.
func listAll(t *testing.T, a *app.App, scope access.Scope, f ticket.Filter) []int64 {
	t.Helper()
	var got []int64
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		page, err := a.Tickets.List(ctx, scope, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tickets) > f.Limit {
			t.Fatalf("page of %d, limit %d", len(page.Tickets), f.Limit)
		}
		got = append(got, numbers(page)...)
		if page.NextCursor == "" {
			return got
		}
		f.Cursor = page.NextCursor
	}
}

func TestEveryOrderPagesThroughTiesWithoutSkippingOrRepeating(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		all := tiedQueue(t, a, f)
		admin, agent, customer := f.Scope(t, "admin"), f.Scope(t, "sales_agent"), f.Scope(t, "customer")
		sales := func(tk ticket.Ticket) bool { return tk.DepartmentID == f.Sales }
		active := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending}
		cases := []struct {
			name  string
			scope access.Scope
			f     ticket.Filter
			want  func(ticket.Ticket) bool
		}{
			{"admin, everything", admin, ticket.Filter{}, func(ticket.Ticket) bool { return true }},
			{"admin, new or open", admin, ticket.Filter{Statuses: active[:2]},
				func(tk ticket.Ticket) bool { return slices.Contains(active[:2], tk.Status) }},
			{"agent, own departments", agent, ticket.Filter{}, sales},
			{"agent, department and active statuses", agent, ticket.Filter{DepartmentID: f.Sales, Statuses: active},
				func(tk ticket.Ticket) bool { return sales(tk) && slices.Contains(active, tk.Status) }},
			{"agent, mine", agent, ticket.Filter{AssigneeID: f.SalesAgent.ID, Statuses: active},
				func(tk ticket.Ticket) bool {
					return tk.AssigneeID == f.SalesAgent.ID && slices.Contains(active, tk.Status)
				}},
			{"agent, unassigned", agent, ticket.Filter{Unassigned: true},
				func(tk ticket.Ticket) bool { return sales(tk) && tk.AssigneeID == 0 }},
			{"agent, high or urgent", agent, ticket.Filter{Priorities: []ticket.Priority{ticket.PriorityUrgent, ticket.PriorityHigh}},
				func(tk ticket.Ticket) bool {
					return sales(tk) && (tk.Priority == ticket.PriorityHigh || tk.Priority == ticket.PriorityUrgent)
				}},
			{"customer, own", customer, ticket.Filter{}, func(tk ticket.Ticket) bool {
				return tk.CustomerID == f.Customer.ID || customer.OrgAccess && tk.OrganizationID == customer.OrganizationID
			}},
		}
		for _, o := range ticket.Orders {
			for _, tc := range cases {
				t.Run(string(o)+"/"+tc.name, func(t *testing.T) {
					var want []ticket.Ticket
					for _, tk := range all {
						if tc.want(tk) {
							want = append(want, tk)
						}
					}
					slices.SortStableFunc(want, listOrder(o))
					var wantNumbers []int64
					for _, tk := range want {
						wantNumbers = append(wantNumbers, tk.Number)
					}
					if len(wantNumbers) < 4 {
						t.Fatalf("the case holds %d tickets: too few to page", len(wantNumbers))
					}
					for _, limit := range []int{1, 3, 100} {
						tc.f.Order, tc.f.Limit = o, limit
						if got := listAll(t, a, tc.scope, tc.f); !slices.Equal(got, wantNumbers) {
							t.Errorf("pages of %d:\n got %v\nwant %v", limit, got, wantNumbers)
						}
					}
				})
			}
		}
	})
}

func TestTheDefaultOrderIsLastUpdatedFirst(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		tiedQueue(t, a, f)
		admin := f.Scope(t, "admin")
		byDefault := listAll(t, a, admin, ticket.Filter{Limit: 7})
		if updated := listAll(t, a, admin, ticket.Filter{Limit: 7, Order: ticket.OrderUpdated}); !slices.Equal(byDefault, updated) {
			t.Errorf("no order gave %v, updated %v", byDefault, updated)
		}
	})
}

// fieldError returns the message err has for field, or "".
func fieldError(err error, field string) string {
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		return inv.Fields[field]
	}
	return ""
}

func TestACursorResumesOnlyTheOrderThatGaveItOut(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		all := tiedQueue(t, a, f)
		admin := f.Scope(t, "admin")
		cursors := map[ticket.Order]string{}
		for _, o := range ticket.Orders {
			page, err := a.Tickets.List(ctx, admin, ticket.Filter{Order: o, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			cursors[o] = page.NextCursor
		}
		for from, c := range cursors {
			for _, to := range ticket.Orders {
				_, err := a.Tickets.List(ctx, admin, ticket.Filter{Order: to, Limit: 2, Cursor: c})
				compatible := from == to || (from == ticket.OrderUpdated || from == ticket.OrderOldest) && (to == ticket.OrderUpdated || to == ticket.OrderOldest)
				switch {
				case compatible && err != nil:
					t.Errorf("a %s cursor under %s: %v", from, to, err)
				case !compatible && fieldError(err, "cursor") == "":
					t.Errorf("a %s cursor was taken by %s: %v", from, to, err)
				}
			}
		}
		// A cursor given out before there were other orders (no order in
		// it) still resumes the order by last update.
		slices.SortStableFunc(all, listOrder(ticket.OrderUpdated))
		old := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", all[1].UpdatedAt.UnixMicro(), all[1].ID))
		page, err := a.Tickets.List(ctx, admin, ticket.Filter{Limit: 1, Cursor: old})
		if err != nil || len(page.Tickets) != 1 || page.Tickets[0].ID != all[2].ID {
			t.Errorf("an untagged cursor: %v %v, want ticket %d", numbers(page), err, all[2].Number)
		}
		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, bad := range []string{"x", enc("priority:9.1.1"), enc("priority:-1.1.1"), enc("priority:1.1"), enc("nonsense:1.1")} {
			if _, err := a.Tickets.List(ctx, admin, ticket.Filter{Order: ticket.OrderPriority, Cursor: bad}); fieldError(err, "cursor") == "" {
				t.Errorf("cursor %q: %v", bad, err)
			}
		}
	})
}

func TestUnknownOrdersAreRefusedAndSearchTakesOnlyCreationOrders(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		create(t, a, f.System(), ticket.NewTicket{Subject: "refund please", DepartmentID: f.Sales, CustomerID: f.Customer.ID})
		admin := f.Scope(t, "admin")
		if _, err := a.Tickets.List(ctx, admin, ticket.Filter{Order: "newest"}); fieldError(err, "order") == "" {
			t.Errorf("an unknown order: %v", err)
		}
		for _, o := range ticket.Orders {
			_, err := a.Tickets.Search(ctx, admin, "refund", ticket.Filter{Order: o})
			byCreation := o == ticket.OrderCreated || o == ticket.OrderCreatedAsc
			if byCreation && err != nil || !byCreation && fieldError(err, "order") == "" {
				t.Errorf("search in order %s: %v", o, err)
			}
		}
	})
}

// TestCappedCountsIgnoreTheOrder: a queue's badges count the same tickets
// whatever order the queue is in.
func TestCappedCountsIgnoreTheOrder(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		all := tiedQueue(t, a, f)
		agent := f.Scope(t, "sales_agent")
		sales := 0
		for _, tk := range all {
			if tk.DepartmentID == f.Sales {
				sales++
			}
		}
		filters := func(o ticket.Order) []ticket.Filter {
			return []ticket.Filter{
				{Order: o},
				{Order: o, AssigneeID: f.SalesAgent.ID},
				{Order: o, Unassigned: true, Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}},
				{Order: o, DepartmentID: f.Sales, Statuses: []ticket.Status{ticket.StatusPending}},
				{Order: o, Priorities: []ticket.Priority{ticket.PriorityUrgent}},
			}
		}
		want, err := a.Tickets.CountUpTo(ctx, agent, filters(""), 100)
		if err != nil {
			t.Fatal(err)
		}
		if want[0] != sales {
			t.Fatalf("the agent's department holds %d tickets, counted %d", sales, want[0])
		}
		for _, o := range ticket.Orders {
			got, err := a.Tickets.CountUpTo(ctx, agent, filters(o), 100)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("order %s: counts %v (%v), want %v", o, got, err, want)
			}
			capped, err := a.Tickets.CountUpTo(ctx, agent, filters(o), 5)
			if err != nil || capped[0] != 5 {
				t.Errorf("order %s, capped at 5: %v (%v)", o, capped, err)
			}
		}
		if _, err := a.Tickets.CountUpTo(ctx, agent, []ticket.Filter{{Order: "sideways"}}, 10); fieldError(err, "order") == "" {
			t.Errorf("an unknown order was counted: %v", err)
		}
	})
}
