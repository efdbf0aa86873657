package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/workspace"
)

// workspacesFor returns the workspace named by slug, or all when slug is "".
func workspacesFor(ctx context.Context, a *app.App, slug string) ([]workspace.Workspace, error) {
	if slug == "" {
		return a.Workspaces.List(ctx)
	}
	w, err := a.Workspaces.BySlug(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("no workspace with slug %q (see 'hesar workspace list')", slug)
	}
	return []workspace.Workspace{w}, nil
}

func keysStatus(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "keys status", "keys status [--workspace SLUG]", `Show each workspace's encryption key versions, their state (active: new
values are sealed with it; decrypt-only: older, still readable; retired: key
material deleted) and how many stored values and attachment files each one
seals.`)
	var st storageFlags
	st.register(fs)
	slug := fs.String("workspace", "", "only this workspace (default: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	wss, err := workspacesFor(ctx, a, *slug)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKSPACE\tPURPOSE\tVERSION\tSTATE\tVALUES\tFILES\tCREATED")
	for _, w := range wss {
		versions, err := a.Keys.Status(ctx, w.ID)
		if err != nil {
			return err
		}
		for _, v := range versions {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n", w.Slug, v.Purpose, v.Version, v.State, v.Values, v.Files, v.CreatedAt.Format("2006-01-02 15:04"))
		}
	}
	return tw.Flush()
}

func keysRotate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "keys rotate", "keys rotate --workspace SLUG [--resume] [--no-reencrypt]", `Rotate a workspace's data keys: new values are sealed under a new version
at once, then every stored value is re-encrypted under it in small batches,
and every attachment file one at a time, while Hesar keeps serving.
Interrupting is safe: run again with --resume to
continue without making another version. Old versions are retired (their
key material deleted) once nothing uses them and every instance has had
time to notice the rotation (about a minute); run with --resume later to
retire them if this run was too soon.`)
	var st storageFlags
	st.register(fs)
	slug := fs.String("workspace", "", "workspace slug (required; 'all' for every workspace)")
	resume := fs.Bool("resume", false, "do not make a new version: finish re-encrypting and retire unused versions")
	noReencrypt := fs.Bool("no-reencrypt", false, "only make the new version")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slug == "" {
		fmt.Fprintln(io.Err, "--workspace is required")
		fs.Usage()
		return errUsage
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	target := *slug
	if target == "all" {
		target = ""
	}
	wss, err := workspacesFor(ctx, a, target)
	if err != nil {
		return err
	}
	for _, w := range wss {
		if !*resume {
			v, err := a.Keys.Rotate(ctx, w.ID)
			if err != nil {
				return fmt.Errorf("rotate %s: %w", w.Slug, err)
			}
			fmt.Fprintf(io.Out, "%s: new values are now sealed under key version %d\n", w.Slug, v)
			if err := recordKeyOperation(ctx, a, w.ID, "keys.rotate", map[string]string{"version": strconv.FormatUint(uint64(v), 10)}); err != nil {
				return err
			}
		}
		if *noReencrypt {
			continue
		}
		n, err := a.Keys.Reencrypt(ctx, w.ID, func(p keyring.Progress) {
			fmt.Fprintf(io.Err, "\r%s: %s.%s scanned %d rows, re-encrypted %d values   ", w.Slug, p.Table, p.Column, p.Scanned, p.Rewritten)
		})
		fmt.Fprintln(io.Err)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted after re-encrypting %d values of %s; run 'hesar keys rotate --workspace %s --resume' to continue", n, w.Slug, w.Slug)
			}
			return err
		}
		fmt.Fprintf(io.Out, "%s: re-encrypted %d values\n", w.Slug, n)
		files, err := reencryptFiles(ctx, io, a, w)
		if err != nil {
			return err
		}
		err = recordKeyOperation(ctx, a, w.ID, "keys.reencrypt", map[string]string{"values": strconv.FormatInt(n, 10),
			"files": strconv.FormatInt(files.Files, 10), "file_bytes": strconv.FormatInt(files.Bytes, 10)})
		if err != nil {
			return err
		}
		retired, err := a.Keys.RetireUnused(ctx, w.ID)
		if err != nil {
			return err
		}
		for _, v := range retired {
			fmt.Fprintf(io.Out, "%s: retired %s key version %d\n", w.Slug, v.Purpose, v.Version)
		}
		if len(retired) == 0 {
			fmt.Fprintf(io.Out, "%s: old versions stay decrypt-only for now; run again with --resume in a minute to retire them\n", w.Slug)
		}
	}
	return nil
}

// reencryptFiles moves the workspace's attachment files to the active key
// version, with progress on stderr.
func reencryptFiles(ctx context.Context, io Stdio, a *app.App, w workspace.Workspace) (attachment.ReencryptResult, error) {
	const mb = 1 << 20
	started := time.Now()
	res, err := a.Attachments.Reencrypt(ctx, w.ID, attachment.ReencryptOpts{Progress: func(p attachment.ReencryptProgress) {
		fmt.Fprintf(io.Err, "\r%s: files re-encrypted %d of %d (%.1f of %.1f MB)   ", w.Slug, p.Files, p.TotalFiles,
			float64(p.Bytes)/mb, float64(p.TotalBytes)/mb)
	}})
	if res.TotalFiles > 0 {
		fmt.Fprintln(io.Err)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return res, fmt.Errorf("interrupted after re-encrypting %d files of %s; run 'hesar keys rotate --workspace %s --resume' to continue", res.Files, w.Slug, w.Slug)
		}
		return res, err
	}
	fmt.Fprintf(io.Out, "%s: re-encrypted %d files (%.1f MB in %s)\n", w.Slug, res.Files, float64(res.Bytes)/mb, time.Since(started).Round(time.Millisecond))
	if res.Orphans > 0 {
		fmt.Fprintf(io.Out, "%s: removed %d leftovers of an interrupted run\n", w.Slug, res.Orphans)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(io.Out, "%s: %d files were deleted while being re-encrypted\n", w.Slug, res.Skipped)
	}
	if res.Missing > 0 {
		fmt.Fprintf(io.Err, "%s: %d files have no content in storage and keep their old key version, which therefore cannot be retired\n", w.Slug, res.Missing)
	}
	return res, nil
}

func keysRotateMaster(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "keys rotate-master", "keys rotate-master --new-key-file PATH", `Re-wrap every workspace key under a new master key. The new key is read
from --new-key-file, or generated there (mode 0600) when the file does not
exist. Afterwards start every Hesar instance with the new key
(HESAR_MASTER_KEY_FILE=PATH). Keep the old key as long as you keep backups
made before: they need it.`)
	var st storageFlags
	st.register(fs)
	newFile := fs.String("new-key-file", "", "path of the new master key (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *newFile == "" {
		fmt.Fprintln(io.Err, "--new-key-file is required")
		fs.Usage()
		return errUsage
	}
	cfg := st.config()
	if *newFile == cfg.KeyFile() {
		return errors.New("--new-key-file must differ from the current key file")
	}
	newKey, src, err := keyring.LoadMaster(*newFile, "")
	if err != nil {
		return err
	}
	a, err := st.open(ctx, io)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Keys.RotateMaster(ctx, newKey)
	if err != nil {
		if src.Created {
			os.Remove(*newFile)
		}
		return err
	}
	fmt.Fprintf(io.Out, "re-wrapped %d keys under the master key in %s\n", n, *newFile)
	wss, err := a.Workspaces.List(ctx)
	if err != nil {
		return err
	}
	for _, w := range wss {
		if err := recordKeyOperation(ctx, a, w.ID, "keys.rotate_master", map[string]string{"keys": strconv.Itoa(n)}); err != nil {
			return err
		}
	}
	fmt.Fprintf(io.Err, "now restart every instance with HESAR_MASTER_KEY_FILE=%s; keep the old key for older backups\n", *newFile)
	return nil
}

// recordKeyOperation puts an operator's key operation in the workspace's
// audit log, as done by the system from the machine's command line.
func recordKeyOperation(ctx context.Context, a *app.App, ws int64, action string, details map[string]string) error {
	err := a.Audit.Write(ctx, operatorEntry(ws, action, audit.ResultOK, details))
	if err != nil {
		return fmt.Errorf("record %s in the audit log: %w", action, err)
	}
	return nil
}
