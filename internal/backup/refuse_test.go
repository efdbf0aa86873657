package backup_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/testutil"
)

// TestDamagedArchiveIsRefused: one flipped byte anywhere in the payload
// makes verify and restore fail with a clear message, and the restore
// writes nothing, not even the schema.
func TestDamagedArchiveIsRefused(t *testing.T) {
	p := populate(t, "sqlite")
	id, rcpt := x25519(t)
	archive := take(t, p.app, backup.CreateOptions{Recipients: rcpt})
	for name, at := range map[string]int{"start of payload": 300, "middle": len(archive) / 2, "last byte": len(archive) - 1} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			bad := bytes.Clone(archive)
			bad[at] ^= 0x01
			_, err := backup.Verify(ctx, bytes.NewReader(bad), backup.RestoreOptions{Identities: idents(id)})
			if !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), "archive is corrupt") {
				t.Errorf("verify: %v, want a corrupt-archive error", err)
			}
			for _, kind := range testutil.Kinds {
				cfg := newConfig(t, kind, p.cfg.MasterKey)
				d := openDB(t, cfg)
				_, err := backup.Restore(ctx, d, blobsOf(cfg), bytes.NewReader(bad), backup.RestoreOptions{Identities: idents(id)})
				if !errors.Is(err, backup.ErrCorrupt) {
					t.Errorf("restore into %s: %v, want a corrupt-archive error", kind, err)
				}
				if st, err := d.Status(ctx); err != nil || st.Current != 0 {
					t.Errorf("restore of a damaged archive into %s changed the database: schema version %d (%v)", kind, st.Current, err)
				}
			}
		})
	}
}

func TestRestoreRefusesANonEmptyDatabaseWithoutForce(t *testing.T) {
	src := populate(t, "sqlite")
	id, rcpt := x25519(t)
	archive := take(t, src.app, backup.CreateOptions{Recipients: rcpt})
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			busy := populate(t, kind)
			_, err := backup.Restore(ctx, busy.app.DB, blobsOf(busy.cfg), bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(id)})
			if !errors.Is(err, backup.ErrNotEmpty) || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("restore into a database in use: %v, want a refusal naming --force", err)
			}
			readTicket(t, busy.app, busy.fx.WS.ID, busy.numbers[0]) // untouched
			busy.app.Close()
			d := openDB(t, busy.cfg)
			if _, err := backup.Restore(ctx, d, blobsOf(busy.cfg), bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(id), Force: true}); err != nil {
				t.Fatalf("restore --force: %v", err)
			}
			d.Close()
			busy.cfg.MasterKey = src.cfg.MasterKey
			after := openApp(t, busy.cfg)
			if _, err := after.Workspaces.BySlug(ctx, busy.fx.WS.Slug); err == nil {
				t.Error("--force kept the old workspace")
			}
			sameTicket(t, readTicket(t, src.app, src.fx.WS.ID, src.numbers[1]), readTicket(t, after, src.fx.WS.ID, src.numbers[1]))
		})
	}
}

func TestPassphraseArchive(t *testing.T) {
	p := populate(t, "sqlite")
	r, err := age.NewScryptRecipient("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10) // fast for the test; the CLI keeps age's default
	archive := take(t, p.app, backup.CreateOptions{Recipients: []age.Recipient{r}})
	wrong, _ := age.NewScryptIdentity("incorrect horse")
	if _, err := backup.Verify(ctx, bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(wrong)}); !errors.Is(err, backup.ErrWrongKey) {
		t.Errorf("verify with a wrong passphrase: %v, want ErrWrongKey", err)
	}
	cfg := newConfig(t, "sqlite", p.cfg.MasterKey)
	d := openDB(t, cfg)
	if _, err := backup.Restore(ctx, d, blobsOf(cfg), bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(wrong)}); !errors.Is(err, backup.ErrWrongKey) || !strings.Contains(err.Error(), "wrong key or passphrase") {
		t.Errorf("restore with a wrong passphrase: %v", err)
	}
	right, _ := age.NewScryptIdentity("correct horse battery staple")
	if _, err := backup.Verify(ctx, bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(right)}); err != nil {
		t.Errorf("verify with the passphrase: %v", err)
	}
}

// TestArchiveHoldsNoPlaintext: the archive is age-encrypted end to end:
// neither the tar layout nor any plaintext column shows through.
func TestArchiveHoldsNoPlaintext(t *testing.T) {
	p := populate(t, "sqlite")
	_, rcpt := x25519(t)
	archive := take(t, p.app, backup.CreateOptions{Recipients: rcpt})
	if !bytes.HasPrefix(archive, []byte("age-encryption.org/v1\n")) {
		t.Error("archive is not an age file")
	}
	for _, marker := range []string{"manifest.json", "tables/", "hesar-backup", p.fx.WS.Slug, "Finance", "invoice"} {
		if bytes.Contains(archive, []byte(marker)) {
			t.Errorf("archive contains %q in the clear", marker)
		}
	}
}

func TestMasterKeyOnlyWhenAsked(t *testing.T) {
	p := populate(t, "sqlite")
	id, rcpt := x25519(t)
	master, _ := base64.StdEncoding.DecodeString(p.cfg.MasterKey)
	plain := take(t, p.app, backup.CreateOptions{Recipients: rcpt})
	cfg := newConfig(t, "sqlite", p.cfg.MasterKey)
	res, err := backup.Restore(ctx, openDB(t, cfg), blobsOf(cfg), bytes.NewReader(plain), backup.RestoreOptions{Identities: idents(id)})
	if err != nil {
		t.Fatal(err)
	}
	if res.SealedMasterKey != nil || res.Manifest.MasterKey != nil {
		t.Error("master key in a backup that did not ask for it")
	}

	kr, _ := age.NewScryptRecipient("a separate passphrase")
	kr.SetWorkFactor(10)
	with := take(t, p.app, backup.CreateOptions{Recipients: rcpt, MasterKey: master, MasterKeyRecipient: kr})
	cfg = newConfig(t, "sqlite", p.cfg.MasterKey)
	res, err = backup.Restore(ctx, openDB(t, cfg), blobsOf(cfg), bytes.NewReader(with), backup.RestoreOptions{Identities: idents(id)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := backup.OpenMasterKey(res.SealedMasterKey, "a separate passphrase")
	if err != nil || !bytes.Equal(got, master) {
		t.Errorf("included master key: %v", err)
	}
	if _, err := backup.OpenMasterKey(res.SealedMasterKey, "the archive's key is not enough"); err == nil {
		t.Error("the master key opened without its own passphrase")
	}
}
