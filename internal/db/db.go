// Package db opens Hesar's database (embedded SQLite or PostgreSQL), runs its
// migrations and owns the write path.
//
// Reads go straight to a connection pool. Writes go through DB.Write, which on
// SQLite hands them to a single writer goroutine that batches concurrent
// writes into one durable commit (group commit), each inside its own
// SAVEPOINT so one failing write rolls back alone. On PostgreSQL each write is
// its own transaction: concurrent commits already share WAL flushes there.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hesar/hesar/internal/errs"
)

// Dialect names the SQL database behind a DB.
type Dialect int

const (
	// SQLite is the embedded default (modernc.org/sqlite, no cgo).
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL through pgx.
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// Options say which database to open.
type Options struct {
	// URL is a postgres:// or postgresql:// URL. Empty means SQLite.
	URL string
	// Path is the SQLite database file, used when URL is empty.
	Path string
	// MaxBatch caps how many queued writes share one SQLite commit.
	MaxBatch int
	// ReadConns is the size of the read pool (default 8).
	ReadConns int
}

// Querier runs read statements: a pool or a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open Hesar database.
type DB struct {
	dialect Dialect
	read    *sql.DB
	write   *sql.DB
	reader  *Reader
	writes  *stmtCache   // SQLite only: statements prepared on the writer
	writer  *groupWriter // SQLite only
	ids     *IDAllocator
}

// ErrNotFound is returned by stores when a row does not exist or is outside
// the caller's scope; the two are deliberately indistinguishable.
var ErrNotFound = errs.ErrNotFound

// Open connects to the database described by opts. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 8
	}
	var d *DB
	var err error
	switch {
	case strings.HasPrefix(opts.URL, "postgres://"), strings.HasPrefix(opts.URL, "postgresql://"):
		d, err = openPostgres(ctx, opts)
	case opts.URL != "":
		return nil, fmt.Errorf("database URL must start with postgres:// (got scheme %q); leave it empty for the embedded SQLite database", schemeOf(opts.URL))
	default:
		d, err = openSQLite(ctx, opts)
	}
	if err != nil {
		return nil, err
	}
	d.reader = &Reader{db: d.read}
	if d.dialect == SQLite {
		d.reader.cache = newStmtCache(d.read)
		d.writes = newStmtCache(d.write)
		d.writer = newGroupWriter(d.write, d.writes, opts.MaxBatch)
	}
	d.ids = newIDAllocator(d)
	return d, nil
}

func schemeOf(url string) string {
	if i := strings.Index(url, "://"); i > 0 {
		return url[:i]
	}
	return "none"
}

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// Read returns the pool for read-only queries.
func (d *DB) Read() *Reader { return d.reader }

// IDs returns the allocator that hands out row ids. Call it before Write:
// ids are needed to build encryption AAD before the row is written.
func (d *DB) IDs() *IDAllocator { return d.ids }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.read.PingContext(ctx) }

// Close stops the writer and closes every connection.
func (d *DB) Close() error {
	if d.writer != nil {
		d.writer.close()
	}
	if d.reader.cache != nil {
		d.reader.cache.close()
		d.writes.close()
	}
	err := d.read.Close()
	if d.write != d.read {
		err = errors.Join(err, d.write.Close())
	}
	return err
}

// Write runs fn inside a transaction and returns once that transaction is
// durably committed (or failed). fn must not call Write or IDs().Next: on
// SQLite it runs on the single writer goroutine.
func (d *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	if d.writer != nil {
		return d.writer.submit(ctx, fn)
	}
	return d.writeDirect(ctx, fn)
}

// writeDirect runs fn in its own transaction (PostgreSQL, and migrations).
func (d *DB) writeDirect(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: stx, dialect: d.dialect, stmts: d.writes}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	defer tx.runAfterCommit() // after the recover above is out of the way
	return nil
}

// Tx is one write in progress. On SQLite several Tx share one database
// transaction, each isolated by its own savepoint.
type Tx struct {
	tx          *sql.Tx
	dialect     Dialect
	stmts       *stmtCache // nil on PostgreSQL
	shared      bool       // part of a group commit: ignore per-call cancellation
	afterCommit []func()
}

// stmtCtx detaches a shared transaction's statements from cancellation.
func (tx *Tx) stmtCtx(ctx context.Context) context.Context {
	if tx.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// prepared returns the cached statement for query bound to this
// transaction, or nil to run it directly.
func (tx *Tx) prepared(ctx context.Context, query string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	st, err := tx.stmts.get(ctx, query)
	if err != nil || st == nil {
		return nil // run directly: a bad statement reports its own error
	}
	return tx.tx.StmtContext(ctx, st)
}

// Dialect reports which database this transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// ExecContext runs a statement.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = tx.stmtCtx(ctx)
	if st := tx.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = tx.stmtCtx(ctx)
	if st := tx.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = tx.stmtCtx(ctx)
	if st := tx.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// AfterCommit queues fn to run once the transaction is durably committed.
// It never runs when the write fails. On SQLite it runs on the writer
// goroutine: it must be quick and must not call Write or IDs().Next (hand
// slow work to a goroutine or a job instead).
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// runAfterCommit runs the hooks; a panicking hook is logged and does not
// turn a committed write into a failure, nor stop the writer.
func (tx *Tx) runAfterCommit() {
	for _, fn := range tx.afterCommit {
		func() {
			defer func() {
				if p := recover(); p != nil {
					slog.Default().Error("after-commit hook panicked", "panic", fmt.Sprint(p))
				}
			}()
			fn()
		}()
	}
}

// Optimize refreshes the query planner's statistics. PostgreSQL's
// autovacuum does this on its own, but only after a while: right after a
// bulk load its plans are made for empty tables. SQLite never does it
// unless asked ("PRAGMA optimize" only re-analyzes what needs it).
func (d *DB) Optimize(ctx context.Context) error {
	if d.dialect == Postgres {
		_, err := d.write.ExecContext(ctx, `ANALYZE`)
		return err
	}
	return d.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `PRAGMA optimize`)
		return err
	})
}

// Pools returns the connection pools, for monitoring their statistics
// (the write pool is the read pool on PostgreSQL).
func (d *DB) Pools() (read, write *sql.DB) { return d.read, d.write }
