package backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"os"
	"reflect"
	"testing"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

var ctx = context.Background()

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

const card = "6037 9912 3456 7893" // Luhn-valid: masked on the way in

// other is the database kind a backup of kind is restored into.
var other = map[string]string{"sqlite": "postgres", "postgres": "sqlite"}

// newConfig makes a fresh, empty instance of kind: a data directory and,
// for PostgreSQL, a new database. Nothing is opened.
func newConfig(t *testing.T, kind, master string) app.Config {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), MasterKey: master}
	if kind == "postgres" {
		url, _ := testutil.NewDatabase(t, "postgres")
		cfg.DatabaseURL = url
	}
	return cfg
}

func newMaster() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// openApp starts Hesar on cfg the way serve does.
func openApp(t *testing.T, cfg app.Config) *app.App {
	t.Helper()
	a, err := app.Open(ctx, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// openDB opens cfg's database without migrating it, as restore does.
func openDB(t *testing.T, cfg app.Config) *db.DB {
	t.Helper()
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, Path: cfg.SQLitePath()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func blobsOf(cfg app.Config) attachment.Blobs {
	return attachment.LocalBlobs{Dir: cfg.AttachmentDir()}
}

func x25519(t *testing.T) (*age.X25519Identity, []age.Recipient) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, []age.Recipient{id.Recipient()}
}

// take backs up a and returns the archive.
func take(t *testing.T, a *app.App, opts backup.CreateOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := backup.Create(ctx, a.DB, blobsOf(a.Config), &buf, opts); err != nil {
		t.Fatalf("backup: %v", err)
	}
	return buf.Bytes()
}

// restoreInto restores archive into a fresh instance of kind and returns
// its config, with the same master key as the source.
func restoreInto(t *testing.T, kind, master string, archive []byte, ids ...age.Identity) app.Config {
	t.Helper()
	cfg := newConfig(t, kind, master)
	d := openDB(t, cfg)
	if _, err := backup.Restore(ctx, d, blobsOf(cfg), bytes.NewReader(archive), backup.RestoreOptions{Identities: ids}); err != nil {
		t.Fatalf("restore into %s: %v", kind, err)
	}
	d.Close()
	return cfg
}

// snapshotTicket is what a reader of one ticket sees.
type snapshotTicket struct {
	Ticket   ticket.Ticket
	Messages []ticket.Message
}

func readTicket(t *testing.T, a *app.App, ws, number int64) snapshotTicket {
	t.Helper()
	sys := systemScope(ws)
	tk, err := a.Tickets.Get(ctx, sys, number)
	if err != nil {
		t.Fatalf("ticket %d: %v", number, err)
	}
	msgs, err := a.Tickets.Messages(ctx, sys, number, 0, 100)
	if err != nil {
		t.Fatalf("messages of %d: %v", number, err)
	}
	return snapshotTicket{tk, msgs}
}

func sameTicket(t *testing.T, want, got snapshotTicket) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("ticket %d differs after restore:\n got %+v\nwant %+v", want.Ticket.Number, got, want)
	}
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func idents(ids ...age.Identity) []age.Identity { return ids }
