package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
)

// allocate calls Next perGoroutine times on each of the handles from
// goroutines goroutines each (spread over the handles) and returns every
// id handed out.
func allocate(t *testing.T, handles []*db.DB, goroutines, perGoroutine int) []int64 {
	t.Helper()
	var mu sync.Mutex
	var all []int64
	var wg sync.WaitGroup
	for g := range goroutines {
		d := handles[g%len(handles)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]int64, 0, perGoroutine)
			for range perGoroutine {
				id, err := d.IDs().Next(ctx)
				if err != nil {
					t.Errorf("Next: %v", err)
					return
				}
				got = append(got, id)
			}
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

func assertUnique(t *testing.T, ids []int64, want int) {
	t.Helper()
	if len(ids) != want {
		t.Fatalf("got %d ids, want %d", len(ids), want)
	}
	seen := make(map[int64]bool, len(ids))
	dups := 0
	for _, id := range ids {
		if id <= 0 {
			t.Errorf("id %d is not positive", id)
		}
		if seen[id] {
			dups++
		}
		seen[id] = true
	}
	if dups > 0 {
		t.Errorf("%d duplicate ids among %d", dups, len(ids))
	}
}

func TestIDsAreUniqueAcrossGoroutines(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		d := testutil.DB(t, kind)
		assertUnique(t, allocate(t, []*db.DB{d}, 50, 200), 50*200)
	})
}

func TestIDsAreUniqueAcrossHandlesOnOneDatabase(t *testing.T) {
	eachKind(t, func(t *testing.T, kind string) {
		first, opts := openUnmigrated(t, kind)
		if _, err := first.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		second, err := db.Open(ctx, opts)
		if err != nil {
			t.Fatalf("open a second handle: %v", err)
		}
		defer second.Close()
		assertUnique(t, allocate(t, []*db.DB{first, second}, 50, 200), 50*200)
	})
}

// TestNextInWorksInsideAWriteWithNoBlockLeft: a fresh allocator has no
// block, and taking an id inside a write must neither deadlock on the
// single writer nor hand out an id a later block could repeat.
func TestNextInWorksInsideAWriteWithNoBlockLeft(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			d := testutil.FreshDB(t, kind)
			ctx := context.Background()
			var inside int64
			err := d.Write(ctx, func(tx *db.Tx) error {
				var err error
				inside, err = d.IDs().NextIn(ctx, tx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			after, err := d.IDs().Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after == inside {
				t.Fatalf("id %d handed out twice", inside)
			}
			// A rolled-back write gives its id back to no one else: the
			// sequence moved on regardless of the block.
			var rolled int64
			_ = d.Write(ctx, func(tx *db.Tx) error {
				rolled, _ = d.IDs().NextIn(ctx, tx)
				return context.Canceled
			})
			if rolled == 0 || rolled == inside {
				t.Fatalf("rolled-back id %d", rolled)
			}
		})
	}
}

// TestNextInNeverWaitsForABlockReservation: many goroutines drain blocks
// with Next while writes call NextIn; on SQLite the writer goroutine must
// never wait for a Next that waits for the writer.
func TestNextInNeverWaitsForABlockReservation(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			d := testutil.FreshDB(t, kind)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			seen := sync.Map{}
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 600 {
						var id int64
						var err error
						if (g+i)%2 == 0 {
							id, err = d.IDs().Next(ctx)
						} else {
							err = d.Write(ctx, func(tx *db.Tx) error {
								id, err = d.IDs().NextIn(ctx, tx)
								return err
							})
						}
						if err != nil {
							t.Error(err)
							return
						}
						if _, dup := seen.LoadOrStore(id, true); dup {
							t.Errorf("id %d handed out twice", id)
							return
						}
					}
				}()
			}
			wg.Wait()
			if ctx.Err() != nil {
				t.Fatal("deadlocked")
			}
		})
	}
}
