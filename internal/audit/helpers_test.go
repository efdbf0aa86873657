package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

var (
	keysMu sync.Mutex
	keys   = map[string]*keyring.Keyring{} // one keyring per shared database
)

// env is one workspace on one database, with its audit log.
type env struct {
	db   *db.DB
	keys *keyring.Keyring
	log  *audit.Log
	ws   int64
	slug string
}

func keyringFor(t testing.TB, kind string) (*db.DB, *keyring.Keyring) {
	t.Helper()
	d := testutil.DB(t, kind)
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[kind]; ok {
		return d, k
	}
	master := make([]byte, keyring.MasterKeySize)
	_, _ = rand.Read(master)
	k, err := keyring.Open(ctx, d, master)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	keys[kind] = k
	return d, k
}

func newEnv(t testing.TB, kind string, opts audit.Options) *env {
	t.Helper()
	d, k := keyringFor(t, kind)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	slug := "ws-" + hex.EncodeToString(suffix)
	ws, err := workspace.New(workspace.Opts{DB: d, Keys: k}).Create(ctx, slug, "Workspace "+slug)
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return &env{db: d, keys: k, log: audit.New(d, k, opts), ws: ws.ID, slug: slug}
}

// eachKind runs fn on SQLite and PostgreSQL, each with a fresh workspace.
func eachKind(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, newEnv(t, kind, audit.Options{})) })
	}
}

// entry is a typical ticket view by user n.
func (e *env) entry(n int) audit.Entry {
	return audit.Entry{
		WorkspaceID: e.ws, ActorKind: audit.ActorUser, ActorID: int64(1000 + n), SessionID: 77,
		Action: "ticket.view", TargetKind: "ticket", TargetID: int64(n), Result: audit.ResultOK,
		IP: fmt.Sprintf("203.0.113.%d", n%250), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
		RequestID: fmt.Sprintf("req-%d", n), Details: map[string]string{"via": "api"},
	}
}

// write records n entries, each in its own write, and seals them.
func (e *env) write(t testing.TB, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := e.log.Write(ctx, e.entry(i)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	e.seal(t)
}

func (e *env) seal(t testing.TB) {
	t.Helper()
	if _, err := e.log.SealPending(ctx); err != nil {
		t.Fatalf("seal: %v", err)
	}
}

// exec runs raw SQL against the database, as an attacker with write access would.
func (e *env) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	err := e.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (e *env) verify(t testing.TB) audit.Report {
	t.Helper()
	rep, err := e.log.Verify(ctx, e.ws, nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func (e *env) mustVerify(t testing.TB) audit.Report {
	t.Helper()
	rep := e.verify(t)
	if !rep.OK {
		t.Fatalf("verify of an untouched log: %v", rep.Problem)
	}
	return rep
}

var _ = time.Second
