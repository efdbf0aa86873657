package identity

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/password"
)

// SignIn is a password sign-in attempt.
type SignIn struct {
	Workspace string // slug
	Account   AccountKind
	Email     string
	Password  string
}

// SignInResult is a started session. State says what must come next:
// StateMFA (prove a second factor: Factors lists which), StateEnroll
// (enroll one) or StateActive.
type SignInResult struct {
	Secret    string
	SessionID int64
	State     string
	Factors   []string
}

type workspaceRef struct {
	id         int64
	slug, name string
}

func (s *Service) workspaceBySlug(ctx context.Context, slug string) (workspaceRef, error) {
	w := workspaceRef{slug: slug}
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, name FROM workspaces WHERE slug = $1`, slug).Scan(&w.id, &w.name)
	if errors.Is(err, sql.ErrNoRows) {
		return workspaceRef{}, errs.ErrNotFound
	}
	return w, err
}

func (s *Service) workspaceName(ctx context.Context, ws int64) (string, error) {
	var name string
	err := s.db.Read().QueryRowContext(ctx, `SELECT name FROM workspaces WHERE id = $1`, ws).Scan(&name)
	return name, err
}

// SignIn checks an email and password. Every failure is the same
// errs.ErrSignInFailed after the same work (one argon2id computation),
// whether or not the account exists; too many failures from the address
// or for the email answer *errs.Throttled before any password is checked.
func (s *Service) SignIn(ctx context.Context, in SignIn, c Client) (SignInResult, error) {
	if in.Account != Staff && in.Account != Customer {
		return SignInResult{}, errs.Field("account", "must be staff or customer")
	}
	w, err := s.workspaceBySlug(ctx, in.Workspace)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return SignInResult{}, err
	}
	keys := []throttleKey{s.ipKey(c.IP), s.accountKey(w.id, in.Account, in.Email)}
	if err := s.throttled(ctx, keys...); err != nil {
		s.emit(ctx, Event{Type: EventSignInThrottled, WorkspaceID: w.id, IP: c.IP, UserAgent: c.UserAgent})
		return SignInResult{}, err
	}
	var a account
	found := false
	if w.id != 0 && len(in.Password) <= password.MaxLength*4 {
		a, err = s.accountByEmail(ctx, s.db.Read(), w.id, in.Account, in.Email)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, errNoAccount):
			return SignInResult{}, err
		}
	}
	ok, rehash := false, false
	if found && a.passwordHash != "" {
		if ok, rehash, err = password.Check(a.passwordHash, in.Password); err != nil {
			return SignInResult{}, err
		}
	} else {
		password.Burn(in.Password)
	}
	usable := ok && !a.disabled && !a.locked && (a.kind == Staff || a.verified)
	if !usable {
		return SignInResult{}, s.signInFailed(ctx, w.id, a, found, ok, keys, c)
	}
	newHash := ""
	if rehash {
		// Parameters changed since this hash was made: upgrade it now
		// that the password is at hand.
		if newHash, err = password.Hash(in.Password); err != nil {
			return SignInResult{}, err
		}
	}
	return s.startAfterProof(ctx, a, "password", c, func(tx *db.Tx) error {
		if err := s.clear(ctx, tx, keys...); err != nil {
			return err
		}
		if newHash == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET password_hash = $1 WHERE id = $2`, newHash, a.id)
		return err
	})
}

// signInFailed counts a failure: against the address and the email tried
// always, and against a real account's consecutive failures, locking it
// at the workspace's threshold and telling its owner by email.
func (s *Service) signInFailed(ctx context.Context, ws int64, a account, found, passwordOK bool, keys []throttleKey, c Client) error {
	reason := "unknown_account"
	switch {
	case !found:
	case a.disabled:
		reason = "disabled"
	case a.locked:
		reason = "locked"
	case !passwordOK:
		reason = "bad_password"
	default:
		reason = "email_not_verified"
	}
	lockedNow := false
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := s.fail(ctx, tx, keys...); err != nil {
			return err
		}
		if !found || passwordOK {
			return nil
		}
		var err error
		lockedNow, err = s.countAccountFailure(ctx, tx, a, c)
		return err
	})
	if err != nil {
		return err
	}
	// account_key names the email tried (known or not) without naming it,
	// so detectors can count guesses at one account across addresses.
	e := Event{Type: EventSignInFailed, WorkspaceID: ws, IP: c.IP, UserAgent: c.UserAgent,
		Details: map[string]string{"reason": reason, "method": "password", "account_key": hex.EncodeToString(keys[1].hash[:12])}}
	if found {
		e.TargetKind, e.TargetID = a.actorKind(), a.id
	}
	s.emit(ctx, e)
	if lockedNow {
		s.emit(ctx, Event{Type: EventAccountLocked, WorkspaceID: ws, TargetKind: a.actorKind(), TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent})
	}
	if reason == "email_not_verified" {
		// The right password for an address not yet confirmed: send the
		// confirmation again instead of saying so to whoever asked.
		s.background("verification mail", func(ctx context.Context) error { return s.sendVerification(ctx, a) })
	}
	return errs.ErrSignInFailed
}

// countAccountFailure adds one consecutive failure to an account and locks
// it when the workspace's threshold is reached. It reports whether this
// failure locked it.
func (s *Service) countAccountFailure(ctx context.Context, tx *db.Tx, a account, c Client) (bool, error) {
	var n int
	var locked sql.NullInt64
	if err := tx.QueryRowContext(ctx, `UPDATE `+a.kind.table()+` SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins, locked_at`, a.id).Scan(&n, &locked); err != nil {
		return false, err
	}
	policy, err := s.SecuritySettings(ctx, a.workspaceID)
	if err != nil {
		return false, err
	}
	if locked.Valid || n < policy.LockoutThreshold {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET locked_at = $1 WHERE id = $2`, db.Now(), a.id); err != nil {
		return false, err
	}
	if _, err := endSessions(ctx, tx, a.workspaceID, a.kind, a.id, 0, "locked"); err != nil {
		return false, err
	}
	// The owner is told, with a reset link: proving the mailbox unlocks.
	link, err := s.newLink(ctx, tx, a, LinkPasswordReset)
	if err != nil {
		return false, err
	}
	return true, s.mailAccount(ctx, tx, a, mailAccountLocked, accountMailData{Link: link, Expires: linkLifetime[LinkPasswordReset],
		IP: c.IP, Device: DescribeDevice(c.UserAgent), Failures: n})
}
