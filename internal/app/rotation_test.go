package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

var ctx = context.Background()

func seedTickets(t *testing.T, a *app.App, f *testutil.Fixture, n int) []ticket.Ticket {
	t.Helper()
	var out []ticket.Ticket
	for i := 0; i < n; i++ {
		tk, err := a.Tickets.Create(ctx, f.System(), ticket.NewTicket{Subject: fmt.Sprintf("rotation subject %d", i),
			Body: fmt.Sprintf("body %d with کارت", i), Customer: &customer.NewCustomer{Email: fmt.Sprintf("r%d@example.com", i%37), Name: "R"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tk)
	}
	return out
}

func versionsOf(t *testing.T, a *app.App, ws int64) map[string]keyring.KeyVersion {
	t.Helper()
	st, err := a.Keys.Status(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]keyring.KeyVersion{}
	for _, v := range st {
		out[fmt.Sprintf("%s/%d", v.Purpose, v.Version)] = v
	}
	return out
}

// TestInterruptedReencryptionResumesWithNothingLost rotates a workspace's
// key, cancels re-encryption midway while tickets keep being written, then
// resumes: every value ends up under the new version and still reads back.
func TestInterruptedReencryptionResumesWithNothingLost(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		tickets := seedTickets(t, a, f, 1200) // more than two re-encryption batches
		before := versionsOf(t, a, f.WS.ID)["data/1"].Values
		if before < 2400 {
			t.Fatalf("only %d values under version 1", before)
		}
		v, err := a.Keys.Rotate(ctx, f.WS.ID)
		if err != nil || v != 2 {
			t.Fatalf("rotate: %d %v", v, err)
		}

		// Writes go on during re-encryption, under the new version.
		stop := make(chan struct{})
		var written atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := a.Tickets.AddMessage(ctx, f.System(), tickets[i%len(tickets)].Number, ticket.NewMessage{Kind: ticket.KindReply, Body: "during rotation"}); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		}()

		cctx, cancel := context.WithCancel(ctx)
		batches := 0
		_, err = a.Keys.Reencrypt(cctx, f.WS.ID, func(keyring.Progress) {
			if batches++; batches == 2 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted re-encryption: %v, want context canceled", err)
		}
		mid := versionsOf(t, a, f.WS.ID)
		if mid["data/1"].Values == 0 || mid["data/2"].Values == 0 {
			t.Fatalf("interruption was not midway: %+v", mid)
		}
		if _, err := a.Keys.Reencrypt(ctx, f.WS.ID, nil); err != nil {
			t.Fatalf("resume: %v", err)
		}
		close(stop)
		wg.Wait()
		if written.Load() == 0 {
			t.Fatal("no writes happened during re-encryption")
		}
		after := versionsOf(t, a, f.WS.ID)
		if after["data/1"].Values != 0 || after["data/1"].State != "decrypt-only" || after["data/2"].State != "active" {
			t.Errorf("after resume: %+v", after)
		}
		// Every ticket and message still reads back intact.
		for _, tk := range tickets {
			got, err := a.Tickets.Get(ctx, f.System(), tk.Number)
			if err != nil || got.Subject != tk.Subject {
				t.Fatalf("ticket %d after rotation: %q %v", tk.Number, got.Subject, err)
			}
		}
		msgs, err := a.Tickets.Messages(ctx, f.System(), tickets[0].Number, 0, 1000)
		if err != nil || len(msgs) < 1 || msgs[0].Body != "body 0 with کارت" {
			t.Fatalf("messages after rotation: %v %v", msgs, err)
		}
		// Too soon to retire: another instance may still seal under v1.
		retired, err := a.Keys.RetireUnused(ctx, f.WS.ID)
		if err != nil || len(retired) != 0 {
			t.Errorf("retired %v (%v) right after rotation", retired, err)
		}
	})
}

// TestRotatedMasterKeyKeepsDataAndTokens re-wraps every key under a new
// master key: the data reads back and API tokens still authenticate, and
// the old key no longer opens the database.
func TestRotatedMasterKeyKeepsDataAndTokens(t *testing.T) {
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			url, path := testutil.NewDatabase(t, kind)
			dir := t.TempDir()
			cfg := app.Config{DataDir: dir, DatabaseURL: url}
			if path != "" {
				cfg.DataDir = path[:len(path)-len("/hesar.db")]
			}
			a, err := app.Open(ctx, cfg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			f := testutil.NewFixture(t, a)
			tk := seedTickets(t, a, f, 3)[2]
			newKey := keyring.NewMasterKey()
			newFile := dir + "/new.key"
			if err := os.WriteFile(newFile, []byte(newKey), 0o600); err != nil {
				t.Fatal(err)
			}
			raw, _, err := keyring.LoadMaster(newFile, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Keys.RotateMaster(ctx, raw); err != nil {
				t.Fatal(err)
			}
			a.Close()

			if _, err := app.Open(ctx, cfg, nil, nil); !errors.Is(err, keyring.ErrWrongMasterKey) {
				t.Errorf("old master key still opens the database: %v", err)
			}
			cfg.MasterKeyFile = newFile
			b, err := app.Open(ctx, cfg, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got, err := b.Tickets.Get(ctx, f.System(), tk.Number)
			if err != nil || got.Subject != tk.Subject {
				t.Errorf("ticket after master rotation: %+v %v", got, err)
			}
			if _, err := b.Identity.Authenticate(ctx, f.Tokens["admin"]); err != nil {
				t.Errorf("API token after master rotation: %v", err)
			}
		})
	}
}
