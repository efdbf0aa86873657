package identity

import (
	"context"
	"errors"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

func (s *Service) managedUser(ctx context.Context, p Principal, userID int64) (account, error) {
	if !p.Scope.Can(access.UserManage) {
		return account{}, errs.ErrForbidden
	}
	a, err := s.accountByID(ctx, s.db.Read(), p.Scope.WorkspaceID, Staff, userID)
	if errors.Is(err, errNoAccount) {
		return account{}, errs.ErrNotFound
	}
	return a, err
}

// ResetMFA removes every second factor of a staff member (a lost phone),
// ends their sessions and tells them by email. If the workspace requires
// a second factor, their next sign-in must enroll a new one.
func (s *Service) ResetMFA(ctx context.Context, p Principal, userID int64, c Client) error {
	a, err := s.managedUser(ctx, p, userID)
	if err != nil {
		return err
	}
	if p.Scope.Kind == access.ActorUser && p.Scope.ActorID == userID {
		return errs.Field("user_id", "reset your own second factors from your security settings, not as an admin")
	}
	var n int64
	ev := Event{Type: EventMFAReset, WorkspaceID: a.workspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID, SessionID: sessionID(p),
		TargetKind: access.ActorUser, TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		for _, t := range []string{"totp_secrets", "recovery_codes", "webauthn_credentials"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE user_id = $1`, a.id); err != nil {
				return err
			}
		}
		var err error
		if n, err = endSessions(ctx, tx, a.workspaceID, Staff, a.id, 0, "mfa reset"); err != nil {
			return err
		}
		ev.Details = map[string]string{"sessions_ended": itoa(n)}
		if err := s.inTx(ctx, tx, &ev); err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailMFAChanged, accountMailData{IP: c.IP, Device: DescribeDevice(c.UserAgent)})
	})
	if err != nil {
		return err
	}
	s.emit(ctx, ev)
	return nil
}

// UnlockUser lifts a lockout after too many failures.
func (s *Service) UnlockUser(ctx context.Context, p Principal, userID int64, c Client) error {
	a, err := s.managedUser(ctx, p, userID)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_at = NULL, failed_logins = 0 WHERE id = $1`, a.id); err != nil {
			return err
		}
		// Unlocked means able to try now, not after the backoff.
		return s.clear(ctx, tx, s.accountKey(a.workspaceID, Staff, a.email), s.mfaKey(a))
	})
	if err != nil {
		return err
	}
	s.emit(ctx, Event{Type: EventAccountUnlocked, WorkspaceID: a.workspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID, SessionID: sessionID(p),
		TargetKind: access.ActorUser, TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"via": "admin"}})
	return nil
}

// SendPasswordSetup emails a staff member a link to set their password:
// an invitation for a new account, a reset for an existing one.
func (s *Service) SendPasswordSetup(ctx context.Context, p Principal, userID int64) error {
	return s.SendPasswordSetupIn(ctx, p, userID, "")
}

// SendPasswordSetupIn is SendPasswordSetup with the language to write in
// when the person has not chosen one (the admin's, on the web pages);
// their own choice, once made, wins.
func (s *Service) SendPasswordSetupIn(ctx context.Context, p Principal, userID int64, locale string) error {
	a, err := s.managedUser(ctx, p, userID)
	if err != nil {
		return err
	}
	if a.disabled {
		return &errs.Conflict{Field: "user_id", Message: "the user is disabled; enable them first"}
	}
	if a.locale == "" && validLocale(locale) {
		a.locale = locale
	}
	purpose, kind := LinkPasswordReset, mailPasswordReset
	if a.passwordHash == "" {
		// Never had a password: the mail is the invitation again, not a
		// reset they never asked for.
		purpose, kind = LinkInvite, mailInvitation
	}
	return s.mailLink(ctx, a, purpose, kind)
}

// AccountStatus is the sign-in state of a staff member, for admins.
type AccountStatus struct {
	Locked         bool
	FailedSignIns  int
	HasPassword    bool
	EmailVerified  bool
	Factors        []string
	ActiveSessions int
}

// UserAccountStatus reports a staff member's sign-in state.
func (s *Service) UserAccountStatus(ctx context.Context, p Principal, userID int64) (AccountStatus, error) {
	own := p.Scope.Kind == access.ActorUser && p.Scope.ActorID == userID
	if !own && !p.Scope.Can(access.UserManage) {
		return AccountStatus{}, errs.ErrNotFound
	}
	a, err := s.accountByID(ctx, s.db.Read(), p.Scope.WorkspaceID, Staff, userID)
	if errors.Is(err, errNoAccount) {
		return AccountStatus{}, errs.ErrNotFound
	}
	if err != nil {
		return AccountStatus{}, err
	}
	st := AccountStatus{Locked: a.locked, FailedSignIns: a.failed, HasPassword: a.passwordHash != "", EmailVerified: a.verified}
	if st.Factors, err = s.factorsOf(ctx, a); err != nil {
		return AccountStatus{}, err
	}
	err = s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`, a.id, db.Now()).Scan(&st.ActiveSessions)
	return st, err
}
