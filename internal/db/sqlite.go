package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqlitePragmas are applied to every connection, busy_timeout first so the
// switch to WAL itself waits for other processes instead of failing.
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	// FULL: an acknowledged commit survives a power cut. Group commit is
	// what keeps this from capping throughput.
	"synchronous(FULL)",
	"foreign_keys(1)",
	"temp_store(MEMORY)",
	"cache_size(-32000)",
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range sqlitePragmas {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" {
		return nil, fmt.Errorf("no SQLite path given")
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	write, err := sql.Open("sqlite", sqliteDSN(opts.Path, false))
	if err != nil {
		return nil, err
	}
	// One writer goroutine uses this pool, one transaction at a time. The
	// second connection only lets the statement cache prepare a statement
	// while the writer holds the first inside a transaction.
	write.SetMaxOpenConns(2)
	write.SetMaxIdleConns(2)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", opts.Path, err)
	}
	// The database file holds ciphertext only, but keep it private anyway.
	_ = os.Chmod(opts.Path, 0o600)
	read, err := sql.Open("sqlite", sqliteDSN(opts.Path, true))
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(opts.ReadConns)
	read.SetMaxIdleConns(opts.ReadConns)
	read.SetConnMaxIdleTime(0)
	return &DB{dialect: SQLite, read: read, write: write}, nil
}
