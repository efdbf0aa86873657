package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/testutil"
)

func TestObservationTypesAreIdentityEventTypes(t *testing.T) {
	for mine, theirs := range map[string]string{monitor.SignIn: identity.EventSignIn, monitor.SignInFailed: identity.EventSignInFailed,
		monitor.MFAFailed: identity.EventMFAFailed, monitor.MFARemoved: identity.EventMFARemoved, monitor.MFAReset: identity.EventMFAReset,
		monitor.RecoveryUsed: identity.EventRecoveryUsed, monitor.SessionEnded: identity.EventSignOut,
		monitor.SessionRevoked: identity.EventSessionRevoked, monitor.TokenCreated: identity.EventTokenCreated} {
		if mine != theirs {
			t.Errorf("monitor reads %q where identity emits %q", mine, theirs)
		}
	}
}

func TestRunProcessesObservationsAndDrainsOnShutdown(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a, func(o *monitor.Options) { o.Poll = 20 * time.Millisecond })
		run, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { e.m.Run(run); close(done) }()
		e.m.Observe(ctx, monitor.Observation{Type: monitor.RecoveryUsed, WorkspaceID: e.ws, ActorKind: access.ActorUser, ActorID: e.f.SalesAgent.ID})
		deadline := time.Now().Add(5 * time.Second)
		for len(e.alerts(monitor.RuleRecoveryUsed)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("Run did not process the observation")
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-done
		if err := e.m.Prune(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
