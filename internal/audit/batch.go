package audit

import (
	"context"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// Reads of sensitive data are recorded asynchronously, in batches: the
// record is sealed and queued before the data is sent (so a read whose
// record cannot even be prepared is refused), and committed within
// readFlushEvery, together with the other reads of that moment. Changes
// are different: Record writes them inside the change's own transaction.
//
// Why: a ticket view must not wait for a durable commit of its own (on
// these disks that doubled the cost of a view), and the budget for
// auditing reads is 20% of the request. The price, written in
// docs/AUDIT.md: if the process dies, the reads of its last
// readFlushEvery may go unrecorded. A full queue makes readers wait
// rather than drop records.
const (
	readFlushEvery = 50 * time.Millisecond
	maxReadBatch   = 512
	readQueue      = 8192
)

// WriteRead queues the record of a read of sensitive data.
func (l *Log) WriteRead(ctx context.Context, e Entry) error {
	r, err := l.prepare(e)
	if err != nil {
		return err
	}
	id, err := l.db.IDs().Next(ctx)
	if err != nil {
		return err
	}
	if err := l.finish(ctx, r, id); err != nil {
		return err
	}
	b := batcherOf(l)
	b.start(l)
	select {
	case b.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FlushReads commits every read record queued so far (tests, shutdown,
// and before the log is listed on this instance).
func (l *Log) FlushReads(ctx context.Context) error {
	b := batcherOf(l)
	b.start(l)
	done := make(chan error, 1)
	select {
	case b.flush <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readBatcher is WriteRead's state for one Log.
type readBatcher struct {
	once  sync.Once
	queue chan *row
	flush chan chan error
}

func (b *readBatcher) start(l *Log) {
	b.once.Do(func() {
		b.queue = make(chan *row, readQueue)
		b.flush = make(chan chan error)
		go l.writeReads(b)
	})
}

var (
	batchersMu sync.Mutex
	batchers   = map[*Log]*readBatcher{}
)

// batcherOf returns l's batcher. It lives beside Log rather than in it so
// that this file alone owns it.
func batcherOf(l *Log) *readBatcher {
	batchersMu.Lock()
	defer batchersMu.Unlock()
	b, ok := batchers[l]
	if !ok {
		b = &readBatcher{}
		batchers[l] = b
	}
	return b
}

// writeReads commits queued read records every readFlushEvery (or sooner
// when a batch fills), for the life of the process. A failed commit is
// retried with the same records; they are never dropped.
func (l *Log) writeReads(b *readBatcher) {
	var pending []*row
	tick := time.NewTicker(readFlushEvery)
	defer tick.Stop()
	commit := func() error {
		for len(pending) > 0 {
			n := min(len(pending), maxReadBatch)
			batch := pending[:n]
			err := l.db.Write(context.Background(), func(tx *db.Tx) error {
				for _, r := range batch {
					if err := r.insert(context.Background(), tx); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				l.log.Error("audit: writing read records failed; retrying", "records", len(pending), "error", err.Error())
				return err
			}
			pending = pending[n:]
		}
		pending = nil
		return nil
	}
	for {
		select {
		case r := <-b.queue:
			pending = append(pending, r)
			if len(pending) >= maxReadBatch {
				_ = commit()
			}
		case <-tick.C:
			_ = commit()
		case done := <-b.flush:
			for drained := false; !drained; {
				select {
				case r := <-b.queue:
					pending = append(pending, r)
				default:
					drained = true
				}
			}
			done <- commit()
		}
	}
}
