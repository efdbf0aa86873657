package ticket_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// searchAll follows the cursors of a search to the end and returns every
// ticket number found, in order, and how many pages it took.
func searchAll(t *testing.T, a *app.App, scope access.Scope, q string, f ticket.Filter, examine int) (found []int64, pages int) {
	t.Helper()
	for pages < 100 {
		page, err := a.Tickets.SearchUpTo(ctx, scope, q, f, examine)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		pages++
		found = append(found, numbers(page)...)
		if page.NextCursor == "" {
			return found, pages
		}
		f.Cursor = page.NextCursor
	}
	t.Fatalf("search %q did not end after 100 pages", q)
	return nil, 0
}

// searchCorpus creates tickets from subjects in department dept, oldest
// first, and returns their numbers by subject.
func searchCorpus(t *testing.T, a *app.App, f *testutil.Fixture, dept int64, subjects ...string) []int64 {
	t.Helper()
	out := make([]int64, len(subjects))
	for i, s := range subjects {
		out[i] = create(t, a, f.System(), ticket.NewTicket{Subject: s, Body: "-", DepartmentID: dept, CustomerID: f.Customer.ID}).Number
	}
	return out
}

func reversed(s []int64) []int64 {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func TestSearchPagesVisitEveryMatchOnceNewestFirst(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		var want []int64
		for i := range 7 {
			want = append(want, searchCorpus(t, a, f, f.Sales, fmt.Sprintf("alpha beta %d", i))...)
			searchCorpus(t, a, f, f.Sales, "alpha only")
			searchCorpus(t, a, f, f.Finance, "alpha beta in finance")
		}
		agent := f.Scope(t, "sales_agent")
		for _, examine := range []int{4000, 3, 1} {
			got, pages := searchAll(t, a, agent, "alpha beta", ticket.Filter{Limit: 3}, examine)
			if !slices.Equal(got, reversed(want)) {
				t.Errorf("examine %d: newest first = %v, want %v", examine, got, reversed(want))
			}
			if examine == 4000 && pages != 3 {
				t.Errorf("7 results by 3 took %d pages, want 3", pages)
			}
			got, _ = searchAll(t, a, agent, "beta alpha", ticket.Filter{Limit: 3, Order: ticket.OrderCreatedAsc}, examine)
			if !slices.Equal(got, want) {
				t.Errorf("examine %d: oldest first = %v, want %v", examine, got, want)
			}
		}
	})
}

func TestSearchFindsTheSameWhicheverWordIsRarer(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		var both []int64
		for i := range 40 {
			subject := "refund please"
			if i%10 == 3 {
				subject = "refund quokka"
			}
			n := searchCorpus(t, a, f, f.Sales, subject)
			if i%10 == 3 {
				both = append(both, n...)
			}
		}
		searchCorpus(t, a, f, f.Sales, "quokka alone")
		agent := f.Scope(t, "sales_agent")
		for _, q := range []string{"quokka refund", "refund quokka", "refund quokka refund"} {
			for _, examine := range []int{4000, 2} {
				if got, _ := searchAll(t, a, agent, q, ticket.Filter{Limit: 2}, examine); !slices.Equal(got, reversed(both)) {
					t.Errorf("%q (examine %d) = %v, want %v", q, examine, got, reversed(both))
				}
			}
		}
	})
}

func TestSearchNeverFindsTicketsOutsideTheScope(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		sales := searchCorpus(t, a, f, f.Sales, "secret merger", "merger secret plans")
		finance := searchCorpus(t, a, f, f.Finance, "secret merger finance", "secret merger budget", "secret merger costs")
		colleague := create(t, a, f.Scope(t, "colleague"), ticket.NewTicket{Subject: "secret merger colleague", Body: "-"}).Number
		cases := []struct {
			role string
			want []int64
		}{
			{"sales_agent", reversed(sales)},
			{"customer", reversed(append(slices.Clone(sales), finance...))}, // the fixture's customer opened all five
			{"colleague", []int64{colleague}},
		}
		for _, c := range cases {
			for _, examine := range []int{4000, 1} {
				got, _ := searchAll(t, a, f.Scope(t, c.role), "secret merger", ticket.Filter{Limit: 1}, examine)
				if !slices.Equal(got, c.want) {
					t.Errorf("%s (examine %d) found %v, want %v", c.role, examine, got, c.want)
				}
			}
		}
		// Paging with a bound of one ticket: every page ends on a ticket the
		// agent may open, so the number of pages depends on those alone.
		agent := f.Scope(t, "sales_agent")
		_, pages := searchAll(t, a, agent, "merger", ticket.Filter{Limit: 5}, 1)
		if pages != len(sales)+1 {
			t.Errorf("bounded search took %d pages, want %d (one per own ticket, then the end)", pages, len(sales)+1)
		}
	})
}

func TestSearchMatchesNoteWordsForStaffOnly(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		cust := f.Scope(t, "customer")
		noted := create(t, a, cust, ticket.NewTicket{Subject: "parcel late", Body: "where is my parcel"})
		public := create(t, a, cust, ticket.NewTicket{Subject: "parcel chargeback", Body: "I will file a chargeback"})
		for range 5 {
			create(t, a, cust, ticket.NewTicket{Subject: "another parcel", Body: "-"})
		}
		admin := f.Scope(t, "admin")
		if _, err := a.Tickets.AddMessage(ctx, admin, noted.Number, ticket.NewMessage{Kind: ticket.KindNote, Body: "chargeback risk"}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"chargeback parcel", "parcel chargeback", "chargeback"} {
			if got, _ := searchAll(t, a, cust, q, ticket.Filter{}, 4000); !slices.Equal(got, []int64{public.Number}) {
				t.Errorf("customer %q = %v, want only %d (never the note's ticket)", q, got, public.Number)
			}
			if got, _ := searchAll(t, a, admin, q, ticket.Filter{Limit: 1}, 4000); !slices.Equal(got, []int64{public.Number, noted.Number}) {
				t.Errorf("staff %q = %v, want %v", q, got, []int64{public.Number, noted.Number})
			}
		}
	})
}

func TestSearchForWordsThatNeverMeetEndsEmpty(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		for range 30 {
			searchCorpus(t, a, f, f.Sales, "walrus one", "narwhal two")
		}
		agent := f.Scope(t, "sales_agent")
		start := time.Now()
		page, err := a.Tickets.Search(ctx, agent, "walrus narwhal", ticket.Filter{})
		if err != nil || len(page.Tickets) != 0 || page.NextCursor != "" {
			t.Errorf("search = %v, cursor %q, %v; want nothing and no cursor", numbers(page), page.NextCursor, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("search for words that never meet took %v", d)
		}
		// With a bound lower than the walk, it says more may exist, then ends.
		if got, pages := searchAll(t, a, agent, "walrus narwhal", ticket.Filter{}, 7); len(got) != 0 || pages != 5 {
			t.Errorf("bounded: found %v in %d pages, want nothing in 5 (30 walruses, 7 at a time)", got, pages)
		}
	})
}

func TestSearchAppliesListFilters(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		var solved []int64
		for i := range 6 {
			tk := create(t, a, f.System(), ticket.NewTicket{Subject: "printer jam", Body: "-", DepartmentID: f.Sales, CustomerID: f.Customer.ID})
			if i%2 == 0 {
				if _, err := a.Tickets.Update(ctx, f.System(), tk.Number, ticket.Patch{Status: ptr(ticket.StatusSolved)}); err != nil {
					t.Fatal(err)
				}
				solved = append(solved, tk.Number)
			}
		}
		agent := f.Scope(t, "sales_agent")
		filters := []ticket.Filter{
			{Statuses: []ticket.Status{ticket.StatusSolved}, Limit: 1},
			{Statuses: []ticket.Status{ticket.StatusSolved}, CustomerID: f.Customer.ID, Limit: 1},
		}
		for _, flt := range filters {
			if got, _ := searchAll(t, a, agent, "jam printer", flt, 4000); !slices.Equal(got, reversed(solved)) {
				t.Errorf("solved only (customer %d) = %v, want %v", flt.CustomerID, got, reversed(solved))
			}
		}
	})
}

func TestSearchRefusesCursorsItDidNotGive(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		searchCorpus(t, a, f, f.Sales, "one ticket", "two ticket")
		agent := f.Scope(t, "sales_agent")
		list, err := a.Tickets.List(ctx, agent, ticket.Filter{Limit: 1})
		if err != nil || list.NextCursor == "" {
			t.Fatalf("list: %v, cursor %q", err, list.NextCursor)
		}
		var inv *errs.Invalid
		for _, c := range []string{list.NextCursor, "czA", "!!"} {
			if _, err := a.Tickets.Search(ctx, agent, "ticket", ticket.Filter{Cursor: c}); !errors.As(err, &inv) {
				t.Errorf("cursor %q: err = %v, want a validation error", c, err)
			}
		}
	})
}
