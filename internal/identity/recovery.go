package identity

import (
	"context"
	"errors"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/password"
)

// AccountRequest names an account by workspace, kind and email, for the
// flows that start from an email address (reset, verification, link).
type AccountRequest struct {
	Workspace string
	Account   AccountKind
	Email     string
}

func (r AccountRequest) validate() error {
	var v errs.Validator
	v.Text("workspace", r.Workspace, true, 40)
	v.Email("email", r.Email)
	if r.Account != Staff && r.Account != Customer {
		v.Add("account", "must be staff or customer")
	}
	return v.Err()
}

// requestMail is the common shape of "email me a link": validate, answer
// at once, and do the rest in the background, so the response is the same
// in content and time whether or not the account exists. Throttled
// requests are dropped silently for the same reason.
func (s *Service) requestMail(ctx context.Context, r AccountRequest, c Client, what string, act func(ctx context.Context, a account) error) error {
	if err := r.validate(); err != nil {
		return err
	}
	s.background(what, func(ctx context.Context) error {
		w, err := s.workspaceBySlug(ctx, r.Workspace)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		keys := []throttleKey{s.ipKey(c.IP), s.mailKey(w.id, r.Account, r.Email)}
		if s.throttled(ctx, keys...) != nil {
			return nil
		}
		if err := s.failOutside(ctx, keys[1]); err != nil { // every request counts toward the mail limit
			return err
		}
		a, err := s.accountByEmail(ctx, s.db.Read(), w.id, r.Account, r.Email)
		if errors.Is(err, errNoAccount) {
			return s.failOutside(ctx, keys[0]) // probing unknown addresses counts against the address
		}
		if err != nil || a.disabled {
			return err
		}
		return act(ctx, a)
	})
	return nil
}

// RequestPasswordReset emails a reset link if the account exists.
func (s *Service) RequestPasswordReset(ctx context.Context, r AccountRequest, c Client) error {
	return s.requestMail(ctx, r, c, "password reset", func(ctx context.Context, a account) error {
		if err := s.mailLink(ctx, a, LinkPasswordReset, mailPasswordReset); err != nil {
			return err
		}
		s.emit(ctx, Event{Type: EventPasswordResetSent, WorkspaceID: a.workspaceID, TargetKind: a.actorKind(), TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent})
		return nil
	})
}

// RequestVerification emails an address-confirmation link if the account
// exists and is not confirmed yet.
func (s *Service) RequestVerification(ctx context.Context, r AccountRequest, c Client) error {
	return s.requestMail(ctx, r, c, "verification", func(ctx context.Context, a account) error {
		if a.verified {
			return nil
		}
		return s.sendVerification(ctx, a)
	})
}

// RequestSignInLink emails a customer a one-time sign-in link.
func (s *Service) RequestSignInLink(ctx context.Context, r AccountRequest, c Client) error {
	if r.Account != Customer {
		return errs.Field("account", "sign-in links are for customers; staff sign in with a password and second factor")
	}
	return s.requestMail(ctx, r, c, "sign-in link", func(ctx context.Context, a account) error {
		if a.locked {
			return nil
		}
		return s.mailLink(ctx, a, LinkSignIn, mailSignInLink)
	})
}

// passwordContext is what a password may not contain: the account's email
// and name, and the workspace's name and slug.
func (s *Service) passwordContext(ctx context.Context, a account) (password.Context, error) {
	var name, slug string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT name, slug FROM workspaces WHERE id = $1`, a.workspaceID).Scan(&name, &slug); err != nil {
		return password.Context{}, err
	}
	return password.Context{Email: a.email, Name: a.name, Workspace: []string{name, slug}}, nil
}

// checkNewPassword applies the workspace's password policy for a.
func (s *Service) checkNewPassword(ctx context.Context, a account, field, pw string) error {
	policy, err := s.SecuritySettings(ctx, a.workspaceID)
	if err != nil {
		return err
	}
	pc, err := s.passwordContext(ctx, a)
	if err != nil {
		return err
	}
	if err := (password.Policy{MinLength: policy.PasswordMinLength}).CheckContext(pw, pc); err != nil {
		var r *password.Rejection
		if errors.As(err, &r) {
			return errs.Field(field, "%s", r.Message)
		}
		return err
	}
	return nil
}

// ResetPassword sets a new password through an emailed reset (or invite)
// link. It also proves the email address, unlocks the account, and ends
// every session: whoever held the old password is out.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string, c Client) error {
	l, err := s.findLink(ctx, s.db.Read(), token, LinkPasswordReset, LinkInvite)
	if err != nil {
		return err
	}
	a := l.account
	if a.disabled {
		return errs.ErrLinkInvalid
	}
	// Check before using the link, so a refused password does not spend it.
	if err := s.checkNewPassword(ctx, a, "password", newPassword); err != nil {
		return err
	}
	hash, err := password.Hash(newPassword)
	if err != nil {
		return err
	}
	ev := Event{Type: EventPasswordChanged, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, IP: c.IP, UserAgent: c.UserAgent,
		Details: map[string]string{"via": l.purpose}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := useLink(ctx, tx, l.id); err != nil {
			return err
		}
		now := db.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET password_hash = $1, password_changed_at = $2, failed_logins = 0,
			locked_at = NULL, email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3`, hash, now, a.id); err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, a.workspaceID, a.kind, a.id, 0, "password reset"); err != nil {
			return err
		}
		if err := s.inTx(ctx, tx, &ev); err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailPasswordChanged, accountMailData{IP: c.IP, Device: DescribeDevice(c.UserAgent)})
	})
	if err != nil {
		return err
	}
	s.emit(ctx, ev)
	if a.locked {
		s.emit(ctx, Event{Type: EventAccountUnlocked, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, IP: c.IP, UserAgent: c.UserAgent,
			Details: map[string]string{"via": "password reset"}})
	}
	return nil
}

// VerifyEmail confirms an account's email address through an emailed link.
func (s *Service) VerifyEmail(ctx context.Context, token string, c Client) error {
	l, err := s.findLink(ctx, s.db.Read(), token, LinkVerifyEmail)
	if err != nil {
		return err
	}
	a := l.account
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := useLink(ctx, tx, l.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2`, db.Now(), a.id)
		return err
	})
	if err != nil {
		return err
	}
	s.emit(ctx, Event{Type: EventEmailVerified, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, IP: c.IP, UserAgent: c.UserAgent})
	return nil
}

// SignInWithLink starts a customer session from an emailed sign-in link.
// The link proves the email address; a customer with a second factor
// must still prove it.
func (s *Service) SignInWithLink(ctx context.Context, token string, c Client) (SignInResult, error) {
	if err := s.throttled(ctx, s.ipKey(c.IP)); err != nil {
		return SignInResult{}, err
	}
	l, err := s.findLink(ctx, s.db.Read(), token, LinkSignIn)
	if err != nil {
		_ = s.failOutside(ctx, s.ipKey(c.IP))
		return SignInResult{}, err
	}
	a := l.account
	if a.locked || a.disabled {
		return SignInResult{}, errs.ErrLinkInvalid
	}
	return s.startAfterProof(ctx, a, "email_link", c, func(tx *db.Tx) error {
		if err := useLink(ctx, tx, l.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2`, db.Now(), a.id)
		return err
	})
}

// startAfterProof starts a session for an account that proved a first
// factor, in the state its second factors and the policy call for.
func (s *Service) startAfterProof(ctx context.Context, a account, method string, c Client, also func(tx *db.Tx) error) (SignInResult, error) {
	policy, err := s.SecuritySettings(ctx, a.workspaceID)
	if err != nil {
		return SignInResult{}, err
	}
	factors, err := s.factorsOf(ctx, a)
	if err != nil {
		return SignInResult{}, err
	}
	state := StateActive
	switch {
	case len(factors) > 0 && method != "passkey":
		state = StateMFA
	case len(factors) == 0 && policy.requiresMFA(a.kind, a.role):
		state = StateEnroll
	}
	var res SignInResult
	ev := Event{Type: EventSignIn, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"method": method, "state": state}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if state == StateActive {
			if _, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET failed_logins = 0 WHERE id = $1`, a.id); err != nil {
				return err
			}
		}
		if res.Secret, res.SessionID, err = s.startSession(ctx, tx, a, state, method, c); err != nil {
			return err
		}
		// The session and its record commit together.
		ev.SessionID = res.SessionID
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return SignInResult{}, err
	}
	res.State, res.Factors = state, factors
	s.emit(ctx, ev)
	return res, nil
}
