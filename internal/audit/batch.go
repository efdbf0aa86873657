package audit

import (
	"context"
	"sync"

	"github.com/hesar/hesar/internal/db"
)

// WriteRead records a read of sensitive data and returns once the record
// is committed, like Write. On PostgreSQL concurrent reads are written
// together: one
// goroutine takes whatever is waiting (up to maxReadBatch) and commits it
// in one transaction, so under load a record costs a share of one commit
// instead of a commit of its own. The caller still never sends data whose
// read was not recorded.
func (l *Log) WriteRead(ctx context.Context, e Entry) error {
	if l.db.Dialect() == db.SQLite {
		// SQLite's single writer already commits concurrent writes
		// together; a second queue in front of it only adds a hop.
		return l.Write(ctx, e)
	}
	// Seal and MAC on the caller's goroutine, in parallel with others (on
	// SQLite the batch runs on the single writer); the batch only inserts.
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
	req := readReq{r: r, done: make(chan error, 1)}
	b := batcherOf(l)
	b.once.Do(func() {
		b.reads = make(chan readReq, 4*maxReadBatch)
		go l.writeReads(b.reads)
	})
	select {
	case b.reads <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

const maxReadBatch = 256

type readReq struct {
	r    *row
	done chan error
}

// readBatcher is WriteRead's state for one Log.
type readBatcher struct {
	once  sync.Once
	reads chan readReq
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

// writeReads commits waiting read records in batches, for the life of the
// process.
func (l *Log) writeReads(reads chan readReq) {
	batch := make([]readReq, 0, maxReadBatch)
	for first := range reads {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxReadBatch {
			select {
			case next := <-reads:
				batch = append(batch, next)
			default:
				break drain
			}
		}
		ctx := context.Background()
		err := l.db.Write(ctx, func(tx *db.Tx) error {
			for _, q := range batch {
				if err := q.r.insert(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		})
		for _, q := range batch {
			q.done <- err
		}
	}
}
