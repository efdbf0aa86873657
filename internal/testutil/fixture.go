package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/workspace"
)

var (
	appsMu sync.Mutex
	apps   = map[string]*app.App{}
)

// App returns this package's app on the shared database of the kind.
func App(t testing.TB, kind string) *app.App {
	t.Helper()
	d := DB(t, kind)
	appsMu.Lock()
	defer appsMu.Unlock()
	if a, ok := apps[kind]; ok {
		return a
	}
	master := make([]byte, keyring.MasterKeySize)
	_, _ = rand.Read(master)
	keys, err := keyring.Open(context.Background(), d, master)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	a := app.Build(d, keys, nil)
	apps[kind] = a
	return a
}

// Fixture is a workspace populated the way the access tests need it: two
// departments, one user per role, agents in one department each, two
// customers of one organization, and an API token for everyone.
type Fixture struct {
	App          *app.App
	WS           workspace.Created
	Sales        int64
	Finance      int64
	Admin        identity.User
	Supervisor   identity.User // supervises Sales
	SalesAgent   identity.User
	FinanceAgent identity.User
	Customer     customer.Customer
	Colleague    customer.Customer // same organization as Customer
	Tokens       map[string]string // by role name: admin, supervisor, sales_agent, finance_agent, customer, colleague
}

// System is the workspace's all-powerful scope, for setting things up.
func (f *Fixture) System() access.Scope { return access.System(f.WS.ID) }

// Roles lists the fixture's actors in a stable order.
var Roles = []string{"admin", "supervisor", "sales_agent", "finance_agent", "customer", "colleague", "anonymous"}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// NewFixture builds a fresh workspace in a.
func NewFixture(t testing.TB, a *app.App) *Fixture {
	t.Helper()
	ctx := context.Background()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := hex.EncodeToString(suffix)
	f := &Fixture{App: a, Tokens: map[string]string{}}
	var err error
	f.WS, err = a.Workspaces.Create(ctx, "ws-"+tag, "Workspace "+tag)
	check(t, err)
	sys := f.System()
	sales, err := a.Departments.Create(ctx, sys, "Sales")
	check(t, err)
	finance, err := a.Departments.Create(ctx, sys, "Finance")
	check(t, err)
	f.Sales, f.Finance = sales.ID, finance.ID
	user := func(role, name string, depts ...int64) identity.User {
		u, err := a.Identity.CreateUser(ctx, sys, identity.NewUser{
			Email: fmt.Sprintf("%s-%s@staff.test", name, tag), Name: name, Role: role, Departments: depts})
		check(t, err)
		return u
	}
	f.Admin = user("admin", "admin")
	f.Supervisor = user("supervisor", "supervisor", f.Sales)
	f.SalesAgent = user("agent", "sales", f.Sales)
	f.FinanceAgent = user("agent", "finance", f.Finance)
	org, err := a.Customers.CreateOrganization(ctx, sys, "Org "+tag)
	check(t, err)
	f.Customer, err = a.Customers.Create(ctx, sys, customer.NewCustomer{Email: "customer-" + tag + "@example.com", Name: "Customer", OrganizationID: org.ID})
	check(t, err)
	f.Colleague, err = a.Customers.Create(ctx, sys, customer.NewCustomer{Email: "colleague-" + tag + "@example.com", Name: "Colleague", OrganizationID: org.ID})
	check(t, err)
	token := func(in identity.NewToken) string {
		_, secret, err := a.Identity.CreateToken(ctx, sys, in)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	f.Tokens["admin"] = token(identity.NewToken{Name: "t", UserID: f.Admin.ID})
	f.Tokens["supervisor"] = token(identity.NewToken{Name: "t", UserID: f.Supervisor.ID})
	f.Tokens["sales_agent"] = token(identity.NewToken{Name: "t", UserID: f.SalesAgent.ID})
	f.Tokens["finance_agent"] = token(identity.NewToken{Name: "t", UserID: f.FinanceAgent.ID})
	f.Tokens["customer"] = token(identity.NewToken{Name: "t", CustomerID: f.Customer.ID})
	f.Tokens["colleague"] = token(identity.NewToken{Name: "t", CustomerID: f.Colleague.ID})
	return f
}

// Scope returns the access scope behind a fixture role, as the API would
// resolve it from the role's token.
func (f *Fixture) Scope(t testing.TB, role string) access.Scope {
	t.Helper()
	p, err := f.App.Identity.Authenticate(context.Background(), f.Tokens[role])
	if err != nil {
		t.Fatalf("authenticate %s: %v", role, err)
	}
	return p.Scope
}

// Server serves the app over real HTTP for the test's duration.
func Server(t testing.TB, a *app.App) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// EachDB runs fn as a subtest on SQLite and on PostgreSQL.
func EachDB(t *testing.T, fn func(t *testing.T, a *app.App)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, App(t, kind)) })
	}
}
