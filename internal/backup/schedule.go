package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
)

// Schedule takes backups from `serve` at an interval into a directory and
// prunes old ones.
type Schedule struct {
	DB         *db.DB
	Blobs      attachment.Blobs
	Dir        string
	Interval   time.Duration
	Recipients []age.Recipient
	// Retention: the Keep most recent archives, plus the newest of each of
	// the last KeepDaily days and KeepWeekly ISO weeks.
	Keep, KeepDaily, KeepWeekly int
	Version                     string
	Log                         *slog.Logger
	// OnRun, when set, hears of every run after it is recorded (serve
	// writes it to each workspace's audit log).
	OnRun func(ctx context.Context, file string, bytes int64, err error)
}

const archivePrefix, archiveSuffix = "hesar-", ".age"

// Run takes a backup whenever the last one (by any instance sharing the
// database) is older than the interval, until ctx ends.
func (s *Schedule) Run(ctx context.Context) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.due(ctx) {
			if err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("scheduled backup failed", "error", err.Error())
			}
		}
		t.Reset(min(s.Interval/10+time.Second, time.Minute))
	}
}

// due reports whether the last run started an interval ago or more.
func (s *Schedule) due(ctx context.Context) bool {
	var last int64
	err := s.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(started_at), 0) FROM backup_runs`).Scan(&last)
	return err == nil && time.Since(db.Time(last)) >= s.Interval
}

// RunOnce takes one backup now, records the run, and prunes old archives.
func (s *Schedule) RunOnce(ctx context.Context) error {
	started := time.Now().UTC()
	name := archivePrefix + started.Format("20060102T150405Z") + archiveSuffix
	path := filepath.Join(s.Dir, name)
	size, runErr := s.write(ctx, path)
	if err := s.record(ctx, started, name, size, runErr); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	s.Log.Info("backup taken", "file", name, "bytes", size, "seconds", time.Since(started).Seconds())
	return s.prune(time.Now())
}

func (s *Schedule) write(ctx context.Context, path string) (int64, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(s.Dir, ".partial-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, err
	}
	if _, err := Create(ctx, s.DB, s.Blobs, tmp, CreateOptions{Recipients: s.Recipients, HesarVersion: s.Version}); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return fi.Size(), os.Rename(tmp.Name(), path)
}

func (s *Schedule) record(ctx context.Context, started time.Time, name string, size int64, runErr error) error {
	id, err := s.DB.IDs().Next(ctx)
	if err != nil {
		return err
	}
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	err = s.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO backup_runs (id, started_at, finished_at, ok, file, bytes, error) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, started.UnixMicro(), db.Now(), db.Bool(runErr == nil), name, size, msg)
		return err
	})
	if err == nil && s.OnRun != nil {
		s.OnRun(ctx, name, size, runErr)
	}
	return err
}

// Stale reports an error when backups are on but the last good one is
// older than twice the interval (or there is none after that long): the
// readiness check shows it, so a silently failing backup is noticed.
func (s *Schedule) Stale(ctx context.Context) error {
	var last, first int64
	if err := s.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(started_at), 0) FROM backup_runs WHERE ok = 1`).Scan(&last); err != nil {
		return err
	}
	if err := s.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(MIN(started_at), 0) FROM backup_runs`).Scan(&first); err != nil {
		return err
	}
	if last == 0 && first != 0 && time.Since(db.Time(first)) > 2*s.Interval {
		return fmt.Errorf("no successful backup since backups began %s ago", time.Since(db.Time(first)).Round(time.Minute))
	}
	if last != 0 && time.Since(db.Time(last)) > 2*s.Interval {
		return fmt.Errorf("last successful backup is %s old", time.Since(db.Time(last)).Round(time.Minute))
	}
	return nil
}

// prune deletes archives beyond the retention policy.
func (s *Schedule) prune(now time.Time) error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	type archive struct {
		name string
		at   time.Time
	}
	var all []archive
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, archivePrefix) || !strings.HasSuffix(n, archiveSuffix) {
			continue
		}
		at, err := time.Parse("20060102T150405Z", strings.TrimSuffix(strings.TrimPrefix(n, archivePrefix), archiveSuffix))
		if err == nil {
			all = append(all, archive{n, at})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.After(all[j].at) }) // newest first
	keep := map[string]bool{}
	days, weeks := map[string]bool{}, map[string]bool{}
	for i, a := range all {
		if i < s.Keep {
			keep[a.name] = true
		}
		day := a.at.Format("2006-01-02")
		if now.Sub(a.at) < time.Duration(s.KeepDaily)*24*time.Hour && !days[day] {
			days[day], keep[a.name] = true, true
		}
		y, w := a.at.ISOWeek()
		week := fmt.Sprintf("%d-%d", y, w)
		if now.Sub(a.at) < time.Duration(s.KeepWeekly)*7*24*time.Hour && !weeks[week] {
			weeks[week], keep[a.name] = true, true
		}
	}
	for _, a := range all {
		if !keep[a.name] {
			if err := os.Remove(filepath.Join(s.Dir, a.name)); err != nil {
				return err
			}
		}
	}
	return nil
}
