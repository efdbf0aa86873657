package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
)

// partSize is about how much of a table one tar entry holds. A part is
// built in memory (its size must be in its tar header), so this bounds the
// memory a backup needs whatever the table's size.
const partSize = 4 << 20

// CreateOptions say how to write an archive.
type CreateOptions struct {
	// Recipients can decrypt the archive: X25519 public keys or one scrypt
	// passphrase recipient.
	Recipients []age.Recipient
	// MasterKey, when set, is put in the archive sealed for
	// MasterKeyRecipient only (a passphrase apart from the archive's).
	MasterKey          []byte
	MasterKeyRecipient age.Recipient
	// HesarVersion is recorded in the manifest.
	HesarVersion string
	// Progress receives progress lines; nil for none.
	Progress io.Writer
}

// Create writes an encrypted archive of the database d and the attachment
// files in blobs to out. It reads through one snapshot, so the archive
// holds exactly the rows committed when it began, while writes go on.
// Attachment files are read for the rows in that snapshot: a file is
// stored before its row is committed, so each one is there.
func Create(ctx context.Context, d *db.DB, blobs attachment.Blobs, out io.Writer, opts CreateOptions) (*Manifest, error) {
	if len(opts.Recipients) == 0 {
		return nil, errors.New("no recipient or passphrase to encrypt the archive for")
	}
	if opts.MasterKey != nil && opts.MasterKeyRecipient == nil {
		return nil, errors.New("including the master key needs its own passphrase")
	}
	tx, err := d.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	m := &Manifest{Format: FormatVersion, HesarVersion: opts.HesarVersion, CreatedAt: db.Now(), SourceDialect: d.Dialect().String()}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&m.SchemaVersion); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if m.Tables, err = discover(ctx, tx, d.Dialect()); err != nil {
		return nil, err
	}
	enc, err := age.Encrypt(out, opts.Recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	aw := &archiveWriter{tw: tar.NewWriter(enc), now: time.UnixMicro(m.CreatedAt)}
	if err := aw.putBytes(versionEntry, []byte(versionText)); err != nil {
		return nil, err
	}
	prog := newProgress(opts.Progress)
	for i := range m.Tables {
		if err := exportTable(ctx, tx, d.Dialect(), &m.Tables[i], aw, prog); err != nil {
			return nil, fmt.Errorf("table %s: %w", m.Tables[i].Name, err)
		}
	}
	if m.table("attachments") != nil {
		if err := copyBlobs(ctx, tx, blobs, aw, &m.Blobs, prog, m.table("attachments").Rows); err != nil {
			return nil, err
		}
	}
	if opts.MasterKey != nil {
		if m.MasterKey, err = putMasterKey(aw, opts.MasterKey, opts.MasterKeyRecipient); err != nil {
			return nil, err
		}
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := aw.putBytes(manifestEntry, raw); err != nil {
		return nil, err
	}
	if err := aw.tw.Close(); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

// partSink receives a table's parts.
type partSink interface {
	putBytes(name string, data []byte) error
}

// exportTable writes t's rows as JSON Lines parts to sink, filling in the
// row count, part count and hash. Verify runs it over a restored copy to
// compare, with a sink that only counts.
func exportTable(ctx context.Context, q querier, d db.Dialect, t *TableManifest, sink partSink, prog *progress) error {
	var total int64
	if err := rowCount(ctx, q, t.Name, &total); err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, selectQuery(d, t))
	if err != nil {
		return err
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	buf := make([]byte, 0, partSize+64<<10)
	t.Rows, t.Parts = 0, 0
	flush := func() error {
		if len(buf) == 0 && t.Parts > 0 {
			return nil
		}
		t.Parts++
		h.Write(buf)
		err := sink.putBytes(fmt.Sprintf("%s%s/%06d.jsonl", tablesDir, t.Name, t.Parts), buf)
		buf = buf[:0]
		return err
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if buf, err = appendRow(buf, t.Columns, vals); err != nil {
			return fmt.Errorf("row %d: %w", t.Rows+1, err)
		}
		t.Rows++
		prog.rows("tables: "+t.Name, t.Rows, total, "rows", false)
		if len(buf) >= partSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A table always has at least one part, even empty, so the archive
	// lists every table it restores.
	if len(buf) > 0 || t.Parts == 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	t.SHA256 = hex.EncodeToString(h.Sum(nil))
	prog.rows("tables: "+t.Name, t.Rows, total, "rows", true)
	return nil
}

func rowCount(ctx context.Context, q querier, table string, n *int64) error {
	rows, err := q.QueryContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table))
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(n); err != nil {
			return err
		}
	}
	return rows.Err()
}

// copyBlobs copies the file of every attachment row in the snapshot. Each
// file is read twice, once to hash it for its tar header and once to copy
// it, rather than spooled: it is ciphertext either way, but a spool would
// cost the disk space of the largest file again.
func copyBlobs(ctx context.Context, tx *sql.Tx, blobs attachment.Blobs, aw *archiveWriter, bm *BlobManifest, prog *progress, total int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT storage_key FROM attachments ORDER BY id`)
	if err != nil {
		return fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	digest := sha256.New()
	var done int64
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return err
		}
		size, sum, err := hashBlob(ctx, blobs, key)
		if errors.Is(err, attachment.ErrBlobMissing) {
			// Erased after the snapshot began: record it rather than fail
			// every backup taken during an erasure.
			bm.Missing = append(bm.Missing, key)
			continue
		}
		if err != nil {
			return fmt.Errorf("attachment %s: %w", key, err)
		}
		if err := putBlob(ctx, blobs, aw, key, size, sum); err != nil {
			return err
		}
		bm.Count++
		bm.Bytes += size
		fmt.Fprintf(digest, "%s %d %s\n", key, size, hex.EncodeToString(sum))
		done++
		prog.rows("attachments:", done, total, "files", false)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	bm.Digest = hex.EncodeToString(digest.Sum(nil))
	prog.rows("attachments:", done, total, "files", true)
	return nil
}

func hashBlob(ctx context.Context, blobs attachment.Blobs, key string) (int64, []byte, error) {
	f, err := blobs.Open(ctx, key)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return n, h.Sum(nil), err
}

func putBlob(ctx context.Context, blobs attachment.Blobs, aw *archiveWriter, key string, size int64, sum []byte) error {
	f, err := blobs.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", key, err)
	}
	defer f.Close()
	if st, ok := f.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Size() != size {
			return fmt.Errorf("attachment %s changed while it was being copied", key)
		}
	}
	return aw.putStream(blobsDir+key, size, sum, f)
}

// discardSink is a partSink that keeps nothing: exportTable's own
// counting and hashing are all verify needs from a restored copy.
type discardSink struct{}

func (discardSink) putBytes(string, []byte) error { return nil }
