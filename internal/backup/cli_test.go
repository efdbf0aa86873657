package backup_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/cli"
)

// hesar runs the command line as an operator would.
func hesar(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(ctx, args, cli.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestBackupCommands follows docs/BACKUP.md: back up a running SQLite
// instance with a passphrase, verify, restore into PostgreSQL together
// with the archived master key, then read a ticket through the restored
// instance.
func TestBackupCommands(t *testing.T) {
	p := populate(t, "sqlite")
	keyFile := filepath.Join(p.cfg.DataDir, "master.key")
	if err := os.WriteFile(keyFile, []byte(p.cfg.MasterKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HESAR_MASTER_KEY", "")
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	keyPass := filepath.Join(dir, "keypass")
	os.WriteFile(pass, []byte("archive passphrase\n"), 0o600)
	os.WriteFile(keyPass, []byte("master key passphrase\n"), 0o600)
	archive := filepath.Join(dir, "hesar.backup")

	for _, cmd := range []string{"backup create", "backup restore", "backup verify"} {
		if code, _, errOut := hesar(t, append(strings.Fields(cmd), "--help")...); code != 0 || !strings.Contains(errOut, "Usage: hesar "+cmd) {
			t.Errorf("%s --help: %d %s", cmd, code, errOut)
		}
	}
	if code, _, errOut := hesar(t, "backup", "create", "--data", p.cfg.DataDir, "--out", archive); code != 2 || !strings.Contains(errOut, "--passphrase-file") {
		t.Errorf("create without a key: %d %s", code, errOut)
	}
	code, out, errOut := hesar(t, "backup", "create", "--data", p.cfg.DataDir, "--out", archive, "--passphrase-file", pass,
		"--include-master-key", "--master-key-passphrase-file", keyPass)
	if code != 0 {
		t.Fatalf("backup create: %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "tables: tickets") || !strings.Contains(out, "master key included") {
		t.Errorf("create output:\n%s%s", out, errOut)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive mode: %v %v", fi.Mode(), err)
	}
	if code, _, errOut := hesar(t, "backup", "create", "--data", p.cfg.DataDir, "--out", archive, "--passphrase-file", pass); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("create over an existing file: %d %s", code, errOut)
	}
	if code, out, errOut := hesar(t, "backup", "verify", "--in", archive, "--passphrase-file", pass); code != 0 || !strings.Contains(out, "is good") {
		t.Errorf("verify: %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := hesar(t, "backup", "verify", "--in", archive, "--passphrase-file", keyPass); code != 1 || !strings.Contains(errOut, "wrong key or passphrase") {
		t.Errorf("verify with the wrong passphrase: %d %s", code, errOut)
	}

	target := newConfig(t, "postgres", "")
	code, out, errOut = hesar(t, "backup", "restore", "--in", archive, "--passphrase-file", pass, "--data", target.DataDir,
		"--database-url", target.DatabaseURL, "--master-key-passphrase-file", keyPass)
	if code != 0 || !strings.Contains(out, "opens the restored data") {
		t.Fatalf("restore: %d\n%s%s", code, out, errOut)
	}
	b := openApp(t, target) // master key from the file restore wrote
	sameTicket(t, readTicket(t, p.app, p.fx.WS.ID, p.numbers[0]), readTicket(t, b, p.fx.WS.ID, p.numbers[0]))
}

// TestRecipientsFromFlagsAndFiles: X25519 recipients on the command line
// and in a file, identities from a file.
func TestRecipientsFromFlagsAndFiles(t *testing.T) {
	p := populate(t, "sqlite")
	t.Setenv("HESAR_MASTER_KEY", p.cfg.MasterKey)
	dir := t.TempDir()
	a, _ := age.GenerateX25519Identity()
	b, _ := age.GenerateX25519Identity()
	os.WriteFile(filepath.Join(dir, "recipients"), []byte("# ops\n"+b.Recipient().String()+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.key"), []byte(b.String()+"\n"), 0o600)
	archive := filepath.Join(dir, "x.backup")
	if code, out, errOut := hesar(t, "backup", "create", "--data", p.cfg.DataDir, "--out", archive,
		"--recipient", a.Recipient().String(), "--recipients-file", filepath.Join(dir, "recipients")); code != 0 {
		t.Fatalf("create: %d %s%s", code, out, errOut)
	}
	if code, out, errOut := hesar(t, "backup", "verify", "--in", archive, "--identity", filepath.Join(dir, "b.key")); code != 0 {
		t.Errorf("verify with the file's key: %d %s%s", code, out, errOut)
	}
	target := t.TempDir()
	code, out, errOut := hesar(t, "backup", "restore", "--in", archive, "--identity", filepath.Join(dir, "b.key"), "--data", target)
	if code != 0 || !strings.Contains(out, "opens the restored data") {
		t.Errorf("restore: %d %s%s", code, out, errOut)
	}
	code, _, errOut = hesar(t, "backup", "restore", "--in", archive, "--identity", filepath.Join(dir, "b.key"), "--data", target)
	if code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("second restore without --force: %d %s", code, errOut)
	}
	if code, out, errOut := hesar(t, "backup", "restore", "--in", archive, "--identity", filepath.Join(dir, "b.key"), "--data", target, "--force"); code != 0 {
		t.Errorf("restore --force: %d %s%s", code, out, errOut)
	}
}
