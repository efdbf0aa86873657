package identity

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mfa"
)

// Second-factor names, as sign-in reports them.
const (
	FactorTOTP     = "totp"
	FactorPasskey  = "webauthn"
	FactorRecovery = "recovery_code"
)

// RecoveryCodeCount is how many recovery codes an account gets.
const RecoveryCodeCount = 10

// factorsOf lists the confirmed second factors of an account.
func (s *Service) factorsOf(ctx context.Context, a account) ([]string, error) {
	col := a.kind.ownerColumn()
	var totp, keys, codes int
	err := s.db.Read().QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM totp_secrets WHERE `+col+` = $1 AND confirmed_at IS NOT NULL),
		(SELECT COUNT(*) FROM webauthn_credentials WHERE `+col+` = $1),
		(SELECT COUNT(*) FROM recovery_codes WHERE `+col+` = $1 AND used_at IS NULL)`, a.id).Scan(&totp, &keys, &codes)
	if err != nil {
		return nil, err
	}
	var out []string
	if totp > 0 {
		out = append(out, FactorTOTP)
	}
	if keys > 0 {
		out = append(out, FactorPasskey)
	}
	if len(out) > 0 && codes > 0 {
		out = append(out, FactorRecovery)
	}
	return out, nil
}

// TOTPEnrollment is what an authenticator app needs: the secret as text
// and as an otpauth:// URI (also drawn as a QR code).
type TOTPEnrollment struct {
	Secret string
	URI    string
	QRPNG  []byte
}

func totpField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "totp_secrets", Column: "secret", Row: id}
}

// BeginTOTP makes a new, unconfirmed TOTP secret for the signed-in
// account (replacing an unconfirmed one). It counts only once confirmed.
func (s *Service) BeginTOTP(ctx context.Context, p Principal) (TOTPEnrollment, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	col := a.kind.ownerColumn()
	var confirmed int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM totp_secrets WHERE `+col+` = $1 AND confirmed_at IS NOT NULL`, a.id).Scan(&confirmed); err != nil {
		return TOTPEnrollment{}, err
	}
	if confirmed > 0 {
		return TOTPEnrollment{}, &errs.Conflict{Field: "totp", Message: "an authenticator app is already set up; remove it first to set up another"}
	}
	secret, err := mfa.NewTOTPSecret()
	if err != nil {
		return TOTPEnrollment{}, err
	}
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	sealed, err := s.keys.Seal(ctx, totpField(a.workspaceID, id), string(secret))
	if err != nil {
		return TOTPEnrollment{}, err
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE `+col+` = $1 AND confirmed_at IS NULL`, a.id); err != nil {
			return err
		}
		userID, customerID := a.owner()
		_, err := tx.ExecContext(ctx, `INSERT INTO totp_secrets (id, workspace_id, user_id, customer_id, secret_enc, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, a.workspaceID, userID, customerID, sealed, db.Now())
		return err
	})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	wsName, err := s.workspaceName(ctx, a.workspaceID)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	uri := mfa.TOTPURI(secret, "Hesar "+wsName, a.email)
	png, err := mfa.QRCodePNG(uri)
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return TOTPEnrollment{Secret: mfa.FormatSecret(secret), URI: uri, QRPNG: png}, nil
}

type storedTOTP struct {
	id        int64
	secret    []byte
	confirmed bool
	lastStep  int64
}

func (s *Service) totpOf(ctx context.Context, q db.Querier, a account) (storedTOTP, error) {
	var t storedTOTP
	var enc []byte
	var confirmed sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, secret_enc, confirmed_at, last_step FROM totp_secrets WHERE `+a.kind.ownerColumn()+` = $1`, a.id).
		Scan(&t.id, &enc, &confirmed, &t.lastStep)
	if err != nil {
		return storedTOTP{}, err
	}
	plain, err := s.keys.Open(ctx, totpField(a.workspaceID, t.id), enc)
	if err != nil {
		return storedTOTP{}, err
	}
	t.secret, t.confirmed = []byte(plain), confirmed.Valid
	return t, nil
}

// acceptTOTP checks a code and, in the same write, records its time step
// so the code can never be used again (even by a racing request).
func (s *Service) acceptTOTP(ctx context.Context, tx *db.Tx, a account, code string, wantConfirmed bool) (bool, error) {
	t, err := s.totpOf(ctx, tx, a)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil || t.confirmed != wantConfirmed {
		return false, err
	}
	step, ok := mfa.VerifyTOTP(t.secret, code, time.Now(), t.lastStep)
	if !ok {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2) WHERE id = $3 AND last_step < $1`,
		step, db.Now(), t.id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ConfirmTOTP finishes enrollment with a first code. It returns fresh
// recovery codes when the account had none (shown once, stored hashed)
// and the session's new secret.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code string, c Client) (codes []string, secret string, err error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if err := s.throttled(ctx, s.mfaKey(a)); err != nil {
		return nil, "", err
	}
	ev := Event{Type: EventMFAEnrolled, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"factor": FactorTOTP}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		ok, err := s.acceptTOTP(ctx, tx, a, code, false)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Field("code", "is not the code your app shows now; check the phone's clock and try the next code")
		}
		if codes, err = s.ensureRecoveryCodes(ctx, tx, a); err != nil {
			return err
		}
		if secret, err = s.advanceSession(ctx, tx, p.Session, StateActive, ""); err != nil {
			return err
		}
		if err := s.inTx(ctx, tx, &ev); err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailMFAChanged, accountMailData{IP: c.IP, Device: DescribeDevice(c.UserAgent)})
	})
	if err != nil {
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			_ = s.failOutside(ctx, s.mfaKey(a))
		}
		return nil, "", err
	}
	s.emit(ctx, ev)
	return codes, secret, nil
}

// RemoveTOTP removes the account's authenticator app, unless it is the
// last second factor of an account the workspace requires one of.
func (s *Service) RemoveTOTP(ctx context.Context, p Principal, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	return s.removeFactor(ctx, p, a, FactorTOTP, c, func(tx *db.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE `+a.kind.ownerColumn()+` = $1`, a.id)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// removeFactor deletes a second factor with del, refusing to leave an
// account that must have one with none, and clears recovery codes when
// no factor remains (they recover a factor, not replace one).
func (s *Service) removeFactor(ctx context.Context, p Principal, a account, factor string, c Client, del func(tx *db.Tx) (int64, error)) error {
	policy, err := s.SecuritySettings(ctx, a.workspaceID)
	if err != nil {
		return err
	}
	ev := Event{Type: EventMFARemoved, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: sessionID(p),
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"factor": factor}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		n, err := del(tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return errs.ErrNotFound
		}
		col := a.kind.ownerColumn()
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM totp_secrets WHERE `+col+` = $1 AND confirmed_at IS NOT NULL)
			+ (SELECT COUNT(*) FROM webauthn_credentials WHERE `+col+` = $1)`, a.id).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			if policy.requiresMFA(a.kind, a.role) {
				return &errs.Conflict{Field: factor, Message: "your workspace requires a second factor: add another one before removing this one"}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE `+col+` = $1`, a.id); err != nil {
				return err
			}
		}
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

func sessionID(p Principal) int64 {
	if p.Session == nil {
		return 0
	}
	return p.Session.ID
}

func (s *Service) recoveryHash(a account, code string) []byte {
	return s.keys.TokenHash("recovery/" + string(a.kind) + "/" + strconv.FormatInt(a.id, 10) + "/" + mfa.NormalizeRecoveryCode(code))
}

// ensureRecoveryCodes makes codes for an account that has no unused ones.
func (s *Service) ensureRecoveryCodes(ctx context.Context, tx *db.Tx, a account) ([]string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE `+a.kind.ownerColumn()+` = $1 AND used_at IS NULL`, a.id).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	return s.replaceRecoveryCodes(ctx, tx, a)
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *db.Tx, a account) ([]string, error) {
	codes, err := mfa.NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE `+a.kind.ownerColumn()+` = $1`, a.id); err != nil {
		return nil, err
	}
	userID, customerID := a.owner()
	now := db.Now()
	for _, code := range codes {
		id, err := s.db.IDs().NextIn(ctx, tx)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (id, workspace_id, user_id, customer_id, code_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, a.workspaceID, userID, customerID, s.recoveryHash(a, code), now); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the signed-in account's recovery codes.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p Principal, c Client) ([]string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, err
	}
	factors, err := s.factorsOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if len(factors) == 0 {
		return nil, &errs.Conflict{Field: "recovery_codes", Message: "set up an authenticator app or a passkey first"}
	}
	var codes []string
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if codes, err = s.replaceRecoveryCodes(ctx, tx, a); err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailMFAChanged, accountMailData{IP: c.IP, Device: DescribeDevice(c.UserAgent)})
	})
	if err != nil {
		return nil, err
	}
	s.emit(ctx, Event{Type: EventRecoveryRenewed, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
		IP: c.IP, UserAgent: c.UserAgent})
	return codes, nil
}

// useRecoveryCode spends one recovery code in the write that relies on it.
func (s *Service) useRecoveryCode(ctx context.Context, tx *db.Tx, a account, code string) (bool, error) {
	if mfa.NormalizeRecoveryCode(code) == "" {
		return false, nil // not even shaped like a code
	}
	res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE `+a.kind.ownerColumn()+` = $2 AND code_hash = $3 AND used_at IS NULL`,
		db.Now(), a.id, s.recoveryHash(a, code))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MyFactors lists the signed-in account's second factors.
func (s *Service) MyFactors(ctx context.Context, p Principal) ([]string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.factorsOf(ctx, a)
}
