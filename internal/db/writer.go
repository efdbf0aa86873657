package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// groupWriter owns SQLite's single write connection. Callers queue write
// functions; the writer runs as many as are waiting (up to maxBatch) in one
// transaction and commits once, so one fsync acknowledges the whole batch.
type groupWriter struct {
	db       *sql.DB
	stmts    *stmtCache
	dialect  Dialect
	maxBatch int
	queue    chan *writeReq
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

type writeReq struct {
	ctx    context.Context
	fn     func(*Tx) error
	result chan error
}

// errWriterClosed is returned to writes submitted after Close.
var errWriterClosed = errors.New("database is closing")

func newGroupWriter(db *sql.DB, stmts *stmtCache, maxBatch int) *groupWriter {
	w := &groupWriter{
		db:       db,
		stmts:    stmts,
		dialect:  SQLite,
		maxBatch: maxBatch,
		queue:    make(chan *writeReq, maxBatch*4),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

func (w *groupWriter) submit(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case w.queue <- req:
	case <-w.stop:
		return errWriterClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the verdict even if ctx ends: the write may
	// already be committed and the caller must not believe otherwise. A
	// request that slipped into the queue after the writer stopped gets
	// no verdict from it.
	select {
	case err := <-req.result:
		return err
	case <-w.done:
		select {
		case err := <-req.result:
			return err
		default:
			return errWriterClosed
		}
	}
}

func (w *groupWriter) close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *groupWriter) run() {
	defer close(w.done)
	batch := make([]*writeReq, 0, w.maxBatch)
	for {
		select {
		case req := <-w.queue:
			batch = append(batch[:0], req)
		case <-w.stop:
			w.drain()
			return
		}
	fill:
		for len(batch) < w.maxBatch {
			select {
			case req := <-w.queue:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		w.commitBatch(batch)
	}
}

// drain answers writes still queued at shutdown by running them: they were
// accepted, so they are finished rather than dropped.
func (w *groupWriter) drain() {
	for {
		select {
		case req := <-w.queue:
			w.commitBatch([]*writeReq{req})
		default:
			return
		}
	}
}

type outcome struct {
	tx  *Tx
	err error
}

func (w *groupWriter) commitBatch(batch []*writeReq) {
	ctx := context.Background()
	stx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		for _, req := range batch {
			req.result <- fmt.Errorf("begin: %w", err)
		}
		return
	}
	results := make([]outcome, len(batch))
	for i, req := range batch {
		results[i] = w.runOne(stx, req)
	}
	if err := stx.Commit(); err != nil {
		for i, req := range batch {
			if results[i].err == nil {
				results[i].err = fmt.Errorf("commit: %w", err)
			}
			req.result <- results[i].err
		}
		return
	}
	for i, req := range batch {
		if results[i].err == nil {
			results[i].tx.runAfterCommit()
		}
		req.result <- results[i].err
	}
}

// A write shares its transaction with the rest of the batch, so its
// statements must not be interrupted by its own context (the driver would
// abort the whole shared transaction): cancellation is honoured before the
// write starts, in runOne.

// runOne runs one queued write inside its own savepoint so that its failure
// (or panic) undoes only its own statements.
func (w *groupWriter) runOne(stx *sql.Tx, req *writeReq) (out outcome) {
	if err := req.ctx.Err(); err != nil {
		return outcome{err: err}
	}
	ctx := context.Background()
	if _, err := stx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		return outcome{err: fmt.Errorf("savepoint: %w", err)}
	}
	tx := &Tx{tx: stx, dialect: w.dialect, stmts: w.stmts, shared: true}
	defer func() {
		if p := recover(); p != nil {
			out = outcome{err: fmt.Errorf("write panicked: %v", p)}
		}
		if out.err != nil {
			// Roll back this write alone; the batch goes on.
			_, _ = stx.ExecContext(ctx, "ROLLBACK TO w")
		}
		_, _ = stx.ExecContext(ctx, "RELEASE w")
	}()
	if err := req.fn(tx); err != nil {
		return outcome{err: err}
	}
	return outcome{tx: tx}
}
