package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// The access matrix: for every route, what each actor gets. One letter per
// actor, in the order of matrixActors:
//
//	A  allowed: the request passed authorization (2xx, or a 4xx about the
//	   input such as 409/422)
//	F  403 forbidden: the actor may never do this
//	N  404: the object is outside the actor's scope (indistinguishable from
//	   a missing one)
//	U  401: no identity
//
// Ticket routes target a Finance ticket of the fixture's customer, so the
// Sales agent and supervisor must get N and the Finance agent A. This table
// is the specification; it is written out by hand, not derived from the
// route table, so a change to a permission shows up here as a failure.
var matrixActors = []string{"admin", "supervisor", "sales_agent", "finance_agent", "customer", "colleague", "anonymous"}

type matrixCase struct {
	method, path string
	body         func(tag string) any
	want         string
}

func matrixCases(f *testutil.Fixture, fin int64, tokenID, spareUser int64) map[string]matrixCase {
	t := fmt.Sprintf("/api/v1/tickets/%d", fin)
	c := func(method, path string, body func(string) any, want string) matrixCase {
		return matrixCase{method, path, body, want}
	}
	none := func(string) any { return nil }
	empty := func(string) any { return map[string]any{} }
	return map[string]matrixCase{
		"GET /healthz":             c("GET", "/healthz", none, "AAAAAAA"),
		"GET /readyz":              c("GET", "/readyz", none, "AAAAAAA"),
		"GET /api/v1/openapi.json": c("GET", "/api/v1/openapi.json", none, "AAAAAAA"),
		"GET /api/v1/me":           c("GET", "/api/v1/me", none, "AAAAAAU"),

		"GET /api/v1/tickets": c("GET", "/api/v1/tickets", none, "AAAAAAU"),
		"POST /api/v1/tickets": c("POST", "/api/v1/tickets", func(string) any {
			return map[string]any{"subject": "s", "body": "b", "customer_id": f.Customer.ID}
		}, "AFAAAAU"),
		"GET /api/v1/tickets/counts":        c("GET", "/api/v1/tickets/counts", none, "AAAAAAU"),
		"GET /api/v1/tickets/{id}":          c("GET", t, none, "ANNAANU"),
		"PATCH /api/v1/tickets/{id}":        c("PATCH", t, func(string) any { return map[string]any{"priority": "high"} }, "ANNAFNU"),
		"GET /api/v1/tickets/{id}/messages": c("GET", t+"/messages", none, "AFNAANU"),
		"POST /api/v1/tickets/{id}/messages": c("POST", t+"/messages", func(string) any {
			return map[string]any{"kind": "note", "body": "n"}
		}, "AFNAFNU"),
		"GET /api/v1/tickets/{id}/events": c("GET", t+"/events", none, "ANNAFFU"),
		"POST /api/v1/tickets/{id}/reveal": c("POST", t+"/reveal", func(string) any {
			return map[string]any{"message_id": 0, "reason": "matrix test of the reveal route"}
		}, "AFFFFFU"),
		"GET /api/v1/search": c("GET", "/api/v1/search?q=matrix", none, "AFAAAAU"),

		"GET /api/v1/tickets/{id}/attachments": c("GET", t+"/attachments", none, "AFNAANU"),
		"POST /api/v1/tickets/{id}/attachments": c("POST", t+"/attachments?name=m.json", func(tag string) any {
			return map[string]any{"file": tag}
		}, "AFNAANU"),

		"GET /api/v1/customers": c("GET", "/api/v1/customers", none, "AFAAFFU"),
		"POST /api/v1/customers": c("POST", "/api/v1/customers", func(tag string) any {
			return map[string]any{"email": tag + "@matrix.test"}
		}, "AFAAFFU"),
		"GET /api/v1/customers/{id}":        c("GET", fmt.Sprintf("/api/v1/customers/%d", f.Colleague.ID), none, "AFAAFFU"),
		"PATCH /api/v1/customers/{id}":      c("PATCH", fmt.Sprintf("/api/v1/customers/%d", f.Colleague.ID), empty, "AFAAFFU"),
		"GET /api/v1/customers/{id}/export": c("GET", fmt.Sprintf("/api/v1/customers/%d/export", f.Colleague.ID), none, "AFFFFFU"),
		// "confirm" is wrong on purpose: the route is reached, nothing is erased.
		"POST /api/v1/customers/{id}/erase": c("POST", fmt.Sprintf("/api/v1/customers/%d/erase", f.Colleague.ID), func(string) any {
			return map[string]any{"tickets": "keep", "confirm": "no"}
		}, "AFFFFFU"),
		"GET /api/v1/organizations": c("GET", "/api/v1/organizations", none, "AFAAFFU"),
		"POST /api/v1/organizations": c("POST", "/api/v1/organizations", func(tag string) any {
			return map[string]any{"name": "Org " + tag}
		}, "AFAAFFU"),

		"GET /api/v1/departments": c("GET", "/api/v1/departments", none, "AAAAFFU"),
		"POST /api/v1/departments": c("POST", "/api/v1/departments", func(tag string) any {
			return map[string]any{"name": "Dept " + tag}
		}, "AFFFFFU"),
		"GET /api/v1/departments/{id}": c("GET", fmt.Sprintf("/api/v1/departments/%d", f.Finance), none, "AAAAFFU"),
		"PATCH /api/v1/departments/{id}": c("PATCH", fmt.Sprintf("/api/v1/departments/%d", f.Finance), func(string) any {
			return map[string]any{"name": "Finance"}
		}, "AFFFFFU"),
		"PUT /api/v1/departments/{id}/members/{user_id}":    c("PUT", fmt.Sprintf("/api/v1/departments/%d/members/%d", f.Finance, spareUser), none, "AFFFFFU"),
		"DELETE /api/v1/departments/{id}/members/{user_id}": c("DELETE", fmt.Sprintf("/api/v1/departments/%d/members/%d", f.Finance, spareUser), none, "AFFFFFU"),

		"GET /api/v1/users": c("GET", "/api/v1/users", none, "AAAAFFU"),
		"POST /api/v1/users": c("POST", "/api/v1/users", func(tag string) any {
			return map[string]any{"email": tag + "@staff.test", "name": "N", "role": "agent"}
		}, "AFFFFFU"),
		"GET /api/v1/users/{id}":   c("GET", fmt.Sprintf("/api/v1/users/%d", spareUser), none, "AAAAFFU"),
		"PATCH /api/v1/users/{id}": c("PATCH", fmt.Sprintf("/api/v1/users/%d", spareUser), empty, "AFFFFFU"),

		"GET /api/v1/tokens":         c("GET", "/api/v1/tokens", none, "AAAAFFU"),
		"POST /api/v1/tokens":        c("POST", "/api/v1/tokens", func(string) any { return map[string]any{"name": "m"} }, "AAAAFFU"),
		"DELETE /api/v1/tokens/{id}": c("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tokenID), none, "ANNNFFU"),
	}
}

func classify(status int) byte {
	switch {
	case status == 401:
		return 'U'
	case status == 403:
		return 'F'
	case status == 404:
		return 'N'
	case status >= 500:
		return '!'
	}
	return 'A'
}

// TestAccessMatrix sends every route as every actor and compares what each
// gets with the table. It fails on any unexpected allow, on any route the
// table does not cover, and on any route without a declared permission.
func TestAccessMatrix(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		ctx := context.Background()
		fin, err := a.Tickets.Create(ctx, f.System(), ticket.NewTicket{Subject: "matrix invoice", Body: "b", DepartmentID: f.Finance, CustomerID: f.Customer.ID})
		if err != nil {
			t.Fatal(err)
		}
		spare, err := a.Identity.CreateUser(ctx, f.System(), identity.NewUser{Email: "spare-" + f.WS.Slug + "@staff.test", Name: "Spare", Role: "agent"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := a.Identity.CreateToken(ctx, f.System(), identity.NewToken{Name: "to revoke", UserID: f.Admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		cases := matrixCases(f, fin.Number, tok.ID, spare.ID)
		att, err := a.Attachments.Upload(ctx, f.System(), fin.Number, "matrix.txt", strings.NewReader("matrix"))
		if err != nil {
			t.Fatal(err)
		}
		cases["GET /api/v1/attachments/{id}"] = matrixCase{"GET", fmt.Sprintf("/api/v1/attachments/%d", att.ID), func(string) any { return nil }, "AFNAANU"}
		for _, rt := range api.Routes() {
			key := rt.Method + " " + rt.Pattern
			if len(rt.Perms) == 0 {
				t.Errorf("route %s declares no permission", key)
			}
			tc, ok := cases[key]
			if !ok {
				t.Errorf("route %s is missing from the access matrix", key)
				continue
			}
			delete(cases, key)
			var got strings.Builder
			for i, actor := range matrixActors {
				cl := client{t, srv.URL, f.Tokens[actor]}
				r := cl.do(tc.method, tc.path, tc.body(fmt.Sprintf("%s-%s-%d", f.WS.Slug, actor, i)))
				g := classify(r.Status)
				got.WriteByte(g)
				if g != tc.want[i] {
					t.Errorf("%s as %s: got %c (status %d: %.120s), want %c", key, actor, g, r.Status, r.Body, tc.want[i])
				}
			}
			t.Logf("%-52s %s", key, got.String())
		}
		for key := range cases {
			t.Errorf("matrix has %s but no such route exists", key)
		}
	})
}
