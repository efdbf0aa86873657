package backup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/hesar/hesar/internal/db"
)

// querier is a snapshot transaction or a database's read pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// skipTables are not copied: schema_migrations is rebuilt by running the
// migrations up to the archive's schema version.
var skipTables = map[string]bool{"schema_migrations": true}

// discover reads the table list, columns, primary keys and foreign keys
// from the database itself, so a table added by a later migration is
// backed up without anyone remembering to list it here. Tables come back
// in foreign-key order (referenced first; ties by name).
func discover(ctx context.Context, q querier, d db.Dialect) ([]TableManifest, error) {
	names, err := strings1(ctx, q, tableListQuery(d))
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	byName := map[string]*TableManifest{}
	deps := map[string][]string{}
	for _, n := range names {
		if skipTables[n] {
			continue
		}
		t := &TableManifest{Name: n}
		if err := describe(ctx, q, d, t); err != nil {
			return nil, fmt.Errorf("describe table %s: %w", n, err)
		}
		byName[n] = t
		refs, err := references(ctx, q, d, n)
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", n, err)
		}
		deps[n] = refs
	}
	return fkOrder(byName, deps)
}

func tableListQuery(d db.Dialect) string {
	if d == db.Postgres {
		return `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	return `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
}

// describe fills in columns (with their kind) and the primary key.
func describe(ctx context.Context, q querier, d db.Dialect, t *TableManifest) error {
	if d == db.Postgres {
		rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t.Name)
		if err != nil {
			return err
		}
		if err := scanColumns(rows, t); err != nil {
			return err
		}
		t.PrimaryKey, err = strings1(ctx, q, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
			WHERE i.indrelid = $1::text::regclass AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, t.Name)
		return err
	}
	// The table name comes from sqlite_master, never from input; quote it
	// anyway since PRAGMA takes no parameters.
	rows, err := q.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(`+quoteLit(t.Name)+`) ORDER BY cid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	pk := map[int]string{}
	for rows.Next() {
		var name, typ string
		var pos int
		if err := rows.Scan(&name, &typ, &pos); err != nil {
			return err
		}
		kind, err := kindOf(typ)
		if err != nil {
			return fmt.Errorf("column %s: %w", name, err)
		}
		t.Columns = append(t.Columns, Column{Name: name, Type: kind})
		if pos > 0 {
			pk[pos] = name
		}
	}
	for i := 1; i <= len(pk); i++ {
		t.PrimaryKey = append(t.PrimaryKey, pk[i])
	}
	return rows.Err()
}

func scanColumns(rows *sql.Rows, t *TableManifest) error {
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return err
		}
		kind, err := kindOf(typ)
		if err != nil {
			return fmt.Errorf("column %s: %w", name, err)
		}
		t.Columns = append(t.Columns, Column{Name: name, Type: kind})
	}
	return rows.Err()
}

// kindOf maps a declared column type to the three kinds Hesar's schema
// uses. Anything else fails the backup loudly rather than copying a value
// in a form that might not come back the same.
func kindOf(declared string) (string, error) {
	switch t := strings.ToUpper(declared); {
	case strings.Contains(t, "INT"):
		return "int", nil
	case t == "TEXT":
		return "text", nil
	case t == "BLOB" || t == "BYTEA":
		return "blob", nil
	}
	return "", fmt.Errorf("type %q is not supported by backups yet (only integer, text and bytes)", declared)
}

// references lists the tables t has foreign keys to.
func references(ctx context.Context, q querier, d db.Dialect, t string) ([]string, error) {
	if d == db.Postgres {
		return strings1(ctx, q, `SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
			WHERE contype = 'f' AND conrelid = $1::text::regclass`, t)
	}
	return strings1(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(`+quoteLit(t)+`)`)
}

// fkOrder sorts tables so that each comes after the tables it references.
func fkOrder(byName map[string]*TableManifest, deps map[string][]string) ([]TableManifest, error) {
	var names []string
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []TableManifest
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("foreign keys form a cycle through %s: backups cannot order it", n)
		case 2:
			return nil
		}
		state[n] = 1
		refs := append([]string(nil), deps[n]...)
		sort.Strings(refs)
		for _, r := range refs {
			if r == n || byName[r] == nil {
				continue // self-reference, or a table not copied
			}
			if err := visit(r); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, *byName[n])
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func strings1(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// selectQuery reads a table in a deterministic order that is the same on
// both databases: by primary key, comparing text byte-wise (PostgreSQL's
// default collation would sort differently from SQLite's).
func selectQuery(d db.Dialect, t *TableManifest) string {
	cols := make([]string, len(t.Columns))
	kinds := map[string]string{}
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
		kinds[c.Name] = c.Type
	}
	order := t.PrimaryKey
	if len(order) == 0 {
		order = nil
		for _, c := range t.Columns {
			order = append(order, c.Name)
		}
	}
	by := make([]string, len(order))
	for i, c := range order {
		by[i] = quoteIdent(c)
		if d == db.Postgres && kinds[c] == "text" {
			by[i] += ` COLLATE "C"`
		}
	}
	return `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + quoteIdent(t.Name) + ` ORDER BY ` + strings.Join(by, ", ")
}
