package backup_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/backup"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestRestoreDrill is the operations runbook's drill: tickets are written
// continuously, a backup is taken mid-stream, and the restore into the
// other kind of database holds every ticket acknowledged before the backup
// began, identical, while writes went on during the backup itself.
func TestRestoreDrill(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind+"_to_"+other[kind], func(t *testing.T) {
			cfg := newConfig(t, kind, newMaster())
			a := openApp(t, cfg)
			fx := testutil.NewFixture(t, a)
			cust := fx.Scope(t, "customer")

			var mu sync.Mutex
			var acked []int64 // ticket numbers whose Create returned success
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var writeErr error
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						tk, err := a.Tickets.Create(ctx, cust, ticket.NewTicket{
							Subject: fmt.Sprintf("drill %d-%d", w, i), Body: "card " + card + " please refund"})
						mu.Lock()
						if err != nil && writeErr == nil {
							writeErr = err
						}
						if err == nil {
							acked = append(acked, tk.Number)
						}
						mu.Unlock()
					}
				}()
			}
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
			mu.Lock()
			before := append([]int64(nil), acked...)
			mu.Unlock()
			id, rcpt := x25519(t)
			archive := take(t, a, backup.CreateOptions{Recipients: rcpt})
			mu.Lock()
			during := len(acked) - len(before)
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // writes keep going after the backup too
			close(stop)
			wg.Wait()
			if writeErr != nil {
				t.Fatalf("a write failed during the backup: %v", writeErr)
			}
			t.Logf("%d tickets acknowledged before the backup, %d while it ran, %d in all; archive %d bytes",
				len(before), during, len(acked), len(archive))

			restored := openApp(t, restoreInto(t, other[kind], cfg.MasterKey, archive, id))
			for _, n := range before {
				sameTicket(t, readTicket(t, a, fx.WS.ID, n), readTicket(t, restored, fx.WS.ID, n))
			}
			if _, err := backup.Verify(ctx, bytes.NewReader(archive), backup.RestoreOptions{Identities: idents(id)}); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
