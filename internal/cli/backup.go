package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func backupCreate(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "backup create", "backup create --out FILE (--recipient AGE1… | --recipients-file FILE | --passphrase-file FILE) [--include-master-key --master-key-passphrase-file FILE]",
		`Write a consistent backup of the database and the attachment files while
Hesar keeps running: one age-encrypted archive (mode 0600) that restores
into SQLite or PostgreSQL. Encrypt it for age public keys (--recipient,
--recipients-file) or a passphrase read from a file (--passphrase-file,
never from the command line). The master key is not in the archive unless
--include-master-key, and then sealed under its own passphrase: keep that
passphrase apart from the archive's key. Progress goes to standard error.
Every workspace's audit log records the backup (backup.create) when the
master key is at hand.`)
	var st storageFlags
	st.register(fs)
	out := fs.String("out", "", "archive to write (required; never overwritten)")
	var recipients listFlag
	fs.Var(&recipients, "recipient", "age public key (age1…) that can decrypt the archive; repeatable")
	recipientsFile := fs.String("recipients-file", "", "file of age public keys, one a line")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase to encrypt with (instead of recipients)")
	includeKey := fs.Bool("include-master-key", false, "also store the master key, sealed under --master-key-passphrase-file")
	keyPassFile := fs.String("master-key-passphrase-file", "", "file holding the passphrase that seals the included master key")
	if err := parse(fs, args); err != nil {
		return err
	}
	rcpts, err := backupRecipients(recipients, *recipientsFile, *passFile)
	if err == nil && *out == "" {
		err = errors.New("--out is required")
	}
	if err == nil && *includeKey != (*keyPassFile != "") {
		err = errors.New("--include-master-key and --master-key-passphrase-file go together")
	}
	if err != nil {
		fmt.Fprintln(io.Err, err)
		fs.Usage()
		return errUsage
	}
	cfg := st.config()
	d, err := openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := backup.CreateOptions{Recipients: rcpts, HesarVersion: app.Version, Progress: io.Err}
	if *includeKey {
		if opts.MasterKey, opts.MasterKeyRecipient, err = masterKeyForBackup(ctx, cfg, d, *keyPassFile); err != nil {
			return err
		}
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s already exists: choose another --out (a backup never overwrites a file)", *out)
	}
	start := time.Now()
	m, size, err := writeArchive(ctx, d, cfg, *out, opts)
	if err != nil {
		// A copy of the data was attempted: the logs say so, then the
		// error is the operator's to see.
		if rerr := recordBackupOperation(ctx, io, cfg, d, actionBackupCreate, audit.ResultFailed,
			map[string]string{"file": filepath.Base(*out)}); rerr != nil {
			fmt.Fprintln(io.Err, rerr)
		}
		return err
	}
	fmt.Fprintf(io.Out, "wrote %s (%d bytes) in %v: %s\n", *out, size, time.Since(start).Round(time.Millisecond), summary(m))
	for _, k := range m.Blobs.Missing {
		fmt.Fprintf(io.Err, "note: attachment %s was deleted while the backup ran; its row is in the archive without content\n", k)
	}
	// Recorded after the archive is in place, so the record is not in the
	// archive it describes.
	return recordBackupOperation(ctx, io, cfg, d, actionBackupCreate, audit.ResultOK, archiveDetails(*out, size, m))
}

// writeArchive writes the backup of d to out and returns its manifest and
// size. It writes beside out and links into place when complete, so a
// failed or interrupted backup never leaves a partial archive under the
// name, and an existing file is never replaced.
func writeArchive(ctx context.Context, d *db.DB, cfg app.Config, out string, opts backup.CreateOptions) (*backup.Manifest, int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".hesar-backup-*")
	if err != nil {
		return nil, 0, err
	}
	defer os.Remove(tmp.Name())
	m, err := backup.Create(ctx, d, attachment.LocalBlobs{Dir: cfg.AttachmentDir()}, tmp, opts)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, err
	}
	if err := os.Link(tmp.Name(), out); err != nil {
		return nil, 0, fmt.Errorf("put the archive in place: %w", err)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return nil, 0, err
	}
	return m, fi.Size(), nil
}

func summary(m *backup.Manifest) string {
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	s := fmt.Sprintf("%d tables, %d rows, %d attachment files (%d bytes), schema version %d, from %s",
		len(m.Tables), rows, m.Blobs.Count, m.Blobs.Bytes, m.SchemaVersion, m.SourceDialect)
	if m.MasterKey != nil {
		s += ", master key included (sealed apart)"
	}
	return s
}

// backupRecipients builds the encryption recipients from exactly one
// kind of flag: age's passphrase mode cannot be mixed with keys.
func backupRecipients(keys listFlag, keysFile, passFile string) ([]age.Recipient, error) {
	if passFile != "" {
		if len(keys) > 0 || keysFile != "" {
			return nil, errors.New("use either recipients or --passphrase-file, not both")
		}
		pass, err := readSecret(passFile)
		if err != nil {
			return nil, err
		}
		r, err := age.NewScryptRecipient(pass)
		return []age.Recipient{r}, err
	}
	var out []age.Recipient
	for _, k := range keys {
		r, err := age.ParseX25519Recipient(k)
		if err != nil {
			return nil, fmt.Errorf("--recipient %q: %w", k, err)
		}
		out = append(out, r)
	}
	if keysFile != "" {
		f, err := os.Open(keysFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		rs, err := age.ParseRecipients(f)
		if err != nil {
			return nil, fmt.Errorf("--recipients-file: %w", err)
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, errors.New("say who can decrypt the backup: --recipient, --recipients-file or --passphrase-file")
	}
	return out, nil
}

// backupIdentities builds the decryption identities.
func backupIdentities(files listFlag, passFile string) ([]age.Identity, error) {
	var out []age.Identity
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		ids, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--identity %s: %w", name, err)
		}
		out = append(out, ids...)
	}
	if passFile != "" {
		pass, err := readSecret(passFile)
		if err != nil {
			return nil, err
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, errors.New("say how to decrypt the backup: --identity or --passphrase-file")
	}
	return out, nil
}

// readSecret reads a passphrase file, without its final line break.
// Passphrases come from files only: a command line is visible to every
// user of the machine and kept in shell history.
func readSecret(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("passphrase file %s is empty", path)
	}
	return s, nil
}

// openExisting opens the configured database without creating or
// migrating it: a backup must not change what it copies.
func openExisting(ctx context.Context, cfg app.Config) (*db.DB, error) {
	if cfg.DatabaseURL == "" {
		if _, err := os.Stat(cfg.SQLitePath()); err != nil {
			return nil, fmt.Errorf("no database at %s (--data or --database-url)", cfg.SQLitePath())
		}
	}
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, Path: cfg.SQLitePath()})
	if err != nil {
		return nil, err
	}
	if st, err := d.Status(ctx); err != nil || st.Current == 0 {
		d.Close()
		return nil, fmt.Errorf("the database has no Hesar schema: nothing to back up (%v)", err)
	}
	return d, nil
}

// masterKeyForBackup loads the existing master key (never making one) and
// checks it opens this database before sealing it into the archive.
func masterKeyForBackup(ctx context.Context, cfg app.Config, d *db.DB, passFile string) ([]byte, age.Recipient, error) {
	if !haveMasterKey(cfg) {
		return nil, nil, fmt.Errorf("no master key at %s to include", cfg.KeyFile())
	}
	key, _, err := keyring.LoadMaster(cfg.KeyFile(), cfg.MasterKey)
	if err != nil {
		return nil, nil, err
	}
	if _, err := keyring.Open(ctx, d, key); err != nil {
		return nil, nil, err
	}
	pass, err := readSecret(passFile)
	if err != nil {
		return nil, nil, err
	}
	r, err := age.NewScryptRecipient(pass)
	return key, r, err
}

func haveMasterKey(cfg app.Config) bool {
	if cfg.MasterKey != "" {
		return true
	}
	_, err := os.Stat(cfg.KeyFile())
	return err == nil
}

// identityFlags are restore's and verify's ways to decrypt.
type identityFlags struct {
	in       string
	ids      listFlag
	passFile string
}

func (f *identityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.in, "in", "", "archive to read (required)")
	fs.Var(&f.ids, "identity", "age identity file (AGE-SECRET-KEY-1…); repeatable")
	fs.StringVar(&f.passFile, "passphrase-file", "", "file holding the archive's passphrase")
}

func (f *identityFlags) open(io Stdio, fs *flag.FlagSet) (*os.File, []age.Identity, error) {
	ids, err := backupIdentities(f.ids, f.passFile)
	if err == nil && f.in == "" {
		err = errors.New("--in is required")
	}
	if err != nil {
		fmt.Fprintln(io.Err, err)
		fs.Usage()
		return nil, nil, errUsage
	}
	file, err := os.Open(f.in)
	return file, ids, err
}

func backupVerify(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "backup verify", "backup verify --in FILE (--identity FILE | --passphrase-file FILE)",
		`Prove a backup restores: decrypt it, check every hash in its manifest,
restore it into a scratch SQLite database in a private temporary directory
and compare every table's row count and checksum with the manifest. The
scratch copy is deleted afterwards; nothing else is touched.`)
	var idf identityFlags
	idf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	f, ids, err := idf.open(io, fs)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	m, err := backup.Verify(ctx, f, backup.RestoreOptions{Identities: ids, Progress: io.Err})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "%s is good (checked in %v): %s, taken %s by hesar %s\n", idf.in, time.Since(start).Round(time.Millisecond),
		summary(m), db.Time(m.CreatedAt).Format(time.RFC3339), m.HesarVersion)
	return nil
}

func backupRestore(ctx context.Context, io Stdio, args []string) error {
	fs := newFlags(io, "backup restore", "backup restore --in FILE (--identity FILE | --passphrase-file FILE) [--force] [--master-key-passphrase-file FILE]",
		`Restore a backup into the database and data directory given by the storage
flags: SQLite or PostgreSQL, whichever the backup came from. The archive is
checked in full before anything is written, so a damaged one changes
nothing. The target must be empty (no workspaces) unless --force, which
deletes everything in it first. Stop Hesar on the target while restoring.
The data stays sealed under the source's master key: start Hesar on the
target with that key. If the archive includes it, give
--master-key-passphrase-file to write it to the target's key file. The
restored audit logs then record the restore (backup.restore), when that
key is at hand.`)
	var st storageFlags
	st.register(fs)
	var idf identityFlags
	idf.register(fs)
	force := fs.Bool("force", false, "restore into a database that holds data, deleting all of it first")
	keyPassFile := fs.String("master-key-passphrase-file", "", "passphrase of the master key included in the archive: write it to the target's key file")
	if err := parse(fs, args); err != nil {
		return err
	}
	f, ids, err := idf.open(io, fs)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg := st.config()
	d, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, Path: cfg.SQLitePath()})
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	res, err := backup.Restore(ctx, d, attachment.LocalBlobs{Dir: cfg.AttachmentDir()}, f, backup.RestoreOptions{Identities: ids, Force: *force, Progress: io.Err})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Out, "restored %s in %v: %s\n", idf.in, time.Since(start).Round(time.Millisecond), summary(res.Manifest))
	if *keyPassFile != "" {
		if err := writeArchivedKey(io, cfg, res, *keyPassFile); err != nil {
			return err
		}
	}
	checkRestoredKey(ctx, io, cfg, d, res)
	// Recorded in the restored database, once it holds the restored logs:
	// a record in the database replaced would be deleted with it, and the
	// restored logs must show the data was put back.
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return recordBackupOperation(ctx, io, cfg, d, actionBackupRestore, audit.ResultOK, restoreDetails(idf.in, size, res.Manifest, *force))
}

// writeArchivedKey puts the archive's master key in the target's key file,
// never over an existing one.
func writeArchivedKey(io Stdio, cfg app.Config, res *backup.Restored, passFile string) error {
	pass, err := readSecret(passFile)
	if err != nil {
		return err
	}
	key, err := backup.OpenMasterKey(res.SealedMasterKey, pass)
	if err != nil {
		return err
	}
	if haveMasterKey(cfg) {
		fmt.Fprintf(io.Err, "a master key is already configured (%s); not writing the archived one\n", cfg.KeyFile())
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.KeyFile()), 0o700); err != nil {
		return err
	}
	kf, err := os.OpenFile(cfg.KeyFile(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write master key: %w", err)
	}
	_, err = kf.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = kf.Sync()
	}
	if cerr := kf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintf(io.Out, "wrote the archived master key to %s (mode 0600)\n", cfg.KeyFile())
	}
	return err
}

// checkRestoredKey tells the operator whether the configured master key
// opens the restored data: without the source's key it is unreadable.
func checkRestoredKey(ctx context.Context, io Stdio, cfg app.Config, d *db.DB, res *backup.Restored) {
	hint := "copy the source instance's master key there (mode 0600) before starting Hesar"
	if res.SealedMasterKey != nil {
		hint = "this archive includes it: 'hesar backup restore --force … --master-key-passphrase-file FILE' writes it there"
	}
	if !haveMasterKey(cfg) {
		fmt.Fprintf(io.Err, "WARNING: no master key at %s: the restored data can only be read with the source's master key; %s\n", cfg.KeyFile(), hint)
		return
	}
	key, _, err := keyring.LoadMaster(cfg.KeyFile(), cfg.MasterKey)
	if err == nil {
		_, err = keyring.Open(ctx, d, key)
	}
	if err != nil {
		fmt.Fprintf(io.Err, "WARNING: the configured master key does not open the restored data (%v); %s\n", err, hint)
		return
	}
	fmt.Fprintln(io.Out, "the configured master key opens the restored data")
}
