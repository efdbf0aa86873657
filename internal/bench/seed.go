package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// seedWorkers is how many tickets are created at once while seeding: enough
// to fill the write path's batches, so seeding a million tickets takes
// minutes, not hours.
const seedWorkers = 32

// seed creates n tickets and remembers their numbers for get and reply.
// Nothing else is kept per ticket, so memory stays bounded (8 bytes per
// ticket) however large n is. In a reused workspace that already had
// tickets, get and reply pick from all of them instead: every number up to
// the highest.
func (t *target) seed(ctx context.Context, n int, progress io.Writer) error {
	t.numbers = make([]int64, n)
	err := parallel(ctx, n, seedWorkers, "tickets", progress, func(ctx context.Context, tx *texts, i int) error {
		num, err := t.seedTicket(ctx, tx, i)
		t.numbers[i] = num
		return err
	})
	if err == nil && t.existing > 0 {
		for _, num := range t.numbers {
			t.maxNumber = max(t.maxNumber, num)
		}
		t.numbers = nil
	}
	return err
}

// pickStatus spreads seeded tickets over statuses the way a help desk that
// has run for a while looks: most tickets solved, a queue of new and open.
func pickStatus(tx *texts) string {
	switch r := tx.rng.IntN(100); {
	case r < 15:
		return "new"
	case r < 35:
		return "open"
	case r < 50:
		return "pending"
	default:
		return "solved"
	}
}

// pickPriority makes most tickets normal, a few urgent.
func pickPriority(tx *texts) string {
	switch r := tx.rng.IntN(100); {
	case r < 20:
		return "low"
	case r < 80:
		return "normal"
	case r < 95:
		return "high"
	default:
		return "urgent"
	}
}

// parallel calls fn for every i in [0, n) from workers goroutines, each
// with its own random source, stops at the first error and prints progress
// about every second.
func parallel(ctx context.Context, n, workers int, what string, progress io.Writer,
	fn func(ctx context.Context, tx *texts, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			tx := newTexts(newRand())
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, tx, i); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	stop := reportProgress(progress, what, n, &done)
	wg.Wait()
	stop()
	return context.Cause(ctx)
}

// reportProgress prints "seeded 12,000/100,000 tickets (4,100/s)" every
// second until stopped, then a final line with the average rate.
func reportProgress(w io.Writer, what string, n int, done *atomic.Int64) (stop func()) {
	if n == 0 {
		return func() {}
	}
	start := time.Now()
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				d := done.Load()
				rate := float64(d-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(w, "seeded %s/%s %s (%s/s)\n", thousands(d), thousands(int64(n)), what, thousands(int64(rate)))
				last, lastAt = d, now
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		el := time.Since(start)
		fmt.Fprintf(w, "seeded %s %s in %.1fs (%s/s)\n", thousands(done.Load()), what, el.Seconds(),
			thousands(int64(float64(done.Load())/el.Seconds())))
	}
}

// newRand returns an independent random source for one worker. Runs need
// not be reproducible, only varied.
func newRand() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }
