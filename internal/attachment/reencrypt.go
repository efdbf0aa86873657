package attachment

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// Re-encryption moves files sealed under older data key versions to the
// active one, so that a key rotation can retire the old version. Each file
// is streamed into a new blob (new salt, new version, a new storage key),
// read back in full, and only then does its row switch to the copy, in one
// write that succeeds only if the row still points at the old blob; the
// old blob is deleted after. A crash at any point leaves the row pointing
// at a complete, readable blob, plus at most one copy nothing points at,
// which the next run removes (see removeOrphans). Downloads keep working:
// one that opened the old blob reads on from it, one that read the row
// just before the switch finds the blob gone and reads the row again.

// ReencryptProgress reports file re-encryption as it goes.
type ReencryptProgress struct {
	Files, Bytes int64 // moved to the active version so far, and their size
	// Skipped files were deleted or changed while being copied and are
	// left as they are; Missing ones have no content in storage and keep
	// their version (the version cannot be retired while they do).
	Skipped, Missing int64
	// TotalFiles and TotalBytes were under older versions when the run
	// began.
	TotalFiles, TotalBytes int64
}

// ReencryptResult sums up a run.
type ReencryptResult struct {
	ReencryptProgress
	// Orphans is how many leftovers of interrupted runs were removed.
	Orphans int
}

// ReencryptOpts tune Reencrypt.
type ReencryptOpts struct {
	// Progress, if set, is called after every file.
	Progress func(ReencryptProgress)
	// OrphanAge is how old a leftover copy must be to be removed (0: 15
	// minutes), so that a copy another run is about to switch to is
	// never taken for one.
	OrphanAge time.Duration
}

const (
	reencryptPage    = 100
	defaultOrphanAge = 15 * time.Minute
)

// Reencrypt moves every file of the workspace sealed under an older data
// key version to the active one, one file at a time, while the service
// keeps serving them. It is safe to interrupt (cancel ctx) and to run
// again: files already moved are skipped and what an interrupted run left
// behind is removed first.
func (s *Service) Reencrypt(ctx context.Context, ws int64, o ReencryptOpts) (ReencryptResult, error) {
	var res ReencryptResult
	age := o.OrphanAge
	if age <= 0 {
		age = defaultOrphanAge
	}
	n, err := s.removeOrphans(ctx, ws, time.Now().Add(-age))
	res.Orphans = n
	if err != nil {
		return res, fmt.Errorf("remove leftovers of earlier runs: %w", err)
	}
	active, err := s.keys.ActiveFileVersion(ctx, ws)
	if err != nil {
		return res, err
	}
	err = s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM attachments WHERE workspace_id = $1 AND key_version <> $2`,
		ws, int64(active)).Scan(&res.TotalFiles, &res.TotalBytes)
	if err != nil {
		return res, fmt.Errorf("count files to re-encrypt: %w", err)
	}
	var after int64
	for {
		page, err := s.stalePage(ctx, ws, active, after)
		if err != nil {
			return res, err
		}
		if len(page) == 0 {
			return res, nil
		}
		for _, f := range page {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			after = f.id
			moved, err := s.reencryptFile(ctx, ws, f, active)
			switch {
			case errors.Is(err, ErrBlobMissing):
				res.Missing++
			case err != nil:
				return res, fmt.Errorf("re-encrypt attachment %d: %w", f.id, err)
			case moved:
				res.Files++
				res.Bytes += f.size
			default:
				res.Skipped++
			}
			if o.Progress != nil {
				o.Progress(res.ReencryptProgress)
			}
		}
	}
}

// storedFile is where and how one file's content is kept.
type storedFile struct {
	id      int64
	version int64
	salt    []byte
	key     string
	size    int64
}

func (s *Service) stalePage(ctx context.Context, ws int64, active uint32, after int64) ([]storedFile, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, key_version, salt, storage_key, size_bytes FROM attachments
		WHERE workspace_id = $1 AND key_version <> $2 AND id > $3 ORDER BY id LIMIT $4`, ws, int64(active), after, reencryptPage)
	if err != nil {
		return nil, fmt.Errorf("list files to re-encrypt: %w", err)
	}
	defer rows.Close()
	var out []storedFile
	for rows.Next() {
		var f storedFile
		if err := rows.Scan(&f.id, &f.version, &f.salt, &f.key, &f.size); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// reencryptFile copies one file under version and switches its row to the
// copy. It reports false, with no error, when the row changed meanwhile
// (the file was erased): the copy is then removed and the row left alone.
func (s *Service) reencryptFile(ctx context.Context, ws int64, f storedFile, version uint32) (bool, error) {
	oldAEAD, _, err := s.keys.FileCipher(ctx, ws, f.id, f.salt, uint32(f.version))
	if err != nil {
		return false, err
	}
	src, err := s.blobs.Open(ctx, f.key)
	if errors.Is(err, ErrBlobMissing) {
		if changed, cerr := s.rowChanged(ctx, ws, f); cerr != nil || changed {
			return false, cerr // erased since the page was read
		}
	}
	if err != nil {
		return false, err
	}
	defer src.Close()
	next, err := s.reseal(ctx, ws, f.id, newOpener(src, oldAEAD, fileHeader(uint32(f.version), f.id)), f.size, version)
	if err != nil {
		return false, err
	}
	// Past this point the switch must not be cut short by a cancel: a
	// commit whose outcome is unknown could leave the row pointing at a
	// copy then deleted as unused.
	bg := context.WithoutCancel(ctx)
	switched := false
	err = s.db.Write(bg, func(tx *db.Tx) error {
		if err := s.keys.CheckUsable(bg, tx, ws, next.version); err != nil {
			return err
		}
		r, err := tx.ExecContext(bg, `UPDATE attachments SET key_version = $1, salt = $2, storage_key = $3
			WHERE workspace_id = $4 AND id = $5 AND key_version = $6 AND storage_key = $7`,
			int64(next.version), next.salt, next.key, ws, f.id, f.version, f.key)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		switched = n == 1
		return err
	})
	if err != nil || !switched {
		_ = s.blobs.Delete(bg, next.key)
		return false, err
	}
	src.Close()
	// A failure here leaves an old copy nothing points at, which is
	// unreadable once its version is retired and which the next run
	// removes.
	_ = s.blobs.Delete(bg, f.key)
	return true, nil
}

// rowChanged reports whether the file's row is gone or points elsewhere.
func (s *Service) rowChanged(ctx context.Context, ws int64, f storedFile) (bool, error) {
	var key string
	err := s.db.Read().QueryRowContext(ctx, `SELECT storage_key FROM attachments WHERE workspace_id = $1 AND id = $2`, ws, f.id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return err == nil && key != f.key, err
}

// sealedCopy is a new blob of a file, complete and verified, that no row
// points at yet.
type sealedCopy struct {
	version uint32
	salt    []byte
	key     string
}

// copyKey names a copy of file id sealed under version with salt. The
// name differs from every other copy's, so runs that overlap never
// overwrite each other's, and starts with the file's own key, so that
// removeOrphans can tell whose copy it is.
func copyKey(ws, id int64, version uint32, salt []byte) string {
	return fmt.Sprintf("%s-k%d-%x", StorageKey(ws, id), version, salt[:4])
}

// reseal streams plain, the content of file id (size bytes), into a new
// blob sealed under version (0: the active one) with a new salt, then
// reads the blob back and checks it decrypts to the same bytes. On any
// failure nothing of the copy is kept.
func (s *Service) reseal(ctx context.Context, ws, id int64, plain io.Reader, size int64, version uint32) (sealedCopy, error) {
	salt := make([]byte, keyring.FileSaltSize)
	if _, err := rand.Read(salt); err != nil {
		return sealedCopy{}, err
	}
	aead, v, err := s.keys.FileCipher(ctx, ws, id, salt, version)
	if err != nil {
		return sealedCopy{}, err
	}
	c := sealedCopy{version: v, salt: salt, key: copyKey(ws, id, v, salt)}
	hdr := fileHeader(v, id)
	bw, err := s.blobs.Create(ctx, c.key)
	if err != nil {
		return sealedCopy{}, err
	}
	sum := sha256.New()
	n, err := sealAll(ctx, bw, aead, hdr, io.TeeReader(plain, sum))
	if err == nil && n != size {
		err = fmt.Errorf("%w: file %d holds %d bytes, its row says %d", ErrCorrupt, id, n, size)
	}
	if err == nil {
		err = bw.Close()
	}
	if err != nil {
		_ = bw.Abort()
		return sealedCopy{}, err
	}
	if err := s.verify(ctx, c.key, aead, hdr, size, sum.Sum(nil)); err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), c.key)
		return sealedCopy{}, fmt.Errorf("new copy of file %d does not read back: %w", id, err)
	}
	return c, nil
}

// sealAll seals everything r yields into w, checking ctx between reads.
func sealAll(ctx context.Context, w io.Writer, aead cipher.AEAD, hdr []byte, r io.Reader) (int64, error) {
	sealed, err := newSealer(w, aead, hdr)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(sealed, ctxReader{ctx, r}, make([]byte, chunkSize))
	if err != nil {
		return n, err
	}
	return n, sealed.Close()
}

// verify reads blob key back through its own key and checks its length
// and the SHA-256 of its plaintext: every chunk authenticates, the last
// one included.
func (s *Service) verify(ctx context.Context, key string, aead cipher.AEAD, hdr []byte, size int64, want []byte) error {
	rc, err := s.blobs.Open(ctx, key)
	if err != nil {
		return err
	}
	op := newOpener(rc, aead, hdr)
	defer op.Close()
	sum := sha256.New()
	n, err := io.CopyBuffer(sum, ctxReader{ctx, op}, make([]byte, chunkSize))
	switch {
	case err != nil:
		return err
	case n != size || !bytes.Equal(sum.Sum(nil), want):
		return fmt.Errorf("%w: %d bytes read back, %d written", ErrCorrupt, n, size)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// orphanBatch is how many listed blobs one query checks against the rows.
const orphanBatch = 500

// removeOrphans deletes, among the workspace's blobs last written before
// cutoff, those an interrupted re-encryption left: a copy its file's row
// does not point at (the run stopped before the switch, or the file was
// erased meanwhile), and an old blob whose row points at a copy (the run
// stopped before deleting it). Blobs it cannot tie to re-encryption are
// left alone. It also removes blobs whose writing a crash cut short.
func (s *Service) removeOrphans(ctx context.Context, ws int64, cutoff time.Time) (int, error) {
	l, ok := s.blobs.(BlobLister)
	if !ok {
		return 0, nil
	}
	prefix := fmt.Sprintf("%d/", ws)
	removed, err := l.RemovePartial(ctx, prefix, cutoff)
	if err != nil {
		return removed, err
	}
	type candidate struct {
		key    string
		id     int64
		isCopy bool
	}
	var batch []candidate
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		args := []any{ws}
		marks := make([]string, len(batch))
		for i, c := range batch {
			args = append(args, c.id)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		rows, err := s.db.Read().QueryContext(ctx, `SELECT id, storage_key FROM attachments WHERE workspace_id = $1 AND id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return err
		}
		current := map[int64]string{}
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			current[id] = key
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range batch {
			cur, exists := current[c.id]
			if exists && cur != c.key && (c.isCopy || isCopyKey(cur)) || !exists && c.isCopy {
				if err := s.blobs.Delete(ctx, c.key); err != nil {
					return err
				}
				removed++
			}
		}
		batch = batch[:0]
		return nil
	}
	err = l.List(ctx, prefix, func(key string, written time.Time) error {
		if !written.Before(cutoff) {
			return nil
		}
		id, isCopy, ok := parseKey(ws, key)
		if !ok {
			return nil
		}
		batch = append(batch, candidate{key, id, isCopy})
		if len(batch) == orphanBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return removed, err
}

// parseKey returns the file id a blob key belongs to, and whether it names
// a re-encrypted copy (copyKey) rather than an upload (StorageKey).
func parseKey(ws int64, key string) (id int64, isCopy bool, ok bool) {
	name := key[strings.LastIndexByte(key, '/')+1:]
	idPart, _, isCopy := strings.Cut(name, "-k")
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil {
		return 0, false, false
	}
	base := StorageKey(ws, id)
	if key != base && !strings.HasPrefix(key, base+"-k") {
		return 0, false, false
	}
	return id, isCopy, true
}

func isCopyKey(key string) bool {
	return strings.Contains(key[strings.LastIndexByte(key, '/')+1:], "-k")
}
