package backup_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/testutil"
)

// TestScheduledBackupsAreRecordedPrunedAndWatched takes scheduled backups
// into a directory: each run is recorded, archives are 0600 and decrypt,
// retention prunes, and a schedule whose last good run is too old reports
// itself stale (the readiness check shows that).
func TestScheduledBackupsAreRecordedPrunedAndWatched(t *testing.T) {
	a := testutil.App(t, "sqlite")
	testutil.NewFixture(t, a)
	id, rcpts := x25519(t)
	dir := t.TempDir()
	goodRuns := 0
	s := &backup.Schedule{DB: a.DB, Blobs: a.Attachments.Blobs(), Dir: dir, Interval: time.Hour,
		Recipients: rcpts, Keep: 2, Log: slog.New(slog.DiscardHandler),
		OnRun: func(_ context.Context, file string, size int64, err error) {
			if err == nil && file != "" && size > 0 {
				goodRuns++
			}
		}}
	if err := s.Stale(ctx); err != nil {
		t.Errorf("stale before any run: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // archive names have one-second resolution
	}
	if goodRuns != 3 {
		t.Errorf("OnRun heard of %d good runs, want 3", goodRuns)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", e.Name(), fi.Mode().Perm())
		}
	}
	if len(names) != 2 {
		t.Fatalf("after 3 runs with keep=2: %v", names)
	}
	archive, err := os.ReadFile(filepath.Join(dir, names[len(names)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Verify(ctx, bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(id)}); err != nil {
		t.Errorf("scheduled archive does not verify: %v", err)
	}
	var runs int
	if err := a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM backup_runs WHERE ok = 1`).Scan(&runs); err != nil || runs < 3 {
		t.Errorf("recorded runs: %d %v", runs, err)
	}
	if err := s.Stale(ctx); err != nil {
		t.Errorf("fresh backups reported stale: %v", err)
	}
	// A schedule of one millisecond makes the last good run long ago.
	s.Interval = time.Millisecond
	time.Sleep(5 * time.Millisecond)
	if err := s.Stale(ctx); err == nil || !strings.Contains(err.Error(), "old") {
		t.Errorf("stale backups not reported: %v", err)
	}
}
