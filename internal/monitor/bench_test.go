package monitor_test

import (
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

// BenchmarkObserve is what the request path pays: queueing one
// observation.
func BenchmarkObserve(b *testing.B) {
	a := testutil.App(b, "sqlite")
	f := testutil.NewFixture(b, a)
	m, err := monitor.New(monitor.Options{DB: a.DB, Keys: a.Keys, Mail: a.Mail, Accounts: accounts{a: a}})
	if err != nil {
		b.Fatal(err)
	}
	o := view(base, f.SalesAgent.ID, 1)
	o.WorkspaceID = f.WS.ID
	for i := 0; b.Loop(); i++ {
		if i%5000 == 0 {
			b.StopTimer()
			_ = m.Flush(ctx)
			b.StartTimer()
		}
		m.Observe(ctx, o)
	}
}

// BenchmarkProcess is the database's share per observation, in batches
// as Run takes them: ticket views (the hot kind) and failed sign-ins.
func BenchmarkProcess(b *testing.B) {
	for _, kind := range testutil.Kinds {
		for _, what := range []string{"view", "failed_signin"} {
			b.Run(kind+"/"+what, func(b *testing.B) {
				a := testutil.App(b, kind)
				f := testutil.NewFixture(b, a)
				m, err := monitor.New(monitor.Options{DB: a.DB, Keys: a.Keys, Mail: a.Mail, Places: places(b), Accounts: accounts{a: a}})
				if err != nil {
					b.Fatal(err)
				}
				at := base
				for i := 0; b.Loop(); i++ {
					at = at.Add(2 * time.Minute) // 30 tickets an hour: normal work
					o := view(at, f.SalesAgent.ID, int64(i))
					if what == "failed_signin" {
						// One every two minutes: counted against the
						// account and the address, recorded, below the
						// brute-force threshold.
						o = failed(at, tehranIP, access.ActorUser, f.SalesAgent.ID)
					}
					o.WorkspaceID = f.WS.ID
					m.Observe(ctx, o)
					if i%256 == 255 {
						if err := m.Flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := m.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
