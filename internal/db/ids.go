package db

import (
	"context"
	"fmt"
	"sync"
)

// idBlockSize is how many ids one round trip to the database reserves.
// Unused ids of a block are lost at shutdown; gaps are harmless.
const idBlockSize = 1024

// IDAllocator hands out row ids that are unique across every table and
// every process sharing the database. Ids are known before a row is
// written, so encrypted columns can bind the row id into their AAD, and the
// (slower) encryption runs before the write instead of inside it.
type IDAllocator struct {
	db   *DB
	mu   sync.Mutex
	next int64
	end  int64
}

func newIDAllocator(d *DB) *IDAllocator { return &IDAllocator{db: d} }

// Next returns a fresh id. It must not be called from inside DB.Write.
func (a *IDAllocator) Next(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next >= a.end {
		if err := a.reserve(ctx); err != nil {
			return 0, err
		}
	}
	id := a.next
	a.next++
	return id, nil
}

// reserve takes the next block in its own small transaction, so the block
// stays taken even when the write that needed it rolls back.
func (a *IDAllocator) reserve(ctx context.Context) error {
	var end int64
	err := a.db.Write(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx,
			`UPDATE id_blocks SET next_id = next_id + $1 WHERE name = 'global' RETURNING next_id`,
			idBlockSize).Scan(&end)
	})
	if err != nil {
		return fmt.Errorf("reserve row ids: %w", err)
	}
	a.next, a.end = end-idBlockSize, end
	return nil
}

// NextIn returns a fresh id from inside a write. It uses the reserved
// block when one is at hand; otherwise it takes a single id in tx (not a
// block: if tx rolls back, so does the id, and no one else can have been
// handed it).
func (a *IDAllocator) NextIn(ctx context.Context, tx *Tx) (int64, error) {
	// TryLock, not Lock: a Next that is reserving a block holds the mutex
	// while its own write waits for the writer, and on SQLite this may be
	// the writer goroutine: waiting here would deadlock them both.
	if a.mu.TryLock() {
		if a.next < a.end {
			id := a.next
			a.next++
			a.mu.Unlock()
			return id, nil
		}
		a.mu.Unlock()
	}
	var next int64
	if err := tx.QueryRowContext(ctx, `UPDATE id_blocks SET next_id = next_id + 1 WHERE name = 'global' RETURNING next_id`).Scan(&next); err != nil {
		return 0, fmt.Errorf("take a row id: %w", err)
	}
	return next - 1, nil
}
