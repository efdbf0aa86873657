package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Session cookie names. Under TLS the __Host- prefix makes the browser
// refuse the cookie unless it is Secure, host-only and for path /, so a
// sibling subdomain or a plain-HTTP page cannot plant or overwrite it.
// Browsers refuse __Host- cookies without Secure, so plain-HTTP
// development uses the bare name.
const (
	SessionCookie      = "__Host-hesar_session"
	SessionCookieNoTLS = "hesar_session"
	sessionPrefix      = "hss_"
)

// Session states.
const (
	// StateMFA: the password was right; a second factor must follow.
	StateMFA = "mfa"
	// StateEnroll: signed in, but the workspace requires a second factor
	// this account lacks; only enrollment is allowed.
	StateEnroll = "enroll"
	// StateActive: fully signed in.
	StateActive = "active"
)

// StepUpWindow is how long a proof of identity counts as recent for
// sensitive actions.
const StepUpWindow = 5 * time.Minute

// SessionInfo is what a request authenticated by a session knows about it.
type SessionInfo struct {
	ID        int64
	Kind      AccountKind
	AccountID int64
	State     string
	AuthAt    time.Time
	// Locale is the account's saved language ("" when none is saved).
	Locale string
}

// Fresh reports whether the session proved its identity within the
// step-up window.
func (si *SessionInfo) Fresh(now time.Time) bool {
	return si != nil && now.Sub(si.AuthAt) <= StepUpWindow
}

// Session describes a signed-in device, for the owner's list.
type Session struct {
	ID         int64
	Kind       AccountKind
	AccountID  int64
	State      string
	Method     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
	Device     string
	Place      string
	Current    bool
}

func newSessionSecret() (string, error) {
	b := make([]byte, 32) // 256 bits
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return sessionPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Service) sealClient(ctx context.Context, ws, id int64, c Client) (ip, agent []byte, err error) {
	if ip, err = s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "sessions", Column: "ip", Row: id}, c.IP); err != nil {
		return nil, nil, err
	}
	agent, err = s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "sessions", Column: "agent", Row: id}, truncate(c.UserAgent, 512))
	return ip, agent, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") // drops a rune cut in half
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// startSession records a new session for a and returns its secret.
func (s *Service) startSession(ctx context.Context, tx *db.Tx, a account, state, method string, c Client) (string, int64, error) {
	policy, err := s.SecuritySettings(ctx, a.workspaceID)
	if err != nil {
		return "", 0, err
	}
	_, absolute := policy.lifetimes(a.kind)
	if state != StateActive {
		absolute = 15 * time.Minute // a half-finished sign-in does not linger
	}
	secret, err := newSessionSecret()
	if err != nil {
		return "", 0, err
	}
	id, err := s.db.IDs().NextIn(ctx, tx)
	if err != nil {
		return "", 0, err
	}
	ipEnc, agentEnc, err := s.sealClient(ctx, a.workspaceID, id, c)
	if err != nil {
		return "", 0, err
	}
	now := db.Now()
	userID, customerID := a.owner()
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions (id, workspace_id, secret_hash, user_id, customer_id, state, method,
		created_at, last_seen_at, expires_at, auth_at, ip_enc, agent_enc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $8, $10, $11)`,
		id, a.workspaceID, s.keys.TokenHash(secret), userID, customerID, state, method, now, now+absolute.Microseconds(), ipEnc, agentEnc)
	return secret, id, err
}

// advanceSession moves a session to a new state after a proof (second
// factor, enrollment, step-up) and gives it a new secret: an id that
// leaked before the privilege change is worthless after it.
func (s *Service) advanceSession(ctx context.Context, tx *db.Tx, si *SessionInfo, state, method string) (string, error) {
	secret, err := newSessionSecret()
	if err != nil {
		return "", err
	}
	now := db.Now()
	q := `UPDATE sessions SET secret_hash = $1, state = $2, auth_at = $3, last_seen_at = $3`
	args := []any{s.keys.TokenHash(secret), state, now}
	if method != "" {
		// method is appended: "password" becomes "password+totp".
		q += `, method = method || $5`
		args = append(args, si.ID, method)
	} else {
		args = append(args, si.ID)
	}
	if si.State != StateActive && state == StateActive {
		// A full session gets the full lifetime, from now.
		var ws int64
		if err := tx.QueryRowContext(ctx, `SELECT workspace_id FROM sessions WHERE id = $1`, si.ID).Scan(&ws); err != nil {
			return "", err
		}
		policy, err := s.SecuritySettings(ctx, ws)
		if err != nil {
			return "", err
		}
		_, absolute := policy.lifetimes(si.Kind)
		q += `, expires_at = ` + itoa(now+absolute.Microseconds())
	}
	q += ` WHERE id = $4 AND revoked_at IS NULL`
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", errs.ErrUnauthenticated
	}
	return secret, nil
}

// AuthenticateSession turns a session cookie's secret into a Principal:
// one indexed lookup joined with the account, plus department membership.
// Sessions are not cached, so a revocation takes effect on the next
// request on every instance.
func (s *Service) AuthenticateSession(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, sessionPrefix) || len(secret) > 100 {
		return Principal{}, errs.ErrUnauthenticated
	}
	var (
		id, ws, created, lastSeen, expires, authAt int64
		userID, customerID, revoked                sql.NullInt64
		state                                      string
		role                                       sql.NullString
		userDisabled, userLocked, customerLocked   sql.NullInt64
		org, orgAccess                             sql.NullInt64
		locale                                     string
	)
	err := s.db.Read().QueryRowContext(ctx, `
		SELECT s.id, s.workspace_id, s.user_id, s.customer_id, s.state, s.created_at, s.last_seen_at, s.expires_at, s.auth_at, s.revoked_at,
		       u.role, u.disabled_at, u.locked_at, c.locked_at, c.organization_id, c.org_access, COALESCE(u.locale, c.locale, '')
		FROM sessions s
		LEFT JOIN users u ON u.id = s.user_id
		LEFT JOIN customers c ON c.id = s.customer_id
		WHERE s.secret_hash = $1`, s.keys.TokenHash(secret)).Scan(&id, &ws, &userID, &customerID, &state, &created, &lastSeen, &expires, &authAt, &revoked,
		&role, &userDisabled, &userLocked, &customerLocked, &org, &orgAccess, &locale)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, errs.ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	kind := Staff
	if customerID.Valid {
		kind = Customer
	}
	policy, err := s.SecuritySettings(ctx, ws)
	if err != nil {
		return Principal{}, err
	}
	idle, _ := policy.lifetimes(kind)
	now := db.Now()
	switch {
	case revoked.Valid, now >= expires, userDisabled.Valid, userLocked.Valid, customerLocked.Valid:
		return Principal{}, errs.ErrUnauthenticated
	case now-lastSeen > idle.Microseconds():
		s.endSessionAsync(id, "idle")
		return Principal{}, errs.ErrUnauthenticated
	}
	si := &SessionInfo{ID: id, Kind: kind, State: state, AuthAt: db.Time(authAt), Locale: locale}
	var scope access.Scope
	if kind == Customer {
		si.AccountID = customerID.Int64
		scope = access.ForCustomer(ws, customerID.Int64, org.Int64, orgAccess.Int64 == 1)
	} else {
		si.AccountID = userID.Int64
		depts, err := s.departmentsOf(ctx, s.db.Read(), userID.Int64)
		if err != nil {
			return Principal{}, err
		}
		scope = access.ForUser(ws, userID.Int64, access.Role(role.String), depts)
	}
	if now-lastSeen > time.Minute.Microseconds() {
		s.touchSession(id)
	}
	return Principal{Scope: scope, Session: si}, nil
}

// touchSession records activity at most once a minute, off the request
// path (the idle timeout is therefore exact to about a minute).
func (s *Service) touchSession(id int64) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, db.Now(), id)
			return err
		})
	}()
}

func (s *Service) endSessionAsync(id int64, why string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoked_why = $2 WHERE id = $3 AND revoked_at IS NULL`, db.Now(), why, id)
			return err
		})
	}()
}

// SignOut ends the session the secret belongs to.
func (s *Service) SignOut(ctx context.Context, p Principal, c Client) error {
	if p.Session == nil {
		return errs.ErrUnauthenticated
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoked_why = 'signed out' WHERE id = $2 AND revoked_at IS NULL`, db.Now(), p.Session.ID)
		return err
	})
	if err == nil {
		s.emit(ctx, Event{Type: EventSignOut, WorkspaceID: p.Scope.WorkspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID,
			SessionID: p.Session.ID, IP: c.IP, UserAgent: c.UserAgent})
	}
	return err
}

// ListSessions returns the live sessions of an account, newest first. An
// account sees its own; user managers see any staff member's.
func (s *Service) ListSessions(ctx context.Context, p Principal, kind AccountKind, accountID int64) ([]Session, error) {
	if err := s.mayManageSessions(p, kind, accountID); err != nil {
		return nil, err
	}
	now := db.Now()
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, state, method, created_at, last_seen_at, expires_at, ip_enc, agent_enc, place
		FROM sessions WHERE workspace_id = $1 AND `+kind.ownerColumn()+` = $2 AND revoked_at IS NULL AND expires_at > $3
		ORDER BY id DESC LIMIT 200`, p.Scope.WorkspaceID, accountID, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	policy, err := s.SecuritySettings(ctx, p.Scope.WorkspaceID)
	if err != nil {
		return nil, err
	}
	idle, _ := policy.lifetimes(kind)
	var out []Session
	for rows.Next() {
		var x Session
		var created, seen, expires int64
		var ipEnc, agentEnc []byte
		if err := rows.Scan(&x.ID, &x.State, &x.Method, &created, &seen, &expires, &ipEnc, &agentEnc, &x.Place); err != nil {
			return nil, err
		}
		if now-seen > idle.Microseconds() {
			continue // timed out, not yet swept
		}
		x.Kind, x.AccountID = kind, accountID
		x.CreatedAt, x.LastSeenAt, x.ExpiresAt = db.Time(created), db.Time(seen), db.Time(expires)
		ws := p.Scope.WorkspaceID
		if x.IP, err = s.keys.Open(ctx, keyring.Field{Workspace: ws, Table: "sessions", Column: "ip", Row: x.ID}, ipEnc); err != nil {
			return nil, err
		}
		if x.UserAgent, err = s.keys.Open(ctx, keyring.Field{Workspace: ws, Table: "sessions", Column: "agent", Row: x.ID}, agentEnc); err != nil {
			return nil, err
		}
		x.Device = DescribeDevice(x.UserAgent)
		if x.Place == "" && s.places != nil {
			x.Place = s.places.Locate(x.IP).String() // looked up now: nothing more about a person is stored
		}
		x.Current = p.Session != nil && p.Session.ID == x.ID
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Service) mayManageSessions(p Principal, kind AccountKind, accountID int64) error {
	own := p.Scope.Kind == kind.actor() && p.Scope.ActorID == accountID
	if own || (kind == Staff && p.Scope.Can(access.UserManage)) {
		return nil
	}
	return errs.ErrNotFound
}

// RevokeSession ends one session of an account (its owner, or a user
// manager for staff).
func (s *Service) RevokeSession(ctx context.Context, p Principal, kind AccountKind, accountID, sessionID int64, c Client) error {
	if err := s.mayManageSessions(p, kind, accountID); err != nil {
		return err
	}
	var n int64
	ev := Event{Type: EventSessionRevoked, WorkspaceID: p.Scope.WorkspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID,
		TargetKind: kind.actor(), TargetID: accountID, SessionID: sessionID, IP: c.IP, UserAgent: c.UserAgent}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoked_why = 'revoked' WHERE workspace_id = $2 AND `+kind.ownerColumn()+` = $3
			AND id = $4 AND revoked_at IS NULL`, db.Now(), p.Scope.WorkspaceID, accountID, sessionID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.ErrNotFound
	}
	s.emit(ctx, ev)
	return nil
}

// RevokeSessions ends every session of an account except, when the owner
// asks, the one asking. It returns how many ended.
func (s *Service) RevokeSessions(ctx context.Context, p Principal, kind AccountKind, accountID int64, c Client) (int64, error) {
	if err := s.mayManageSessions(p, kind, accountID); err != nil {
		return 0, err
	}
	keep := int64(0)
	if p.Session != nil && p.Scope.Kind == kind.actor() && p.Scope.ActorID == accountID {
		keep = p.Session.ID
	}
	var n int64
	ev := Event{Type: EventSessionRevoked, WorkspaceID: p.Scope.WorkspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID,
		TargetKind: kind.actor(), TargetID: accountID, IP: c.IP, UserAgent: c.UserAgent}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		if n, err = endSessions(ctx, tx, p.Scope.WorkspaceID, kind, accountID, keep, "revoked"); err != nil {
			return err
		}
		ev.Details = map[string]string{"sessions": itoa(n), "scope": "all"}
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return 0, err
	}
	s.emit(ctx, ev)
	return n, nil
}

// endSessions revokes an account's sessions but keep (0: all of them).
func endSessions(ctx context.Context, tx *db.Tx, ws int64, kind AccountKind, accountID, keep int64, why string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1, revoked_why = $2 WHERE workspace_id = $3 AND `+kind.ownerColumn()+` = $4
		AND id <> $5 AND revoked_at IS NULL`, db.Now(), why, ws, accountID, keep)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
