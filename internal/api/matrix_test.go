package api_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/api"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/password"
	"github.com/hesar/hesar/internal/server"
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
	// session, when set, is what browser sessions get where it differs
	// from API tokens (routes for one's own credentials need a session).
	session string
}

func matrixCases(f *testutil.Fixture, fin int64, tokenID, spareUser int64) map[string]matrixCase {
	t := fmt.Sprintf("/api/v1/tickets/%d", fin)
	c := func(method, path string, body func(string) any, want string) matrixCase {
		return matrixCase{method: method, path: path, body: body, want: want}
	}
	// own: a route for one's own credentials: tokens are refused (F),
	// sessions get session.
	own := func(method, path string, body func(string) any, session string) matrixCase {
		return matrixCase{method: method, path: path, body: body, want: "FFFFFFU", session: session}
	}
	user := fmt.Sprintf("/api/v1/users/%d", spareUser)
	account := func(tag string) any {
		return map[string]any{"workspace": f.WS.Slug, "account": "customer", "email": tag + "@matrix.test"}
	}
	none := func(string) any { return nil }
	empty := func(string) any { return map[string]any{} }
	return map[string]matrixCase{
		"GET /healthz":             c("GET", "/healthz", none, "AAAAAAA"),
		"GET /readyz":              c("GET", "/readyz", none, "AAAAAAA"),
		"GET /api/v1/openapi.json": c("GET", "/api/v1/openapi.json", none, "AAAAAAA"),
		"GET /api/v1/me":           c("GET", "/api/v1/me", none, "AAAAAAU"),
		"PATCH /api/v1/me":         c("PATCH", "/api/v1/me", func(string) any { return map[string]any{"locale": "fa"} }, "AAAAAAU"),

		// A wrong password is a 401 for anyone; the other public auth
		// routes refuse the bogus input (4xx) or accept without saying
		// whether an account exists (202).
		"POST /api/v1/auth/signin": c("POST", "/api/v1/auth/signin", func(tag string) any {
			return map[string]any{"workspace": f.WS.Slug, "account": "staff", "email": tag + "@matrix.test", "password": "not the password at all"}
		}, "UUUUUUU"),
		"POST /api/v1/auth/signout":           own("POST", "/api/v1/auth/signout", none, "AAAAAAU"),
		"POST /api/v1/auth/mfa/verify":        own("POST", "/api/v1/auth/mfa/verify", empty, "AAAAAAU"),
		"POST /api/v1/auth/passkey/challenge": own("POST", "/api/v1/auth/passkey/challenge", none, "AAAAAAU"),
		"POST /api/v1/auth/step-up":           own("POST", "/api/v1/auth/step-up", empty, "AAAAAAU"),
		"POST /api/v1/auth/passwordless/begin": c("POST", "/api/v1/auth/passwordless/begin", func(string) any {
			return map[string]any{"workspace": "no-such-workspace"}
		}, "AAAAAAA"),
		"POST /api/v1/auth/passwordless/finish": c("POST", "/api/v1/auth/passwordless/finish", func(string) any {
			return map[string]any{"challenge": "hsc_bogus", "response": map[string]any{}}
		}, "AAAAAAA"),
		"POST /api/v1/auth/signup": c("POST", "/api/v1/auth/signup", func(tag string) any {
			return map[string]any{"workspace": f.WS.Slug, "email": tag + "@matrix.test", "name": "M", "password": "short"}
		}, "AAAAAAA"),
		"POST /api/v1/auth/verify-email":           c("POST", "/api/v1/auth/verify-email", func(string) any { return map[string]any{"token": "hsl_bogus"} }, "AAAAAAA"),
		"POST /api/v1/auth/verify-email/request":   c("POST", "/api/v1/auth/verify-email/request", account, "AAAAAAA"),
		"POST /api/v1/auth/password-reset/request": c("POST", "/api/v1/auth/password-reset/request", account, "AAAAAAA"),
		"POST /api/v1/auth/password-reset": c("POST", "/api/v1/auth/password-reset", func(string) any {
			return map[string]any{"token": "hsl_bogus", "password": "a long and unusual passphrase"}
		}, "AAAAAAA"),
		"POST /api/v1/auth/signin-link": c("POST", "/api/v1/auth/signin-link", func(string) any { return map[string]any{"token": "hsl_bogus"} }, "AAAAAAA"),
		"POST /api/v1/auth/signin-link/request": c("POST", "/api/v1/auth/signin-link/request", func(tag string) any {
			return map[string]any{"workspace": f.WS.Slug, "email": tag + "@matrix.test"}
		}, "AAAAAAA"),

		"GET /api/v1/account/security":        own("GET", "/api/v1/account/security", none, "AAAAAAU"),
		"POST /api/v1/account/password":       own("POST", "/api/v1/account/password", empty, "AAAAAAU"),
		"POST /api/v1/account/totp":           own("POST", "/api/v1/account/totp", none, "AAAAAAU"),
		"POST /api/v1/account/totp/confirm":   own("POST", "/api/v1/account/totp/confirm", func(string) any { return map[string]any{"code": "000000"} }, "AAAAAAU"),
		"DELETE /api/v1/account/totp":         own("DELETE", "/api/v1/account/totp", none, "AAAAAAU"),
		"POST /api/v1/account/recovery-codes": own("POST", "/api/v1/account/recovery-codes", none, "AAAAAAU"),
		"GET /api/v1/account/passkeys":        own("GET", "/api/v1/account/passkeys", none, "AAAAAAU"),
		"POST /api/v1/account/passkeys/begin": own("POST", "/api/v1/account/passkeys/begin", none, "AAAAAAU"),
		"POST /api/v1/account/passkeys": own("POST", "/api/v1/account/passkeys", func(string) any {
			return map[string]any{"challenge": "hsc_bogus", "name": "k", "response": map[string]any{}}
		}, "AAAAAAU"),
		// Someone else's passkey or session: not found, for everyone.
		"PATCH /api/v1/account/passkeys/{id}":  own("PATCH", "/api/v1/account/passkeys/1", func(string) any { return map[string]any{"name": "k"} }, "NNNNNNU"),
		"DELETE /api/v1/account/passkeys/{id}": own("DELETE", "/api/v1/account/passkeys/1", none, "NNNNNNU"),
		"GET /api/v1/account/sessions":         own("GET", "/api/v1/account/sessions", none, "AAAAAAU"),
		"DELETE /api/v1/account/sessions":      own("DELETE", "/api/v1/account/sessions", none, "AAAAAAU"),
		"DELETE /api/v1/account/sessions/{id}": own("DELETE", "/api/v1/account/sessions/1", none, "NNNNNNU"),

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
		"GET /api/v1/users/{id}":                 c("GET", fmt.Sprintf("/api/v1/users/%d", spareUser), none, "AAAAFFU"),
		"PATCH /api/v1/users/{id}":               c("PATCH", fmt.Sprintf("/api/v1/users/%d", spareUser), empty, "AFFFFFU"),
		"GET /api/v1/users/{id}/security":        c("GET", user+"/security", none, "AFFFFFU"),
		"GET /api/v1/users/{id}/sessions":        c("GET", user+"/sessions", none, "AFFFFFU"),
		"DELETE /api/v1/users/{id}/sessions":     c("DELETE", user+"/sessions", none, "AFFFFFU"),
		"POST /api/v1/users/{id}/mfa-reset":      c("POST", user+"/mfa-reset", none, "AFFFFFU"),
		"POST /api/v1/users/{id}/unlock":         c("POST", user+"/unlock", none, "AFFFFFU"),
		"POST /api/v1/users/{id}/password-setup": c("POST", user+"/password-setup", none, "AFFFFFU"),
		"GET /api/v1/settings/security":          c("GET", "/api/v1/settings/security", none, "AFFFFFU"),
		"PUT /api/v1/settings/security":          c("PUT", "/api/v1/settings/security", func(string) any { return map[string]any{"mfa_required": "none"} }, "AFFFFFU"),
		"GET /api/v1/settings/data-protection":   c("GET", "/api/v1/settings/data-protection", none, "AFFFFFU"),
		"PUT /api/v1/settings/data-protection": c("PUT", "/api/v1/settings/data-protection",
			func(string) any { return map[string]any{"attachments": map[string]any{"max_bytes": 20 << 20}} }, "AFFFFFU"),

		// Supervisors read the log of their departments' members.
		"GET /api/v1/audit":                  c("GET", "/api/v1/audit", none, "AAFFFFU"),
		"GET /api/v1/audit/export":           c("GET", "/api/v1/audit/export?format=csv", none, "AAFFFFU"),
		"GET /api/v1/audit/verify":           c("GET", "/api/v1/audit/verify", none, "AFFFFFU"),
		"GET /api/v1/security/dashboard":     c("GET", "/api/v1/security/dashboard", none, "AFFFFFU"),
		"GET /api/v1/security/alerts":        c("GET", "/api/v1/security/alerts", none, "AFFFFFU"),
		"GET /api/v1/security/alerts/{id}":   c("GET", "/api/v1/security/alerts/1", none, "NFFFFFU"),
		"PATCH /api/v1/security/alerts/{id}": c("PATCH", "/api/v1/security/alerts/1", func(string) any { return map[string]any{"state": "acknowledged"} }, "NFFFFFU"),
		"GET /api/v1/security/monitoring":    c("GET", "/api/v1/security/monitoring", none, "AFFFFFU"),
		"PUT /api/v1/security/monitoring":    c("PUT", "/api/v1/security/monitoring", empty, "AFFFFFU"),

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

// caller sends requests as one actor, by token or by browser session.
type caller interface {
	do(method, path string, v any) response
}

// TestAccessMatrix sends every route as every actor, over both ways of
// authenticating (API token and browser session), and compares what each
// gets with the table. It fails on any unexpected allow, on any route the
// table does not cover, and on any route without a declared permission.
func TestAccessMatrix(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		for _, transport := range []string{"token", "session"} {
			t.Run(transport, func(t *testing.T) { accessMatrix(t, a, transport) })
		}
	})
}

func accessMatrix(t *testing.T, a *app.App, transport string) {
	f := testutil.NewFixture(t, a)
	// Browsers claim addresses of their own (X-Forwarded-For from a
	// trusted loopback proxy), so the failed sign-ins the table makes on
	// purpose do not throttle the other transport's.
	srv := httptest.NewServer(a.API.WithHardening(api.Hardening{ClientIP: server.NewClientIP(loopbackProxies)}).Handler())
	t.Cleanup(srv.Close)
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
	cases["GET /api/v1/attachments/{id}"] = matrixCase{method: "GET", path: fmt.Sprintf("/api/v1/attachments/%d", att.ID), body: func(string) any { return nil }, want: "AFNAANU"}
	callers := map[string]caller{}
	for _, actor := range matrixActors {
		callers[actor] = client{t, srv.URL, f.Tokens[actor]}
	}
	if transport == "session" {
		callers = signInEveryone(t, a, f, srv.URL)
	}
	routes := api.Routes()
	// Signing out ends the session the rest of the table needs: last.
	slices.SortStableFunc(routes, func(x, y api.Route) int {
		return cmp.Compare(cmpBool(x.Pattern == "/api/v1/auth/signout"), cmpBool(y.Pattern == "/api/v1/auth/signout"))
	})
	for _, rt := range routes {
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
		want := tc.want
		if transport == "session" && tc.session != "" {
			want = tc.session
		}
		var got strings.Builder
		for i, actor := range matrixActors {
			r := callers[actor].do(tc.method, tc.path, tc.body(fmt.Sprintf("%s-%s-%s-%d", f.WS.Slug, transport, actor, i)))
			g := classify(r.Status)
			got.WriteByte(g)
			if g != want[i] {
				t.Errorf("%s as %s: got %c (status %d: %.120s), want %c", key, actor, g, r.Status, r.Body, want[i])
			}
		}
		t.Logf("%-52s %s", key, got.String())
	}
	for key := range cases {
		t.Errorf("matrix has %s but no such route exists", key)
	}
}

func cmpBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// signInEveryone gives each fixture actor a password and signs them in
// through the API, in a workspace that requires no second factor (second
// factors have their own tests). Anonymous stays anonymous.
func signInEveryone(t *testing.T, a *app.App, f *testutil.Fixture, base string) map[string]caller {
	t.Helper()
	e := &authEnv{t: t, a: a, f: f, url: base}
	e.setPolicy(func(p *identity.Security) { p.MFARequired = identity.MFANone })
	const pw = "matrix passphrase of some length"
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]caller{}
	staff := map[string]identity.User{"admin": f.Admin, "supervisor": f.Supervisor, "sales_agent": f.SalesAgent, "finance_agent": f.FinanceAgent}
	for actor, u := range staff {
		e.exec(`UPDATE users SET password_hash = $1 WHERE id = $2`, hash, u.ID)
		b := e.browser()
		if got := b.signIn(f.WS.Slug, "staff", u.Email, pw); got.State != identity.StateActive {
			t.Fatalf("%s signed in to state %s", actor, got.State)
		}
		out[actor] = b
	}
	for actor, c := range map[string]int64{"customer": f.Customer.ID, "colleague": f.Colleague.ID} {
		e.verifiedCustomerPassword(c, pw)
		email := f.Customer.Email
		if actor == "colleague" {
			email = f.Colleague.Email
		}
		b := e.browser()
		b.signIn(f.WS.Slug, "customer", email, pw)
		out[actor] = b
	}
	out["anonymous"] = e.browser()
	return out
}
