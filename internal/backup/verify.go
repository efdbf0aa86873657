package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hesar/hesar/internal/db"
)

// Verify proves an archive restores: it decrypts it and checks every hash
// against the manifest, restores it into a scratch SQLite database in a
// private temporary directory, then reads every table back the way a
// backup reads it and compares row counts and checksums with the manifest.
// Attachment files are checked by hash only, not written out again.
func Verify(ctx context.Context, archive io.ReadSeeker, opts RestoreOptions) (*Manifest, error) {
	dir, err := os.MkdirTemp("", "hesar-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	scratch, err := db.Open(ctx, db.Options{Path: filepath.Join(dir, "verify.db")})
	if err != nil {
		return nil, fmt.Errorf("open scratch database: %w", err)
	}
	defer scratch.Close()
	opts.verify, opts.Force = true, false
	res, err := Restore(ctx, scratch, nil, archive, opts)
	if err != nil {
		return nil, err
	}
	prog := newProgress(opts.Progress)
	prog.say("comparing the restored copy with the manifest")
	tx, err := scratch.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	for _, want := range res.Manifest.Tables {
		got := want // same columns and order, fresh counts
		if err := exportTable(ctx, tx, db.SQLite, &got, discardSink{}, nil); err != nil {
			return nil, fmt.Errorf("read back %s: %w", want.Name, err)
		}
		if got.Rows != want.Rows || got.SHA256 != want.SHA256 {
			return nil, fmt.Errorf("restored table %s differs from the archive: %d rows (sha256 %.12s…), manifest %d rows (sha256 %.12s…)",
				want.Name, got.Rows, got.SHA256, want.Rows, want.SHA256)
		}
	}
	return res.Manifest, nil
}
