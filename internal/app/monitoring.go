package app

import (
	"context"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
)

// accounts lets the monitor reach people through identity, so it never
// decrypts accounts itself.
type accounts struct{ id *identity.Service }

func accountKind(k access.ActorKind) identity.AccountKind {
	if k == access.ActorCustomer {
		return identity.Customer
	}
	return identity.Staff
}

func (a accounts) Contact(ctx context.Context, ws int64, kind access.ActorKind, id int64) (monitor.Contact, error) {
	email, name, locale, workspace, err := a.id.AccountContact(ctx, ws, accountKind(kind), id)
	return monitor.Contact{Email: email, Name: name, Locale: locale, Workspace: workspace}, err
}

func (a accounts) Admins(ctx context.Context, ws int64) ([]int64, error) {
	return a.id.AdminIDs(ctx, ws)
}

// responder carries out the monitor's automatic responses.
type responder struct{ id *identity.Service }

func (r responder) RevokeSessions(ctx context.Context, ws int64, kind access.ActorKind, id int64) error {
	return r.id.EndAccountSessions(ctx, ws, accountKind(kind), id, "security alert")
}

func (r responder) Lock(ctx context.Context, ws int64, kind access.ActorKind, id int64) error {
	return r.id.LockAccount(ctx, ws, accountKind(kind), id, "security alert")
}

func (r responder) RequireMFA(ctx context.Context, ws int64, kind access.ActorKind, id int64) error {
	return r.id.RequireSecondFactorAgain(ctx, ws, accountKind(kind), id, "security alert")
}

// observe hands a security event to the monitor.
func observe(m *monitor.Monitor) func(ctx context.Context, e identity.Event) {
	return func(ctx context.Context, e identity.Event) {
		m.Observe(ctx, monitor.Observation{Type: e.Type, At: e.Time, WorkspaceID: e.WorkspaceID, ActorKind: e.ActorKind, ActorID: e.ActorID,
			TargetKind: string(e.TargetKind), TargetID: e.TargetID, IP: e.IP, UserAgent: e.UserAgent, SessionID: e.SessionID, Details: e.Details})
	}
}
