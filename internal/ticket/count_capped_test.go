package ticket_test

import (
	"slices"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestQueueBadgesCountOnlyTheAgentsTicketsAndStopAtTheCap: the counts a
// queue shows are the agent's departments' tickets, exact under the cap
// and the cap itself above it.
func TestQueueBadgesCountOnlyTheAgentsTicketsAndStopAtTheCap(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		create(t, a, f.System(), ticket.NewTicket{Subject: "sales", DepartmentID: f.Sales, CustomerID: f.Customer.ID, AssigneeID: f.SalesAgent.ID})
		for range 4 {
			create(t, a, f.System(), ticket.NewTicket{Subject: "sales", DepartmentID: f.Sales, CustomerID: f.Customer.ID})
		}
		for range 3 {
			create(t, a, f.System(), ticket.NewTicket{Subject: "finance", DepartmentID: f.Finance, CustomerID: f.Customer.ID})
		}
		create(t, a, f.System(), ticket.NewTicket{Subject: "solved", DepartmentID: f.Sales, CustomerID: f.Customer.ID, Status: ticket.StatusSolved})
		agent := f.Scope(t, "sales_agent")
		filters := []ticket.Filter{
			{},
			{AssigneeID: f.SalesAgent.ID},
			{Unassigned: true},
			{Statuses: []ticket.Status{ticket.StatusNew}},
			{Statuses: []ticket.Status{ticket.StatusSolved}},
			{DepartmentID: f.Finance},
		}
		got, err := a.Tickets.CountUpTo(ctx, agent, filters, 100)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{6, 1, 5, 5, 1, 0}; !slices.Equal(got, want) {
			t.Errorf("sales agent's counts %v, want %v (Finance's tickets must not count)", got, want)
		}
		got, err = a.Tickets.CountUpTo(ctx, f.System(), filters, 4)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{4, 1, 4, 4, 1, 3}; !slices.Equal(got, want) {
			t.Errorf("counts capped at 4: %v, want %v", got, want)
		}
		if _, err := a.Tickets.CountUpTo(ctx, agent, []ticket.Filter{{Statuses: []ticket.Status{"bogus"}}}, 10); err == nil {
			t.Error("an unknown status was counted")
		}
	})
}
