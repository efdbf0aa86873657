package audit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/audit"
)

// clock is a settable time for a Log.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func TestPruneKeepsVerificationFromTheCheckpoint(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			c := &clock{now: time.Now().Add(-400 * 24 * time.Hour)}
			e := newEnv(t, kind, audit.Options{Now: c.Now, UnsealedBound: 1000 * 24 * time.Hour})
			e.write(t, 10)
			if err := e.log.Checkpoint(ctx, e.ws); err != nil { // seq 10, 400 days ago
				t.Fatal(err)
			}
			e.write(t, 5)
			c.set(time.Now().Add(-200 * 24 * time.Hour))
			if err := e.log.Checkpoint(ctx, e.ws); err != nil { // seq 15, 200 days ago
				t.Fatal(err)
			}
			c.set(time.Now())
			e.write(t, 5)
			if err := e.log.Checkpoint(ctx, e.ws); err != nil { // seq 20, now
				t.Fatal(err)
			}

			n, err := e.log.Prune(ctx, e.ws, time.Now().Add(-365*24*time.Hour))
			if err != nil || n != 10 {
				t.Fatalf("prune past a year: %d %v, want 10 records", n, err)
			}
			rep := e.mustVerify(t)
			if rep.FirstSeq != 11 || rep.LastSeq != 21 || rep.Checkpoints != 3 {
				t.Errorf("after prune: %+v (seq 21 is the prune's own record)", rep)
			}
			if n, err := e.log.Prune(ctx, e.ws, time.Now().Add(-365*24*time.Hour)); err != nil || n != 0 {
				t.Errorf("pruning again: %d %v", n, err)
			}
			if n, err := e.log.Prune(ctx, e.ws, time.Now().Add(-100*24*time.Hour)); err != nil || n != 5 {
				t.Fatalf("prune past 100 days: %d %v", n, err)
			}
			e.write(t, 2)
			rep = e.mustVerify(t)
			if rep.FirstSeq != 16 || rep.Checkpoints != 2 {
				t.Errorf("after the second prune: %+v", rep)
			}
			recs, err := e.log.List(ctx, e.ws, audit.Filter{Action: "audit.prune"})
			if err != nil || len(recs) != 2 || recs[0].Details["through"] != "15" {
				t.Errorf("prune records: %+v %v", recs, err)
			}

			// Deleting further than a prune said is still caught.
			e.exec(t, `DELETE FROM audit_log WHERE workspace_id = $1 AND seq <= 16`, e.ws)
			if rep := e.verify(t); rep.OK || rep.Problem.Kind != audit.Missing {
				t.Errorf("prefix deleted past the prune: %+v %v", rep, rep.Problem)
			}
		})
	}
}

// TestKeyRotationKeepsTheChain: re-encrypting the sealed IP addresses and
// user agents under a new data key changes their ciphertext, not the chain.
func TestKeyRotationKeepsTheChain(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		e.write(t, 12)
		if _, err := e.keys.Rotate(ctx, e.ws); err != nil {
			t.Fatal(err)
		}
		n, err := e.keys.Reencrypt(ctx, e.ws, nil)
		if err != nil || n < 24 {
			t.Fatalf("re-encrypt: %d %v", n, err)
		}
		e.write(t, 2)
		e.mustVerify(t)
	})
}
