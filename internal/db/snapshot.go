package db

import (
	"context"
	"database/sql"
	"fmt"
)

// Snapshot begins a read-only transaction that sees the whole database as
// it was at one instant while writes go on (backups read through it). On
// SQLite it is a deferred transaction on the read pool: WAL keeps its view
// stable. On PostgreSQL it is REPEATABLE READ, READ ONLY. Either database
// fixes the view at the first read, not at BEGIN, so Snapshot reads once
// before returning: every write acknowledged before the call is in it.
// The caller must Rollback (or Commit) it; on SQLite a long snapshot keeps
// the WAL from being checkpointed past it, so the file grows meanwhile.
func (d *DB) Snapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("begin snapshot: %w", err)
	}
	return tx, nil
}

// MigrateTo applies the pending migrations up to and including version,
// each in its own transaction, the way Migrate applies all of them. A
// restore uses it to rebuild the schema an archive was taken at, load the
// rows, and only then run the newer migrations over them, so data
// migrations see the rows they were written for. Unlike Migrate it takes
// no lock against other instances: a restore owns its target.
func (d *DB) MigrateTo(ctx context.Context, version int, progress func(Migration)) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if version > len(ms) {
		return nil, fmt.Errorf("schema version %d is newer than this build's %d", version, len(ms))
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	if _, err := d.write.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range ms[:version] {
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
