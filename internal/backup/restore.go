package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/workspace"
)

// RestoreOptions say how to restore an archive.
type RestoreOptions struct {
	// Identities open the archive: X25519 identities or a scrypt one.
	Identities []age.Identity
	// Force restores into a database that already holds workspaces by
	// deleting every row in it first. Attachment files already in the
	// target store are left where they are.
	Force bool
	// Progress receives progress lines; nil for none.
	Progress io.Writer

	// verify restores into a scratch database: no attachment files, no
	// sequence fix-ups and no newer migrations, so that the rows read
	// back are exactly the archive's.
	verify bool
}

// Restored says what a restore did.
type Restored struct {
	Manifest *Manifest
	// SealedMasterKey is the archive's master.key.age, when it has one:
	// the master key age-encrypted under its own passphrase.
	SealedMasterKey []byte
}

// rowsPerWrite is how many rows one restore transaction inserts.
const rowsPerWrite = 2000

// Restore loads the archive into target (and its attachment files into
// blobs). It reads the archive twice: first it decrypts and checks all of
// it, writing nothing, so a damaged archive leaves the target untouched;
// then it loads it. The target must hold no workspaces unless Force.
func Restore(ctx context.Context, target *db.DB, blobs attachment.Blobs, archive io.ReadSeeker, opts RestoreOptions) (*Restored, error) {
	prog := newProgress(opts.Progress)
	ids, err := fileKey(archive, opts.Identities)
	if err != nil {
		return nil, err
	}
	prog.say("checking the archive")
	m, sealed, err := walk(archive, ids, nil)
	if err != nil {
		return nil, err
	}
	if err := prepareTarget(ctx, target, m, opts, prog); err != nil {
		return nil, err
	}
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	loaded := map[string]int64{}
	_, _, err = walk(archive, ids, func(e entry) error {
		if strings.HasPrefix(e.Name, tablesDir) {
			return loadPart(ctx, target, m, e, loaded, prog)
		}
		if opts.verify {
			return nil
		}
		return loadBlob(ctx, blobs, e)
	})
	if err != nil {
		return nil, fmt.Errorf("restore failed part-way, the target holds a partial copy (run again with --force once the cause is fixed): %w", err)
	}
	if !opts.verify {
		if err := fixTicketNumbers(ctx, target); err != nil {
			return nil, err
		}
		applied, err := target.Migrate(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("apply migrations newer than the archive: %w", err)
		}
		if len(applied) > 0 {
			prog.say("applied migrations %v over the restored rows", applied)
		}
	}
	return &Restored{Manifest: m, SealedMasterKey: sealed}, nil
}

// fileKey opens the archive's header once and returns an identity that
// replays its file key, so a passphrase's scrypt work is done once and
// both passes read the very archive the first one checked (the header MAC
// binds the key to it). It leaves archive at its start.
func fileKey(archive io.ReadSeeker, ids []age.Identity) ([]age.Identity, error) {
	if len(ids) == 0 {
		return nil, errors.New("no identity or passphrase given to decrypt the archive")
	}
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	hdr, err := age.ExtractHeader(archive)
	if err != nil {
		return nil, corrupt("not a readable age file (%v)", err)
	}
	key, err := age.DecryptHeader(hdr, ids...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, ErrWrongKey
		}
		return nil, corrupt("unreadable age header (%v)", err)
	}
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return []age.Identity{age.NewInjectedFileKeyIdentity(key)}, nil
}

// prepareTarget checks the target can take the archive, builds its
// schema at the archive's version and empties it.
func prepareTarget(ctx context.Context, target *db.DB, m *Manifest, opts RestoreOptions, prog *progress) error {
	ms, err := db.Migrations()
	if err != nil {
		return err
	}
	if m.SchemaVersion > len(ms) {
		return fmt.Errorf("the archive has schema version %d, newer than this build's %d: restore it with a newer hesar", m.SchemaVersion, len(ms))
	}
	st, err := target.Status(ctx)
	if err != nil {
		return fmt.Errorf("read target schema version: %w", err)
	}
	if st.Current > m.SchemaVersion {
		return fmt.Errorf("the target database is at schema version %d, the archive at %d: restore into a new, empty database (restore builds the schema itself)", st.Current, m.SchemaVersion)
	}
	if st.Current > 0 {
		var n int64
		if err := rowCount(ctx, target.Read(), "workspaces", &n); err != nil {
			return err
		}
		if n > 0 && !opts.Force {
			return fmt.Errorf("%w: it holds %d workspace(s); restore refuses to overwrite them (--force deletes everything in it first)", ErrNotEmpty, n)
		}
	}
	if _, err := target.MigrateTo(ctx, m.SchemaVersion, nil); err != nil {
		return fmt.Errorf("build schema version %d: %w", m.SchemaVersion, err)
	}
	have, err := discover(ctx, target.Read(), target.Dialect())
	if err != nil {
		return err
	}
	if err := sameSchema(m.Tables, have); err != nil {
		return err
	}
	prog.say("emptying the target")
	return wipe(ctx, target, have)
}

// sameSchema checks every archived table exists in the target with the
// same columns of the same kinds.
func sameSchema(want, have []TableManifest) error {
	cols := map[string]map[string]string{}
	for _, t := range have {
		cols[t.Name] = map[string]string{}
		for _, c := range t.Columns {
			cols[t.Name][c.Name] = c.Type
		}
	}
	for _, t := range want {
		hc := cols[t.Name]
		if hc == nil {
			return fmt.Errorf("table %s of the archive does not exist in the target", t.Name)
		}
		if len(hc) != len(t.Columns) {
			return fmt.Errorf("table %s has %d columns in the archive and %d in the target", t.Name, len(t.Columns), len(hc))
		}
		for _, c := range t.Columns {
			if hc[c.Name] != c.Type {
				return fmt.Errorf("column %s.%s is %q in the archive and %q in the target", t.Name, c.Name, c.Type, hc[c.Name])
			}
		}
	}
	return nil
}

// wipe deletes every row, children first, in one transaction. Instance
// rows (id_blocks, instance_settings) go too: the archive's replace them,
// the id high-water mark and master key check included. On PostgreSQL the
// ticket number sequences of deleted workspaces go as well.
func wipe(ctx context.Context, target *db.DB, tables []TableManifest) error {
	var seqs []string
	if target.Dialect() == db.Postgres {
		var err error
		seqs, err = strings1(ctx, target.Read(), `SELECT sequence_name FROM information_schema.sequences
			WHERE sequence_schema = current_schema() AND sequence_name LIKE 'ticket\_number\_ws\_%'`)
		if err != nil {
			return err
		}
	}
	return target.Write(ctx, func(tx *db.Tx) error {
		for i := len(tables) - 1; i >= 0; i-- {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+quoteIdent(tables[i].Name)); err != nil {
				return fmt.Errorf("empty %s: %w", tables[i].Name, err)
			}
		}
		for _, s := range seqs {
			if _, err := tx.ExecContext(ctx, `DROP SEQUENCE IF EXISTS `+quoteIdent(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadPart inserts one part's rows, rowsPerWrite per transaction.
func loadPart(ctx context.Context, target *db.DB, m *Manifest, e entry, loaded map[string]int64, prog *progress) error {
	name, _, _ := strings.Cut(strings.TrimPrefix(e.Name, tablesDir), "/")
	t := m.table(name)
	if t == nil {
		return corrupt("table %s is not in the manifest", name)
	}
	br := bufio.NewReaderSize(e.Body, 256<<10)
	var batch [][]any
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			row, derr := decodeRow(line, t.Columns)
			if derr != nil {
				return corrupt("%s: %v", e.Name, derr)
			}
			batch = append(batch, row)
		}
		if len(batch) >= rowsPerWrite || (err != nil && len(batch) > 0) {
			if ierr := insertRows(ctx, target, t, batch); ierr != nil {
				return fmt.Errorf("insert into %s: %w", t.Name, ierr)
			}
			loaded[name] += int64(len(batch))
			prog.rows("tables: "+name, loaded[name], t.Rows, "rows", loaded[name] == t.Rows)
			batch = batch[:0]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return asCorrupt(err, e.Name)
		}
	}
}

// insertRows inserts rows with multi-row INSERTs of a fixed size (plus
// one shorter tail), so SQLite's statement cache sees two shapes per table
// and no statement passes either database's parameter limit.
func insertRows(ctx context.Context, target *db.DB, t *TableManifest, rows [][]any) error {
	per := max(1, min(200, 30000/len(t.Columns)))
	return target.Write(ctx, func(tx *db.Tx) error {
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(start+per, len(rows))]
			args := make([]any, 0, len(chunk)*len(t.Columns))
			for _, r := range chunk {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, insertQuery(t, len(chunk)), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func insertQuery(t *TableManifest, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(t.Name) + " (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	b.WriteString(") VALUES ")
	nc := len(t.Columns)
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + db.Placeholders(1+r*nc, nc) + ")")
	}
	return b.String()
}

// loadBlob stores one attachment file under its key.
func loadBlob(ctx context.Context, blobs attachment.Blobs, e entry) error {
	if blobs == nil {
		return errors.New("no attachment storage to restore files into")
	}
	key := strings.TrimPrefix(e.Name, blobsDir)
	w, err := blobs.Create(ctx, key)
	if err != nil {
		return fmt.Errorf("attachment %s: %w", key, err)
	}
	if _, err := io.Copy(w, e.Body); err != nil {
		_ = w.Abort()
		if errors.Is(err, ErrCorrupt) {
			return err
		}
		return fmt.Errorf("attachment %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		_ = w.Abort()
		return fmt.Errorf("attachment %s: %w", key, err)
	}
	return nil
}

// fixTicketNumbers makes ticket numbering continue after the restored
// tickets. PostgreSQL numbers from a per-workspace sequence, which is not
// a table and so not in the archive; SQLite from workspaces'
// next_ticket_number column, which a PostgreSQL source never advanced.
// Either way the next number is past both the highest ticket and the
// stored counter, so a number is never given out twice.
func fixTicketNumbers(ctx context.Context, target *db.DB) error {
	if target.Dialect() == db.SQLite {
		return target.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE workspaces SET next_ticket_number = MAX(next_ticket_number,
				COALESCE((SELECT MAX(number) FROM tickets t WHERE t.workspace_id = workspaces.id), 0) + 1)`)
			return err
		})
	}
	rows, err := target.Read().QueryContext(ctx, `SELECT w.id, GREATEST(w.next_ticket_number, COALESCE(MAX(t.number), 0) + 1)
		FROM workspaces w LEFT JOIN tickets t ON t.workspace_id = w.id GROUP BY w.id, w.next_ticket_number`)
	if err != nil {
		return err
	}
	next := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		next[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return target.Write(ctx, func(tx *db.Tx) error {
		for id, n := range next {
			seq := workspace.TicketSequence(id)
			if _, err := tx.ExecContext(ctx, `CREATE SEQUENCE IF NOT EXISTS `+seq); err != nil {
				return err
			}
			// is_called false: the next nextval returns n itself.
			if _, err := tx.ExecContext(ctx, `SELECT setval('`+seq+`', $1, false)`, n); err != nil {
				return err
			}
		}
		return nil
	})
}
