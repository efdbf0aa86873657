// Package bench measures Hesar the way DESIGN.md states its performance
// targets: over real HTTP with keep-alive connections, durable writes, on
// a database seeded with realistic Persian and English tickets. It either
// runs Hesar in this process (a fresh workspace on SQLite or PostgreSQL)
// or drives a server that is already running.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/app"
)

// AllOps are the operations Run can measure, in the order it measures them.
// Reads come first so they see exactly the seeded tickets; the writes that
// follow add tickets and messages of their own.
var AllOps = []string{"list-queue", "get", "search", "me", "reply", "create", "create-new-customer"}

// ParseOps reads a comma-separated list of operation names ("" or "all":
// every one) and returns them in measuring order.
func ParseOps(s string) ([]string, error) {
	if s = strings.TrimSpace(s); s == "" || s == "all" {
		return slices.Clone(AllOps), nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(AllOps, name) {
			return nil, fmt.Errorf("unknown operation %q (known: %s)", name, strings.Join(AllOps, ","))
		}
		want[name] = true
	}
	var out []string
	for _, op := range AllOps {
		if want[op] {
			out = append(out, op)
		}
	}
	return out, nil
}

// Config says what to measure and against what.
type Config struct {
	// Storage opens Hesar in this process when URL is empty. An empty
	// DataDir means a fresh temporary directory (the SQLite database and
	// the master key), removed after the run unless Keep is set.
	Storage app.Config
	Keep    bool
	// URL, when set, benchmarks a running server as the staff user behind
	// Token instead.
	URL   string
	Token string
	// Addr is where the in-process server listens (port 0: any free one).
	Addr string
	// Workspace, in process only, is the slug of the workspace to measure
	// in: reused when it exists, then Seed is the total it should hold and
	// only the missing tickets are created; created when it does not.
	// Empty: a fresh "bench-<random>" every run.
	Workspace string
	// Seed is how many tickets to create before measuring (with
	// Workspace: how many the workspace should hold).
	Seed int
	// Concurrency is how many requests are in flight at once.
	Concurrency int
	// Duration is how long each operation is measured.
	Duration time.Duration
	// Ops are the operations to measure, from AllOps.
	Ops []string
	// Departments is how many departments the tickets spread over.
	Departments int
	// Customers is how many known customers tickets come from.
	Customers int
}

func (c *Config) check() error {
	var problems []string
	if c.URL != "" && c.Token == "" {
		problems = append(problems, "--url needs --token (an API token of a staff user)")
	}
	if c.URL != "" && c.Workspace != "" {
		problems = append(problems, "--workspace is for in-process runs; with --url the token picks the workspace")
	}
	if c.Seed < 0 {
		problems = append(problems, "--seed must not be negative")
	}
	if c.Concurrency < 1 {
		problems = append(problems, "--concurrency must be at least 1")
	}
	if c.Duration <= 0 {
		problems = append(problems, "--duration must be positive")
	}
	if c.Departments < 1 {
		problems = append(problems, "--departments must be at least 1")
	}
	if c.Customers < 1 {
		problems = append(problems, "--customers must be at least 1")
	}
	if len(c.Ops) == 0 {
		problems = append(problems, "--ops names no operation")
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Report is a whole run's outcome, printed as JSON.
type Report struct {
	Database  string `json:"database"`            // sqlite, postgres, or url
	Workspace string `json:"workspace,omitempty"` // in process: the workspace's slug
	// Seeded tickets were created by this run, in SeedSeconds; Tickets
	// were in the workspace when measuring started (in process only).
	Seeded      int     `json:"seeded"`
	SeedSeconds float64 `json:"seed_seconds"`
	Tickets     int     `json:"tickets,omitempty"`
	// OptimizeSeconds is how long refreshing the planner statistics after
	// seeding took (in process only; not measured as part of any operation).
	OptimizeSeconds float64  `json:"optimize_seconds,omitempty"`
	Concurrency     int      `json:"concurrency"`
	DurationS       float64  `json:"duration_s"`
	Go              string   `json:"go"`
	CPUs            int      `json:"cpus"`
	Results         []Result `json:"results"`
	// Resident memory of this process, server and load generator
	// together; absent with a URL, where the server is another process.
	RSSAfterSeed *float64 `json:"rss_mb_after_seed,omitempty"`
	RSSAfter     *float64 `json:"rss_mb_after,omitempty"`
}

// Run seeds tickets, then measures each operation in turn, writing
// progress and a one-line summary per operation to progress.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	rep := Report{Concurrency: cfg.Concurrency, DurationS: cfg.Duration.Seconds(), Go: runtime.Version(),
		CPUs: runtime.NumCPU(), Results: []Result{}}
	t, cleanup, err := prepare(ctx, cfg, &rep, progress)
	if err != nil {
		return rep, err
	}
	defer cleanup()
	n := cfg.Seed
	if t.reused {
		n = max(0, cfg.Seed-t.existing)
		fmt.Fprintf(progress, "seeding %s tickets to reach %s\n", thousands(int64(n)), thousands(int64(cfg.Seed)))
	}
	start := time.Now()
	if err := t.seed(ctx, n, progress); err != nil {
		return rep, fmt.Errorf("seed: %w", err)
	}
	rep.Seeded, rep.SeedSeconds = n, round(time.Since(start).Seconds(), 2)
	if t.inProcess {
		rep.Workspace, rep.Tickets = t.workspace, t.existing+n
	}
	if t.optimize != nil {
		// Measure the plans a running server would use: 'serve' refreshes
		// statistics a minute after start and hourly, and PostgreSQL's
		// autovacuum may be slow or off; plans made for the empty tables
		// of before the seeding can be off by orders of magnitude.
		start := time.Now()
		if err := t.optimize(ctx); err != nil {
			return rep, fmt.Errorf("refresh planner statistics: %w", err)
		}
		rep.OptimizeSeconds = round(time.Since(start).Seconds(), 2)
		fmt.Fprintf(progress, "refreshed planner statistics in %.1fs\n", rep.OptimizeSeconds)
	}
	rep.RSSAfterSeed = t.rss()
	if slices.Contains(cfg.Ops, "get") || slices.Contains(cfg.Ops, "reply") {
		if err := t.findTickets(ctx); err != nil {
			return rep, err
		}
	}
	for _, op := range cfg.Ops {
		r, err := t.measure(ctx, op, cfg.Concurrency, cfg.Duration, progress)
		if err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, r)
		fmt.Fprintln(progress, r.line())
	}
	rep.RSSAfter = t.rss()
	return rep, nil
}

// prepare makes the target: Hesar in this process, or the server at URL.
func prepare(ctx context.Context, cfg Config, rep *Report, progress io.Writer) (*target, func(), error) {
	if cfg.URL != "" {
		rep.Database = "url"
		t, err := remote(ctx, cfg)
		return t, func() {}, err
	}
	rep.Database = "sqlite"
	if cfg.Storage.DatabaseURL != "" {
		rep.Database = "postgres"
	}
	return startLocal(ctx, cfg, progress)
}

// line is the human summary of one result.
func (r Result) line() string {
	return fmt.Sprintf("%-20s %10s/s  p50 %7.2fms  p95 %7.2fms  p99 %7.2fms  max %8.2fms  %s requests, %s errors",
		r.Op, thousands(int64(r.Throughput)), r.P50, r.P95, r.P99, r.Max, thousands(int64(r.Requests)), thousands(int64(r.Errors)))
}
