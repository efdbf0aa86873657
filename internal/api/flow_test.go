package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

// TestTicketLifecycleOverHTTP walks a ticket through its life the way an
// integration would, on both databases.
func TestTicketLifecycleOverHTTP(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		agent := client{t, srv.URL, f.Tokens["sales_agent"]}
		cust := client{t, srv.URL, f.Tokens["customer"]}

		var tk ticketJSON
		r := agent.must(201, "POST", "/api/v1/tickets", map[string]any{
			"subject": "Invoice شماره ۱۲", "body": "Please resend the invoice", "priority": "high",
			"customer": map[string]string{"email": "Buyer@Example.com", "name": "Buyer"}, "tags": []string{"Billing", "billing"},
		}, &tk)
		if r.Header.Get("Location") != fmt.Sprintf("/api/v1/tickets/%d", tk.ID) {
			t.Errorf("Location = %q", r.Header.Get("Location"))
		}
		if tk.Status != "new" || tk.Priority != "high" || tk.DepartmentID != f.Sales || !slices.Equal(tk.Tags, []string{"billing"}) {
			t.Errorf("created %+v", tk)
		}
		path := fmt.Sprintf("/api/v1/tickets/%d", tk.ID)

		agent.must(201, "POST", path+"/messages", map[string]any{"kind": "note", "body": "customer is VIP"}, nil)
		agent.must(201, "POST", path+"/messages", map[string]any{"body": "Sent again", "status": "pending"}, nil)
		var got ticketJSON
		agent.must(200, "PATCH", path, map[string]any{"assignee_id": f.SalesAgent.ID, "tags": []string{"billing", "resent"}}, &got)
		if got.Status != "pending" || got.AssigneeID == nil || *got.AssigneeID != f.SalesAgent.ID {
			t.Errorf("after reply and assign: %+v", got)
		}
		agent.must(200, "PATCH", path, map[string]any{"assignee_id": nil}, &got)
		if got.AssigneeID != nil {
			t.Errorf("null assignee_id did not unassign: %+v", got)
		}

		var msgs struct {
			Data []struct {
				Kind string `json:"kind"`
				Body string `json:"body"`
			} `json:"data"`
		}
		agent.must(200, "GET", path+"/messages", nil, &msgs)
		if len(msgs.Data) != 3 || msgs.Data[1].Kind != "note" {
			t.Errorf("messages = %+v", msgs.Data)
		}
		var events struct {
			Data []struct {
				Kind string `json:"kind"`
			} `json:"data"`
		}
		agent.must(200, "GET", path+"/events", nil, &events)
		var kinds []string
		for _, e := range events.Data {
			kinds = append(kinds, e.Kind)
		}
		for _, want := range []string{"created", "note", "reply", "status", "assignee", "tags"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("history %v lacks %q", kinds, want)
			}
		}

		var page pageJSON
		agent.must(200, "GET", "/api/v1/tickets?status=pending&priority=high&tag=resent", nil, &page)
		if len(page.Data) != 1 || page.Data[0].ID != tk.ID {
			t.Errorf("filtered list = %+v", page.Data)
		}
		agent.must(200, "GET", "/api/v1/search?q=invoice+۱۲", nil, &page)
		if len(page.Data) != 1 {
			t.Errorf("search found %d", len(page.Data))
		}
		var counts struct {
			Total    int            `json:"total"`
			ByStatus map[string]int `json:"by_status"`
		}
		agent.must(200, "GET", "/api/v1/tickets/counts", nil, &counts)
		if counts.Total != 1 || counts.ByStatus["pending"] != 1 {
			t.Errorf("counts = %+v", counts)
		}

		// The fixture's customer is not the ticket's customer: 404, not 403.
		if r := cust.do("GET", path, nil); r.Status != http.StatusNotFound {
			t.Errorf("another customer reads the ticket: %d", r.Status)
		}

		// Closing is final.
		agent.must(200, "PATCH", path, map[string]any{"status": "closed"}, nil)
		r = agent.do("POST", path+"/messages", map[string]any{"body": "one more thing"})
		if r.Status != 422 || r.err(t).Error.Fields["ticket"] == "" {
			t.Errorf("reply to closed ticket: %d %s", r.Status, r.Body)
		}
	})
}

func TestRevokedTokenStopsWorkingAtOnce(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		admin := client{t, srv.URL, f.Tokens["admin"]}
		var tok struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci"}, &tok)
		fresh := client{t, srv.URL, tok.Token}
		fresh.must(200, "GET", "/api/v1/me", nil, nil)
		admin.must(204, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil)
		r := fresh.do("GET", "/api/v1/me", nil)
		if r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("revoked token: %d %s", r.Status, r.Body)
		}
		// The list shows the token without its secret.
		r = admin.must(200, "GET", "/api/v1/tokens", nil, nil)
		if strings.Contains(string(r.Body), tok.Token) || len(tok.Token) < 40 {
			t.Errorf("token list leaks secrets or token too short")
		}
	})
}

func TestDisabledUserTokenIsRefused(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		admin := client{t, srv.URL, f.Tokens["admin"]}
		admin.must(200, "PATCH", fmt.Sprintf("/api/v1/users/%d", f.FinanceAgent.ID), map[string]any{"disabled": true}, nil)
		if r := (client{t, srv.URL, f.Tokens["finance_agent"]}).do("GET", "/api/v1/me", nil); r.Status != 401 {
			t.Errorf("disabled user's token: %d", r.Status)
		}
		r := admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", f.Admin.ID), map[string]any{"role": "agent"})
		if r.Status != 422 {
			t.Errorf("admin demoting themselves: %d", r.Status)
		}
	})
}
