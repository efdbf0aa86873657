package audit

import (
	"context"

	"github.com/hesar/hesar/internal/requestinfo"
)

// About builds the entry for an action taken in the request ctx carries:
// the actor, token, session, address, user agent and request id come from
// the request, the rest from the caller.
func About(ctx context.Context, workspaceID int64, action, targetKind string, targetID int64, details map[string]string) Entry {
	info := requestinfo.From(ctx)
	e := Entry{WorkspaceID: workspaceID, ActorKind: info.ActorKind, ActorID: info.ActorID, TokenID: info.TokenID,
		SessionID: info.SessionID, Action: action, TargetKind: targetKind, TargetID: targetID, Result: ResultOK,
		IP: info.IP, UserAgent: info.UserAgent, RequestID: info.RequestID, Details: details}
	switch e.ActorKind {
	case ActorUser, ActorCustomer, ActorSystem, ActorAnonymous:
	default:
		e.ActorKind = ActorAnonymous
	}
	if e.ActorKind == ActorSystem || e.ActorKind == ActorAnonymous {
		e.ActorID = 0
	}
	return e
}
