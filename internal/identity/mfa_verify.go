package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/mfa"
)

// Proof is a second factor presented: a TOTP code, a recovery code, or a
// passkey assertion answering the challenge BeginPasskeyProof gave.
type Proof struct {
	TOTP         string
	RecoveryCode string
	Challenge    string
	Passkey      []byte
}

func (pr Proof) factor() (string, error) {
	n := 0
	f := ""
	if pr.TOTP != "" {
		n, f = n+1, FactorTOTP
	}
	if pr.RecoveryCode != "" {
		n, f = n+1, FactorRecovery
	}
	if len(pr.Passkey) > 0 || pr.Challenge != "" {
		n, f = n+1, FactorPasskey
	}
	if n != 1 {
		return "", errs.Field("code", "give exactly one of code, recovery_code, or a passkey response with its challenge")
	}
	return f, nil
}

// VerifySecondFactor checks a second factor for the signed-in account. A
// session waiting for its second factor becomes active; an active one has
// its proof of identity refreshed (step-up). Either way the session gets
// a new id, returned. Failures are throttled per account and count toward
// the account's lockout, like wrong passwords.
func (s *Service) VerifySecondFactor(ctx context.Context, p Principal, pr Proof, c Client) (string, error) {
	factor, err := pr.factor()
	if err != nil {
		return "", err
	}
	a, err := s.current(ctx, p)
	if err != nil {
		return "", err
	}
	if p.Session.State == StateEnroll {
		return "", errs.ErrMFARequired
	}
	keys := []throttleKey{s.ipKey(c.IP), s.mfaKey(a)}
	if err := s.throttled(ctx, keys...); err != nil {
		return "", err
	}
	var cred mfa.Credential
	var credID int64
	var rejected error
	if factor == FactorPasskey {
		// The assertion is checked before the write; only its counter is
		// stored inside it. A refused assertion is a failed attempt like a
		// wrong code.
		cred, credID, rejected = s.finishPasskeyProof(ctx, a, pr.Challenge, pr.Passkey)
		if rejected != nil && !isCeremonyRejection(rejected) {
			return "", rejected
		}
	}
	wasPending := p.Session.State == StateMFA
	var secret string
	accepted := false
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		switch factor {
		case FactorTOTP:
			accepted, err = s.acceptTOTP(ctx, tx, a, pr.TOTP, true)
		case FactorRecovery:
			accepted, err = s.useRecoveryCode(ctx, tx, a, pr.RecoveryCode)
		case FactorPasskey:
			accepted = credID != 0
			if accepted {
				err = storeCredentialUse(ctx, tx, credID, cred)
			}
		}
		if err != nil || !accepted {
			return err
		}
		if err := s.clear(ctx, tx, keys...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET failed_logins = 0 WHERE id = $1`, a.id); err != nil {
			return err
		}
		secret, err = s.advanceSession(ctx, tx, p.Session, StateActive, sessionMethod(p, factor))
		return err
	})
	if err != nil {
		return "", err
	}
	base := Event{WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID, IP: c.IP, UserAgent: c.UserAgent,
		Details: map[string]string{"factor": factor}}
	if !accepted {
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
			return "", err
		}
		e := base
		e.Type = EventMFAFailed
		if !wasPending {
			e.Type = EventStepUpFailed
		}
		s.emit(ctx, e)
		if locked {
			s.emit(ctx, Event{Type: EventAccountLocked, WorkspaceID: a.workspaceID, TargetKind: a.actorKind(), TargetID: a.id, IP: c.IP, UserAgent: c.UserAgent})
		}
		if rejected != nil {
			return "", ceremonyError(rejected)
		}
		return "", errs.Field("code", "is not right; try again, or use a recovery code")
	}
	e := base
	e.Type = EventMFAVerified
	if !wasPending {
		e.Type = EventStepUp
	}
	s.emit(ctx, e)
	if factor == FactorRecovery {
		e.Type = EventRecoveryUsed
		s.emit(ctx, e)
	}
	return secret, nil
}

// sessionMethod is what the session's method gains: the second factor,
// when this proof completes a sign-in.
func sessionMethod(p Principal, factor string) string {
	if p.Session.State != StateMFA {
		return ""
	}
	return "+" + factor
}

func isCeremonyRejection(err error) bool {
	for _, e := range []error{mfa.ErrInvalidState, mfa.ErrCeremonyExpired, mfa.ErrMalformedResponse, mfa.ErrCredentialRejected,
		mfa.ErrUnknownCredential, mfa.ErrClonedAuthenticator, mfa.ErrNoCredentials, errs.ErrLinkInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// ceremonyError turns a WebAuthn ceremony failure into a field error the
// person can act on; other errors pass through.
func ceremonyError(err error) error {
	if isCeremonyRejection(err) {
		msg := err.Error()
		if errors.Is(err, errs.ErrLinkInvalid) {
			msg = "this security key request is not valid; please start again"
		}
		return errs.Field("response", "%s", strings.TrimSpace(msg))
	}
	return err
}
