package keyring

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// Column is one encrypted column: the table, the SQL column holding the
// ciphertext, and the logical name bound into the AAD.
type Column struct {
	Table      string
	SQLColumn  string
	Name       string
	Restricted bool
}

// EncryptedColumns lists every column holding field ciphertext, for status,
// re-encryption and audits. A new encrypted column must be added here, or
// rotation would strand its values on a retired key.
var EncryptedColumns = []Column{
	{Table: "users", SQLColumn: "email_enc", Name: "email"},
	{Table: "users", SQLColumn: "name_enc", Name: "name"},
	{Table: "organizations", SQLColumn: "name_enc", Name: "name"},
	{Table: "customers", SQLColumn: "email_enc", Name: "email"},
	{Table: "customers", SQLColumn: "name_enc", Name: "name"},
	{Table: "customers", SQLColumn: "phone_enc", Name: "phone"},
	{Table: "tickets", SQLColumn: "subject_enc", Name: "subject"},
	{Table: "messages", SQLColumn: "body_enc", Name: "body"},
	{Table: "messages", SQLColumn: "body_html_enc", Name: "body_html"},
	{Table: "attachments", SQLColumn: "name_enc", Name: "name"},
	{Table: "tickets", SQLColumn: "subject_original_enc", Name: "subject_original", Restricted: true},
	{Table: "messages", SQLColumn: "body_original_enc", Name: "body_original", Restricted: true},
	{Table: "reveals", SQLColumn: "reason_enc", Name: "reason"},
	{Table: "sessions", SQLColumn: "ip_enc", Name: "ip"},
	{Table: "sessions", SQLColumn: "agent_enc", Name: "agent"},
	{Table: "totp_secrets", SQLColumn: "secret_enc", Name: "secret"},
	{Table: "webauthn_credentials", SQLColumn: "name_enc", Name: "name"},
	{Table: "mail_outbox", SQLColumn: "to_enc", Name: "to"},
	{Table: "mail_outbox", SQLColumn: "subject_enc", Name: "subject"},
	{Table: "mail_outbox", SQLColumn: "body_enc", Name: "body"},
	{Table: "audit_log", SQLColumn: "ip_enc", Name: "ip"},
	{Table: "audit_log", SQLColumn: "agent_enc", Name: "agent"},
	{Table: "monitor_settings", SQLColumn: "webhook_url_enc", Name: "webhook_url"},
	{Table: "monitor_settings", SQLColumn: "webhook_secret_enc", Name: "webhook_secret"},
	{Table: "monitor_signins", SQLColumn: "ip_enc", Name: "ip"},
	{Table: "monitor_signins", SQLColumn: "agent_enc", Name: "agent"},
	{Table: "monitor_alerts", SQLColumn: "evidence_enc", Name: "evidence"},
	{Table: "monitor_alerts", SQLColumn: "note_enc", Name: "note"},
}

// KeyVersion describes one version of a workspace's field key.
type KeyVersion struct {
	Purpose   string
	Version   uint32
	State     string
	CreatedAt time.Time
	Values    int64 // database values sealed under it (from a scan)
	Files     int64 // attachment files sealed under it (data keys only)
}

// Status lists a workspace's field key versions with how many stored
// values and files each one seals.
func (k *Keyring) Status(ctx context.Context, workspaceID int64) ([]KeyVersion, error) {
	rows, err := k.db.Read().QueryContext(ctx, `SELECT purpose, version, state, created_at FROM workspace_keys
		WHERE workspace_id = $1 AND purpose <> 'index' ORDER BY purpose, version`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []KeyVersion
	for rows.Next() {
		var v KeyVersion
		var version, created int64
		if err := rows.Scan(&v.Purpose, &version, &v.State, &created); err != nil {
			return nil, err
		}
		v.Version, v.CreatedAt = uint32(version), db.Time(created)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	counts, files, err := k.countByVersion(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Values = counts[out[i].Purpose][out[i].Version]
		if out[i].Purpose == purposeData {
			out[i].Files = files[out[i].Version]
		}
	}
	return out, nil
}

// countByVersion reads the key version from every stored ciphertext's
// header (bytes 2-5), grouped in SQL, and counts attachment files by the
// data key version their rows record.
func (k *Keyring) countByVersion(ctx context.Context, workspaceID int64) (values map[string]map[uint32]int64, files map[uint32]int64, err error) {
	out := map[string]map[uint32]int64{purposeData: {}, purposeRestricted: {}}
	for _, c := range EncryptedColumns {
		q := fmt.Sprintf(`SELECT substr(%s, 2, 4), COUNT(*) FROM %s WHERE workspace_id = $1 GROUP BY substr(%s, 2, 4)`, c.SQLColumn, c.Table, c.SQLColumn)
		rows, err := k.db.Read().QueryContext(ctx, q, workspaceID)
		if err != nil {
			return nil, nil, fmt.Errorf("count %s.%s: %w", c.Table, c.SQLColumn, err)
		}
		purpose := purposeData
		if c.Restricted {
			purpose = purposeRestricted
		}
		for rows.Next() {
			var hdr []byte
			var n int64
			if err := rows.Scan(&hdr, &n); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if len(hdr) == 4 {
				out[purpose][binary.BigEndian.Uint32(hdr)] += n
			}
		}
		rows.Close()
	}
	// Attachment contents are files sealed with keys derived from a data
	// key version: that version must not be retired while they exist.
	rows, err := k.db.Read().QueryContext(ctx, `SELECT key_version, COUNT(*) FROM attachments WHERE workspace_id = $1 GROUP BY key_version`, workspaceID)
	if err != nil {
		return nil, nil, fmt.Errorf("count attachments: %w", err)
	}
	defer rows.Close()
	files = map[uint32]int64{}
	for rows.Next() {
		var v, n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, nil, err
		}
		files[uint32(v)] += n
	}
	return out, files, rows.Err()
}

// Rotate makes a new version of each of the workspace's field keys the one
// new values are sealed with; older versions become decrypt-only until
// Reencrypt has moved every value off them. Other instances pick the new
// version up within keyCacheTTL.
func (k *Keyring) Rotate(ctx context.Context, workspaceID int64) (uint32, error) {
	var newest uint32
	err := k.db.Write(ctx, func(tx *db.Tx) error {
		for _, purpose := range fieldPurposes {
			var max sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM workspace_keys WHERE workspace_id = $1 AND purpose = $2`, workspaceID, purpose).Scan(&max); err != nil {
				return err
			}
			if !max.Valid && purpose == purposeData {
				return fmt.Errorf("workspace %d has no keys", workspaceID)
			}
			next := uint32(max.Int64) + 1
			if _, err := tx.ExecContext(ctx, `UPDATE workspace_keys SET state = $1 WHERE workspace_id = $2 AND purpose = $3 AND state = $4`,
				stateDecrypt, workspaceID, purpose, stateActive); err != nil {
				return err
			}
			if err := k.insertKey(ctx, tx, workspaceID, purpose, next); err != nil {
				return err
			}
			if purpose == purposeData {
				newest = next
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	_, err = k.reload(ctx, workspaceID)
	return newest, err
}

// Progress reports re-encryption as it goes.
type Progress struct {
	Table, Column string
	Scanned       int64 // rows looked at in this column so far
	Rewritten     int64 // values moved to the active key so far (all columns)
}

// reencryptBatch is how many rows one write re-seals.
const reencryptBatch = 500

// Reencrypt moves every value of the workspace that is sealed under an
// older key version to the active one, in small batches that each commit
// on their own, so the service keeps working and an interrupted run loses
// nothing: running it again continues (values already moved are skipped).
// A value changed by a user meanwhile is left alone (compare-and-swap).
func (k *Keyring) Reencrypt(ctx context.Context, workspaceID int64, progress func(Progress)) (int64, error) {
	wk, err := k.reload(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, c := range EncryptedColumns {
		set := wk.sets[purposeOf(c)]
		if set == nil {
			continue
		}
		n, err := k.reencryptColumn(ctx, workspaceID, c, set.active, &total, progress)
		if err != nil {
			return total, fmt.Errorf("re-encrypt %s.%s after %d rows: %w", c.Table, c.SQLColumn, n, err)
		}
	}
	return total, nil
}

func purposeOf(c Column) string {
	if c.Restricted {
		return purposeRestricted
	}
	return purposeData
}

type staleValue struct {
	id  int64
	old []byte
}

func (k *Keyring) reencryptColumn(ctx context.Context, ws int64, c Column, active uint32, total *int64, progress func(Progress)) (int64, error) {
	var after, scanned int64
	q := fmt.Sprintf(`SELECT id, %s FROM %s WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT %d`, c.SQLColumn, c.Table, reencryptBatch)
	upd := fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE workspace_id = $2 AND id = $3 AND %s = $4`, c.Table, c.SQLColumn, c.SQLColumn)
	for {
		if err := ctx.Err(); err != nil {
			return scanned, err
		}
		batch, last, n, err := k.staleRows(ctx, q, ws, after, active)
		if err != nil {
			return scanned, err
		}
		if n == 0 {
			return scanned, nil
		}
		scanned += int64(n)
		after = last
		type rewrite struct {
			id       int64
			old, new []byte
		}
		var rewrites []rewrite
		for _, s := range batch {
			f := Field{Workspace: ws, Table: c.Table, Column: c.Name, Row: s.id, Restricted: c.Restricted}
			plain, err := k.Open(ctx, f, s.old)
			if err != nil {
				return scanned, err
			}
			sealed, err := k.Seal(ctx, f, plain)
			if err != nil {
				return scanned, err
			}
			rewrites = append(rewrites, rewrite{s.id, s.old, sealed})
		}
		err = k.db.Write(ctx, func(tx *db.Tx) error {
			for _, r := range rewrites {
				if _, err := tx.ExecContext(ctx, upd, r.new, ws, r.id, r.old); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return scanned, err
		}
		*total += int64(len(rewrites))
		if progress != nil {
			progress(Progress{Table: c.Table, Column: c.SQLColumn, Scanned: scanned, Rewritten: *total})
		}
	}
}

// staleRows reads one page of a column and keeps the values not sealed
// under the active version.
func (k *Keyring) staleRows(ctx context.Context, q string, ws, after int64, active uint32) (stale []staleValue, last int64, n int, err error) {
	rows, err := k.db.Read().QueryContext(ctx, q, ws, after)
	if err != nil {
		return nil, 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ct []byte
		if err := rows.Scan(&id, &ct); err != nil {
			return nil, 0, 0, err
		}
		n++
		last = id
		if ct == nil {
			continue // optional column, no value
		}
		if len(ct) < headerLen || binary.BigEndian.Uint32(ct[1:headerLen]) != active {
			stale = append(stale, staleValue{id, ct})
		}
	}
	return stale, last, n, rows.Err()
}

// ErrKeyInUse means a key version still seals stored values.
var ErrKeyInUse = errors.New("key version still in use")

// ErrKeyRetired is what CheckUsable returns when the version a value was
// sealed under has been retired meanwhile; the writer, if it still holds
// the plaintext or the key, can seal again under the active version. It
// wraps ErrDecrypt.
var ErrKeyRetired = fmt.Errorf("key version retired: %w", ErrDecrypt)

// CheckUsable fails, inside the write that stores a value sealed under a
// data key version, when that version has been retired meanwhile.
func (k *Keyring) CheckUsable(ctx context.Context, tx *db.Tx, workspaceID int64, version uint32) error {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT state FROM workspace_keys WHERE workspace_id = $1 AND purpose = $2 AND version = $3`,
		workspaceID, purposeData, int64(version)).Scan(&state)
	if err != nil {
		return fmt.Errorf("check key version %d: %w", version, err)
	}
	if state == stateRetired {
		return fmt.Errorf("key version %d was retired while this value was being written; try again: %w", version, ErrKeyRetired)
	}
	return nil
}

// RetireUnused deletes the key material of decrypt-only versions that no
// stored value uses any more and that were superseded long enough ago that
// no instance can still be sealing with them. It returns the versions
// retired.
func (k *Keyring) RetireUnused(ctx context.Context, workspaceID int64) ([]KeyVersion, error) {
	st, err := k.Status(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	newestCreated := map[string]time.Time{}
	for _, v := range st {
		if v.State == stateActive {
			newestCreated[v.Purpose] = v.CreatedAt
		}
	}
	var retired []KeyVersion
	for _, v := range st {
		if v.State != stateDecrypt || v.Values > 0 || v.Files > 0 || time.Since(newestCreated[v.Purpose]) < 2*keyCacheTTL {
			continue
		}
		err := k.db.Write(ctx, func(tx *db.Tx) error {
			// Files are written with the version chosen when their upload
			// began: count them again inside the retiring write (an upload
			// committing later checks the version with CheckUsable).
			if v.Purpose == purposeData {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE workspace_id = $1 AND key_version = $2`, workspaceID, int64(v.Version)).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return ErrKeyInUse
				}
			}
			_, err := tx.ExecContext(ctx, `UPDATE workspace_keys SET state = $1, wrapped = $2 WHERE workspace_id = $3 AND purpose = $4 AND version = $5 AND state = $6`,
				stateRetired, []byte{}, workspaceID, v.Purpose, int64(v.Version), stateDecrypt)
			return err
		})
		if errors.Is(err, ErrKeyInUse) {
			continue
		}
		if err != nil {
			return retired, err
		}
		v.State = stateRetired
		retired = append(retired, v)
	}
	if len(retired) > 0 {
		_, err = k.reload(ctx, workspaceID)
	}
	return retired, err
}

// RotateMaster re-wraps every workspace key (and the token hash key) under
// newMaster in one transaction and records newMaster's check value. Every
// instance must then restart with the new key file, and this Keyring must
// not be used again. The old key stays needed for backups taken before.
func (k *Keyring) RotateMaster(ctx context.Context, newMaster []byte) (int, error) {
	next, err := newMasterWrapper(newMaster)
	if err != nil {
		return 0, err
	}
	type keyRow struct {
		ws      int64
		purpose string
		version int64
		wrapped []byte
	}
	var all []keyRow
	// Read and re-wrap inside the one write: a key added meanwhile (a new
	// workspace, a rotation) cannot be left wrapped under the old master.
	err = k.db.Write(ctx, func(tx *db.Tx) error {
		all = all[:0]
		rows, err := tx.QueryContext(ctx, `SELECT workspace_id, purpose, version, wrapped FROM workspace_keys WHERE state <> $1`, stateRetired)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r keyRow
			if err := rows.Scan(&r.ws, &r.purpose, &r.version, &r.wrapped); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range all {
			raw, err := k.unwrap(r.ws, r.purpose, uint32(r.version), r.wrapped)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE workspace_keys SET wrapped = $1 WHERE workspace_id = $2 AND purpose = $3 AND version = $4 AND wrapped = $5`,
				next.wrap(r.ws, r.purpose, uint32(r.version), raw), r.ws, r.purpose, r.version, r.wrapped)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("key %s v%d of workspace %d changed during the rotation; nothing was changed, run it again", r.purpose, r.version, r.ws)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instance_settings SET value = $1 WHERE name = $2`,
			next.master.wrapInstance(tokenKeySetting, k.tokenKey), tokenKeySetting); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE instance_settings SET value = $1 WHERE name = 'master_key_check'`, next.check)
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(all), nil
}

// masterWrapper holds what a master key derives.
type masterWrapper struct {
	master *Keyring // only its master wrapper is set
	check  []byte
}

func newMasterWrapper(masterKey []byte) (*masterWrapper, error) {
	if len(masterKey) != MasterKeySize {
		return nil, fmt.Errorf("master key must be %d bytes", MasterKeySize)
	}
	aead, err := newAEAD(derive(masterKey, "hesar master wrap v1"))
	if err != nil {
		return nil, err
	}
	return &masterWrapper{
		master: &Keyring{master: aead},
		check:  masterCheck(masterKey),
	}, nil
}

func (m *masterWrapper) wrap(ws int64, purpose string, version uint32, raw []byte) []byte {
	return m.master.wrap(ws, purpose, version, raw)
}

func masterCheck(masterKey []byte) []byte {
	return hmacSum(derive(masterKey, "hesar master check v1"), []byte("hesar"))
}
