package audit_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
)

func TestChainVerifies(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		e.write(t, 25)
		if err := e.log.Checkpoint(ctx, e.ws); err != nil {
			t.Fatal(err)
		}
		e.write(t, 5)
		var seen int64
		rep, err := e.log.Verify(ctx, e.ws, func(n int64) { seen = n })
		if err != nil || !rep.OK {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		if rep.Checked != 30 || rep.FirstSeq != 1 || rep.LastSeq != 30 || rep.Checkpoints != 1 || seen != 30 {
			t.Errorf("report %+v, progress %d", rep, seen)
		}
		recs, err := e.log.List(ctx, e.ws, audit.Filter{Limit: 3})
		if err != nil || len(recs) != 3 || recs[0].Seq != 30 || recs[0].IP != "203.0.113.5" || recs[0].Details["via"] != "api" {
			t.Fatalf("list: %+v %v", recs, err)
		}
	})
}

func TestRolledBackRecordNeverAppears(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		boom := errors.New("the change failed")
		err := e.db.Write(ctx, func(tx *db.Tx) error {
			if err := e.log.Record(ctx, tx, e.entry(1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("write: %v", err)
		}
		err = e.db.Write(ctx, func(tx *db.Tx) error { return e.log.Record(ctx, tx, e.entry(2)) })
		if err != nil {
			t.Fatal(err)
		}
		e.seal(t)
		recs, err := e.log.List(ctx, e.ws, audit.Filter{})
		if err != nil || len(recs) != 1 || recs[0].TargetID != 2 {
			t.Fatalf("records after a rollback: %+v %v", recs, err)
		}
		e.mustVerify(t)
	})
}

func TestInvalidEntriesAreRefused(t *testing.T) {
	e := newEnv(t, "sqlite", audit.Options{})
	for name, mod := range map[string]func(*audit.Entry){
		"no workspace": func(x *audit.Entry) { x.WorkspaceID = 0 },
		"actor kind":   func(x *audit.Entry) { x.ActorKind = "robot" },
		"result":       func(x *audit.Entry) { x.Result = "maybe" },
		"no action":    func(x *audit.Entry) { x.Action = "" },
		"huge details": func(x *audit.Entry) { x.Details = map[string]string{"x": string(make([]byte, 4096))} },
	} {
		x := e.entry(1)
		mod(&x)
		var ve *audit.ValidationError
		if err := e.log.Write(ctx, x); !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a ValidationError", name, err)
		}
	}
}

// TestConcurrentRecordsMakeOneChain: many writers record inside their own
// transactions while a sealer chains, then the chain is whole.
func TestConcurrentRecordsMakeOneChain(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		const writers, each = 32, 15
		var wg sync.WaitGroup
		stop := make(chan struct{})
		sealed := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					sealed <- nil
					return
				default:
				}
				if _, err := e.log.SealPending(ctx); err != nil {
					sealed <- err
					return
				}
			}
		}()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := e.db.Write(ctx, func(tx *db.Tx) error { return e.log.Record(ctx, tx, e.entry(w*100+i)) })
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		if err := <-sealed; err != nil {
			t.Fatal(err)
		}
		e.seal(t)
		if rep := e.mustVerify(t); rep.Checked != writers*each {
			t.Errorf("checked %d records, want %d", rep.Checked, writers*each)
		}
	})
}

// TestRacingSealersMakeOneChain: two Log instances (as on two servers) seal
// the same workspace at once.
func TestRacingSealersMakeOneChain(t *testing.T) {
	eachKind(t, func(t *testing.T, e *env) {
		other := audit.New(e.db, e.keys, audit.Options{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					if err := e.log.Write(ctx, e.entry(w*100+i)); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		for _, l := range []*audit.Log{e.log, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 40 {
					if _, err := l.SealPending(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		e.seal(t)
		if rep := e.mustVerify(t); rep.Checked != 200 || rep.LastSeq != 200 {
			t.Errorf("report %+v", rep)
		}
	})
}
