package keyring_test

import (
	"bytes"
	"testing"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// TestAuditKeysAreStablePerWorkspaceAndNeedTheMasterKey: checkpoints signed
// today verify tomorrow (another process, the same master key), never in
// another workspace, and a wrong master key cannot produce them.
func TestAuditKeysAreStablePerWorkspaceAndNeedTheMasterKey(t *testing.T) {
	eachKind(t, func(t *testing.T, d *db.DB, k *keyring.Keyring, ws int64) {
		msg := []byte("checkpoint 42")
		a, err := k.AuditKeys(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		mac := a.CheckpointMAC(msg)
		if !a.VerifyCheckpoint(msg, mac) || a.VerifyCheckpoint([]byte("checkpoint 43"), mac) {
			t.Error("checkpoint MAC does not verify its own message only")
		}
		if bytes.Equal(a.RecordMAC(msg), mac) || a.VerifyRecord(msg, mac) {
			t.Error("record and checkpoint keys are the same")
		}
		again, err := k.AuditCheckpointMAC(ctx, ws, msg)
		if err != nil || !bytes.Equal(again, mac) {
			t.Errorf("second derivation differs: %v", err)
		}
		other, err := k.AuditKeys(ctx, newWorkspace(t, d, k))
		if err != nil || other.VerifyCheckpoint(msg, mac) {
			t.Errorf("another workspace's key verifies this checkpoint (%v)", err)
		}
		if _, err := keyring.Open(ctx, d, randomKey(t)); err == nil {
			t.Error("a wrong master key opened the keyring")
		}
	})
}
