package identity

import (
	"context"
	"errors"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/password"
)

// current loads the signed-in account behind a session principal.
func (s *Service) current(ctx context.Context, p Principal) (account, error) {
	if p.Session == nil {
		return account{}, errs.ErrForbidden // these flows are for people at a browser, not API tokens
	}
	a, err := s.accountByID(ctx, s.db.Read(), p.Scope.WorkspaceID, p.Session.Kind, p.Session.AccountID)
	if errors.Is(err, errNoAccount) {
		return account{}, errs.ErrUnauthenticated
	}
	return a, err
}

// checkCurrentPassword verifies the signed-in account's password, with the
// same throttling and failure counting as sign-in.
func (s *Service) checkCurrentPassword(ctx context.Context, a account, pw string, c Client) error {
	keys := []throttleKey{s.ipKey(c.IP), s.mfaKey(a)}
	if err := s.throttled(ctx, keys...); err != nil {
		return err
	}
	ok := false
	if a.passwordHash != "" {
		var err error
		if ok, _, err = password.Check(a.passwordHash, pw); err != nil {
			return err
		}
	} else {
		password.Burn(pw)
	}
	if ok {
		return nil
	}
	locked := false
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := s.fail(ctx, tx, keys...); err != nil {
			return err
		}
		var err error
		locked, err = s.countAccountFailure(ctx, tx, a, c)
		return err
	})
	if err != nil {
		return err
	}
	if locked {
		s.emit(ctx, Event{Type: EventAccountLocked, WorkspaceID: a.workspaceID, TargetKind: a.actorKind(), TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent})
	}
	return errs.Field("current_password", "is not right")
}

// ChangePassword replaces the signed-in account's password. The current
// one must be given; every other session ends and this one gets a new id.
// It returns the session's new secret.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string, c Client) (string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return "", err
	}
	if err := s.checkCurrentPassword(ctx, a, current, c); err != nil {
		return "", err
	}
	if err := s.checkNewPassword(ctx, a, "new_password", next); err != nil {
		return "", err
	}
	if current == next {
		return "", errs.Field("new_password", "must differ from the current password")
	}
	hash, err := password.Hash(next)
	if err != nil {
		return "", err
	}
	var secret string
	ev := Event{Type: EventPasswordChanged, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"via": "change"}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET password_hash = $1, password_changed_at = $2, failed_logins = 0 WHERE id = $3`,
			hash, db.Now(), a.id); err != nil {
			return err
		}
		if _, err := endSessions(ctx, tx, a.workspaceID, a.kind, a.id, p.Session.ID, "password changed"); err != nil {
			return err
		}
		if secret, err = s.advanceSession(ctx, tx, p.Session, StateActive, ""); err != nil {
			return err
		}
		if err := s.inTx(ctx, tx, &ev); err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailPasswordChanged, accountMailData{IP: c.IP, Device: DescribeDevice(c.UserAgent)})
	})
	if err != nil {
		return "", err
	}
	s.emit(ctx, ev)
	return secret, nil
}

// StepUpWithPassword refreshes a session's proof of identity with its
// password, and gives it a new id.
func (s *Service) StepUpWithPassword(ctx context.Context, p Principal, pw string, c Client) (string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return "", err
	}
	if p.Session.State != StateActive {
		return "", errs.ErrMFARequired
	}
	// Someone with a second factor proves it: a stolen cookie plus a
	// phished password must not be enough to add the thief's own passkey.
	factors, err := s.factorsOf(ctx, a)
	if err != nil {
		return "", err
	}
	if len(factors) > 0 {
		return "", errs.Field("password", "your account has a second factor: confirm with it (code, recovery_code or a passkey) instead of the password")
	}
	if err := s.checkCurrentPassword(ctx, a, pw, c); err != nil {
		s.emit(ctx, Event{Type: EventStepUpFailed, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
			IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"method": "password"}})
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			return "", errs.Field("password", "is not right")
		}
		return "", err
	}
	return s.stepUp(ctx, p, a, "password", c)
}

func (s *Service) stepUp(ctx context.Context, p Principal, a account, method string, c Client) (string, error) {
	var secret string
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		if err := s.clear(ctx, tx, s.mfaKey(a)); err != nil {
			return err
		}
		var err error
		secret, err = s.advanceSession(ctx, tx, p.Session, p.Session.State, "")
		return err
	})
	if err != nil {
		return "", err
	}
	s.emit(ctx, Event{Type: EventStepUp, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"method": method}})
	return secret, nil
}

// SignUp is a customer creating a portal account.
type SignUp struct {
	Workspace string
	Email     string
	Name      string
	Password  string
	Locale    string
}

// SignUpCustomer registers a customer. The answer is the same whether or
// not the address is already known (no one learns who is a customer): a
// new customer gets a confirmation link; a known one gets a link to set
// or reset their password, which is how someone who was a customer by
// email before takes over their portal account.
func (s *Service) SignUpCustomer(ctx context.Context, in SignUp, c Client) error {
	var v errs.Validator
	v.Text("workspace", in.Workspace, true, 40)
	v.Email("email", in.Email)
	v.Text("name", in.Name, true, 200)
	if in.Locale != "" && in.Locale != "fa" && in.Locale != "en" {
		v.Add("locale", "must be fa or en")
	}
	if err := v.Err(); err != nil {
		return err
	}
	w, err := s.workspaceBySlug(ctx, in.Workspace)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Field("workspace", "no such workspace")
	}
	if err != nil {
		return err
	}
	// The policy check sees only what the person typed, so it reveals
	// nothing about existing accounts.
	probe := account{kind: Customer, workspaceID: w.id, email: in.Email, name: in.Name}
	if err := s.checkNewPassword(ctx, probe, "password", in.Password); err != nil {
		return err
	}
	s.background("sign-up", func(ctx context.Context) error {
		keys := []throttleKey{s.ipKey(c.IP), s.mailKey(w.id, Customer, in.Email)}
		if s.throttled(ctx, keys...) != nil {
			return nil
		}
		if err := s.failOutside(ctx, keys[1]); err != nil {
			return err
		}
		existing, err := s.accountByEmail(ctx, s.db.Read(), w.id, Customer, in.Email)
		if err == nil {
			return s.mailLink(ctx, existing, LinkPasswordReset, mailPasswordReset)
		}
		if !errors.Is(err, errNoAccount) {
			return err
		}
		return s.createPortalCustomer(ctx, w.id, in, c)
	})
	return nil
}

func (s *Service) createPortalCustomer(ctx context.Context, ws int64, in SignUp, c Client) error {
	pending, err := s.customers.Prepare(ctx, ws, customer.NewCustomer{Email: in.Email, Name: in.Name})
	if err != nil {
		return err
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return err
	}
	var id int64
	created := false
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if id, _, created, err = pending.Upsert(ctx, tx); err != nil || !created {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE customers SET password_hash = $1, password_changed_at = $2, locale = $3 WHERE id = $4`,
			hash, db.Now(), in.Locale, id)
		if err != nil {
			return err
		}
		a, err := s.accountByID(ctx, tx, ws, Customer, id)
		if err != nil {
			return err
		}
		link, err := s.newLink(ctx, tx, a, LinkVerifyEmail)
		if err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailVerifyEmail, accountMailData{Link: link, Expires: linkLifetime[LinkVerifyEmail]})
	})
	if err != nil {
		return err
	}
	if !created {
		// A ticket from this address made the customer a moment ago:
		// they set their password through a reset link instead.
		a, err := s.accountByID(ctx, s.db.Read(), ws, Customer, id)
		if err != nil {
			return err
		}
		return s.mailLink(ctx, a, LinkPasswordReset, mailPasswordReset)
	}
	s.emit(ctx, Event{Type: EventSignedUp, WorkspaceID: ws, ActorKind: Customer.actor(), ActorID: id, IP: c.IP, UserAgent: c.UserAgent})
	return nil
}
