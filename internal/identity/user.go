// Package identity manages staff users and API tokens, and turns a
// presented credential into an access.Scope.
package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/password"
	"github.com/hesar/hesar/internal/textnorm"
)

// Service manages users, sign-in, sessions, second factors and tokens.
type Service struct {
	db        *db.DB
	keys      *keyring.Keyring
	tokens    *tokenCache
	settings  settingsCache
	zones     zoneCache
	events    EventSink
	mail      *mail.Outbox
	customers *customer.Service
	webauthn  *mfa.WebAuthn
	publicURL string
	places    geoip.Locator
	log       *slog.Logger
	bg        sync.WaitGroup
}

// Opts are the Service's dependencies.
type Opts struct {
	DB   *db.DB
	Keys *keyring.Keyring
	// Events receives security events (default: the log).
	Events EventSink
	// Mail queues account mail (links, notices); nil sends none.
	Mail      *mail.Outbox
	Customers *customer.Service
	// PublicURL is where people reach Hesar (https://desk.example.com):
	// the base of emailed links and the WebAuthn origin.
	PublicURL string
	// Places locates client addresses (nil: unknown everywhere).
	Places geoip.Locator
	Log    *slog.Logger
}

// DefaultPublicURL serves a default local install.
const DefaultPublicURL = "http://localhost:8080"

// New builds the service.
func New(o Opts) (*Service, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Events == nil {
		o.Events = LogEvents{Log: o.Log}
	}
	if o.PublicURL == "" {
		o.PublicURL = DefaultPublicURL
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("public URL %q must be like https://desk.example.com (scheme and host, no path)", o.PublicURL)
	}
	wa, err := mfa.NewWebAuthn(mfa.RelyingParty{ID: u.Hostname(), Name: "Hesar", Origins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil, fmt.Errorf("public URL %q: %w", o.PublicURL, err)
	}
	return &Service{db: o.DB, keys: o.Keys, tokens: newTokenCache(), events: o.Events, mail: o.Mail, customers: o.Customers,
		webauthn: wa, publicURL: u.Scheme + "://" + u.Host, places: o.Places, log: o.Log}, nil
}

// User is a staff member.
type User struct {
	ID          int64
	WorkspaceID int64
	Email       string
	Name        string
	Role        access.Role
	Departments []int64
	Disabled    bool
	// Locale is the language the user chose ("" follows the browser).
	Locale    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email       string
	Name        string
	Role        string
	Password    string // optional: users without one are invited by email
	Departments []int64
	// InviteLocale is the language the invitation is written in ("fa",
	// "en"; "" is English), chosen by whoever invites them. It is not
	// saved as the person's language: their pages follow their browser
	// until they choose one themselves.
	InviteLocale string
}

// ValidEmail checks an email address the way every form does.
func ValidEmail(v *errs.Validator, field, email string) { v.Email(field, email) }

// CreateUser adds a staff member to the scope's workspace.
func (s *Service) CreateUser(ctx context.Context, scope access.Scope, in NewUser) (User, error) {
	if !scope.Can(access.UserManage) {
		return User{}, errs.ErrForbidden
	}
	var v errs.Validator
	ValidEmail(&v, "email", in.Email)
	v.Text("name", in.Name, true, 200)
	role, err := access.ParseRole(in.Role)
	if err != nil {
		v.Add("role", "%s", err.Error())
	}
	if !validLocale(in.InviteLocale) {
		v.Add("locale", "must be fa, en or empty")
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	if in.Password != "" {
		probe := account{kind: Staff, workspaceID: scope.WorkspaceID, email: in.Email, name: in.Name}
		if err := s.checkNewPassword(ctx, probe, "password", in.Password); err != nil {
			return User{}, err
		}
	}
	ws := scope.WorkspaceID
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return User{}, err
	}
	email := textnorm.Email(in.Email)
	emailEnc, err := s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "users", Column: "email", Row: id}, email)
	if err != nil {
		return User{}, err
	}
	nameEnc, err := s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "users", Column: "name", Row: id}, in.Name)
	if err != nil {
		return User{}, err
	}
	emailIdx, err := s.keys.BlindIndex(ctx, ws, "user.email", email)
	if err != nil {
		return User{}, err
	}
	hash := ""
	if in.Password != "" {
		if hash, err = password.Hash(in.Password); err != nil {
			return User{}, err
		}
	}
	now := db.Now()
	created := Event{Type: EventUserCreated, WorkspaceID: ws, ActorKind: scope.Kind, ActorID: scope.ActorID,
		TargetKind: access.ActorUser, TargetID: id, Details: map[string]string{"role": string(role)}}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, workspace_id, email_enc, email_idx, name_enc, role, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, id, ws, emailEnc, emailIdx, nameEnc, string(role), hash, now)
		if db.IsUniqueViolation(err) {
			return &errs.Conflict{Field: "email", Message: "a user with this email already exists"}
		}
		if err != nil {
			return err
		}
		for _, d := range in.Departments {
			if err := addMember(ctx, tx, ws, d, id); err != nil {
				return err
			}
		}
		if err := s.inTx(ctx, tx, &created); err != nil {
			return err
		}
		if hash != "" {
			return nil
		}
		// No password given: invite them to set one by email.
		a := account{kind: Staff, workspaceID: ws, id: id, email: email, name: in.Name, locale: in.InviteLocale}
		link, err := s.newLink(ctx, tx, a, LinkInvite)
		if err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, mailInvitation, accountMailData{Link: link, Expires: linkLifetime[LinkInvite]})
	})
	if err != nil {
		return User{}, err
	}
	s.emit(ctx, created)
	return s.GetUser(ctx, scope, id)
}

// addMember puts a user in a department of the same workspace.
func addMember(ctx context.Context, tx *db.Tx, ws, departmentID, userID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE id = $1 AND workspace_id = $2`, departmentID, ws).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("departments", "department %d does not exist", departmentID)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO department_members (workspace_id, department_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, ws, departmentID, userID)
	return err
}

const userColumns = `id, workspace_id, email_enc, name_enc, role, disabled_at, created_at, updated_at, locale`

// GetUser returns one user of the scope's workspace.
func (s *Service) GetUser(ctx context.Context, scope access.Scope, id int64) (User, error) {
	if !scope.Can(access.UserRead) && !(scope.Kind == access.ActorUser && scope.ActorID == id) {
		return User{}, errs.ErrNotFound
	}
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, id)
	u, err := s.scanUser(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errs.ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Departments, err = s.departmentsOf(ctx, s.db.Read(), id)
	return u, err
}

// ByEmail finds a user of a workspace by email (CLI and sign-in).
func (s *Service) ByEmail(ctx context.Context, workspaceID int64, email string) (User, error) {
	idx, err := s.keys.BlindIndex(ctx, workspaceID, "user.email", textnorm.Email(email))
	if err != nil {
		return User{}, err
	}
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND email_idx = $2`, workspaceID, idx)
	u, err := s.scanUser(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errs.ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Departments, err = s.departmentsOf(ctx, s.db.Read(), u.ID)
	return u, err
}

type scanner interface{ Scan(dest ...any) error }

func (s *Service) scanUser(ctx context.Context, row scanner) (User, error) {
	var u User
	var emailEnc, nameEnc []byte
	var role string
	var disabled sql.NullInt64
	var created, updated int64
	if err := row.Scan(&u.ID, &u.WorkspaceID, &emailEnc, &nameEnc, &role, &disabled, &created, &updated, &u.Locale); err != nil {
		return User{}, err
	}
	var err error
	if u.Email, err = s.keys.Open(ctx, keyring.Field{Workspace: u.WorkspaceID, Table: "users", Column: "email", Row: u.ID}, emailEnc); err != nil {
		return User{}, err
	}
	if u.Name, err = s.keys.Open(ctx, keyring.Field{Workspace: u.WorkspaceID, Table: "users", Column: "name", Row: u.ID}, nameEnc); err != nil {
		return User{}, err
	}
	u.Role = access.Role(role)
	u.Disabled = disabled.Valid
	u.CreatedAt, u.UpdatedAt = db.Time(created), db.Time(updated)
	return u, nil
}

func (s *Service) departmentsOf(ctx context.Context, q db.Querier, userID int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT department_id FROM department_members WHERE user_id = $1 ORDER BY department_id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ListUsers returns a page of the workspace's users in id order, after the
// id in cursor (0 for the first page).
func (s *Service) ListUsers(ctx context.Context, scope access.Scope, after int64, limit int) ([]User, error) {
	if !scope.Can(access.UserRead) {
		return nil, errs.ErrForbidden
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		scope.WorkspaceID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := s.scanUser(ctx, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// Every listed user's departments in one query, not one per user.
	mrows, err := s.db.Read().QueryContext(ctx, `SELECT m.user_id, m.department_id FROM department_members m JOIN users u ON u.id = m.user_id
		WHERE u.workspace_id = $1 AND u.id > $2 AND u.id <= $3 ORDER BY m.user_id, m.department_id`, scope.WorkspaceID, after, out[len(out)-1].ID)
	if err != nil {
		return nil, err
	}
	defer mrows.Close()
	byUser := make(map[int64][]int64, len(out))
	for mrows.Next() {
		var user, dept int64
		if err := mrows.Scan(&user, &dept); err != nil {
			return nil, err
		}
		byUser[user] = append(byUser[user], dept)
	}
	if err := mrows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Departments = byUser[out[i].ID]
	}
	return out, nil
}

// UserPatch changes some of a user's fields; nil means unchanged.
type UserPatch struct {
	Name        *string
	Role        *string
	Disabled    *bool
	Departments *[]int64
}

// UpdateUser changes a user. Admins cannot demote or disable themselves, so
// a workspace never loses its last way in by accident.
func (s *Service) UpdateUser(ctx context.Context, scope access.Scope, id int64, p UserPatch) (User, error) {
	if !scope.Can(access.UserManage) {
		return User{}, errs.ErrForbidden
	}
	before, err := s.GetUser(ctx, scope, id)
	if err != nil {
		return User{}, err
	}
	var v errs.Validator
	if p.Name != nil {
		v.Text("name", *p.Name, true, 200)
	}
	if p.Role != nil {
		if _, err := access.ParseRole(*p.Role); err != nil {
			v.Add("role", "%s", err.Error())
		} else if scope.ActorID == id && access.Role(*p.Role) != scope.Role {
			v.Add("role", "you cannot change your own role")
		}
	}
	if p.Disabled != nil && *p.Disabled && scope.ActorID == id {
		v.Add("disabled", "you cannot disable yourself")
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	var nameEnc []byte
	if p.Name != nil {
		if nameEnc, err = s.keys.Seal(ctx, keyring.Field{Workspace: scope.WorkspaceID, Table: "users", Column: "name", Row: id}, *p.Name); err != nil {
			return User{}, err
		}
	}
	now := db.Now()
	events := userChangeEvents(scope, id, before, p)
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		ws := scope.WorkspaceID
		if nameEnc != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET name_enc = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`, nameEnc, now, ws, id); err != nil {
				return err
			}
		}
		if p.Role != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`, *p.Role, now, ws, id); err != nil {
				return err
			}
			if access.Role(*p.Role) != before.Role {
				// New privileges start with a new sign-in (and a new
				// session id), not inside a session made for the old ones.
				if _, err := endSessions(ctx, tx, ws, Staff, id, 0, "role changed"); err != nil {
					return err
				}
			}
		}
		if p.Disabled != nil {
			var at any
			if *p.Disabled {
				at = now
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`, at, now, ws, id); err != nil {
				return err
			}
		}
		if p.Departments != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM department_members WHERE workspace_id = $1 AND user_id = $2`, ws, id); err != nil {
				return err
			}
			for _, d := range slices.Compact(slices.Sorted(slices.Values(*p.Departments))) {
				if err := addMember(ctx, tx, ws, d, id); err != nil {
					return err
				}
			}
		}
		for i := range events {
			if err := s.inTx(ctx, tx, &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.tokens.purge() // role, membership or status changed: drop cached identities
	for _, e := range events {
		s.emit(ctx, e)
	}
	return s.GetUser(ctx, scope, id)
}

// userChangeEvents are the security events of a user change.
func userChangeEvents(scope access.Scope, id int64, before User, p UserPatch) []Event {
	base := Event{WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID, TargetKind: access.ActorUser, TargetID: id}
	var out []Event
	if p.Role != nil && access.Role(*p.Role) != before.Role {
		e := base
		e.Type, e.Details = EventRoleChanged, map[string]string{"from": string(before.Role), "to": *p.Role}
		out = append(out, e)
	}
	if p.Disabled != nil && *p.Disabled != before.Disabled {
		e := base
		e.Type = EventUserEnabled
		if *p.Disabled {
			e.Type = EventUserDisabled
		}
		out = append(out, e)
	}
	if p.Departments != nil {
		e := base
		e.Type, e.Details = EventMembershipChanged, map[string]string{"departments": joinIDs(*p.Departments)}
		out = append(out, e)
	}
	return out
}

// CountAdmins returns how many active admins a workspace has (CLI hints).
func (s *Service) CountAdmins(ctx context.Context, workspaceID int64) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND role = 'admin' AND disabled_at IS NULL`, workspaceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = itoa(id)
	}
	return strings.Join(parts, ",")
}
