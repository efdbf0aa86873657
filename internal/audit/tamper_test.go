package audit_test

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
)

func (e *env) hashAt(t *testing.T, seq int64) []byte {
	t.Helper()
	var h []byte
	if err := e.db.Read().QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE workspace_id = $1 AND seq = $2`, e.ws, seq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// forge inserts a record as an attacker with database access would: every
// field plausible, the chain hash recomputed, but no key for the MAC.
func (e *env) forge(t *testing.T, seq any, prev []byte) {
	t.Helper()
	mac := make([]byte, 32)
	_, _ = rand.Read(mac)
	var hash []byte
	if prev != nil {
		h := sha256.New()
		h.Write([]byte("hesar-audit-chain-v1"))
		h.Write(prev)
		h.Write(mac)
		hash = h.Sum(nil)
	}
	id, _ := rand.Int(rand.Reader, big.NewInt(1<<40))
	now := db.Now()
	e.exec(t, `INSERT INTO audit_log (id, workspace_id, seq, prev_hash, hash, mac, at, created_at, actor_kind, actor_id, action, target_kind, target_id, result)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'user', 1, 'ticket.view', 'ticket', 1, 'ok')`,
		id.Int64()+1<<50, e.ws, seq, prev, hash, mac, now, now)
}

// shift renumbers records from seq on by delta, in two steps so no
// intermediate state breaks the unique index.
func (e *env) shift(t *testing.T, from, delta int64) {
	t.Helper()
	e.exec(t, `UPDATE audit_log SET seq = -seq WHERE workspace_id = $1 AND seq >= $2`, e.ws, from)
	e.exec(t, `UPDATE audit_log SET seq = -seq + $2 WHERE workspace_id = $1 AND seq < 0`, e.ws, delta)
}

// TestTamperedAuditRowIsDetected edits, deletes, reorders and inserts rows
// directly in the database, and forges checkpoints: Verify names the first
// broken record each time.
func TestTamperedAuditRowIsDetected(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, e *env)
		kind   string
		seq    int64
	}{
		{"edit a field", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_log SET action = 'ticket.list' WHERE workspace_id = $1 AND seq = 7`, e.ws)
		}, audit.Edited, 7},
		{"edit a time", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_log SET at = at - 3600000000 WHERE workspace_id = $1 AND seq = 12`, e.ws)
		}, audit.Edited, 12},
		{"move a sealed IP address to another record", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_log SET ip_enc = (SELECT ip_enc FROM audit_log WHERE workspace_id = $1 AND seq = 3) WHERE workspace_id = $1 AND seq = 7`, e.ws)
		}, audit.Edited, 7},
		{"erase a user agent", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_log SET agent_enc = NULL WHERE workspace_id = $1 AND seq = 4`, e.ws)
		}, audit.Edited, 4},
		{"delete a row", func(t *testing.T, e *env) {
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 7`, e.ws)
		}, audit.Missing, 7},
		{"delete a row and renumber the rest", func(t *testing.T, e *env) {
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq = 7`, e.ws)
			e.shift(t, 8, -1)
		}, audit.Missing, 7},
		{"swap two rows", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_log SET seq = -1 WHERE workspace_id = $1 AND seq = 7`, e.ws)
			e.exec(t, `UPDATE audit_log SET seq = 7 WHERE workspace_id = $1 AND seq = 8`, e.ws)
			e.exec(t, `UPDATE audit_log SET seq = 8 WHERE workspace_id = $1 AND seq = -1`, e.ws)
		}, audit.Reordered, 7},
		{"insert a forged row in the middle", func(t *testing.T, e *env) {
			prev := e.hashAt(t, 7)
			e.shift(t, 8, 1)
			e.forge(t, 8, prev)
		}, audit.Inserted, 8},
		{"append a forged row", func(t *testing.T, e *env) {
			e.forge(t, 21, e.hashAt(t, 20))
		}, audit.Inserted, 21},
		{"insert a forged row for the sealer to chain", func(t *testing.T, e *env) {
			e.forge(t, nil, nil)
		}, audit.Inserted, 0},
		{"truncate the tail", func(t *testing.T, e *env) {
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq >= 15`, e.ws)
		}, audit.Missing, 15},
		{"truncate the tail past a checkpoint, head too", func(t *testing.T, e *env) {
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq >= 6`, e.ws)
			e.exec(t, `DELETE FROM audit_heads WHERE workspace_id = $1`, e.ws)
		}, audit.Missing, 6},
		{"delete the oldest rows", func(t *testing.T, e *env) {
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq <= 10`, e.ws)
		}, audit.Missing, 1},
		{"forge a checkpoint", func(t *testing.T, e *env) {
			mac := make([]byte, 32)
			_, _ = rand.Read(mac)
			e.exec(t, `INSERT INTO audit_checkpoints (id, workspace_id, seq, hash, at, mac) VALUES ($1, $2, 15, $3, $4, $5)`,
				int64(1<<52), e.ws, e.hashAt(t, 15), db.Now(), mac)
		}, audit.BadCheckpoint, 15},
		{"edit a checkpoint", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_checkpoints SET hash = $2 WHERE workspace_id = $1`, e.ws, e.hashAt(t, 9))
		}, audit.BadCheckpoint, 10},
		{"edit the chain head", func(t *testing.T, e *env) {
			e.exec(t, `UPDATE audit_heads SET seq = 19, hash = $2 WHERE workspace_id = $1`, e.ws, e.hashAt(t, 19))
		}, audit.BadCheckpoint, 19},
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					e := newEnv(t, kind, audit.Options{})
					e.write(t, 10)
					if err := e.log.Checkpoint(ctx, e.ws); err != nil {
						t.Fatal(err)
					}
					e.write(t, 10)
					e.mustVerify(t)
					c.tamper(t, e)
					rep := e.verify(t)
					if rep.OK || rep.Problem == nil {
						t.Fatalf("verify after tampering: OK %+v", rep)
					}
					if rep.Problem.Kind != c.kind || rep.Problem.Seq != c.seq {
						t.Errorf("verify found %v, want %s at seq %d", rep.Problem, c.kind, c.seq)
					}
				})
			}
		})
	}
}

func TestRecordLeftUnsealedIsSuspicious(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		e.write(t, 3)
		past := audit.New(e.db, e.keys, audit.Options{Now: func() time.Time { return time.Now().Add(-time.Hour) }})
		if err := past.Write(ctx, e.entry(9)); err != nil {
			t.Fatal(err)
		}
		rep := e.verify(t)
		if rep.OK || rep.Problem.Kind != audit.UnsealedTooLong {
			t.Fatalf("verify: %+v %v", rep, rep.Problem)
		}
		if err := e.log.Write(ctx, e.entry(10)); err != nil {
			t.Fatal(err)
		}
		e.seal(t)
		if rep := e.mustVerify(t); rep.Checked != 5 || rep.Pending != 0 {
			t.Errorf("after sealing: %+v", rep)
		}
	})
}
