// Package testutil builds real databases and workspaces for tests: a fresh
// SQLite file and a fresh PostgreSQL database per test package, never mocks.
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	neturl "net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates test databases

	"github.com/hesar/hesar/internal/db"
)

// Kinds are the databases every store and API test runs against.
var Kinds = []string{"sqlite", "postgres"}

// PostgresAdminURL is where test databases are created; override with
// HESAR_TEST_POSTGRES_URL.
func PostgresAdminURL() string {
	if u := os.Getenv("HESAR_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

var (
	mu     sync.Mutex // guards shared
	shared = map[string]*db.DB{}

	regMu   sync.Mutex // guards created and tmpDirs
	created []string   // PostgreSQL databases to drop when the package ends
	tmpDirs []string
)

// Run wraps testing.M.Run so the package's databases are removed after.
// Use it from TestMain: os.Exit(testutil.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	cleanup()
	return code
}

func cleanup() {
	mu.Lock()
	defer mu.Unlock()
	for _, d := range shared {
		d.Close()
	}
	shared = map[string]*db.DB{}
	regMu.Lock()
	defer regMu.Unlock()
	if len(created) > 0 {
		admin, err := sql.Open("pgx", PostgresAdminURL())
		if err == nil {
			for _, name := range created {
				_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			}
			admin.Close()
		}
		created = nil
	}
	for _, d := range tmpDirs {
		os.RemoveAll(d)
	}
	tmpDirs = nil
}

// DB returns this package's migrated database of the given kind, creating
// it on first use. Tests share it and keep apart by making their own
// workspaces, as real tenants do.
func DB(t testing.TB, kind string) *db.DB {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if d, ok := shared[kind]; ok {
		return d
	}
	d, err := open(kind)
	if err != nil {
		unreachable(t, kind, err)
	}
	shared[kind] = d
	return d
}

// FreshDB returns a new, migrated, empty database of the given kind that
// only this test uses, closed and removed when it ends.
func FreshDB(t testing.TB, kind string) *db.DB {
	t.Helper()
	d, err := open(kind)
	if err != nil {
		unreachable(t, kind, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// unreachable ends a test whose PostgreSQL database could not be had:
// skipped with a notice on a developer's machine, failed in CI (CI=true),
// where nothing may be skipped. SQLite failures always fail.
func unreachable(t testing.TB, kind string, err error) {
	t.Helper()
	if kind == "postgres" && os.Getenv("CI") != "true" {
		t.Skipf("PostgreSQL not reachable (%v); CI never skips this", err)
	}
	t.Fatalf("create %s test database: %v", kind, err)
}

// NewDatabase is URLFor for tests: it creates an empty database of the
// kind and returns its URL (PostgreSQL) or file path (SQLite).
func NewDatabase(t testing.TB, kind string) (url, path string) {
	t.Helper()
	url, path, err := URLFor(kind)
	if err != nil {
		unreachable(t, kind, err)
	}
	return url, path
}

// URLFor creates an empty database of the kind and returns what to give
// Hesar to open it: a postgres URL, or a SQLite file path.
func URLFor(kind string) (url, path string, err error) {
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "hesar_test_" + hex.EncodeToString(suffix)
	if kind == "sqlite" {
		dir, err := os.MkdirTemp("", "hesar-test-")
		if err != nil {
			return "", "", err
		}
		regMu.Lock()
		tmpDirs = append(tmpDirs, dir)
		regMu.Unlock()
		return "", filepath.Join(dir, "hesar.db"), nil
	}
	admin, err := sql.Open("pgx", PostgresAdminURL())
	if err != nil {
		return "", "", err
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		return "", "", err
	}
	regMu.Lock()
	created = append(created, name)
	regMu.Unlock()
	u, err := neturl.Parse(PostgresAdminURL())
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return u.String(), "", nil
}

func open(kind string) (*db.DB, error) {
	url, path, err := URLFor(kind)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{URL: url, Path: path})
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx, nil); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
