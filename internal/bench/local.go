package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/ticket"
)

// startLocal opens Hesar in this process and serves it over real TCP with
// net/http, so measurements include the HTTP stack, then builds a fresh
// workspace to measure in (or reuses cfg.Workspace). The returned func
// stops the server, closes the database and removes a temporary data
// directory.
func startLocal(ctx context.Context, cfg Config, progress io.Writer) (*target, func(), error) {
	storage, tempDir := cfg.Storage, ""
	if storage.DataDir == "" {
		dir, err := os.MkdirTemp("", "hesar-bench-")
		if err != nil {
			return nil, nil, err
		}
		storage.DataDir, tempDir = dir, dir
	}
	removeTemp := func() {
		switch {
		case tempDir == "":
		case cfg.Keep:
			fmt.Fprintf(progress, "kept data directory %s\n", tempDir)
		default:
			os.RemoveAll(tempDir)
		}
	}
	a, err := app.Open(ctx, storage, nil, nil) // nil logger: discard, so logging costs nothing measurable
	if err != nil {
		removeTemp()
		return nil, nil, err
	}
	if a.MasterSource.Created && tempDir == "" {
		fmt.Fprintf(progress, "note: generated a new master key at %s; keep it to open this database again\n", a.MasterSource.Path)
	}
	stop, base, err := serve(a, cfg.Addr)
	if err != nil {
		a.Close()
		removeTemp()
		return nil, nil, err
	}
	cleanup := func() {
		stop()
		a.Close()
		removeTemp()
	}
	t := newTarget(base, cfg.Concurrency)
	t.inProcess = true
	t.optimize = a.DB.Optimize
	if err := t.setupWorkspace(ctx, a, cfg, progress); err != nil {
		cleanup()
		return nil, nil, err
	}
	return t, cleanup, nil
}

// serve starts an http.Server for a on addr and returns how to stop it and
// its base URL.
func serve(a *app.App, addr string) (stop func(), base string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with ErrServerClosed at Shutdown
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
	return stop, "http://" + ln.Addr().String(), nil
}

// setupWorkspace makes the workspace to measure in and teaches t to seed
// tickets through the ticket service directly (faster than HTTP; seeding
// is not measured). Without cfg.Workspace it creates "bench-<random>";
// with it, it reuses that workspace when it exists (its users found by
// the emails bench gives them, fresh tokens) and creates it otherwise.
// Either way it ends with --departments departments "Queue 1…N", an
// admin, an agent in the first of them, their tokens and the known
// customers, and records in t.existing how many tickets are already there.
func (t *target) setupWorkspace(ctx context.Context, a *app.App, cfg Config, progress io.Writer) error {
	slug := cfg.Workspace
	if slug == "" {
		slug = "bench-" + randomHex(4)
	}
	ws, err := a.Workspaces.BySlug(ctx, slug)
	switch {
	case err == nil:
		t.reused = true
	case errors.Is(err, errs.ErrNotFound):
		created, err := a.Workspaces.Create(ctx, slug, "Bench "+slug)
		if err != nil {
			return fmt.Errorf("create workspace %q: %w", slug, err)
		}
		ws = created.Workspace
	default:
		return fmt.Errorf("find workspace %q: %w", slug, err)
	}
	t.workspace = ws.Slug
	sys := access.System(ws.ID)
	if err := t.ensureDepartments(ctx, a, sys, cfg.Departments); err != nil {
		return err
	}
	t.queue = t.departments[0]
	if t.admin, err = staffToken(ctx, a, sys, "admin", slug, nil); err != nil {
		return err
	}
	if t.agent, err = staffToken(ctx, a, sys, "agent", slug, t.departments[:1]); err != nil {
		return err
	}
	ids := make([]int64, cfg.Customers)
	what := "customers"
	if t.reused {
		what = "customers found or created"
	}
	err = parallel(ctx, len(ids), seedWorkers, what, progress, func(ctx context.Context, tx *texts, i int) error {
		if t.reused {
			c, err := a.Customers.FindByEmail(ctx, sys, knownEmail(i))
			if err == nil {
				ids[i] = c.ID
				return nil
			}
			if !errors.Is(err, errs.ErrNotFound) {
				return err
			}
		}
		c, err := a.Customers.Create(ctx, sys, customer.NewCustomer{Email: knownEmail(i), Name: tx.name()})
		ids[i] = c.ID
		return err
	})
	if err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	t.customers = len(ids)
	if t.reused {
		if t.existing, t.maxNumber, err = countTickets(ctx, a, ws.ID); err != nil {
			return err
		}
		fmt.Fprintf(progress, "reusing workspace %q: %s tickets (numbers up to %s)\n", slug,
			thousands(int64(t.existing)), thousands(t.maxNumber))
	}
	t.seedTicket = func(ctx context.Context, tx *texts, i int) (int64, error) {
		subject, body := tx.subjectBody()
		tk, err := a.Tickets.Create(ctx, sys, ticket.NewTicket{Subject: subject, Body: body,
			Status: ticket.Status(pickStatus(tx)), Priority: ticket.Priority(pickPriority(tx)),
			DepartmentID: t.departments[tx.rng.IntN(len(t.departments))],
			CustomerID:   ids[tx.rng.IntN(len(ids))], Channel: ticket.ChannelEmail})
		return tk.Number, err
	}
	return nil
}

// ensureDepartments finds or creates the departments "Queue 1" … "Queue n"
// and puts their ids, in that order, into t.departments.
func (t *target) ensureDepartments(ctx context.Context, a *app.App, sys access.Scope, n int) error {
	byName := map[string]int64{}
	if t.reused {
		list, err := a.Departments.List(ctx, sys)
		if err != nil {
			return fmt.Errorf("list departments: %w", err)
		}
		for _, d := range list {
			byName[d.Name] = d.ID
		}
	}
	for i := range n {
		name := fmt.Sprintf("Queue %d", i+1)
		id, ok := byName[name]
		if !ok {
			d, err := a.Departments.Create(ctx, sys, name)
			if err != nil {
				return fmt.Errorf("create department: %w", err)
			}
			id = d.ID
		}
		t.departments = append(t.departments, id)
	}
	return nil
}

// countTickets returns how many tickets the workspace has and the highest
// ticket number, in one query over the (workspace_id, number) index.
func countTickets(ctx context.Context, a *app.App, workspaceID int64) (count int, maxNumber int64, err error) {
	err = a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(number), 0) FROM tickets WHERE workspace_id = $1`,
		workspaceID).Scan(&count, &maxNumber)
	if err != nil {
		return 0, 0, fmt.Errorf("count tickets: %w", err)
	}
	return count, maxNumber, nil
}

// staffEmail is the address bench gives its user of the role in the
// workspace slug: the same in every run, so a later run finds the user.
func staffEmail(role, slug string) string { return role + "-" + slug + "@example.com" }

// staffToken finds the workspace's bench user of the role or creates one
// without a password (API only), and returns a fresh token for them.
func staffToken(ctx context.Context, a *app.App, sys access.Scope, role, slug string, depts []int64) (string, error) {
	email := staffEmail(role, slug)
	u, err := a.Identity.ByEmail(ctx, sys.WorkspaceID, email)
	if errors.Is(err, errs.ErrNotFound) {
		u, err = a.Identity.CreateUser(ctx, sys, identity.NewUser{Email: email,
			Name: "Bench " + role, Role: role, Departments: depts})
	}
	if err != nil {
		return "", fmt.Errorf("find or create %s %s: %w", role, email, err)
	}
	if role == "agent" && (len(u.Departments) != 1 || u.Departments[0] != depts[0]) {
		return "", fmt.Errorf("%s is in departments %v, want only %d (Queue 1)", email, u.Departments, depts[0])
	}
	_, secret, err := a.Identity.CreateToken(ctx, sys, identity.NewToken{Name: "bench", UserID: u.ID})
	if err != nil {
		return "", fmt.Errorf("create %s token: %w", role, err)
	}
	return secret, nil
}

// knownEmail is the address of known customer i. The same addresses in
// every run let runs against one server (--url) reuse its customers.
func knownEmail(i int) string { return fmt.Sprintf("customer-%d@example.com", i) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
