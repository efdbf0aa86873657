package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/ticket"
)

// startLocal opens Hesar in this process and serves it over real TCP with
// net/http, so measurements include the HTTP stack, then builds a fresh
// workspace to measure in. The returned func stops the server, closes the
// database and removes a temporary data directory.
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

// setupWorkspace creates the workspace "bench-<random>" with its
// departments, an admin, an agent in the first department, their tokens
// and the known customers, and teaches t to seed tickets through the
// ticket service directly (faster than HTTP; seeding is not measured).
func (t *target) setupWorkspace(ctx context.Context, a *app.App, cfg Config, progress io.Writer) error {
	tag := randomHex(4)
	ws, err := a.Workspaces.Create(ctx, "bench-"+tag, "Bench "+tag)
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	sys := access.System(ws.ID)
	for i := range cfg.Departments {
		d, err := a.Departments.Create(ctx, sys, fmt.Sprintf("Queue %d", i+1))
		if err != nil {
			return fmt.Errorf("create department: %w", err)
		}
		t.departments = append(t.departments, d.ID)
	}
	t.queue = t.departments[0]
	if t.admin, err = staffToken(ctx, a, sys, "admin", tag, nil); err != nil {
		return err
	}
	if t.agent, err = staffToken(ctx, a, sys, "agent", tag, t.departments[:1]); err != nil {
		return err
	}
	ids := make([]int64, cfg.Customers)
	err = parallel(ctx, len(ids), seedWorkers, "customers", progress, func(ctx context.Context, tx *texts, i int) error {
		c, err := a.Customers.Create(ctx, sys, customer.NewCustomer{Email: knownEmail(i), Name: tx.name()})
		ids[i] = c.ID
		return err
	})
	if err != nil {
		return fmt.Errorf("create customers: %w", err)
	}
	t.customers = len(ids)
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

// staffToken creates a user of the role without a password (API only) and
// returns a token for them.
func staffToken(ctx context.Context, a *app.App, sys access.Scope, role, tag string, depts []int64) (string, error) {
	u, err := a.Identity.CreateUser(ctx, sys, identity.NewUser{Email: role + "-" + tag + "@example.com",
		Name: "Bench " + role, Role: role, Departments: depts})
	if err != nil {
		return "", fmt.Errorf("create %s: %w", role, err)
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
