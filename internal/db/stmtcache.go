package db

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the cache; queries beyond it run unprepared.
// Hesar's queries are a fixed set plus a bounded number of shapes that vary
// with canonical filter sets. Each statement is prepared once per pool
// connection, so the bound is on memory as well.
const maxCachedStatements = 400

// stmtCache keeps prepared statements by SQL text. SQLite through
// database/sql would otherwise parse and plan every statement on every call,
// which costs more than running most of them (measured: a fifth of the CPU
// of ticket creation). pgx caches statements itself, so PostgreSQL goes
// without.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query, or nil when the cache is
// full (the caller then runs the query directly).
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st := c.m[query]
	full := len(c.m) >= maxCachedStatements
	c.mu.RUnlock()
	if st != nil || full {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// Reader runs read-only queries on the read pool, through the statement
// cache where there is one.
type Reader struct {
	db    *sql.DB
	cache *stmtCache
}

// QueryContext runs a query.
func (r *Reader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if r.cache != nil {
		st, err := r.cache.get(ctx, query)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return r.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (r *Reader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if r.cache != nil {
		st, err := r.cache.get(ctx, query)
		if err == nil && st != nil {
			return st.QueryRowContext(ctx, args...)
		}
		// On a prepare error fall through: the direct query reports it.
	}
	return r.db.QueryRowContext(ctx, query, args...)
}

// PingContext checks the pool can reach the database.
func (r *Reader) PingContext(ctx context.Context) error { return r.db.PingContext(ctx) }
