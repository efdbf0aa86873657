package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/workspace"
)

// Actions the backup commands record in every workspace's audit log: an
// archive holds every workspace's data, so each log shows it was copied
// out or put back. A scheduled backup (serve) records backup.create too.
const (
	actionBackupCreate  = "backup.create"
	actionBackupRestore = "backup.restore"
)

// operatorEntry is the audit record of something an operator did from
// the machine's command line: done by the system, to the workspace.
func operatorEntry(ws int64, action, result string, details map[string]string) audit.Entry {
	return audit.Entry{WorkspaceID: ws, ActorKind: audit.ActorSystem, Action: action, TargetKind: "workspace", TargetID: ws,
		Result: result, UserAgent: "hesar " + app.Version + " (command line)", Details: details}
}

// archiveDetails are what an audit record says about an archive: its file
// name (not the directory), size and contents by count. Never a key, a
// passphrase or a recipient.
func archiveDetails(file string, size int64, m *backup.Manifest) map[string]string {
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	return map[string]string{
		"file": filepath.Base(file), "bytes": strconv.FormatInt(size, 10),
		"tables": strconv.Itoa(len(m.Tables)), "rows": strconv.FormatInt(rows, 10),
		"attachment_files": strconv.FormatInt(m.Blobs.Count, 10), "attachment_bytes": strconv.FormatInt(m.Blobs.Bytes, 10),
		"schema_version": strconv.Itoa(m.SchemaVersion), "master_key_included": strconv.FormatBool(m.MasterKey != nil),
	}
}

// recordBackupOperation writes action into the audit log of every
// workspace in d. The audit log seals its records under each workspace's
// keys, which only the master key opens: without a master key that opens
// d (a backup taken from a machine that is not given the key, a restore
// before the source's key is in place) nothing can be recorded, and the
// operator is told so plainly rather than the command failing after its
// work is done.
func recordBackupOperation(ctx context.Context, io Stdio, cfg app.Config, d *db.DB, action, result string, details map[string]string) error {
	notRecorded := func(why string) error {
		fmt.Fprintf(io.Err, "WARNING: %s is not recorded in the audit log: %s\n", action, why)
		return nil
	}
	if !haveMasterKey(cfg) {
		return notRecorded("no master key at " + cfg.KeyFile())
	}
	key, _, err := keyring.LoadMaster(cfg.KeyFile(), cfg.MasterKey)
	if err != nil {
		return notRecorded(err.Error())
	}
	keys, err := keyring.Open(ctx, d, key)
	if err != nil {
		return notRecorded(err.Error())
	}
	wss, err := workspace.New(workspace.Opts{DB: d, Keys: keys}).List(ctx)
	if err != nil {
		return fmt.Errorf("record %s in the audit log: %w", action, err)
	}
	l := audit.New(d, keys, audit.Options{Logger: slog.New(slog.DiscardHandler)})
	for _, w := range wss {
		if err := l.Write(ctx, operatorEntry(w.ID, action, result, details)); err != nil {
			return fmt.Errorf("record %s in the audit log of %s: %w", action, w.Slug, err)
		}
	}
	if len(wss) > 0 {
		fmt.Fprintf(io.Err, "recorded %s in the audit log of %d workspaces\n", action, len(wss))
	}
	return nil
}

// restoreDetails are archiveDetails and where the archive came from.
func restoreDetails(file string, size int64, m *backup.Manifest, force bool) map[string]string {
	d := archiveDetails(file, size, m)
	d["source_dialect"] = m.SourceDialect
	d["taken_at"] = db.Time(m.CreatedAt).UTC().Format(time.RFC3339)
	d["taken_by_version"] = m.HesarVersion
	d["force"] = strconv.FormatBool(force)
	return d
}
