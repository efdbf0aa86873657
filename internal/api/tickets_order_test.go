package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/testutil"
)

// pageAll follows next_cursor from path (which already has a query) and
// returns the ticket numbers in the order the pages gave them.
func (c client) pageAll(path string) []int64 {
	c.t.Helper()
	var got []int64
	next := path
	for pages := 0; ; pages++ {
		if pages > 50 {
			c.t.Fatalf("%s: pagination does not end", path)
		}
		var p pageJSON
		c.must(200, "GET", next, nil, &p)
		for _, tk := range p.Data {
			got = append(got, tk.ID)
		}
		if p.NextCursor == nil {
			return got
		}
		next = path + "&cursor=" + *p.NextCursor
	}
}

func TestTicketListComesInTheOrderAskedForPageAfterPage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		c := client{t, srv.URL, f.Tokens["admin"]}
		// Made one after another, so creation and last activity agree and
		// the priority alone tells the priority order apart.
		priorities := []string{"low", "urgent", "normal", "high", "urgent", "low", "high"}
		var made []int64
		for i, p := range priorities {
			var tk ticketJSON
			c.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": fmt.Sprintf("t%d", i), "body": "refund",
				"customer_id": f.Customer.ID, "department_id": f.Sales, "priority": p}, &tk)
			made = append(made, tk.ID)
		}
		first := slices.Clone(made)
		last := slices.Clone(made)
		slices.Reverse(last)
		byPriority := []int64{made[4], made[1], made[6], made[3], made[2], made[5], made[0]}
		lists := 0
		for _, tc := range []struct {
			order string
			want  []int64
		}{
			{"", last}, {"newest", last}, {"updated", last}, {"oldest", first},
			{"created", last}, {"created_asc", first}, {"priority", byPriority},
		} {
			got := c.pageAll("/api/v1/tickets?limit=2&order=" + tc.order)
			lists += (len(tc.want) + 1) / 2
			if !slices.Equal(got, tc.want) {
				t.Errorf("order=%s: %v, want %v", tc.order, got, tc.want)
			}
		}
		// The search walks tickets in the order they were opened: either way.
		for _, tc := range []struct {
			order string
			want  []int64
		}{{"", last}, {"newest", last}, {"created", last}, {"oldest", first}, {"created_asc", first}} {
			if got := c.pageAll("/api/v1/search?q=refund&limit=3&order=" + tc.order); !slices.Equal(got, tc.want) {
				t.Errorf("search, order=%s: %v, want %v", tc.order, got, tc.want)
			}
		}

		// Refused, with the parameter named: an order no one offers, an order
		// search cannot keep, a cursor given out under another order.
		var p pageJSON
		c.must(200, "GET", "/api/v1/tickets?limit=2&order=created", nil, &p)
		lists++
		for _, tc := range []struct {
			path, code, field string
			status            int
		}{
			{"/api/v1/tickets?order=urgent_first", "invalid_parameter", "order", 400},
			{"/api/v1/tickets?order=Priority", "invalid_parameter", "order", 400},
			{"/api/v1/search?q=t4&order=priority", "invalid_parameter", "order", 400},
			{"/api/v1/search?q=t4&order=updated", "invalid_parameter", "order", 400},
			{"/api/v1/tickets?limit=2&order=priority&cursor=" + *p.NextCursor, "validation_failed", "cursor", 422},
		} {
			r := c.do("GET", tc.path, nil)
			if r.Status != tc.status {
				t.Errorf("GET %s: %d, want %d: %s", tc.path, r.Status, tc.status, r.Body)
				continue
			}
			if e := r.err(t); e.Error.Code != tc.code || e.Error.Fields[tc.field] == "" {
				t.Errorf("GET %s: %+v", tc.path, e.Error)
			}
		}

		// Each page served is one recorded read; the refused ones read
		// nothing and record nothing.
		if err := a.Audit.FlushReads(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(t.Context()); err != nil {
			t.Fatal(err)
		}
		recs, err := a.Audit.List(t.Context(), f.WS.ID, audit.Filter{Action: "ticket.list", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != lists {
			t.Errorf("%d list reads recorded, want %d", len(recs), lists)
		}
	})
}
