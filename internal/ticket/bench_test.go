package ticket_test

import (
	"fmt"
	"testing"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// Benchmarks of the store's hot paths, on both databases:
//
//	go test ./internal/ticket -run '^$' -bench . -benchtime 3s
//
// The seeded size is small; `hesar bench --seed 1000000` measures at scale.

const benchBody = "سلام، کارت بانکی من مسدود شده و پرداخت انجام نمی‌شود. order 44120 was charged twice, please refund"

func BenchmarkCreateTicket(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			a := testutil.App(b, kind)
			f := testutil.NewFixture(b, a)
			scope := f.System()
			b.SetParallelism(16) // 16 × GOMAXPROCS writers in flight, like the API under load
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					_, err := a.Tickets.Create(ctx, scope, ticket.NewTicket{Subject: "پرداخت ناموفق refund", Body: benchBody,
						DepartmentID: f.Sales, Customer: &customer.NewCustomer{Email: fmt.Sprintf("c%d@bench.test", i%500)}})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func seedForReads(b *testing.B, kind string, n int) (*testutil.Fixture, []int64) {
	a := testutil.App(b, kind)
	f := testutil.NewFixture(b, a)
	statuses := []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusSolved}
	var numbers []int64
	for i := 0; i < n; i++ {
		dept := f.Sales
		if i%2 == 0 {
			dept = f.Finance
		}
		tk, err := a.Tickets.Create(ctx, f.System(), ticket.NewTicket{Subject: fmt.Sprintf("ticket %d refund", i), Body: benchBody,
			DepartmentID: dept, CustomerID: f.Customer.ID, Status: statuses[i%len(statuses)]})
		if err != nil {
			b.Fatal(err)
		}
		numbers = append(numbers, tk.Number)
	}
	return f, numbers
}

func BenchmarkListQueue(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			f, _ := seedForReads(b, kind, 2000)
			agent := f.Scope(b, "sales_agent")
			filter := ticket.Filter{DepartmentID: f.Sales, Statuses: []ticket.Status{ticket.StatusNew, ticket.StatusOpen}}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.App.Tickets.List(ctx, agent, filter); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkGetTicket(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			f, numbers := seedForReads(b, kind, 500)
			admin := f.Scope(b, "admin")
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := f.App.Tickets.Get(ctx, admin, numbers[i%len(numbers)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkSearchTwoWords(b *testing.B) {
	for _, kind := range testutil.Kinds {
		b.Run(kind, func(b *testing.B) {
			f, _ := seedForReads(b, kind, 2000)
			agent := f.Scope(b, "sales_agent")
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.App.Tickets.Search(ctx, agent, "کارت refund", ticket.Filter{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
