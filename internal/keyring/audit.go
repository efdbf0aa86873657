package keyring

import (
	"context"
	"crypto/hmac"
	"fmt"
)

// AuditKeys are one workspace's audit-log keys: one MACs each record when
// it is made, the other signs chain heads and checkpoints. Both are derived
// with HKDF from the workspace's index key, which is stored only wrapped by
// the master key: whoever holds the database alone can neither forge a
// record nor sign a checkpoint. The index key never rotates (blind indexes
// depend on it) and rotate-master re-wraps it unchanged, so records and
// checkpoints stay verifiable across both kinds of rotation.
type AuditKeys struct {
	record     []byte
	checkpoint []byte
}

// AuditKeys returns the workspace's audit-log keys. Callers cache them: the
// keys never change for a workspace.
func (k *Keyring) AuditKeys(ctx context.Context, workspaceID int64) (*AuditKeys, error) {
	var version int64
	var wrapped []byte
	err := k.db.Read().QueryRowContext(ctx,
		`SELECT version, wrapped FROM workspace_keys WHERE workspace_id = $1 AND purpose = $2 ORDER BY version LIMIT 1`,
		workspaceID, purposeIndex).Scan(&version, &wrapped)
	if err != nil {
		return nil, fmt.Errorf("load audit key of workspace %d: %w", workspaceID, err)
	}
	raw, err := k.unwrap(workspaceID, purposeIndex, uint32(version), wrapped)
	if err != nil {
		return nil, err
	}
	return &AuditKeys{
		record:     derive(raw, "hesar audit record v1"),
		checkpoint: derive(raw, "hesar audit checkpoint v1"),
	}, nil
}

// RecordMAC returns the keyed MAC of an audit record's canonical encoding.
func (a *AuditKeys) RecordMAC(msg []byte) []byte { return hmacSum(a.record, msg) }

// CheckpointMAC returns the keyed MAC of a checkpoint or chain head.
func (a *AuditKeys) CheckpointMAC(msg []byte) []byte { return hmacSum(a.checkpoint, msg) }

// VerifyRecord reports, in constant time, whether mac is msg's record MAC.
func (a *AuditKeys) VerifyRecord(msg, mac []byte) bool {
	return hmac.Equal(a.RecordMAC(msg), mac)
}

// VerifyCheckpoint reports, in constant time, whether mac is msg's
// checkpoint MAC.
func (a *AuditKeys) VerifyCheckpoint(msg, mac []byte) bool {
	return hmac.Equal(a.CheckpointMAC(msg), mac)
}

// AuditCheckpointMAC is CheckpointMAC for one message, loading the keys.
func (k *Keyring) AuditCheckpointMAC(ctx context.Context, workspaceID int64, msg []byte) ([]byte, error) {
	a, err := k.AuditKeys(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	return a.CheckpointMAC(msg), nil
}
