package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/textnorm"
)

// AccountKind says whether an account is a staff member's or a customer's.
// The two sign in through the same flows but live in different tables.
type AccountKind string

// Account kinds.
const (
	Staff    AccountKind = "staff"
	Customer AccountKind = "customer"
)

// ParseAccountKind validates the "account" field of sign-in requests.
func ParseAccountKind(s string) (AccountKind, bool) {
	switch AccountKind(s) {
	case Staff, Customer:
		return AccountKind(s), true
	}
	return "", false
}

func (k AccountKind) table() string {
	if k == Customer {
		return "customers"
	}
	return "users"
}

// ownerColumn is the column naming the account in the credential tables.
func (k AccountKind) ownerColumn() string {
	if k == Customer {
		return "customer_id"
	}
	return "user_id"
}

func (k AccountKind) actor() access.ActorKind {
	if k == Customer {
		return access.ActorCustomer
	}
	return access.ActorUser
}

func (k AccountKind) emailDomain() string {
	if k == Customer {
		return "customer.email"
	}
	return "user.email"
}

// account is what sign-in needs to know about a staff member or customer.
type account struct {
	kind         AccountKind
	workspaceID  int64
	id           int64
	email        string
	name         string
	role         access.Role // staff only
	passwordHash string
	disabled     bool
	locked       bool
	failed       int
	verified     bool
	locale       string
	handle       []byte
}

// owner returns the two owner columns' values for credential rows.
func (a account) owner() (userID, customerID any) {
	if a.kind == Customer {
		return nil, a.id
	}
	return a.id, nil
}

func (a account) actorKind() access.ActorKind { return a.kind.actor() }

func accountSelect(k AccountKind) string {
	role, disabled := "role", "disabled_at"
	if k == Customer {
		role, disabled = "''", "NULL"
	}
	return `SELECT id, workspace_id, email_enc, name_enc, ` + role + `, password_hash, ` + disabled + `, locked_at, failed_logins,
		email_verified_at, locale, webauthn_handle FROM ` + k.table()
}

var errNoAccount = errors.New("no such account")

func (s *Service) accountByEmail(ctx context.Context, q db.Querier, ws int64, k AccountKind, email string) (account, error) {
	idx, err := s.keys.BlindIndex(ctx, ws, k.emailDomain(), textnorm.Email(email))
	if err != nil {
		return account{}, err
	}
	return s.scanAccount(ctx, k, q.QueryRowContext(ctx, accountSelect(k)+` WHERE workspace_id = $1 AND email_idx = $2`, ws, idx))
}

func (s *Service) accountByID(ctx context.Context, q db.Querier, ws int64, k AccountKind, id int64) (account, error) {
	return s.scanAccount(ctx, k, q.QueryRowContext(ctx, accountSelect(k)+` WHERE workspace_id = $1 AND id = $2`, ws, id))
}

func (s *Service) scanAccount(ctx context.Context, k AccountKind, row scanner) (account, error) {
	a := account{kind: k}
	var emailEnc, nameEnc []byte
	var role string
	var disabled, locked, verified sql.NullInt64
	err := row.Scan(&a.id, &a.workspaceID, &emailEnc, &nameEnc, &role, &a.passwordHash, &disabled, &locked, &a.failed, &verified, &a.locale, &a.handle)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, errNoAccount
	}
	if err != nil {
		return account{}, err
	}
	if a.email, err = s.keys.Open(ctx, keyring.Field{Workspace: a.workspaceID, Table: k.table(), Column: "email", Row: a.id}, emailEnc); err != nil {
		return account{}, err
	}
	if a.name, err = s.keys.Open(ctx, keyring.Field{Workspace: a.workspaceID, Table: k.table(), Column: "name", Row: a.id}, nameEnc); err != nil {
		return account{}, err
	}
	a.role = access.Role(role)
	a.disabled, a.locked, a.verified = disabled.Valid, locked.Valid, verified.Valid
	return a, nil
}

// webauthnHandle returns the account's WebAuthn user handle, making one on
// first use.
func (s *Service) webauthnHandle(ctx context.Context, a account) ([]byte, error) {
	if len(a.handle) > 0 {
		return a.handle, nil
	}
	h := make([]byte, 32)
	if _, err := rand.Read(h); err != nil {
		return nil, err
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+a.kind.table()+` SET webauthn_handle = $1 WHERE id = $2 AND webauthn_handle IS NULL`, h, a.id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store webauthn handle: %w", err)
	}
	// Another request may have won the race: read back what was kept.
	var kept []byte
	if err := s.db.Read().QueryRowContext(ctx, `SELECT webauthn_handle FROM `+a.kind.table()+` WHERE id = $1`, a.id).Scan(&kept); err != nil {
		return nil, err
	}
	return kept, nil
}
