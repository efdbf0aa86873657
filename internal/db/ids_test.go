package db_test

import (
	"sync"
	"testing"

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
