package attachment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Blobs stores sealed attachment content under keys Hesar generates
// ("<workspace>/<xx>/<id>", see StorageKey); a key never comes from user
// input. The local disk is the default; an S3-compatible store can
// implement the same interface (a multipart upload completed on Close and
// aborted on Abort).
type Blobs interface {
	// Create starts writing the blob key. Nothing is visible under key
	// until Close succeeds; Abort throws the partial blob away.
	Create(ctx context.Context, key string) (BlobWriter, error)
	// Open reads the blob key. The reader may also implement io.ReaderAt
	// (the local store does), which lets uploads inspect zip containers.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob key; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}

// BlobWriter is a blob being written. Close commits it atomically and
// durably; Abort (also safe after a failed Close) discards it.
type BlobWriter interface {
	io.WriteCloser
	Abort() error
}

// BlobLister is implemented by stores that can enumerate what they hold
// (LocalBlobs does). Re-encryption uses it to remove what an interrupted
// run left behind; with a store that does not implement it, such leftovers
// stay (they cannot be read: the salt that derives their key is only ever
// stored in the row that would point at them).
type BlobLister interface {
	// List calls fn with the key and last write time of every committed
	// blob whose key starts with prefix ("<workspace>/").
	List(ctx context.Context, prefix string, fn func(key string, written time.Time) error) error
	// RemovePartial removes blobs under prefix that were begun but neither
	// committed nor aborted (a crash mid-write) and last written before
	// cutoff, and returns how many.
	RemovePartial(ctx context.Context, prefix string, cutoff time.Time) (int, error)
}

// ErrBlobMissing means a blob the database points at is not in the store.
var ErrBlobMissing = errors.New("attachment content is missing from storage")

// StorageKey is where attachment id of workspace ws is stored. The middle
// part spreads a workspace's files over 256 directories.
func StorageKey(ws, id int64) string {
	return fmt.Sprintf("%d/%02x/%d", ws, id&0xff, id)
}

// LocalBlobs keeps blobs as files under Dir: directories 0700, files 0600,
// written to a temporary file in the target directory, fsynced and renamed
// into place so a crash never leaves a half-written blob under its key.
type LocalBlobs struct {
	Dir string
}

// validKey accepts only the keys StorageKey makes (and the like): relative,
// slash-separated segments of [0-9a-z_-], so no key can climb out of Dir.
func validKey(key string) bool {
	if key == "" {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || len(seg) > 64 {
			return false
		}
		for _, c := range seg {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Path returns the file that holds key.
func (b LocalBlobs) Path(key string) (string, error) {
	if b.Dir == "" {
		return "", errors.New("attachment storage directory is not configured")
	}
	if !validKey(key) {
		return "", fmt.Errorf("invalid storage key %q", key)
	}
	return filepath.Join(b.Dir, filepath.FromSlash(key)), nil
}

// Create implements Blobs.
func (b LocalBlobs) Create(ctx context.Context, key string) (BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := b.Path(key)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("attachment storage: %w", err)
	}
	// CreateTemp opens with O_EXCL and mode 0600.
	f, err := os.CreateTemp(dir, partialPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("attachment storage: %w", err)
	}
	return &localWriter{f: f, path: path, dir: dir}, nil
}

type localWriter struct {
	f    *os.File
	path string
	dir  string
	done bool
}

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *localWriter) Close() error {
	if w.done {
		return errors.New("blob already closed")
	}
	w.done = true
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		_ = os.Remove(w.f.Name())
		return fmt.Errorf("attachment storage: commit: %w", err)
	}
	// The rename is durable only once the directory is synced.
	if d, err := os.Open(w.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("attachment storage: sync directory: %w", err)
		}
	}
	return nil
}

func (w *localWriter) Abort() error {
	if !w.done {
		w.done = true
		w.f.Close()
	}
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Open implements Blobs. The *os.File it returns is also an io.ReaderAt.
func (b LocalBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := b.Path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrBlobMissing, key)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Delete implements Blobs.
func (b LocalBlobs) Delete(ctx context.Context, key string) error {
	path, err := b.Path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// partialPrefix starts the name of a blob being written (see Create).
const partialPrefix = ".upload-"

// walk calls fn for every regular file under the directory of prefix.
func (b LocalBlobs) walk(ctx context.Context, prefix string, fn func(path string, d fs.DirEntry) error) error {
	root, err := b.Path(strings.TrimSuffix(prefix, "/"))
	if err != nil {
		return err
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return fn(path, d)
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing stored yet
	}
	return err
}

// List implements BlobLister.
func (b LocalBlobs) List(ctx context.Context, prefix string, fn func(key string, written time.Time) error) error {
	return b.walk(ctx, prefix, func(path string, d fs.DirEntry) error {
		if strings.HasPrefix(d.Name(), partialPrefix) {
			return nil
		}
		rel, err := filepath.Rel(b.Dir, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !validKey(key) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		return fn(key, fi.ModTime())
	})
}

// RemovePartial implements BlobLister.
func (b LocalBlobs) RemovePartial(ctx context.Context, prefix string, cutoff time.Time) (int, error) {
	n := 0
	err := b.walk(ctx, prefix, func(path string, d fs.DirEntry) error {
		if !strings.HasPrefix(d.Name(), partialPrefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			return nil // gone meanwhile, or still being written
		}
		if err := os.Remove(path); err == nil {
			n++
		}
		return nil
	})
	return n, err
}
