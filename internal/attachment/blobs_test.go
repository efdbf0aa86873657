package attachment

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalBlobs(t *testing.T) {
	ctx := context.Background()
	b := LocalBlobs{Dir: filepath.Join(t.TempDir(), "blobs")}
	key := StorageKey(7, 1025)
	if key != "7/01/1025" {
		t.Fatalf("StorageKey = %q", key)
	}
	w, err := b.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("sealed"))
	if _, err := b.Open(ctx, key); err == nil {
		t.Fatal("blob visible before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path, _ := b.Path(key)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", fi.Mode(), err)
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v", di.Mode())
	}
	rc, err := b.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "sealed" {
		t.Fatalf("read back %q", got)
	}

	// An aborted blob leaves nothing behind, not even its temporary file.
	w, _ = b.Create(ctx, "7/02/1026")
	_, _ = w.Write([]byte("partial"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(b.Dir, "7", "02"))
	if len(entries) != 0 {
		t.Fatalf("abort left %v", entries)
	}

	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
	for _, bad := range []string{"../x", "7/../../etc/passwd", "/etc/passwd", "7//1", "a.b", "", "7/01/1025\x00", `7\01`} {
		if _, err := b.Create(ctx, bad); err == nil {
			t.Errorf("Create(%q) accepted", bad)
		}
	}
	if _, err := (LocalBlobs{}).Create(ctx, key); err == nil {
		t.Error("a store without a directory accepted a blob")
	}
}
