package ticket_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

var showPlans = flag.Bool("plans", false, "BenchmarkListQueueByOrder: log each query's plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL)")

// seedOrderQueue creates n tickets the way a help desk holds them: two
// departments, four statuses, priorities mostly normal (5% urgent, 15%
// high, 20% low), one in eight of Sales's assigned to its agent. Writers
// run side by side, as the API's would.
func seedOrderQueue(b *testing.B, kind string, n int) *testutil.Fixture {
	a := testutil.App(b, kind)
	f := testutil.NewFixture(b, a)
	statuses := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved}
	weighted := slices.Repeat([]ticket.Priority{ticket.PriorityNormal}, 12)
	weighted = append(weighted, ticket.PriorityUrgent, ticket.PriorityHigh, ticket.PriorityHigh, ticket.PriorityHigh,
		ticket.PriorityLow, ticket.PriorityLow, ticket.PriorityLow, ticket.PriorityLow)
	rnd := rand.New(rand.NewPCG(1, 2)) // the same data set every run
	ins := make([]ticket.NewTicket, n)
	for i := range ins {
		ins[i] = ticket.NewTicket{Subject: fmt.Sprintf("ticket %d", i), Body: "b", CustomerID: f.Customer.ID, DepartmentID: f.Sales,
			Status: statuses[rnd.IntN(len(statuses))], Priority: weighted[rnd.IntN(len(weighted))]}
		if rnd.IntN(2) == 0 {
			ins[i].DepartmentID = f.Finance
		} else if rnd.IntN(8) == 0 {
			ins[i].AssigneeID = f.SalesAgent.ID
		}
	}
	const writers = 16
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				if _, err := a.Tickets.Create(ctx, f.System(), ins[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	// As `hesar bench` does after seeding: plans for the data there is.
	if err := a.DB.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkListQueueByOrder times a page of a queue in each order, with
// 10,000 tickets, on both databases:
//
//	go test ./internal/ticket -run '^$' -bench ListQueueByOrder -benchtime 2000x
//	go test ./internal/ticket -run '^$' -bench ListQueueByOrder -benchtime 1x -args -plans
//
// dept is a department's queue (new and open: two index ranges merged),
// mine the agent's own active tickets (the assignee index), all one status
// across departments (the status index); page6 is the sixth page of dept,
// which by priority has run out of urgent tickets and reads high ones too.
func BenchmarkListQueueByOrder(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			f := seedOrderQueue(b, kind, 10000)
			agent, admin := f.Scope(b, "sales_agent"), f.Scope(b, "admin")
			active := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending}
			queues := []struct {
				name  string
				scope access.Scope
				f     ticket.Filter
				pages int
			}{
				{"dept", agent, ticket.Filter{DepartmentID: f.Sales, Statuses: active[:2]}, 0},
				{"mine", agent, ticket.Filter{AssigneeID: f.SalesAgent.ID, Statuses: active}, 0},
				{"all", admin, ticket.Filter{Statuses: active[:1]}, 0},
				{"page6", agent, ticket.Filter{DepartmentID: f.Sales, Statuses: active[:2]}, 5},
			}
			for _, q := range queues {
				for _, o := range ticket.Orders {
					filter := q.f
					filter.Order = o
					for range q.pages {
						page, err := f.App.Tickets.List(ctx, q.scope, filter)
						if err != nil || page.NextCursor == "" {
							b.Fatalf("%s: page of %d, %v", q.name, len(page.Tickets), err)
						}
						filter.Cursor = page.NextCursor
					}
					b.Run(q.name+"/"+string(o), func(b *testing.B) {
						if *showPlans {
							logPlans(b, f, q.scope, filter)
						}
						for b.Loop() {
							page, err := f.App.Tickets.List(ctx, q.scope, filter)
							if err != nil || len(page.Tickets) != ticket.DefaultPageSize {
								b.Fatalf("page of %d: %v", len(page.Tickets), err)
							}
						}
					})
				}
			}
		})
	}
}

// logPlans logs how the database runs each query of a page of f (from its
// cursor, if it has one).
func logPlans(b *testing.B, f *testutil.Fixture, scope access.Scope, filter ticket.Filter) {
	queries, args, err := f.App.Tickets.ListQueries(scope, filter)
	if err != nil {
		b.Fatal(err)
	}
	read, _ := f.App.DB.Pools()
	explain := "EXPLAIN QUERY PLAN "
	if f.App.DB.Dialect() == db.Postgres {
		explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
	}
	for i, q := range queries {
		rows, err := read.QueryContext(ctx, explain+q, args[i]...)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		var plan []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, fmt.Sprint(vals[len(vals)-1])) // SQLite: id, parent, notused, detail
		}
		rows.Close()
		b.Logf("query %d of %d:\n%s", i+1, len(queries), strings.Join(plan, "\n"))
	}
}
