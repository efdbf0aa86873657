package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

var errRefused = errors.New("refused on purpose")

// batchProbe records, for each write function as it runs, the order it ran
// in and how many rows of the table were committed at that moment. Write
// functions run one at a time on SQLite's writer, and the committed count
// only moves between transactions, so a write that ran after another and
// saw the same committed count shared its transaction.
type batchProbe struct {
	d     *db.DB
	table string
	order atomic.Int64
	mu    sync.Mutex
	runs  map[int64]probeRun // by row id
}

type probeRun struct {
	seq, committed int64
}

func newProbe(d *db.DB, table string) *batchProbe {
	return &batchProbe{d: d, table: table, runs: map[int64]probeRun{}}
}

func (p *batchProbe) record(id int64) error {
	if p.d.Dialect() != db.SQLite {
		// On PostgreSQL reads share the writers' pool: reading inside
		// 200 open write transactions would wait for a free connection
		// forever. Each write is its own transaction there anyway.
		return nil
	}
	var committed int64
	if err := p.d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+p.table).Scan(&committed); err != nil {
		return err
	}
	p.mu.Lock()
	p.runs[id] = probeRun{seq: p.order.Add(1), committed: committed}
	p.mu.Unlock()
	return nil
}

// shared reports whether a write in then ran after a write in first, inside
// the same transaction (SQLite only).
func (p *batchProbe) shared(first, then []int64) bool {
	for _, a := range first {
		for _, b := range then {
			ra, rb := p.runs[a], p.runs[b]
			if rb.seq > ra.seq && rb.committed == ra.committed {
				return true
			}
		}
	}
	return false
}

// concurrently starts n goroutines at the same instant, each calling fn(i),
// and returns their errors by i.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func TestConcurrentWritesAllCommit(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		table := scratchTable(t, d)
		probe := newProbe(d, table)
		const n = 200
		errs := concurrently(n, func(i int) error {
			return d.Write(ctx, func(tx *db.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES ($1)`, i); err != nil {
					return err
				}
				return probe.record(int64(i))
			})
		})
		var want []int64
		for i, err := range errs {
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			want = append(want, int64(i))
		}
		if got := ids(t, d, table); !slices.Equal(got, want) {
			t.Errorf("after %d concurrent writes the table holds %d rows, want all %d", n, len(got), n)
		}
		if d.Dialect() == db.SQLite && !probe.shared(want, want) {
			t.Error("no two of 200 simultaneous SQLite writes shared a commit: group commit is not batching")
		}
	})
}

func TestFailingWriteRollsBackAloneInItsBatch(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		table := scratchTable(t, d)
		probe := newProbe(d, table)
		const n = 200
		fails := func(i int) bool { return i%2 == 1 }
		errs := concurrently(n, func(i int) error {
			return d.Write(ctx, func(tx *db.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES ($1)`, i); err != nil {
					return err
				}
				if err := probe.record(int64(i)); err != nil {
					return err
				}
				if fails(i) {
					return fmt.Errorf("write %d: %w", i, errRefused)
				}
				return nil
			})
		})
		var succeeded, failed []int64
		for i, err := range errs {
			switch {
			case fails(i) && !errors.Is(err, errRefused):
				t.Errorf("failing write %d returned %v, want its own error", i, err)
			case !fails(i) && err != nil:
				t.Errorf("write %d failed with %v though only its neighbours failed", i, err)
			}
			if fails(i) {
				failed = append(failed, int64(i))
			} else {
				succeeded = append(succeeded, int64(i))
			}
		}
		if got := ids(t, d, table); !slices.Equal(got, succeeded) {
			t.Errorf("rows present = %v\nwant exactly the successful writes' rows %v", got, succeeded)
		}
		if d.Dialect() == db.SQLite {
			if !probe.shared(failed, succeeded) {
				t.Error("no successful write ran after a failing one in the same transaction; the savepoint path was not exercised")
			}
			if !probe.shared(succeeded, failed) {
				t.Error("no failing write ran after a successful one in the same transaction; the savepoint path was not exercised")
			}
		}
	})
}

func TestPanickingWriteFailsAloneAndWriterGoesOn(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		table := scratchTable(t, d)
		err := d.Write(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES (1)`); err != nil {
				return err
			}
			panic("boom")
		})
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("panicking write returned %v, want an error carrying the panic", err)
		}

		// Panics in the middle of a batch leave their neighbours alone.
		errs := concurrently(100, func(i int) error {
			return d.Write(ctx, func(tx *db.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES ($1)`, 100+i); err != nil {
					return err
				}
				if i%3 == 0 {
					panic(fmt.Sprintf("write %d panics", i))
				}
				return nil
			})
		})
		var want []int64
		for i, err := range errs {
			if i%3 == 0 {
				if err == nil {
					t.Errorf("panicking write %d returned nil", i)
				}
				continue
			}
			if err != nil {
				t.Errorf("write %d beside panicking writes: %v", i, err)
			}
			want = append(want, int64(100+i))
		}

		err = d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES (1000)`)
			return err
		})
		if err != nil {
			t.Fatalf("write after panics: %v", err)
		}
		want = append(want, 1000)
		if got := ids(t, d, table); !slices.Equal(got, want) {
			t.Errorf("rows present = %v\nwant %v (no row of a panicking write)", got, want)
		}
	})
}

func TestAfterCommitRunsOnlyForCommittedWrites(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		table := scratchTable(t, d)
		type hookResult struct {
			id      int64
			visible bool
			err     error
		}
		hooks := make(chan hookResult, 200)
		errs := concurrently(100, func(i int) error {
			return d.Write(ctx, func(tx *db.Tx) error {
				id := int64(i)
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id) VALUES ($1)`, id); err != nil {
					return err
				}
				tx.AfterCommit(func() {
					var n int
					err := d.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = $1`, id).Scan(&n)
					hooks <- hookResult{id: id, visible: n == 1, err: err}
				})
				if i%2 == 1 {
					return errRefused
				}
				return nil
			})
		})
		for i, err := range errs {
			if (i%2 == 1) != errors.Is(err, errRefused) || (i%2 == 0 && err != nil) {
				t.Errorf("write %d: %v", i, err)
			}
		}
		ran := map[int64]bool{}
		for len(ran) < 50 {
			select {
			case h := <-hooks:
				switch {
				case h.err != nil:
					t.Errorf("hook of write %d: %v", h.id, h.err)
				case h.id%2 == 1:
					t.Errorf("hook of failed write %d ran", h.id)
				case !h.visible:
					t.Errorf("hook of write %d ran before its row was committed", h.id)
				case ran[h.id]:
					t.Errorf("hook of write %d ran twice", h.id)
				}
				ran[h.id] = true
			case <-time.After(5 * time.Second):
				t.Fatalf("only %d of 50 after-commit hooks ran", len(ran))
			}
		}
		select {
		case h := <-hooks:
			t.Errorf("unexpected extra hook run for write %d", h.id)
		case <-time.After(50 * time.Millisecond):
		}
	})
}

func TestCancelledWriteReturnsContextErrorAndDoesNotRun(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		err := d.Write(cctx, func(tx *db.Tx) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("write with a cancelled context returned %v, want context.Canceled", err)
		}
		if ran {
			t.Error("write function ran although its context was cancelled first")
		}
	})
}

func TestWriteCancelledWhileQueuedDoesNotRun(t *testing.T) {
	d := testutil.DB(t, "sqlite")
	running, release := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		blocker <- d.Write(ctx, func(tx *db.Tx) error {
			close(running)
			<-release
			return nil
		})
	}()
	<-running // the writer is now busy with the blocker

	cctx, cancel := context.WithCancel(ctx)
	var ran atomic.Bool
	queued := make(chan error, 1)
	go func() {
		queued <- d.Write(cctx, func(tx *db.Tx) error { ran.Store(true); return nil })
	}()
	time.Sleep(20 * time.Millisecond) // let it reach the queue
	cancel()
	close(release)

	if err := <-blocker; err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("write cancelled while queued returned %v, want context.Canceled", err)
	}
	if ran.Load() {
		t.Error("write function ran although its context was cancelled while it waited")
	}
}
