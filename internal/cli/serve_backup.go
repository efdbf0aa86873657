package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/backup"
)

// backupFlags configure scheduled backups taken by serve.
type backupFlags struct {
	dir, recipientsFile, passFile string
	interval                      time.Duration
	keep, keepDaily, keepWeekly   int
}

func (b *backupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.dir, "backup-dir", os.Getenv("HESAR_BACKUP_DIR"), "take scheduled encrypted backups into this directory (env HESAR_BACKUP_DIR); empty: no scheduled backups")
	fs.DurationVar(&b.interval, "backup-interval", 24*time.Hour, "time between scheduled backups")
	fs.StringVar(&b.recipientsFile, "backup-recipients-file", os.Getenv("HESAR_BACKUP_RECIPIENTS_FILE"), "age public keys (one a line) that can decrypt scheduled backups (env HESAR_BACKUP_RECIPIENTS_FILE)")
	fs.StringVar(&b.passFile, "backup-passphrase-file", os.Getenv("HESAR_BACKUP_PASSPHRASE_FILE"), "or: file with a passphrase to encrypt scheduled backups with (env HESAR_BACKUP_PASSPHRASE_FILE)")
	fs.IntVar(&b.keep, "backup-keep", 7, "keep this many most recent scheduled backups")
	fs.IntVar(&b.keepDaily, "backup-keep-daily", 7, "and the newest backup of each of this many last days")
	fs.IntVar(&b.keepWeekly, "backup-keep-weekly", 4, "and the newest backup of each of this many last weeks")
}

// start launches scheduled backups when configured and makes readiness
// fail while they are stale.
func (b *backupFlags) start(ctx context.Context, a *app.App, log *slog.Logger) error {
	if b.dir == "" {
		return nil
	}
	if b.interval < time.Minute {
		return fmt.Errorf("--backup-interval must be at least a minute")
	}
	rcpts, err := backupRecipients(nil, b.recipientsFile, b.passFile)
	if err != nil {
		return fmt.Errorf("scheduled backups: %w", err)
	}
	s := &backup.Schedule{DB: a.DB, Blobs: a.Attachments.Blobs(), Dir: b.dir, Interval: b.interval, Recipients: rcpts,
		Keep: b.keep, KeepDaily: b.keepDaily, KeepWeekly: b.keepWeekly, Version: app.Version, Log: log,
		OnRun: func(ctx context.Context, file string, size int64, runErr error) {
			recordBackup(ctx, a, log, file, size, runErr)
		}}
	a.AddReadinessCheck(func(ctx context.Context) error {
		if err := s.Stale(ctx); err != nil {
			return fmt.Errorf("backups: %w", err)
		}
		return nil
	})
	go s.Run(ctx)
	log.Info("scheduled backups on", "dir", b.dir, "interval", b.interval.String())
	return nil
}

// recordBackup writes a scheduled backup into every workspace's audit log:
// each workspace's data is in the archive.
func recordBackup(ctx context.Context, a *app.App, log *slog.Logger, file string, size int64, runErr error) {
	wss, err := a.Workspaces.List(ctx)
	if err != nil {
		log.Error("audit: cannot list workspaces to record a backup", "error", err.Error())
		return
	}
	result := audit.ResultOK
	if runErr != nil {
		result = audit.ResultFailed
	}
	for _, w := range wss {
		err := a.Audit.Write(ctx, audit.Entry{WorkspaceID: w.ID, ActorKind: audit.ActorSystem, Action: "backup.create", TargetKind: "workspace",
			TargetID: w.ID, Result: result, UserAgent: "hesar " + app.Version + " (scheduled backup)",
			Details: map[string]string{"file": filepath.Base(file), "bytes": strconv.FormatInt(size, 10)}})
		if err != nil {
			log.Error("audit: recording a backup failed", "workspace", w.Slug, "error", err.Error())
		}
	}
}
