package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	benchmark "github.com/hesar/hesar/internal/bench" // the command function is named bench
)

func bench(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "bench", "bench [flags]", `Measure the API's throughput and latency, as DESIGN.md's performance
targets are stated: real HTTP with keep-alive connections, durable writes,
encryption, audit and search indexing on.

Without --url, Hesar runs inside this command on a fresh temporary SQLite
data directory (removed afterwards unless --keep; give --data to use an
existing one), or on PostgreSQL with --database-url (its master key comes
from --data/--master-key-file as for 'serve'). It creates a workspace
"bench-<random>" with --departments departments, an admin, an agent in the
first department and --customers customers, then seeds --seed tickets.
With --workspace SLUG it measures in that workspace instead, keeping it for
later runs: when it exists (on the database --data or --database-url
names), bench reuses its departments, customers and staff (found by their
bench emails, given fresh tokens) and seeds only the tickets missing to
make --seed in all, so a large data set is seeded once; when it does not,
bench creates it under that slug. Use it with --data: in a temporary
directory the workspace would be gone after the run.
With --url it drives a running server as the staff user behind --token,
seeding through the API in that user's departments.

In process, planner statistics are then refreshed (ANALYZE on PostgreSQL,
PRAGMA optimize on SQLite), as 'serve' does a minute after start, so the
plans measured are those of a running server, not those made for the
empty tables of before the seeding.

Then each operation runs for --duration with --concurrency workers, reads
first so they see exactly the seeded tickets:
  list-queue           first page of new and open tickets of the agent's department
  get                  one ticket by number
  search               two words from the seeded texts, as the agent
  me                   GET /api/v1/me, the cheapest authenticated request
  reply                a reply on a seeded ticket
  create               a ticket from a known customer (matched by email)
  create-new-customer  a ticket from an address never seen before

The JSON report goes to standard output (and --out); progress and one
summary line per operation go to standard error. Example:

  hesar bench --seed 1000000 --ops create,list-queue,search --out bench-results/sqlite.json

Seed a million tickets once, then measure them again and again:

  hesar bench --data /var/tmp/bench --workspace bench1m --seed 1000000 --ops me
  hesar bench --data /var/tmp/bench --workspace bench1m --seed 1000000 --ops list-queue,search`)
	var st storageFlags
	st.register(fs)
	// On SQLite bench does not default to ./data: a benchmark must not write into
	// the data a 'serve' in this directory uses.
	data := fs.Lookup("data")
	data.Usage = "SQLite: data directory to benchmark in instead of a fresh temporary one; PostgreSQL: where the master key is (default ./data; env HESAR_DATA_DIR)"
	data.DefValue = ""
	keep := fs.Bool("keep", false, "keep the temporary data directory")
	target := fs.String("url", "", "benchmark the server at this base URL (http://host:port) instead of one in this process")
	token := fs.String("token", "", "API token of a staff user, required with --url")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the in-process server")
	workspace := fs.String("workspace", "", "measure in the workspace with this slug, reused if it exists (created if not) and kept; in process only")
	seed := fs.Int("seed", 10000, "tickets to create before measuring; with --workspace: tickets the workspace should hold")
	concurrency := fs.Int("concurrency", 32, "requests in flight at once")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure each operation")
	opsFlag := fs.String("ops", "all", "operations to measure, comma-separated: "+strings.Join(benchmark.AllOps, ","))
	departments := fs.Int("departments", 4, "departments the seeded tickets spread over (in-process only)")
	customers := fs.Int("customers", 1000, "known customers tickets come from")
	out := fs.String("out", "", "also write the JSON report to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured phase (in-process server and load) to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	ops, err := benchmark.ParseOps(*opsFlag)
	if err != nil {
		fmt.Fprintln(io.Err, err)
		fs.Usage()
		return errUsage
	}
	cfg := benchmark.Config{Storage: st.config(), Keep: *keep, URL: *target, Token: *token, Addr: *addr,
		Workspace: *workspace, Seed: *seed, Concurrency: *concurrency, Duration: *duration, Ops: ops,
		Departments: *departments, Customers: *customers}
	if cfg.Storage.DatabaseURL == "" && !flagGiven(fs, "data") {
		cfg.Storage.DataDir = "" // a fresh temporary directory, never ./data
		if cfg.Workspace != "" && !cfg.Keep {
			fmt.Fprintln(io.Err, "note: --workspace without --data or --database-url: the temporary database and the workspace are removed after the run")
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := benchmark.Run(ctx, cfg, io.Err)
	if err != nil {
		return err
	}
	return writeReport(io, rep, *out)
}

// writeReport prints the report as JSON and, with --out, saves it too.
func writeReport(io Stdio, rep benchmark.Report, path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := io.Out.Write(b); err != nil {
		return err
	}
	if path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("write --out: %w", err)
		}
	}
	return nil
}

// flagGiven reports whether name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
