package backup_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func systemScope(ws int64) access.Scope { return access.System(ws) }

// populated is a source instance with a fixture workspace holding tickets,
// replies, notes, masked card numbers, a reveal and attachments.
type populated struct {
	cfg     app.Config
	app     *app.App
	fx      *testutil.Fixture
	numbers []int64
	files   map[int64][]byte // attachment id → content
}

func populate(t *testing.T, kind string) *populated {
	t.Helper()
	p := &populated{cfg: newConfig(t, kind, newMaster()), files: map[int64][]byte{}}
	p.app = openApp(t, p.cfg)
	p.fx = testutil.NewFixture(t, p.app)
	cust, admin := p.fx.Scope(t, "customer"), p.fx.Scope(t, "admin")
	for i := range 12 {
		in := ticket.NewTicket{Subject: "سفارش شماره " + string(rune('۰'+i%10)), Body: "Hello <b>&</b> agents, order " + strings.Repeat("x", i*100)}
		if i%3 == 0 {
			in.Subject, in.Body = "کارت "+card, "My card "+card+" cvv2 123 was charged twice"
		}
		tk, err := p.app.Tickets.Create(ctx, cust, in)
		if err != nil {
			t.Fatal(err)
		}
		p.numbers = append(p.numbers, tk.Number)
		if _, err := p.app.Tickets.AddMessage(ctx, admin, tk.Number, ticket.NewMessage{Kind: ticket.KindNote, Body: "internal note " + card}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			content := bytes.Repeat([]byte("%PDF-1.4 attachment "+tk.Subject), 200+i)
			att, err := p.app.Attachments.Upload(ctx, cust, tk.Number, "invoice.pdf", bytes.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			p.files[att.ID] = content
		}
	}
	if _, err := p.app.Tickets.Reveal(ctx, admin, p.numbers[0], 0, "customer disputes a double charge"); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRestored opens an app on the restored instance and checks every
// ticket, message, attachment and API token reads back identically.
func checkRestored(t *testing.T, p *populated, cfg app.Config) *app.App {
	t.Helper()
	b := openApp(t, cfg)
	ws := p.fx.WS.ID
	for _, n := range p.numbers {
		sameTicket(t, readTicket(t, p.app, ws, n), readTicket(t, b, ws, n))
	}
	admin := systemScope(ws)
	for id, want := range p.files {
		_, r, err := b.Attachments.Open(ctx, admin, id)
		if err != nil {
			t.Fatalf("attachment %d: %v", id, err)
		}
		if got := readAll(t, r); !bytes.Equal(got, want) {
			t.Errorf("attachment %d content differs after restore", id)
		}
	}
	for role, secret := range p.fx.Tokens {
		if _, err := b.Identity.Authenticate(ctx, secret); err != nil {
			t.Errorf("%s token does not authenticate after restore: %v", role, err)
		}
	}
	orig, err := b.Tickets.Reveal(ctx, admin, p.numbers[0], 0, "customer disputes a double charge")
	if err != nil || !strings.Contains(orig, card) {
		t.Errorf("masked original after restore: %q %v", orig, err)
	}
	// Numbering goes on after the restored tickets on the new database.
	tk, err := b.Tickets.Create(ctx, p.fx.Scope(t, "customer"), ticket.NewTicket{Subject: "after restore", Body: "new"})
	if err != nil {
		t.Fatalf("create after restore: %v", err)
	}
	if last := p.numbers[len(p.numbers)-1]; tk.Number <= last {
		t.Errorf("new ticket got number %d, want after %d", tk.Number, last)
	}
	return b
}

func TestBackupRestoresIntoTheOtherDatabase(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind+"_to_"+other[kind], func(t *testing.T) {
			p := populate(t, kind)
			id, rcpt := x25519(t)
			start := time.Now()
			archive := take(t, p.app, backup.CreateOptions{Recipients: rcpt, HesarVersion: "test"})
			took := time.Since(start)
			start = time.Now()
			cfg := restoreInto(t, other[kind], p.cfg.MasterKey, archive, id)
			t.Logf("archive %d bytes, backup %v, restore %v", len(archive), took, time.Since(start))
			checkRestored(t, p, cfg)
			m, err := backup.Verify(ctx, bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(id)})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if m.SourceDialect != kind || m.Blobs.Count != int64(len(p.files)) || m.MasterKey != nil {
				t.Errorf("manifest: dialect %s, %d files, master key %v", m.SourceDialect, m.Blobs.Count, m.MasterKey)
			}
		})
	}
}

// TestBackupOfARestoreIsTheSame: restoring and backing up again gives the
// same rows, table by table, across both databases.
func TestBackupOfARestoreIsTheSame(t *testing.T) {
	p := populate(t, "sqlite")
	id, rcpt := x25519(t)
	first := take(t, p.app, backup.CreateOptions{Recipients: rcpt})
	cfg := restoreInto(t, "postgres", p.cfg.MasterKey, first, id)
	d := openDB(t, cfg)
	var buf bytes.Buffer
	m2, err := backup.Create(ctx, d, attachment.LocalBlobs{Dir: cfg.AttachmentDir()}, &buf, backup.CreateOptions{Recipients: rcpt})
	if err != nil {
		t.Fatal(err)
	}
	m1, err := backup.Verify(ctx, bytes.NewReader(first), backup.RestoreOptions{Identities: idents(id)})
	if err != nil {
		t.Fatal(err)
	}
	for _, t1 := range m1.Tables {
		for _, t2 := range m2.Tables {
			if t1.Name == t2.Name && (t1.SHA256 != t2.SHA256 || t1.Rows != t2.Rows) {
				t.Errorf("table %s: %d rows %s, after a round trip %d rows %s", t1.Name, t1.Rows, t1.SHA256, t2.Rows, t2.SHA256)
			}
		}
	}
	if m1.Blobs.Digest != m2.Blobs.Digest {
		t.Error("attachment files differ after a round trip")
	}
}
