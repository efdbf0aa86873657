package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// sealBatch is how many records one sealing write chains. It bounds how
// long the write holds SQLite's single writer (a few milliseconds).
const sealBatch = 500

// sealLockClass is the first key of the PostgreSQL advisory lock that lets
// one sealer at a time extend a workspace's chain (the second key is the
// workspace). On SQLite the single writer serializes sealers already.
const sealLockClass = 727030

// genesis is the prev_hash of a workspace's first record.
var genesis = make([]byte, sha256.Size)

// ErrTampered means the chain head or a checkpoint fails its signature:
// the sealer stops extending a chain it cannot trust.
var ErrTampered = errors.New("audit log tampered with")

// chainHash links a record to its predecessor.
func chainHash(prev, mac []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hesar-audit-chain-v1"))
	h.Write(prev)
	h.Write(mac)
	return h.Sum(nil)
}

// signedMsg is what a head ("head") or checkpoint ("checkpoint") MAC covers.
func signedMsg(kind string, ws, seq int64, hash []byte, at int64) []byte {
	b := make([]byte, 0, 80)
	b = append(b, "hesar-audit-"+kind+"-v1"...)
	b = binary.BigEndian.AppendUint64(b, uint64(ws))
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, hash...)
	return binary.BigEndian.AppendUint64(b, uint64(at))
}

// head is the end of a workspace's chain.
type head struct {
	seq  int64
	hash []byte
}

// readHead returns the workspace's chain head (seq 0 and the genesis hash
// for a new chain), refusing one whose signature does not hold.
func readHead(ctx context.Context, q db.Querier, ws int64, k *keyring.AuditKeys) (head, bool, error) {
	var h head
	var mac []byte
	var at int64
	err := q.QueryRowContext(ctx, `SELECT seq, hash, mac, updated_at FROM audit_heads WHERE workspace_id = $1`, ws).Scan(&h.seq, &h.hash, &mac, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return head{hash: genesis}, false, nil
	}
	if err != nil {
		return h, false, err
	}
	if !k.VerifyCheckpoint(signedMsg("head", ws, h.seq, h.hash, at), mac) {
		return h, true, fmt.Errorf("%w: the chain head of workspace %d has a bad signature", ErrTampered, ws)
	}
	return h, true, nil
}

// SealPending chains every record still waiting, workspace by workspace,
// and reports how many it chained. Several instances may run it at once.
func (l *Log) SealPending(ctx context.Context) (int, error) {
	rows, err := l.db.Read().QueryContext(ctx, `SELECT DISTINCT workspace_id FROM audit_log WHERE seq IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("find unsealed audit records: %w", err)
	}
	var wss []int64
	for rows.Next() {
		var ws int64
		if err := rows.Scan(&ws); err != nil {
			rows.Close()
			return 0, err
		}
		wss = append(wss, ws)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, ws := range wss {
		n, err := l.sealWorkspace(ctx, ws)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("seal audit log of workspace %d: %w", ws, err))
		}
	}
	return total, errors.Join(errs...)
}

// sealWorkspace chains the workspace's waiting records in batches.
func (l *Log) sealWorkspace(ctx context.Context, ws int64) (int, error) {
	k, err := l.auditKeys(ctx, ws)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n := 0
		err := l.db.Write(ctx, func(tx *db.Tx) error {
			var err error
			n, err = l.sealBatch(ctx, tx, ws, k)
			return err
		})
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

type pending struct {
	id   int64
	mac  []byte
	seq  int64
	prev []byte
	hash []byte
}

// sealBatch chains up to sealBatch records inside tx. It reads the head
// under the workspace's lock, so two sealers never give out the same seq;
// the UPDATE also requires seq IS NULL, and any surprise rolls back.
func (l *Log) sealBatch(ctx context.Context, tx *db.Tx, ws int64, k *keyring.AuditKeys) (int, error) {
	if tx.Dialect() == db.Postgres {
		// Held to the end of this transaction. Writers never take it.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, int32(sealLockClass), int32(ws&0x7fffffff)); err != nil {
			return 0, fmt.Errorf("take sealing lock: %w", err)
		}
	}
	h, _, err := readHead(ctx, tx, ws, k)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, mac FROM audit_log WHERE workspace_id = $1 AND seq IS NULL ORDER BY created_at, id LIMIT $2`, ws, sealBatch)
	if err != nil {
		return 0, err
	}
	var batch []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.mac); err != nil {
			rows.Close()
			return 0, err
		}
		batch = append(batch, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(batch) == 0 {
		return 0, err
	}
	prev := h.hash
	for i := range batch {
		p := &batch[i]
		p.seq, p.prev, p.hash = h.seq+int64(i)+1, prev, chainHash(prev, p.mac)
		prev = p.hash
	}
	if err := updateChain(ctx, tx, ws, batch); err != nil {
		return 0, err
	}
	last := batch[len(batch)-1]
	now := l.opt.Now().UnixMicro()
	mac := k.CheckpointMAC(signedMsg("head", ws, last.seq, last.hash, now))
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_heads (workspace_id, seq, hash, mac, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (workspace_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac, updated_at = excluded.updated_at`,
		ws, last.seq, last.hash, mac, now)
	if err != nil {
		return 0, fmt.Errorf("move chain head: %w", err)
	}
	return len(batch), nil
}

// updateChain stores the chain positions: one statement on PostgreSQL
// (one round trip), one cached statement per row on SQLite (in process).
func updateChain(ctx context.Context, tx *db.Tx, ws int64, batch []pending) error {
	if tx.Dialect() == db.Postgres {
		ids, seqs := make([]int64, len(batch)), make([]int64, len(batch))
		prevs, hashes := make([][]byte, len(batch)), make([][]byte, len(batch))
		for i, p := range batch {
			ids[i], seqs[i], prevs[i], hashes[i] = p.id, p.seq, p.prev, p.hash
		}
		res, err := tx.ExecContext(ctx, `UPDATE audit_log AS a SET seq = v.seq, prev_hash = v.prev, hash = v.hash
			FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS v(id, seq, prev, hash)
			WHERE a.id = v.id AND a.workspace_id = $5 AND a.seq IS NULL`, ids, seqs, prevs, hashes, ws)
		if err != nil {
			return fmt.Errorf("chain audit records: %w", err)
		}
		if n, _ := res.RowsAffected(); n != int64(len(batch)) {
			return fmt.Errorf("chain audit records: %d of %d changed under the sealer", int64(len(batch))-n, len(batch))
		}
		return nil
	}
	for _, p := range batch {
		res, err := tx.ExecContext(ctx, `UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4 AND workspace_id = $5 AND seq IS NULL`,
			p.seq, p.prev, p.hash, p.id, ws)
		if err != nil {
			return fmt.Errorf("chain audit record %d: %w", p.id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("chain audit record %d: changed under the sealer", p.id)
		}
	}
	return nil
}

// Checkpoint signs the workspace's current chain head into the checkpoint
// table. Checkpoints anchor verification after a prune and fix how far
// back a deleted tail can go unnoticed. Taking one twice is harmless.
func (l *Log) Checkpoint(ctx context.Context, workspaceID int64) error {
	k, err := l.auditKeys(ctx, workspaceID)
	if err != nil {
		return err
	}
	h, ok, err := readHead(ctx, l.db.Read(), workspaceID, k)
	if err != nil || !ok {
		return err // no chain yet: nothing to sign
	}
	id, err := l.db.IDs().Next(ctx)
	if err != nil {
		return err
	}
	at := l.opt.Now().UnixMicro()
	mac := k.CheckpointMAC(signedMsg("checkpoint", workspaceID, h.seq, h.hash, at))
	return l.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (id, workspace_id, seq, hash, at, mac) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (workspace_id, seq) DO NOTHING`, id, workspaceID, h.seq, h.hash, at, mac)
		return err
	})
}

// Run chains new records every SealEvery, checkpoints every workspace with
// new records every CheckpointEvery and prunes past Retention once a day,
// until ctx ends. Instances sharing the database may all run it.
func (l *Log) Run(ctx context.Context) {
	seal := time.NewTicker(l.opt.SealEvery)
	defer seal.Stop()
	checkpoint := time.NewTicker(l.opt.CheckpointEvery)
	defer checkpoint.Stop()
	prune := time.NewTicker(24 * time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			// Chain what is waiting, so a clean shutdown leaves nothing unsealed.
			if _, err := l.SealPending(context.WithoutCancel(ctx)); err != nil {
				l.log.Error("audit: seal at shutdown", "err", err)
			}
			return
		case <-seal.C:
			if _, err := l.SealPending(ctx); err != nil && ctx.Err() == nil {
				l.log.Error("audit: seal", "err", err)
			}
		case <-checkpoint.C:
			l.eachWorkspace(ctx, "checkpoint", `SELECT h.workspace_id FROM audit_heads h
				WHERE h.seq > COALESCE((SELECT MAX(c.seq) FROM audit_checkpoints c WHERE c.workspace_id = h.workspace_id), 0)`,
				func(ws int64) error { return l.Checkpoint(ctx, ws) })
		case <-prune.C:
			if l.opt.Retention < 0 {
				continue
			}
			cutoff := l.opt.Now().Add(-l.opt.Retention)
			l.eachWorkspace(ctx, "prune", `SELECT workspace_id FROM audit_heads`, func(ws int64) error {
				_, err := l.Prune(ctx, ws, cutoff)
				return err
			})
		}
	}
}

func (l *Log) eachWorkspace(ctx context.Context, what, query string, fn func(ws int64) error) {
	rows, err := l.db.Read().QueryContext(ctx, query)
	if err != nil {
		l.log.Error("audit: list workspaces", "for", what, "err", err)
		return
	}
	var wss []int64
	for rows.Next() {
		var ws int64
		if rows.Scan(&ws) == nil {
			wss = append(wss, ws)
		}
	}
	rows.Close()
	for _, ws := range wss {
		if err := fn(ws); err != nil && ctx.Err() == nil {
			l.log.Error("audit: "+what, "workspace", ws, "err", err)
		}
	}
}
