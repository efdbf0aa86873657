package bench_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/bench"
	"github.com/hesar/hesar/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

// tiny is a run small enough for a test that still goes through every
// operation over real HTTP.
func tiny(storage app.Config) bench.Config {
	return bench.Config{Storage: storage, Seed: 50, Concurrency: 4, Duration: 300 * time.Millisecond,
		Ops: bench.AllOps, Departments: 2, Customers: 10}
}

func TestEveryOperationRunsWithoutErrors(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			storage := app.Config{DataDir: t.TempDir()}
			if kind == "postgres" {
				url, _ := testutil.NewDatabase(t, "postgres")
				storage.DatabaseURL = url
			}
			rep, err := bench.Run(context.Background(), tiny(storage), testWriter{t})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Database != kind || rep.Seeded != 50 {
				t.Errorf("report says database %q seeded %d, want %q and 50", rep.Database, rep.Seeded, kind)
			}
			if len(rep.Results) != len(bench.AllOps) {
				t.Fatalf("got %d results, want one per operation (%d)", len(rep.Results), len(bench.AllOps))
			}
			for _, r := range rep.Results {
				if r.Requests == 0 || r.Errors != 0 {
					t.Errorf("%s: %d requests, %d errors; want some requests and no errors", r.Op, r.Requests, r.Errors)
				}
			}
			if rep.RSSAfter == nil || *rep.RSSAfter <= 0 {
				t.Errorf("no resident memory reported for an in-process run")
			}
		})
	}
}

// TestWorkspaceIsReusedAndToppedUp seeds a named workspace, then runs on
// it again: the second run finds it, its staff and customers, creates only
// the tickets missing to reach --seed, and still measures without errors;
// a third run asking for fewer tickets than there are seeds nothing and
// picks tickets from all of them.
func TestWorkspaceIsReusedAndToppedUp(t *testing.T) {
	storage := app.Config{DataDir: t.TempDir()}
	run := func(seed int, ops ...string) bench.Report {
		t.Helper()
		cfg := tiny(storage)
		cfg.Workspace, cfg.Seed, cfg.Ops, cfg.Duration = "reuse-me", seed, ops, 150*time.Millisecond
		rep, err := bench.Run(context.Background(), cfg, testWriter{t})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Requests == 0 || r.Errors != 0 {
				t.Errorf("%s: %d requests, %d errors; want some requests and no errors", r.Op, r.Requests, r.Errors)
			}
		}
		return rep
	}
	first := run(50, "me", "get")
	if first.Workspace != "reuse-me" || first.Seeded != 50 || first.Tickets != 50 {
		t.Errorf("first run: workspace %q seeded %d tickets %d, want reuse-me, 50, 50", first.Workspace, first.Seeded, first.Tickets)
	}
	second := run(80, "list-queue", "get", "search", "me")
	if second.Workspace != "reuse-me" || second.Seeded != 30 || second.Tickets != 80 {
		t.Errorf("second run: workspace %q seeded %d tickets %d, want reuse-me, 30, 80", second.Workspace, second.Seeded, second.Tickets)
	}
	third := run(10, "get", "reply")
	if third.Seeded != 0 || third.Tickets != 80 {
		t.Errorf("third run: seeded %d tickets %d, want 0 and 80", third.Seeded, third.Tickets)
	}
}

func TestParseOpsKeepsMeasuringOrderAndRejectsUnknown(t *testing.T) {
	got, err := bench.ParseOps("search, create,me")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"search", "me", "create"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ParseOps = %v, want %v", got, want)
	}
	if _, err := bench.ParseOps("create,delete"); err == nil {
		t.Error("an unknown operation was accepted")
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
