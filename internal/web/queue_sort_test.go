package web_test

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

// queueRows are the ticket numbers a queue page lists, in its order.
func queueRows(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `<a href="/console/tickets/`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

// nextLink is the queue page's link to the next page, unescaped ("" at
// the end).
func nextLink(body string) string {
	i := strings.Index(body, `rel="next"`)
	if i < 0 {
		return ""
	}
	j := strings.LastIndex(body[:i], `href="`)
	return strings.ReplaceAll(body[j+6:i-2], "&amp;", "&")
}

// consoleListReads counts the queue pages the audit log has recorded for
// the workspace, after writing out what is pending.
func consoleListReads(t *testing.T, a *app.App, ws int64) int {
	t.Helper()
	if err := a.Audit.FlushReads(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Audit.SealPending(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Audit.List(t.Context(), ws, audit.Filter{Action: audit.ActionTicketList, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Details["via"] == "console" {
			n++
		}
	}
	return n
}

// TestQueueSortSelectOffersEveryOrderAndKeepsIt: the queue's sort select
// offers every order in the reader's language, works as a plain form (no
// JavaScript), lists in the order chosen, and the tabs, the filters and
// the next page keep it.
func TestQueueSortSelectOffersEveryOrderAndKeepsIt(t *testing.T) {
	defer web.SetCountBudget(time.Minute)()
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		agent := e.staff("agent", "Roya", pw, e.f.Sales)
		priorities := []ticket.Priority{ticket.PriorityLow, ticket.PriorityUrgent, ticket.PriorityNormal, ticket.PriorityHigh}
		var made []ticket.Ticket
		for i := range ticket.DefaultPageSize + 3 {
			tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "case " + strconv.Itoa(i), Body: "b",
				CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales, Priority: priorities[i%len(priorities)]})
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, tk)
		}
		numbersOf := func(ts []ticket.Ticket) []string {
			var out []string
			for _, tk := range ts {
				out = append(out, strconv.FormatInt(tk.Number, 10))
			}
			return out
		}
		byPriority := slices.Clone(made)
		slices.SortStableFunc(byPriority, func(x, y ticket.Ticket) int {
			rank := func(p ticket.Priority) int { return -slices.Index(ticket.Priorities, p) }
			return cmp.Or(cmp.Compare(rank(x.Priority), rank(y.Priority)), y.UpdatedAt.Compare(x.UpdatedAt), cmp.Compare(y.ID, x.ID))
		})
		g := e.signInStaff("en", agent.Email, pw)
		before := consoleListReads(t, a, e.f.WS.ID)
		pages := 0
		get := func(path string) string {
			t.Helper()
			pages++
			return g.get(path).must(t, 200).body
		}

		page := get("/console/?view=all&status=active&sort=priority")
		if got, want := queueRows(page), numbersOf(byPriority[:ticket.DefaultPageSize]); !slices.Equal(got, want) {
			t.Errorf("most urgent first:\n got %v\nwant %v", got, want)
		}
		for _, want := range []string{
			`<form method="get" action="/console/" class="filters">`,
			`<select id="f-sort" name="sort">`,
			`<option value="updated">Last updated first</option>`,
			`<option value="oldest">Waiting longest first</option>`,
			`<option value="created">Newest tickets first</option>`,
			`<option value="created_asc">Oldest tickets first</option>`,
			`<option value="priority" selected>Most urgent first</option>`,
			// The tabs keep the order.
			`href="/console/?sort=priority&amp;status=active&amp;view=mine"`,
			`href="/console/?sort=priority&amp;status=pending&amp;view=all"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the queue lacks %s", want)
			}
		}
		// The next page keeps the order and goes on where the first ended.
		next := nextLink(page)
		if !strings.Contains(next, "sort=priority") || !strings.Contains(next, "cursor=") {
			t.Fatalf("next page link %q drops the order", next)
		}
		if got, want := queueRows(get(next)), numbersOf(byPriority[ticket.DefaultPageSize:]); !slices.Equal(got, want) {
			t.Errorf("second page, most urgent first:\n got %v\nwant %v", got, want)
		}

		// The form as a browser without JavaScript sends it: every field,
		// empty ones too.
		page = get("/console/?view=all&status=active&priority=&department=&sort=created_asc")
		if got, want := queueRows(page), numbersOf(made[:ticket.DefaultPageSize]); !slices.Equal(got, want) {
			t.Errorf("oldest tickets first:\n got %v\nwant %v", got, want)
		}
		if !strings.Contains(page, `<option value="created_asc" selected>`) {
			t.Error("the select does not show the order chosen")
		}
		// In creation order the time column says when each was opened,
		// so its times read in order too; otherwise, the last update.
		if !strings.Contains(page, `<th scope="col">Created</th>`) || !strings.Contains(page, `datetime="`+made[0].CreatedAt.UTC().Format(time.RFC3339)+`"`) {
			t.Error("in creation order the time column is not the creation time")
		}
		if p := get("/console/?view=all&status=active&sort=updated"); !strings.Contains(p, `<th scope="col">Updated</th>`) {
			t.Error("in update order the time column is not the last update")
		}
		// With a filter: the urgent tickets, newest first.
		var urgent []ticket.Ticket
		for _, tk := range slices.Backward(made) {
			if tk.Priority == ticket.PriorityUrgent {
				urgent = append(urgent, tk)
			}
		}
		page = get("/console/?view=all&status=active&priority=urgent&department=&sort=created")
		if got, want := queueRows(page), numbersOf(urgent); !slices.Equal(got, want) {
			t.Errorf("urgent, newest first: got %v, want %v", got, want)
		}
		if !strings.Contains(page, `<option value="created" selected>`) || !strings.Contains(page, `href="/console/?priority=urgent&amp;sort=created&amp;status=active&amp;view=mine"`) {
			t.Error("the filtered queue does not keep its order and filter in the select and tabs")
		}

		// An order the queue does not know falls back to the default.
		page = get("/console/?view=all&status=active&sort=sideways")
		if !strings.Contains(page, `<option value="updated" selected>`) || queueRows(page)[0] != numbersOf(made[len(made)-1:])[0] {
			t.Error("an unknown order did not fall back to the last updated first")
		}

		// In Persian, the orders are named in Persian.
		fa := e.signInStaff("fa", agent.Email, pw)
		pages++
		page = fa.get("/console/?view=all&status=active&sort=oldest").must(t, 200).body
		for _, want := range []string{
			`<option value="updated">تازه‌ترین به‌روزرسانی اول</option>`,
			`<option value="oldest" selected>بیشترین انتظار اول</option>`,
			`<option value="created">تازه‌ترین تیکت‌ها اول</option>`,
			`<option value="created_asc">قدیمی‌ترین تیکت‌ها اول</option>`,
			`<option value="priority">فوری‌ترین اول</option>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the Persian queue lacks %s", want)
			}
		}

		// Every page served was recorded as a read of the list.
		if got := consoleListReads(t, a, e.f.WS.ID) - before; got != pages {
			t.Errorf("%d queue reads recorded, want %d", got, pages)
		}
	})
}
