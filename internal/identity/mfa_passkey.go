package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mfa"
)

// Passkey is a registered WebAuthn credential (a passkey or security key).
type Passkey struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Ceremony purposes in auth_challenges.
const (
	ceremonyRegister     = "webauthn.register"
	ceremonyProof        = "webauthn.proof"
	ceremonyPasswordless = "webauthn.passwordless"
)

const challengePrefix = "hsc_"

func passkeyNameField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "webauthn_credentials", Column: "name", Row: id}
}

func (s *Service) saveChallenge(ctx context.Context, ws int64, purpose string, a *account, state []byte) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	handle := challengePrefix + base64.RawURLEncoding.EncodeToString(raw)
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return "", err
	}
	var userID, customerID any
	if a != nil {
		userID, customerID = a.owner()
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		// Expired ceremonies are swept as new ones begin.
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_challenges WHERE expires_at < $1`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_challenges (id, workspace_id, handle_hash, purpose, user_id, customer_id, data, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, ws, s.keys.TokenHash(handle), purpose, userID, customerID,
			base64.StdEncoding.EncodeToString(state), now+(5*time.Minute).Microseconds())
		return err
	})
	return handle, err
}

// takeChallenge removes and returns a ceremony's state: each challenge
// answers once. It must belong to purpose and (when given) to a.
func (s *Service) takeChallenge(ctx context.Context, handle, purpose string, a *account) (int64, []byte, error) {
	if len(handle) > 100 {
		return 0, nil, errs.ErrLinkInvalid
	}
	var id, ws int64
	var data string
	var userID, customerID sql.NullInt64
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, workspace_id, user_id, customer_id, data FROM auth_challenges
		WHERE handle_hash = $1 AND purpose = $2 AND expires_at > $3`, s.keys.TokenHash(handle), purpose, db.Now()).Scan(&id, &ws, &userID, &customerID, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, errs.ErrLinkInvalid
	}
	if err != nil {
		return 0, nil, err
	}
	if a != nil {
		owner := userID.Int64
		if a.kind == Customer {
			owner = customerID.Int64
		}
		if ws != a.workspaceID || owner != a.id {
			return 0, nil, errs.ErrLinkInvalid
		}
	}
	var n int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_challenges WHERE id = $1`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	if n != 1 {
		return 0, nil, errs.ErrLinkInvalid // another request answered it first
	}
	state, err := base64.StdEncoding.DecodeString(data)
	return ws, state, err
}

// webauthnAccount is the account as the WebAuthn ceremonies see it.
func (s *Service) webauthnAccount(ctx context.Context, q db.Querier, a account) (mfa.Account, map[string]int64, error) {
	handle, err := s.webauthnHandle(ctx, a)
	if err != nil {
		return mfa.Account{}, nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, credential_id, credential FROM webauthn_credentials WHERE `+a.kind.ownerColumn()+` = $1 ORDER BY id`, a.id)
	if err != nil {
		return mfa.Account{}, nil, err
	}
	defer rows.Close()
	out := mfa.Account{Handle: handle, Name: a.email, DisplayName: a.name}
	ids := map[string]int64{}
	for rows.Next() {
		var id int64
		var credID []byte
		var js string
		if err := rows.Scan(&id, &credID, &js); err != nil {
			return mfa.Account{}, nil, err
		}
		out.Credentials = append(out.Credentials, mfa.Credential{ID: credID, JSON: []byte(js)})
		ids[string(credID)] = id
	}
	return out, ids, rows.Err()
}

// BeginPasskeyRegistration starts adding a passkey to the signed-in
// account: options for navigator.credentials.create, and the challenge
// handle to send back with the response.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p Principal) ([]byte, string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, "", err
	}
	wa, _, err := s.webauthnAccount(ctx, s.db.Read(), a)
	if err != nil {
		return nil, "", err
	}
	options, state, err := s.webauthn.BeginRegistration(wa)
	if err != nil {
		return nil, "", err
	}
	handle, err := s.saveChallenge(ctx, a.workspaceID, ceremonyRegister, &a, state)
	return options, handle, err
}

// FinishPasskeyRegistration verifies the authenticator's response and
// stores the passkey under name. A session enrolling its first factor
// becomes active; it returns the session's new secret.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p Principal, challenge, name string, response []byte, c Client) (Passkey, []string, string, error) {
	var v errs.Validator
	v.Text("name", name, true, 100)
	if err := v.Err(); err != nil {
		return Passkey{}, nil, "", err
	}
	a, err := s.current(ctx, p)
	if err != nil {
		return Passkey{}, nil, "", err
	}
	_, state, err := s.takeChallenge(ctx, challenge, ceremonyRegister, &a)
	if err != nil {
		return Passkey{}, nil, "", ceremonyError(err)
	}
	wa, _, err := s.webauthnAccount(ctx, s.db.Read(), a)
	if err != nil {
		return Passkey{}, nil, "", err
	}
	cred, err := s.webauthn.FinishRegistration(wa, state, response)
	if err != nil {
		return Passkey{}, nil, "", ceremonyError(err)
	}
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Passkey{}, nil, "", err
	}
	nameEnc, err := s.keys.Seal(ctx, passkeyNameField(a.workspaceID, id), name)
	if err != nil {
		return Passkey{}, nil, "", err
	}
	now := db.Now()
	var codes []string
	var secret string
	ev := Event{Type: EventMFAEnrolled, WorkspaceID: a.workspaceID, ActorKind: a.actorKind(), ActorID: a.id, SessionID: p.Session.ID,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"factor": FactorPasskey}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		userID, customerID := a.owner()
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_credentials (id, workspace_id, user_id, customer_id, credential_id, name_enc, credential, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, a.workspaceID, userID, customerID, cred.ID, nameEnc, string(cred.JSON), now)
		if db.IsUniqueViolation(err) {
			return errs.Field("response", "%s", mfa.ErrCredentialExists.Error())
		}
		if err != nil {
			return err
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
		return Passkey{}, nil, "", err
	}
	s.emit(ctx, ev)
	return Passkey{ID: id, Name: name, CreatedAt: db.Time(now)}, codes, secret, nil
}

// ListPasskeys returns the signed-in account's passkeys.
func (s *Service) ListPasskeys(ctx context.Context, p Principal) ([]Passkey, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, name_enc, created_at, last_used_at FROM webauthn_credentials
		WHERE `+a.kind.ownerColumn()+` = $1 ORDER BY id`, a.id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var k Passkey
		var enc []byte
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&k.ID, &enc, &created, &used); err != nil {
			return nil, err
		}
		if k.Name, err = s.keys.Open(ctx, passkeyNameField(a.workspaceID, k.ID), enc); err != nil {
			return nil, err
		}
		k.CreatedAt, k.LastUsedAt = db.Time(created), db.Time(used.Int64)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RenamePasskey changes a passkey's name.
func (s *Service) RenamePasskey(ctx context.Context, p Principal, id int64, name string) error {
	var v errs.Validator
	v.Text("name", name, true, 100)
	if err := v.Err(); err != nil {
		return err
	}
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	enc, err := s.keys.Seal(ctx, passkeyNameField(a.workspaceID, id), name)
	if err != nil {
		return err
	}
	var n int64
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webauthn_credentials SET name_enc = $1 WHERE id = $2 AND `+a.kind.ownerColumn()+` = $3`, enc, id, a.id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		return errs.ErrNotFound
	}
	return err
}

// RemovePasskey deletes one of the signed-in account's passkeys.
func (s *Service) RemovePasskey(ctx context.Context, p Principal, id int64, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	return s.removeFactor(ctx, p, a, FactorPasskey, c, func(tx *db.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = $1 AND `+a.kind.ownerColumn()+` = $2`, id, a.id)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// BeginPasskeyProof starts a passkey check for the signed-in account, as
// its second factor or for step-up.
func (s *Service) BeginPasskeyProof(ctx context.Context, p Principal) ([]byte, string, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, "", err
	}
	wa, _, err := s.webauthnAccount(ctx, s.db.Read(), a)
	if err != nil {
		return nil, "", err
	}
	options, state, err := s.webauthn.BeginLogin(wa)
	if errors.Is(err, mfa.ErrNoCredentials) {
		return nil, "", &errs.Conflict{Field: "webauthn", Message: "this account has no passkeys"}
	}
	if err != nil {
		return nil, "", err
	}
	handle, err := s.saveChallenge(ctx, a.workspaceID, ceremonyProof, &a, state)
	return options, handle, err
}

func (s *Service) finishPasskeyProof(ctx context.Context, a account, challenge string, response []byte) (mfa.Credential, int64, error) {
	_, state, err := s.takeChallenge(ctx, challenge, ceremonyProof, &a)
	if err != nil {
		return mfa.Credential{}, 0, err
	}
	wa, ids, err := s.webauthnAccount(ctx, s.db.Read(), a)
	if err != nil {
		return mfa.Credential{}, 0, err
	}
	cred, err := s.webauthn.FinishLogin(wa, state, response)
	if err != nil {
		return mfa.Credential{}, 0, err
	}
	return cred, ids[string(cred.ID)], nil
}

func storeCredentialUse(ctx context.Context, tx *db.Tx, id int64, cred mfa.Credential) error {
	_, err := tx.ExecContext(ctx, `UPDATE webauthn_credentials SET credential = $1, last_used_at = $2 WHERE id = $3`, string(cred.JSON), db.Now(), id)
	return err
}

// BeginPasswordless starts a sign-in with a passkey alone (no email, no
// password): the authenticator offers the account it holds a key for.
func (s *Service) BeginPasswordless(ctx context.Context, workspace string, c Client) ([]byte, string, error) {
	w, err := s.workspaceBySlug(ctx, workspace)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, "", errs.Field("workspace", "no such workspace")
	}
	if err != nil {
		return nil, "", err
	}
	if err := s.throttled(ctx, s.ipKey(c.IP)); err != nil {
		return nil, "", err
	}
	options, state, err := s.webauthn.BeginPasswordless()
	if err != nil {
		return nil, "", err
	}
	handle, err := s.saveChallenge(ctx, w.id, ceremonyPasswordless, nil, state)
	return options, handle, err
}

// FinishPasswordless signs in the account whose passkey answered. The
// passkey proves possession and (user verification is required) the
// person, so the session is active at once.
func (s *Service) FinishPasswordless(ctx context.Context, challenge string, response []byte, c Client) (SignInResult, error) {
	if err := s.throttled(ctx, s.ipKey(c.IP)); err != nil {
		return SignInResult{}, err
	}
	ws, state, err := s.takeChallenge(ctx, challenge, ceremonyPasswordless, nil)
	if err != nil {
		return SignInResult{}, ceremonyError(err)
	}
	var found account
	var ids map[string]int64
	_, cred, err := s.webauthn.FinishPasswordless(state, response, func(credentialID, userHandle []byte) (mfa.Account, error) {
		var userID, customerID sql.NullInt64
		err := s.db.Read().QueryRowContext(ctx, `SELECT user_id, customer_id FROM webauthn_credentials WHERE workspace_id = $1 AND credential_id = $2`,
			ws, credentialID).Scan(&userID, &customerID)
		if errors.Is(err, sql.ErrNoRows) {
			return mfa.Account{}, mfa.ErrUnknownCredential
		}
		if err != nil {
			return mfa.Account{}, err
		}
		kind, id := Staff, userID.Int64
		if customerID.Valid {
			kind, id = Customer, customerID.Int64
		}
		if found, err = s.accountByID(ctx, s.db.Read(), ws, kind, id); err != nil {
			return mfa.Account{}, err
		}
		if !bytes.Equal(found.handle, userHandle) {
			return mfa.Account{}, mfa.ErrUnknownCredential
		}
		var wa mfa.Account
		wa, ids, err = s.webauthnAccount(ctx, s.db.Read(), found)
		return wa, err
	})
	if err != nil {
		_ = s.failOutside(ctx, s.ipKey(c.IP))
		s.emit(ctx, Event{Type: EventSignInFailed, WorkspaceID: ws, IP: c.IP, UserAgent: c.UserAgent,
			Details: map[string]string{"method": "passkey", "reason": "passkey_rejected"}})
		return SignInResult{}, ceremonyError(err)
	}
	if found.disabled || found.locked || (found.kind == Customer && !found.verified) {
		return SignInResult{}, errs.ErrSignInFailed
	}
	return s.startAfterProof(ctx, found, "passkey", c, func(tx *db.Tx) error {
		return storeCredentialUse(ctx, tx, ids[string(cred.ID)], cred)
	})
}
