package mail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
	"github.com/hesar/hesar/internal/workspace"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

// env is one test's own database (deliverers claim every due row, so tests
// do not share one), keyring, workspace and log.
type env struct {
	kind   string
	path   string // the SQLite file, "" on PostgreSQL
	d      *db.DB
	k      *keyring.Keyring
	ws     int64
	outbox *mail.Outbox
	logs   *syncBuffer
	clock  *clock
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	url, path := testutil.NewDatabase(t, kind)
	d, err := db.Open(ctx, db.Options{URL: url, Path: path})
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	master := make([]byte, keyring.MasterKeySize)
	_, _ = rand.Read(master)
	k, err := keyring.Open(ctx, d, master)
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	tag := make([]byte, 4)
	_, _ = rand.Read(tag)
	ws, err := workspace.New(workspace.Opts{DB: d, Keys: k}).Create(ctx, "ws-"+hex.EncodeToString(tag), "Workspace")
	if err != nil {
		t.Fatalf("workspace: %v", err)
	}
	return &env{kind: kind, path: path, d: d, k: k, ws: ws.ID, outbox: mail.NewOutbox(d, k),
		logs: &syncBuffer{}, clock: &clock{t: time.Now().Add(time.Second)}} // after every enqueue of the test
}

// eachDB runs fn on a fresh SQLite and a fresh PostgreSQL database.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, newEnv(t, kind)) })
	}
}

// config points at srv with the security mode its options imply.
func config(srv *smtpd.Server, security string) mail.SMTPConfig {
	return mail.SMTPConfig{
		Host: srv.Host(), Port: srv.Port(), Security: security,
		From: "Hesar <noreply@hesar.test>", Timeout: 5 * time.Second, RootCAs: srv.RootCAs(),
	}
}

func (e *env) deliverer(cfg mail.SMTPConfig) *mail.Deliverer {
	dl := mail.NewDeliverer(e.d, e.k, cfg, slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dl.Now = e.clock.Now
	return dl
}

func (e *env) message(to, subject, body string) mail.Message {
	return mail.Message{WorkspaceID: e.ws, Kind: "password_reset", To: to, Subject: subject, Body: body}
}

func (e *env) send(t *testing.T, m mail.Message) {
	t.Helper()
	if err := e.outbox.Send(ctx, m); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func deliver(t *testing.T, dl *mail.Deliverer) int {
	t.Helper()
	n, err := dl.DeliverDue(ctx)
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

// row is the stored state of one outbox message.
type row struct {
	id, ws                  int64
	state, lastError        string
	attempts                int
	nextAttemptAt           int64
	sentAt                  *int64
	toEnc, subjEnc, bodyEnc []byte
}

func (e *env) rows(t *testing.T) []row {
	t.Helper()
	rs, err := e.d.Read().QueryContext(ctx, `SELECT id, workspace_id, state, last_error, attempts, next_attempt_at, sent_at, to_enc, subject_enc, body_enc FROM mail_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.ws, &r.state, &r.lastError, &r.attempts, &r.nextAttemptAt, &r.sentAt, &r.toEnc, &r.subjEnc, &r.bodyEnc); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) only(t *testing.T) row {
	t.Helper()
	rs := e.rows(t)
	if len(rs) != 1 {
		t.Fatalf("outbox holds %d messages, want 1", len(rs))
	}
	return rs[0]
}

func (e *env) open(t *testing.T, r row, column string, ct []byte) string {
	t.Helper()
	v, err := e.k.Open(ctx, keyring.Field{Workspace: r.ws, Table: "mail_outbox", Column: column, Row: r.id}, ct)
	if err != nil {
		t.Fatalf("open %s: %v", column, err)
	}
	return v
}

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
