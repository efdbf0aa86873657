package attachment_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

// filesEnv is a fixture workspace with one ticket to attach files to.
type filesEnv struct {
	a      *app.App
	f      *testutil.Fixture
	ticket int64
	dir    string // the workspace's blob directory
	sums   map[int64][32]byte
}

func newFilesEnv(t testing.TB, a *app.App) *filesEnv {
	t.Helper()
	f := testutil.NewFixture(t, a)
	tk, err := a.Tickets.Create(ctx, f.System(), ticket.NewTicket{Subject: "files", Body: "b", DepartmentID: f.Finance, CustomerID: f.Customer.ID})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(a.Attachments.Blobs().(attachment.LocalBlobs).Dir, fmt.Sprint(f.WS.ID))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &filesEnv{a: a, f: f, ticket: tk.Number, dir: dir, sums: map[int64][32]byte{}}
}

// content is a file of n bytes that types as plain data.
func content(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	copy(b, "hesar test file\n")
	return b[:n]
}

func (e *filesEnv) upload(t testing.TB, svc *attachment.Service, n int) attachment.Attachment {
	t.Helper()
	body := content(n)
	at, err := svc.Upload(ctx, e.f.System(), e.ticket, fmt.Sprintf("f%d.bin", n), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("upload %d bytes: %v", n, err)
	}
	e.sums[at.ID] = sha256.Sum256(body)
	return at
}

// download reads file id whole and checks it is what was uploaded.
func (e *filesEnv) download(id int64) error {
	_, rc, err := e.a.Attachments.Open(ctx, e.f.System(), id)
	if err != nil {
		return fmt.Errorf("open %d: %w", id, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("read %d: %w", id, err)
	}
	if [32]byte(h.Sum(nil)) != e.sums[id] {
		return fmt.Errorf("file %d changed", id)
	}
	return nil
}

func (e *filesEnv) downloadAll(t *testing.T) {
	t.Helper()
	for id := range e.sums {
		if err := e.download(id); err != nil {
			t.Error(err)
		}
	}
}

func (e *filesEnv) versions(t *testing.T) map[uint32]keyring.KeyVersion {
	t.Helper()
	st, err := e.a.Keys.Status(ctx, e.f.WS.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]keyring.KeyVersion{}
	for _, v := range st {
		if v.Purpose == "data" {
			out[v.Version] = v
		}
	}
	return out
}

// ageRotation makes the workspace's rotations look two minutes old, long
// enough for every instance to have noticed them, so RetireUnused may act.
func (e *filesEnv) ageRotation(t testing.TB) {
	t.Helper()
	exec(t, e.a, `UPDATE workspace_keys SET created_at = created_at - $1 WHERE workspace_id = $2`, int64(2*time.Minute/time.Microsecond), e.f.WS.ID)
}

func exec(t testing.TB, a *app.App, q string, args ...any) {
	t.Helper()
	err := a.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// blobFiles lists the workspace's blob files, partial ones included.
func (e *filesEnv) blobFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInterruptedFileReencryptionResumesWithEveryFileIntact rotates the
// data key, stops file re-encryption midway (with a crash's leftovers on
// disk) while files are being downloaded, then resumes: every file ends up
// under the new version and downloads byte for byte as uploaded, nothing
// is left on disk that no row points at, and the old version retires only
// once no file uses it.
func TestInterruptedFileReencryptionResumesWithEveryFileIntact(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newFilesEnv(t, a)
		// Chunk boundaries and a file of several megabytes.
		sizes := []int{1, 100, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 << 20, 200 << 10, 5000, 128 << 10, 77777, 1 << 20, 12}
		var files []attachment.Attachment
		for _, n := range sizes {
			files = append(files, e.upload(t, a.Attachments, n))
		}
		if v, err := a.Keys.Rotate(ctx, e.f.WS.ID); err != nil || v != 2 {
			t.Fatalf("rotate: %d %v", v, err)
		}

		// Downloads go on all through re-encryption.
		stop := make(chan struct{})
		var downloads atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := e.download(files[i%len(files)].ID); err != nil {
					t.Errorf("download during re-encryption: %v", err)
					return
				}
				downloads.Add(1)
			}
		}()

		cctx, cancel := context.WithCancel(ctx)
		res, err := a.Attachments.Reencrypt(cctx, e.f.WS.ID, attachment.ReencryptOpts{Progress: func(p attachment.ReencryptProgress) {
			if p.Files == 5 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) || res.Files != 5 || res.TotalFiles != int64(len(files)) {
			t.Fatalf("interrupted run: %+v %v", res, err)
		}
		mid := e.versions(t)
		if mid[1].Files != int64(len(files)-5) || mid[2].Files != 5 {
			t.Fatalf("after interruption: v1 %d files, v2 %d files", mid[1].Files, mid[2].Files)
		}
		// Values alone moving is not enough: files still hold version 1.
		if _, err := a.Keys.Reencrypt(ctx, e.f.WS.ID, nil); err != nil {
			t.Fatal(err)
		}
		e.ageRotation(t)
		if retired, err := a.Keys.RetireUnused(ctx, e.f.WS.ID); err != nil || len(retired) != 1 || retired[0].Purpose != "restricted" {
			t.Fatalf("retired %+v (%v) while files still use data version 1", retired, err)
		}

		// What a crash would leave: a copy written but never switched to,
		// and a copy cut short mid-write.
		stale := files[len(files)-1]
		w, err := a.Attachments.Blobs().Create(ctx, attachment.StorageKey(e.f.WS.ID, stale.ID)+"-k2-0badc0de")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("half a copy"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		partial := filepath.Join(e.dir, fmt.Sprintf("%02x", stale.ID&0xff), ".upload-crashed")
		if err := os.WriteFile(partial, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}

		res, err = a.Attachments.Reencrypt(ctx, e.f.WS.ID, attachment.ReencryptOpts{OrphanAge: time.Nanosecond})
		if err != nil || res.Files != int64(len(files)-5) || res.Orphans != 2 {
			t.Fatalf("resumed run: %+v %v", res, err)
		}
		close(stop)
		wg.Wait()
		if downloads.Load() == 0 {
			t.Fatal("no downloads happened during re-encryption")
		}
		after := e.versions(t)
		if after[1].Files != 0 || after[1].Values != 0 || after[2].Files != int64(len(files)) {
			t.Fatalf("after resuming: %+v", after)
		}
		if left := e.blobFiles(t); len(left) != len(files) {
			t.Errorf("%d blobs on disk for %d files: %v", len(left), len(files), left)
		}
		// A run with nothing to do moves nothing; it removes an old copy a
		// crash right after the switch would have left.
		w, err = a.Attachments.Blobs().Create(ctx, attachment.StorageKey(e.f.WS.ID, files[0].ID))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("old copy"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		res, err = a.Attachments.Reencrypt(ctx, e.f.WS.ID, attachment.ReencryptOpts{OrphanAge: time.Nanosecond})
		if err != nil || res.Files != 0 || res.TotalFiles != 0 || res.Orphans != 1 {
			t.Errorf("second run: %+v %v", res, err)
		}
		if left := e.blobFiles(t); len(left) != len(files) {
			t.Errorf("%d blobs on disk for %d files after the second run", len(left), len(files))
		}

		retired, err := a.Keys.RetireUnused(ctx, e.f.WS.ID)
		if err != nil || len(retired) != 1 || retired[0].Purpose != "data" || retired[0].Version != 1 {
			t.Fatalf("retired %+v (%v), want data version 1", retired, err)
		}
		e.downloadAll(t)
	})
}

// hookBlobs calls onClose after each blob it writes is committed, and
// onOpen before each blob is opened.
type hookBlobs struct {
	attachment.LocalBlobs
	onClose, onOpen func(key string)
}

func (h hookBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if h.onOpen != nil {
		h.onOpen(key)
	}
	return h.LocalBlobs.Open(ctx, key)
}

func (h hookBlobs) Create(ctx context.Context, key string) (attachment.BlobWriter, error) {
	w, err := h.LocalBlobs.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	if h.onClose == nil {
		return w, nil
	}
	return hookWriter{w, func() { h.onClose(key) }}, nil
}

type hookWriter struct {
	attachment.BlobWriter
	after func()
}

func (w hookWriter) Close() error {
	err := w.BlobWriter.Close()
	if err == nil {
		w.after()
	}
	return err
}

func withBlobs(a *app.App, onClose, onOpen func(key string)) *attachment.Service {
	local := a.Attachments.Blobs().(attachment.LocalBlobs)
	return attachment.New(attachment.Opts{DB: a.DB, Keys: a.Keys, Tickets: a.Tickets, Blobs: hookBlobs{local, onClose, onOpen}, Audit: a.Audit})
}

// TestDownloadOfAFileMovedMidOpenReadsTheNewCopy re-encrypts a file (and
// retires the old key) between a download reading the file's row and
// opening its blob: the download finds the file where it now is.
func TestDownloadOfAFileMovedMidOpenReadsTheNewCopy(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newFilesEnv(t, a)
		at := e.upload(t, a.Attachments, 150<<10)
		ws := e.f.WS.ID
		var once sync.Once
		svc := withBlobs(a, nil, func(string) {
			once.Do(func() {
				if _, err := a.Keys.Rotate(ctx, ws); err != nil {
					t.Error(err)
				}
				if _, err := a.Keys.Reencrypt(ctx, ws, nil); err != nil {
					t.Error(err)
				}
				if res, err := a.Attachments.Reencrypt(ctx, ws, attachment.ReencryptOpts{}); err != nil || res.Files != 1 {
					t.Errorf("re-encrypt: %+v %v", res, err)
				}
				e.ageRotation(t)
				if r, err := a.Keys.RetireUnused(ctx, ws); err != nil || len(r) != 2 {
					t.Errorf("retire: %+v %v", r, err)
				}
			})
		})
		_, rc, err := svc.Open(ctx, e.f.System(), at.ID)
		if err != nil {
			t.Fatalf("download of a moved file: %v", err)
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil || [32]byte(h.Sum(nil)) != e.sums[at.ID] {
			t.Errorf("moved file reads back wrong: %v", err)
		}
	})
}

// TestUploadRacingKeyRetirementIsStored lets a whole rotation, including
// the retirement of the version an upload was being sealed under, happen
// while the upload streams in: the upload still succeeds, under the new
// version, and downloads intact.
func TestUploadRacingKeyRetirementIsStored(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newFilesEnv(t, a)
		ws := e.f.WS.ID
		var once sync.Once
		var retired []keyring.KeyVersion
		svc := withBlobs(a, func(string) {
			once.Do(func() {
				if _, err := a.Keys.Rotate(ctx, ws); err != nil {
					t.Error(err)
				}
				if _, err := a.Keys.Reencrypt(ctx, ws, nil); err != nil {
					t.Error(err)
				}
				e.ageRotation(t)
				var err error
				if retired, err = a.Keys.RetireUnused(ctx, ws); err != nil {
					t.Error(err)
				}
			})
		}, nil)
		at := e.upload(t, svc, 300<<10)
		if len(retired) != 2 {
			t.Fatalf("the rotation during the upload retired %+v, want data and restricted version 1", retired)
		}
		if v := e.versions(t); v[2].Files != 1 || v[1].State != "retired" {
			t.Errorf("after the upload: %+v", v)
		}
		if err := e.download(at.ID); err != nil {
			t.Error(err)
		}
		if left := e.blobFiles(t); len(left) != 1 {
			t.Errorf("blobs on disk: %v", left)
		}
	})
}

// TestFileErasedDuringReencryptionStaysErased deletes a file's row while
// its copy is being written: the row is not brought back and the copy is
// removed.
func TestFileErasedDuringReencryptionStaysErased(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newFilesEnv(t, a)
		at := e.upload(t, a.Attachments, 100<<10)
		if _, err := a.Keys.Rotate(ctx, e.f.WS.ID); err != nil {
			t.Fatal(err)
		}
		svc := withBlobs(a, func(key string) {
			if strings.Contains(key, "-k") {
				exec(t, a, `DELETE FROM attachments WHERE id = $1`, at.ID)
			}
		}, nil)
		res, err := svc.Reencrypt(ctx, e.f.WS.ID, attachment.ReencryptOpts{})
		if err != nil || res.Skipped != 1 || res.Files != 0 {
			t.Fatalf("re-encrypt: %+v %v", res, err)
		}
		var n int
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE id = $1`, at.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("erased row is back: %d %v", n, err)
		}
		for _, p := range e.blobFiles(t) {
			if strings.Contains(filepath.Base(p), "-k") {
				t.Errorf("copy of an erased file left behind: %s", p)
			}
		}
	})
}

// BenchmarkReencrypt measures file re-encryption throughput, in bytes and
// in files per second: large files (16 of 4 MiB) and small ones (200 of
// 16 KiB, where the per-file writes and fsyncs dominate), moved to a new
// key version per iteration.
func BenchmarkReencrypt(b *testing.B) {
	for _, kind := range testutil.Kinds {
		for _, c := range []struct{ files, size int }{{16, 4 << 20}, {200, 16 << 10}} {
			b.Run(fmt.Sprintf("%s/%dx%dKiB", kind, c.files, c.size>>10), func(b *testing.B) {
				a := testutil.App(b, kind)
				e := newFilesEnv(b, a)
				for range c.files {
					e.upload(b, a.Attachments, c.size)
				}
				b.SetBytes(int64(c.files * c.size))
				for b.Loop() {
					if _, err := a.Keys.Rotate(ctx, e.f.WS.ID); err != nil {
						b.Fatal(err)
					}
					res, err := a.Attachments.Reencrypt(ctx, e.f.WS.ID, attachment.ReencryptOpts{})
					if err != nil || res.Files != int64(c.files) {
						b.Fatalf("%+v %v", res, err)
					}
				}
				b.ReportMetric(float64(c.files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
			})
		}
	}
}
