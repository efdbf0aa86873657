package db_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

// eachKind runs fn as a subtest on every database kind.
func eachKind(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

// openUnmigrated opens a new, empty database of the kind without migrating
// it, closed when the test ends. It returns the Options so a test can open a
// second handle on the same database.
func openUnmigrated(t *testing.T, kind string) (*db.DB, db.Options) {
	t.Helper()
	url, path := testutil.NewDatabase(t, kind)
	opts := db.Options{URL: url, Path: path}
	d, err := db.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, opts
}

// scratchTable creates a table of the test's own on d through d.Write and
// returns its name.
func scratchTable(t *testing.T, d *db.DB) string {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "scratch_" + hex.EncodeToString(suffix)
	err := d.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE `+name+` (id BIGINT PRIMARY KEY, note TEXT NOT NULL DEFAULT '')`)
		return err
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return name
}

// ids returns every id in table, ascending, read from the read pool.
func ids(t *testing.T, d *db.DB, table string) []int64 {
	t.Helper()
	rows, err := d.Read().QueryContext(ctx, `SELECT id FROM `+table+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationsBuildAFreshDatabaseOnce(t *testing.T) {
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded migrations")
	}
	var all []int
	for _, m := range ms {
		all = append(all, m.Version)
	}
	eachKind(t, func(t *testing.T, kind string) {
		d, _ := openUnmigrated(t, kind)

		st, err := d.Status(ctx)
		if err != nil {
			t.Fatalf("status of an empty database: %v", err)
		}
		if st != (db.MigrationStatus{Current: 0, Latest: len(ms)}) {
			t.Errorf("status before migrating = %+v, want current 0, latest %d", st, len(ms))
		}

		var seen []int
		applied, err := d.Migrate(ctx, func(m db.Migration) { seen = append(seen, m.Version) })
		if err != nil {
			t.Fatalf("first migrate: %v", err)
		}
		if !slices.Equal(applied, all) || !slices.Equal(seen, all) {
			t.Errorf("first migrate applied %v (progress %v), want %v", applied, seen, all)
		}

		seen = nil
		again, err := d.Migrate(ctx, func(m db.Migration) { seen = append(seen, m.Version) })
		if err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if len(again) != 0 || len(seen) != 0 {
			t.Errorf("second migrate applied %v (progress %v), want nothing", again, seen)
		}

		st, err = d.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != st.Latest || st.Latest != len(ms) {
			t.Errorf("status after migrating = %+v, want current = latest = %d", st, len(ms))
		}
	})
}

// tenantFree are the tables that do not belong to one workspace: instance
// machinery, the workspaces table itself (its id is the workspace id), and
// sign-in throttling, whose per-address counters span workspaces (an
// attacker spraying several tenants from one address is one attacker).
var tenantFree = []string{"auth_throttle", "backup_runs", "id_blocks", "instance_settings", "schema_migrations", "workspaces"}

func TestEveryDomainRowCarriesWorkspaceID(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.FreshDB(t, kind)
		q := `SELECT t.name, COUNT(c.name) FROM sqlite_master t
			LEFT JOIN pragma_table_info(t.name) c ON c.name = 'workspace_id'
			WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite_%'
			GROUP BY t.name ORDER BY t.name`
		if d.Dialect() == db.Postgres {
			q = `SELECT t.table_name, COUNT(c.column_name) FROM information_schema.tables t
				LEFT JOIN information_schema.columns c ON c.table_schema = t.table_schema
					AND c.table_name = t.table_name AND c.column_name = 'workspace_id'
				WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
				GROUP BY t.table_name ORDER BY t.table_name`
		}
		rows, err := d.Read().QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		checked := 0
		for rows.Next() {
			var table string
			var has int
			if err := rows.Scan(&table, &has); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(tenantFree, table) {
				continue
			}
			checked++
			if has != 1 {
				t.Errorf("table %s has no workspace_id column", table)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if checked < 5 {
			t.Errorf("checked only %d domain tables; the schema query is probably wrong", checked)
		}
	})
}

func TestOpenRejectsOtherDatabaseURLs(t *testing.T) {
	for _, url := range []string{"mysql://root@localhost/hesar", "sqlite:///tmp/hesar.db", "localhost:5432/hesar"} {
		t.Run(url, func(t *testing.T) {
			d, err := db.Open(ctx, db.Options{URL: url, Path: t.TempDir() + "/unused.db"})
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "postgres://") {
				t.Errorf("error %q does not say a postgres:// URL is expected", err)
			}
			if scheme, _, ok := strings.Cut(url, "://"); ok && !strings.Contains(err.Error(), scheme) {
				t.Errorf("error %q does not name the scheme given (%s)", err, scheme)
			}
		})
	}
}

func TestSQLiteCommitsAreDurable(t *testing.T) {
	d := testutil.DB(t, "sqlite")
	var synchronous int
	var journal string
	err := d.Write(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&synchronous); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal)
	})
	if err != nil {
		t.Fatal(err)
	}
	if synchronous != 2 {
		t.Errorf("writer PRAGMA synchronous = %d, want 2 (FULL): acknowledged commits must survive a power cut", synchronous)
	}
	if journal != "wal" {
		t.Errorf("writer journal_mode = %q, want wal", journal)
	}
}

func TestSQLiteInstancesStartingTogetherMigrateOnce(t *testing.T) {
	migrateTogether(t, "sqlite") // PostgreSQL: see knownbugs_test.go
}

// migrateTogether starts four instances on one empty database at once, five
// times over, and checks every migration was applied exactly once.
func migrateTogether(t *testing.T, kind string) {
	t.Helper()
	ms, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		_, opts := openUnmigrated(t, kind)
		const instances = 4
		applied := make([][]int, instances)
		start := make(chan struct{})
		errs := make([]error, instances)
		var wg sync.WaitGroup
		for i := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := db.Open(ctx, opts)
				if err != nil {
					errs[i] = err
					return
				}
				defer d.Close()
				<-start
				applied[i], errs[i] = d.Migrate(ctx, nil)
			}()
		}
		close(start)
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: instance %d: %v", round, i, err)
			}
			total += len(applied[i])
		}
		if total != len(ms) {
			t.Fatalf("round %d: %d instances applied %d migrations between them, want each of %d once", round, instances, total, len(ms))
		}
	}
}
