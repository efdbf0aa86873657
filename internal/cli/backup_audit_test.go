package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/testutil"
)

// TestBackupAndRestoreAreInEveryWorkspacesAuditLog: a backup taken from
// the command line is recorded in each workspace's log of the source, a
// restore in each workspace's log of the restored database (where the
// restored logs are), by the system from the command line, with the
// archive's name, size and counts and nothing secret; both chains still
// verify. A restore without the master key says it was not recorded.
func TestBackupAndRestoreAreInEveryWorkspacesAuditLog(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, _ := testutil.NewDatabase(t, kind)
			src := []string{"--data", t.TempDir(), "--database-url", url}
			for _, slug := range []string{"acme", "beta"} {
				if code, _, errOut := run(t, "", append([]string{"workspace", "create", "--slug", slug, "--name", slug}, src...)...); code != 0 {
					t.Fatal(errOut)
				}
			}
			dir := t.TempDir()
			pass := filepath.Join(dir, "pass")
			os.WriteFile(pass, []byte("archive passphrase\n"), 0o600)
			archive := filepath.Join(dir, "nightly.age")
			code, out, errOut := run(t, "", append([]string{"backup", "create", "--out", archive, "--passphrase-file", pass}, src...)...)
			if code != 0 || !strings.Contains(errOut, "recorded backup.create in the audit log of 2 workspaces") {
				t.Fatalf("backup create: %d\n%s%s", code, out, errOut)
			}
			fi, err := os.Stat(archive)
			if err != nil {
				t.Fatal(err)
			}
			checkRecorded(t, src, "backup.create", map[string]string{"file": "nightly.age", "bytes": strconv.FormatInt(fi.Size(), 10),
				"master_key_included": "false"})

			// Restore into a new database of the same kind, with the
			// source's master key in place.
			turl, _ := testutil.NewDatabase(t, kind)
			tdata := t.TempDir()
			key, err := os.ReadFile(filepath.Join(src[1], "master.key"))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(tdata, "master.key"), key, 0o600)
			target := []string{"--data", tdata, "--database-url", turl}
			code, out, errOut = run(t, "", append([]string{"backup", "restore", "--in", archive, "--passphrase-file", pass}, target...)...)
			if code != 0 || !strings.Contains(errOut, "recorded backup.restore in the audit log of 2 workspaces") {
				t.Fatalf("backup restore: %d\n%s%s", code, out, errOut)
			}
			checkRecorded(t, target, "backup.restore", map[string]string{"file": "nightly.age", "bytes": strconv.FormatInt(fi.Size(), 10),
				"source_dialect": map[string]string{"sqlite": "sqlite", "postgres": "postgres"}[kind], "force": "false"})

			// No key on the target: the restore goes ahead and says what
			// it could not record.
			burl, _ := testutil.NewDatabase(t, kind)
			bare := []string{"--data", t.TempDir(), "--database-url", burl}
			code, out, errOut = run(t, "", append([]string{"backup", "restore", "--in", archive, "--passphrase-file", pass}, bare...)...)
			if code != 0 || !strings.Contains(errOut, "backup.restore is not recorded in the audit log: no master key") {
				t.Errorf("restore without a key: %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// checkRecorded finds exactly one action record in each workspace of the
// instance given by flags, with the details want among its details and no
// secret in them, then runs 'hesar audit verify' over it.
func checkRecorded(t *testing.T, flags []string, action string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: flags[1], DatabaseURL: flags[3]}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer a.Close()
		checkRecords(t, a, flags[1], action, want)
	}()
	if code, out, errOut := run(t, "", append([]string{"audit", "verify"}, flags...)...); code != 0 || strings.Count(out, ": OK:") != 2 {
		t.Errorf("audit verify after %s: %d\n%s%s", action, code, out, errOut)
	}
}

func checkRecords(t *testing.T, a *app.App, data, action string, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Audit.SealPending(ctx); err != nil {
		t.Fatal(err)
	}
	wss, err := a.Workspaces.List(ctx)
	if err != nil || len(wss) != 2 {
		t.Fatalf("workspaces: %v %v", wss, err)
	}
	key, _ := os.ReadFile(filepath.Join(data, "master.key"))
	for _, w := range wss {
		recs, err := a.Audit.List(ctx, w.ID, audit.Filter{Action: action})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d %s records, want 1 (%v)", w.Slug, len(recs), action, err)
		}
		r := recs[0]
		if r.ActorKind != audit.ActorSystem || r.Result != audit.ResultOK || r.TargetKind != "workspace" || r.TargetID != w.ID ||
			!strings.Contains(r.UserAgent, "command line") {
			t.Errorf("%s: %+v", w.Slug, r.Entry)
		}
		for k, v := range want {
			if r.Details[k] != v {
				t.Errorf("%s: %s = %q, want %q (all %v)", w.Slug, k, r.Details[k], v, r.Details)
			}
		}
		if n, err := strconv.Atoi(r.Details["rows"]); err != nil || n == 0 || r.Details["tables"] == "" || r.Details["schema_version"] == "" {
			t.Errorf("%s: counts %v", w.Slug, r.Details)
		}
		for k, v := range r.Details {
			if strings.Contains(v, "passphrase") || strings.Contains(v, strings.TrimSpace(string(key))) || strings.Contains(v, string(os.PathSeparator)) {
				t.Errorf("%s: detail %s = %q", w.Slug, k, v)
			}
		}
	}
}
