package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

// TestAuditFromTheCommandLine: records made by the server verify, export
// and ship from the command line; a tampered row makes verify fail with it.
func TestAuditFromTheCommandLine(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, _ := testutil.NewDatabase(t, kind)
			data := t.TempDir()
			with := func(args ...string) []string { return append(args, "--data", data, "--database-url", url) }
			if code, out, errOut := run(t, "", with("workspace", "create", "--slug", "acme", "--name", "Acme")...); code != 0 {
				t.Fatalf("workspace create: %d %s %s", code, out, errOut)
			}

			ctx := context.Background()
			a, err := app.Open(ctx, app.Config{DataDir: data, DatabaseURL: url}, nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			w, err := a.Workspaces.BySlug(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			l := audit.New(a.DB, a.Keys, audit.Options{})
			for i, action := range []string{"ticket.view", "ticket.view", "customer.export"} {
				err := l.Write(ctx, audit.Entry{WorkspaceID: w.ID, ActorKind: audit.ActorUser, ActorID: 5, Action: action,
					TargetKind: "ticket", TargetID: int64(i + 1), Result: audit.ResultOK, IP: "192.0.2.10", UserAgent: "=cmd()"})
				if err != nil {
					t.Fatal(err)
				}
			}

			code, out, errOut := run(t, "", with("audit", "verify")...)
			if code != 0 || !strings.Contains(out, "acme: OK: 3 records") {
				t.Fatalf("verify: %d %s %s", code, out, errOut)
			}
			code, out, errOut = run(t, "", with("audit", "export", "--workspace", "acme", "--format", "csv", "--action", "ticket.", "--since", "1h")...)
			if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "192.0.2.10") || !strings.Contains(out, "'=cmd()") {
				t.Fatalf("export csv: %d %s %s", code, out, errOut)
			}
			code, out, errOut = run(t, "", with("audit", "ship", "--workspace", "acme", "--once", "--from-seq", "2")...)
			if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "--from-seq 4") {
				t.Fatalf("ship: %d %s %s", code, out, errOut)
			}
			var rec audit.Record
			if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &rec); err != nil || rec.Seq != 2 {
				t.Errorf("shipped %+v %v", rec, err)
			}

			err = a.DB.Write(ctx, func(tx *db.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE audit_log SET target_id = 99 WHERE workspace_id = $1 AND seq = 2`, w.ID)
				return err
			})
			a.Close()
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut = run(t, "", with("audit", "verify", "--workspace", "acme")...)
			if code != 1 || !strings.Contains(out, "BROKEN: edited at seq 2") || !strings.Contains(errOut, "broken") {
				t.Errorf("verify after tampering: %d %s %s", code, out, errOut)
			}
		})
	}
}

func TestAuditCommandsExplainThemselves(t *testing.T) {
	for _, sub := range []string{"verify", "export", "ship", "prune"} {
		code, _, errOut := run(t, "", "audit", sub, "--help")
		if code != 0 || !strings.Contains(errOut, "Usage: hesar audit "+sub) || !strings.Contains(errOut, "-database-url") {
			t.Errorf("audit %s --help: %d %s", sub, code, errOut)
		}
	}
	if code, _, errOut := run(t, "", "audit"); code != 2 || !strings.Contains(errOut, "verify") {
		t.Errorf("bare audit: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "", "audit", "export"); code != 2 || !strings.Contains(errOut, "--workspace is required") {
		t.Errorf("export without workspace: %d %s", code, errOut)
	}
}
