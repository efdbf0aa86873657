package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/requestinfo"
)

// securityEvents fans identity's security events out to the log, the
// audit log and the monitor. Its fields are set once the services exist
// (the monitor itself needs identity).
type securityEvents struct {
	log   identity.LogEvents
	audit *audit.Log
	watch func(ctx context.Context, e identity.Event)
	warn  *slog.Logger
}

// RecordEvent records e inside the transaction of its change.
func (s *securityEvents) RecordEvent(ctx context.Context, tx *db.Tx, e identity.Event) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, tx, auditEntry(ctx, e))
}

func (s *securityEvents) SecurityEvent(ctx context.Context, e identity.Event) {
	s.log.SecurityEvent(ctx, e)
	if s.audit != nil && !e.InTransaction {
		if err := s.audit.Write(ctx, auditEntry(ctx, e)); err != nil {
			// The event happened; losing its record is worth shouting about.
			s.warn.Error("audit record of a security event failed", "type", e.Type, "error", err.Error())
		}
	}
	if s.watch != nil {
		s.watch(ctx, e)
	}
}

// auditEntry turns a security event into an audit record.
func auditEntry(ctx context.Context, e identity.Event) audit.Entry {
	info := requestinfo.From(ctx)
	out := audit.Entry{WorkspaceID: e.WorkspaceID, ActorKind: auditActor(e.ActorKind), ActorID: e.ActorID, TokenID: info.TokenID,
		SessionID: e.SessionID, Action: e.Type, TargetKind: string(e.TargetKind), TargetID: e.TargetID, Result: audit.ResultOK,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: info.RequestID, Details: e.Details, At: e.Time}
	if strings.HasSuffix(e.Type, ".failed") || e.Type == identity.EventSignInThrottled {
		out.Result = audit.ResultFailed
	}
	if e.TargetKind == "" && e.TargetID != 0 {
		out.TargetKind = "account"
	}
	return out
}

func auditActor(k access.ActorKind) string {
	switch k {
	case access.ActorUser:
		return audit.ActorUser
	case access.ActorCustomer:
		return audit.ActorCustomer
	case access.ActorSystem:
		return audit.ActorSystem
	}
	return audit.ActorAnonymous
}
