package identity

import (
	"context"
	"log/slog"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/requestinfo"
)

// Security event types. The audit log (and its detectors) consume these;
// until then they go to the structured log.
const (
	EventSignIn            = "signin.succeeded"
	EventSignInFailed      = "signin.failed"
	EventSignInThrottled   = "signin.throttled"
	EventAccountLocked     = "account.locked"
	EventAccountUnlocked   = "account.unlocked"
	EventMFAVerified       = "mfa.verified"
	EventMFAFailed         = "mfa.failed"
	EventMFAEnrolled       = "mfa.enrolled"
	EventMFARemoved        = "mfa.removed"
	EventMFAReset          = "mfa.reset"
	EventRecoveryUsed      = "mfa.recovery_code_used"
	EventRecoveryRenewed   = "mfa.recovery_codes_renewed"
	EventStepUp            = "stepup.succeeded"
	EventStepUpFailed      = "stepup.failed"
	EventSignOut           = "session.ended"
	EventSessionRevoked    = "session.revoked"
	EventPasswordChanged   = "password.changed"
	EventPasswordResetSent = "password.reset_requested"
	EventEmailVerified     = "email.verified"
	EventSignedUp          = "customer.signed_up"
	EventTokenCreated      = "token.created"
	EventTokenRevoked      = "token.revoked"
	EventSettingsChanged   = "security_settings.changed"
	EventUserCreated       = "user.created"
	EventRoleChanged       = "user.role_changed"
	EventUserDisabled      = "user.disabled"
	EventUserEnabled       = "user.enabled"
	EventMembershipChanged = "user.departments_changed"
	EventTokenUsed         = "token.used"
)

// Event is one security-relevant happening, with who did it to whom, from
// where. It never carries a password, code, token, secret or email.
type Event struct {
	Type        string
	Time        time.Time
	WorkspaceID int64
	// Actor is who acted (for a failed sign-in on an unknown account, no one).
	ActorKind access.ActorKind
	ActorID   int64
	// Target is the account acted upon when it is not the actor (an admin
	// resetting someone's MFA).
	TargetKind access.ActorKind
	TargetID   int64
	SessionID  int64
	IP         string
	UserAgent  string
	// Details are small facts (method, reason, count), never personal data.
	Details map[string]string
	// InTransaction is set when the event was already recorded inside the
	// transaction of the change it reports (see TxRecorder); sinks then
	// only log and watch it.
	InTransaction bool
}

// TxRecorder is an EventSink that can also record an event inside the
// transaction of the change it reports, so that no change commits without
// its record.
type TxRecorder interface {
	RecordEvent(ctx context.Context, tx *db.Tx, e Event) error
}

// EventSink receives security events. It must not block for long: it runs
// on the request path.
type EventSink interface {
	SecurityEvent(ctx context.Context, e Event)
}

// LogEvents writes each event as one structured log line.
type LogEvents struct{ Log *slog.Logger }

// SecurityEvent logs e.
func (l LogEvents) SecurityEvent(ctx context.Context, e Event) {
	attrs := []slog.Attr{slog.String("type", e.Type), slog.Int64("workspace_id", e.WorkspaceID),
		slog.String("actor_kind", string(e.ActorKind)), slog.Int64("actor_id", e.ActorID),
		slog.String("ip", e.IP), slog.String("user_agent", e.UserAgent)}
	if e.TargetID != 0 {
		attrs = append(attrs, slog.String("target_kind", string(e.TargetKind)), slog.Int64("target_id", e.TargetID))
	}
	if e.SessionID != 0 {
		attrs = append(attrs, slog.Int64("session_id", e.SessionID))
	}
	for k, v := range e.Details {
		attrs = append(attrs, slog.String(k, v))
	}
	l.Log.LogAttrs(ctx, slog.LevelInfo, "security event", attrs...)
}

// Client is where a request came from.
type Client struct {
	IP        string
	UserAgent string
}

// inTx records e inside tx when the sink can, and marks it so the emit
// after the commit does not record it twice.
func (s *Service) inTx(ctx context.Context, tx *db.Tx, e *Event) error {
	r, ok := s.events.(TxRecorder)
	if !ok {
		return nil
	}
	s.fillClient(ctx, e)
	if err := r.RecordEvent(ctx, tx, *e); err != nil {
		return err
	}
	e.InTransaction = true
	return nil
}

func (s *Service) fillClient(ctx context.Context, e *Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	info := requestinfo.From(ctx)
	if e.IP == "" && e.UserAgent == "" {
		e.IP, e.UserAgent = info.IP, info.UserAgent
	}
	if e.SessionID == 0 {
		e.SessionID = info.SessionID
	}
}

func (s *Service) emit(ctx context.Context, e Event) {
	if s.events == nil {
		return
	}
	// Calls that know no client (a service called with a scope) take it
	// from the request.
	s.fillClient(ctx, &e)
	s.events.SecurityEvent(ctx, e)
}
