package identity

import (
	"context"
	"errors"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Operations Hesar itself performs on accounts (security monitoring's
// automatic responses and notices). They take no caller scope: the
// caller is the system.

// AccountContact returns what a notice to an account needs: address,
// name, language and the workspace's name.
func (s *Service) AccountContact(ctx context.Context, ws int64, kind AccountKind, id int64) (email, name, locale, workspace string, err error) {
	a, err := s.accountByID(ctx, s.db.Read(), ws, kind, id)
	if errors.Is(err, errNoAccount) {
		return "", "", "", "", errs.ErrNotFound
	}
	if err != nil {
		return "", "", "", "", err
	}
	if workspace, err = s.workspaceName(ctx, ws); err != nil {
		return "", "", "", "", err
	}
	return a.email, a.name, a.locale, workspace, nil
}

// AdminIDs lists a workspace's enabled admins.
func (s *Service) AdminIDs(ctx context.Context, ws int64) ([]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id FROM users WHERE workspace_id = $1 AND role = 'admin' AND disabled_at IS NULL ORDER BY id`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// EndAccountSessions ends every session of an account.
func (s *Service) EndAccountSessions(ctx context.Context, ws int64, kind AccountKind, id int64, why string) error {
	var n int64
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		n, err = endSessions(ctx, tx, ws, kind, id, 0, why)
		return err
	})
	if err == nil {
		s.emit(ctx, Event{Type: EventSessionRevoked, WorkspaceID: ws, ActorKind: "system", TargetKind: kind.actor(), TargetID: id,
			Details: map[string]string{"scope": "all", "sessions": itoa(n), "why": why}})
	}
	return err
}

// LockAccount locks an account until an admin unlocks it (or its owner
// resets the password), ending its sessions.
func (s *Service) LockAccount(ctx context.Context, ws int64, kind AccountKind, id int64, why string) error {
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+kind.table()+` SET locked_at = COALESCE(locked_at, $1) WHERE workspace_id = $2 AND id = $3`, db.Now(), ws, id); err != nil {
			return err
		}
		_, err := endSessions(ctx, tx, ws, kind, id, 0, why)
		return err
	})
	if err == nil {
		s.emit(ctx, Event{Type: EventAccountLocked, WorkspaceID: ws, ActorKind: "system", TargetKind: kind.actor(), TargetID: id,
			Details: map[string]string{"why": why}})
	}
	return err
}

// RequireSecondFactorAgain sends an account's live sessions back to the
// second-factor step (or to enrollment, for an account without one).
func (s *Service) RequireSecondFactorAgain(ctx context.Context, ws int64, kind AccountKind, id int64, why string) error {
	a, err := s.accountByID(ctx, s.db.Read(), ws, kind, id)
	if errors.Is(err, errNoAccount) {
		return errs.ErrNotFound
	}
	if err != nil {
		return err
	}
	factors, err := s.factorsOf(ctx, a)
	if err != nil {
		return err
	}
	state := StateMFA
	if len(factors) == 0 {
		state = StateEnroll
	}
	return s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET state = $1 WHERE workspace_id = $2 AND `+kind.ownerColumn()+` = $3
			AND revoked_at IS NULL AND state = 'active'`, state, ws, id)
		return err
	})
}
