package db

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change. The same file builds both
// databases: it is a text/template that sees a dialectVars.
type Migration struct {
	Version int
	Name    string
	body    string
}

// dialectVars are the few places where SQLite and PostgreSQL spell things
// differently, named once so the migrations do not drift apart.
type dialectVars struct {
	Postgres bool
	// Blob is a byte-string column type.
	Blob string
	// WithoutRowID ends a CREATE TABLE whose primary key is the table itself.
	WithoutRowID string
}

func varsFor(d Dialect) dialectVars {
	if d == Postgres {
		return dialectVars{Postgres: true, Blob: "BYTEA"}
	}
	return dialectVars{Blob: "BLOB", WithoutRowID: "WITHOUT ROWID"}
}

// Migrations returns every embedded migration in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		body, err := fs.ReadFile(migrationFiles, "migrations/"+name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), body: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3…: found %d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// render expands a migration for one dialect and splits it into statements.
func (m Migration) render(d Dialect) ([]string, error) {
	t, err := template.New(m.Name).Parse(m.body)
	if err != nil {
		return nil, fmt.Errorf("migration %d: %w", m.Version, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, varsFor(d)); err != nil {
		return nil, fmt.Errorf("migration %d: %w", m.Version, err)
	}
	var stmts []string
	for _, s := range strings.Split(buf.String(), ";\n") {
		if s = strings.TrimSpace(stripComments(s)); s != "" {
			stmts = append(stmts, s)
		}
	}
	return stmts, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// MigrationStatus says where a database stands.
type MigrationStatus struct {
	Current int
	Latest  int
}

// Status reports the applied and latest migration versions.
func (d *DB) Status(ctx context.Context) (MigrationStatus, error) {
	ms, err := Migrations()
	if err != nil {
		return MigrationStatus{}, err
	}
	st := MigrationStatus{Latest: len(ms)}
	err = d.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&st.Current)
	if err != nil && strings.Contains(err.Error(), "schema_migrations") {
		return st, nil // fresh database
	}
	return st, err
}

// Migrate applies every pending migration, each in its own transaction,
// and reports the versions it applied. Several instances may start at once:
// on PostgreSQL an advisory lock lets one migrate while the others wait.
func (d *DB) Migrate(ctx context.Context, progress func(Migration)) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if d.dialect == Postgres {
		// One session-level lock around everything, the bookkeeping table's
		// creation included: instances starting together wait their turn.
		conn, err := d.write.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7270201)`); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7270201)`) //nolint:errcheck // released with the session anyway
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	if _, err := d.write.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range ms {
		did, err := d.applyOne(ctx, m, progress)
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

func (d *DB) applyOne(ctx context.Context, m Migration, progress func(Migration)) (bool, error) {
	stmts, err := m.render(d.dialect)
	if err != nil {
		return false, err
	}
	did := false
	err = d.writeDirect(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if progress != nil {
			progress(m)
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("migration %d (%s): %w\n%s", m.Version, m.Name, err, s)
			}
		}
		did = true
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, m.Version, m.Name, Now())
		return err
	})
	return did, err
}
