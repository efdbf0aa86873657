package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// TokenPrefix starts every API token, so secret scanners can find leaked ones.
const TokenPrefix = "hsr_"

// Token describes an API token (never its secret).
type Token struct {
	ID          int64
	WorkspaceID int64
	UserID      int64 // staff token
	CustomerID  int64 // customer token
	Name        string
	Prefix      string
	CreatedAt   time.Time
	LastUsedAt  time.Time
	ExpiresAt   time.Time
	Revoked     bool
	// Permissions limits the token to part of its owner's rights; empty
	// means all of them.
	Permissions []access.Permission
}

// NewToken is what CreateToken needs. Exactly one of UserID and CustomerID.
type NewToken struct {
	Name       string
	UserID     int64
	CustomerID int64
	TTL        time.Duration // 0: no expiry
	// Permissions, when not nil, limits the token to these of its owner's
	// permissions.
	Permissions []access.Permission
	// Client is where the request came from, for the security event.
	Client Client
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CreateToken makes a token and returns it with its secret, which is shown
// once and never stored: only its keyed hash is.
func (s *Service) CreateToken(ctx context.Context, scope access.Scope, in NewToken) (Token, string, error) {
	var v errs.Validator
	v.Text("name", in.Name, true, 100)
	if (in.UserID == 0) == (in.CustomerID == 0) {
		v.Add("owner", "a token belongs to exactly one user or one customer")
	}
	if in.TTL < 0 {
		v.Add("ttl", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return Token{}, "", err
	}
	// Staff may mint tokens for themselves; minting for anyone else (or for a
	// customer) is user management.
	self := scope.Kind == access.ActorUser && in.UserID == scope.ActorID && scope.Can(access.TokenCreate)
	if !self && !scope.Can(access.UserManage) {
		return Token{}, "", errs.ErrForbidden
	}
	if self && in.Permissions == nil && !slices.Equal(scope.Permissions(), access.PermissionsOf(scope.Role)) {
		// A token minted by a limited token is no wider than its parent.
		in.Permissions = scope.Permissions()
	}
	perms, err := tokenPermissions(in.Permissions, self, scope)
	if err != nil {
		return Token{}, "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(raw))
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Token{}, "", err
	}
	now := db.Now()
	t := Token{ID: id, WorkspaceID: scope.WorkspaceID, UserID: in.UserID, CustomerID: in.CustomerID,
		Name: in.Name, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: db.Time(now), Permissions: in.Permissions}
	var expires any
	if in.TTL > 0 {
		t.ExpiresAt = db.Time(now + in.TTL.Microseconds())
		expires = now + in.TTL.Microseconds()
	}
	details := map[string]string{"token_id": itoa(id), "permissions": "owner's"}
	if perms != nil {
		details["permissions"] = perms.(string)
	}
	target, targetID := access.ActorUser, in.UserID
	if in.CustomerID != 0 {
		target, targetID = access.ActorCustomer, in.CustomerID
	}
	ev := Event{Type: EventTokenCreated, WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID,
		TargetKind: target, TargetID: targetID, IP: in.Client.IP, UserAgent: in.Client.UserAgent, Details: details}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := ownerExists(ctx, tx, scope.WorkspaceID, in); err != nil {
			return err
		}
		if err := ownerHolds(ctx, tx, in); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, workspace_id, user_id, customer_id, name, token_hash, prefix, created_at, expires_at, permissions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			id, scope.WorkspaceID, db.NullID(in.UserID), db.NullID(in.CustomerID), in.Name, s.keys.TokenHash(secret), t.Prefix, now, expires, perms)
		if err != nil {
			return err
		}
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return Token{}, "", err
	}
	s.emit(ctx, ev)
	return t, secret, nil
}

// tokenPermissions validates a requested permission list and returns its
// stored form (nil: all of the owner's).
func tokenPermissions(want []access.Permission, self bool, scope access.Scope) (any, error) {
	if want == nil {
		return nil, nil
	}
	if len(want) == 0 {
		return nil, errs.Field("permissions", "must name at least one permission, or be left out for all of the owner's")
	}
	names := make([]string, 0, len(want))
	for _, p := range want {
		if _, ok := access.ParsePermission(string(p)); !ok {
			return nil, errs.Field("permissions", "%q is not a permission", string(p))
		}
		if self && !scope.Can(p) {
			return nil, errs.Field("permissions", "you do not hold %q, so a token of yours cannot", string(p))
		}
		names = append(names, string(p))
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), " "), nil
}

// ownerHolds checks a limited token asks only for rights its owner has.
func ownerHolds(ctx context.Context, tx *db.Tx, in NewToken) error {
	if in.Permissions == nil {
		return nil
	}
	var held access.Scope
	if in.CustomerID != 0 {
		held = access.ForCustomer(0, in.CustomerID, 0, false)
	} else {
		var role string
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = $1`, in.UserID).Scan(&role); err != nil {
			return err
		}
		held = access.ForUser(0, in.UserID, access.Role(role), nil)
	}
	for _, p := range in.Permissions {
		if !held.Can(p) {
			return errs.Field("permissions", "the token's owner does not hold %q", string(p))
		}
	}
	return nil
}

func ownerExists(ctx context.Context, tx *db.Tx, ws int64, in NewToken) error {
	q, id, field := `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND id = $2 AND disabled_at IS NULL`, in.UserID, "user_id"
	if in.CustomerID != 0 {
		q, id, field = `SELECT COUNT(*) FROM customers WHERE workspace_id = $1 AND id = $2`, in.CustomerID, "customer_id"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, ws, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field(field, "no such active %s in this workspace", strings.TrimSuffix(field, "_id"))
	}
	return nil
}

// ListTokens returns the tokens the scope's user owns (all tokens of the
// workspace for user managers), newest first.
func (s *Service) ListTokens(ctx context.Context, scope access.Scope) ([]Token, error) {
	q := `SELECT id, workspace_id, user_id, customer_id, name, prefix, created_at, last_used_at, expires_at, revoked_at, permissions FROM api_tokens WHERE workspace_id = $1`
	args := []any{scope.WorkspaceID}
	switch {
	case scope.Can(access.UserManage):
	case scope.Kind == access.ActorUser:
		q += ` AND user_id = $2`
		args = append(args, scope.ActorID)
	default:
		return nil, errs.ErrForbidden
	}
	rows, err := s.db.Read().QueryContext(ctx, q+` ORDER BY id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var user, customer, lastUsed, expires, revoked sql.NullInt64
		var created int64
		var perms sql.NullString
		if err := rows.Scan(&t.ID, &t.WorkspaceID, &user, &customer, &t.Name, &t.Prefix, &created, &lastUsed, &expires, &revoked, &perms); err != nil {
			return nil, err
		}
		t.Permissions = parseTokenPermissions(perms)
		t.UserID, t.CustomerID = user.Int64, customer.Int64
		t.CreatedAt, t.LastUsedAt, t.ExpiresAt = db.Time(created), db.Time(lastUsed.Int64), db.Time(expires.Int64)
		t.Revoked = revoked.Valid
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken ends a token at once (on this instance immediately, on others
// within the identity cache's lifetime).
func (s *Service) RevokeToken(ctx context.Context, scope access.Scope, id int64, c Client) error {
	q := `UPDATE api_tokens SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL`
	args := []any{db.Now(), scope.WorkspaceID, id}
	if !scope.Can(access.UserManage) {
		if scope.Kind != access.ActorUser {
			return errs.ErrForbidden
		}
		q += ` AND user_id = $4`
		args = append(args, scope.ActorID)
	}
	var n int64
	ev := Event{Type: EventTokenRevoked, WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID,
		IP: c.IP, UserAgent: c.UserAgent, Details: map[string]string{"token_id": itoa(id)}}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
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
	s.tokens.purge()
	if n == 0 {
		return errs.ErrNotFound
	}
	s.emit(ctx, ev)
	return nil
}

// Principal is an authenticated caller: by API token (TokenID set) or by
// browser session (Session set).
type Principal struct {
	Scope   access.Scope
	TokenID int64
	Session *SessionInfo
}

// Authenticate turns a bearer token into a Principal with one indexed
// lookup of the token's keyed hash (plus one for department membership),
// cached briefly in memory.
func (s *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 128 {
		return Principal{}, errs.ErrUnauthenticated
	}
	hash := s.keys.TokenHash(secret)
	key := string(hash)
	p, ok, gen := s.tokens.get(key)
	if !ok {
		var err error
		if p, err = s.lookupToken(ctx, hash); err != nil {
			return Principal{}, err
		}
		s.tokens.put(key, p, gen)
	}
	s.touch(p)
	return p, nil
}

func (s *Service) lookupToken(ctx context.Context, hash []byte) (Principal, error) {
	var (
		id, ws              int64
		userID, customerID  sql.NullInt64
		expires, revoked    sql.NullInt64
		role                sql.NullString
		userDisabled, orgID sql.NullInt64
		orgAccess           sql.NullInt64
		perms               sql.NullString
	)
	err := s.db.Read().QueryRowContext(ctx, `
		SELECT t.id, t.workspace_id, t.user_id, t.customer_id, t.expires_at, t.revoked_at,
		       u.role, u.disabled_at, c.organization_id, c.org_access, t.permissions
		FROM api_tokens t
		LEFT JOIN users u ON u.id = t.user_id
		LEFT JOIN customers c ON c.id = t.customer_id
		WHERE t.token_hash = $1`, hash).Scan(&id, &ws, &userID, &customerID, &expires, &revoked, &role, &userDisabled, &orgID, &orgAccess, &perms)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, errs.ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if revoked.Valid || (expires.Valid && expires.Int64 <= db.Now()) || userDisabled.Valid {
		return Principal{}, errs.ErrUnauthenticated
	}
	var scope access.Scope
	if customerID.Valid {
		scope = access.ForCustomer(ws, customerID.Int64, orgID.Int64, orgAccess.Int64 == 1)
	} else {
		depts, err := s.departmentsOf(ctx, s.db.Read(), userID.Int64)
		if err != nil {
			return Principal{}, err
		}
		scope = access.ForUser(ws, userID.Int64, access.Role(role.String), depts)
	}
	if limit := parseTokenPermissions(perms); limit != nil {
		scope = scope.Restrict(limit)
	}
	return Principal{Scope: scope, TokenID: id}, nil
}

func parseTokenPermissions(v sql.NullString) []access.Permission {
	if !v.Valid {
		return nil
	}
	var out []access.Permission
	for _, f := range strings.Fields(v.String) {
		out = append(out, access.Permission(f))
	}
	return out
}

// touch counts a token's use. At most once a minute per instance, off the
// request path, it records last_used_at and emits one token.used event
// with the uses counted since the last one (the audit log's "use
// aggregated per token per minute").
func (s *Service) touch(p Principal) {
	uses, due := s.tokens.use(p.TokenID)
	if !due {
		return
	}
	tokenID := p.TokenID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, db.Now(), tokenID)
			return err
		})
		s.emit(ctx, Event{Type: EventTokenUsed, WorkspaceID: p.Scope.WorkspaceID, ActorKind: p.Scope.Kind, ActorID: p.Scope.ActorID,
			Details: map[string]string{"token_id": itoa(tokenID), "uses": strconv.Itoa(uses)}})
	}()
}

// tokenCacheTTL bounds how long a revoked token or changed role can still
// work on another instance.
const tokenCacheTTL = 2 * time.Second

type tokenCache struct {
	mu      sync.Mutex
	entries map[string]cachedPrincipal
	touched map[int64]time.Time
	uses    map[int64]int
	// users holds what /me shows of a staff member, for the same short
	// time and with the same purges as identities.
	users map[int64]cachedUser
	// gen counts purges: a lookup that started before a purge (a revoke,
	// a role change) must not put its stale answer in the fresh cache.
	gen uint64
}

type cachedUser struct {
	u       User
	expires time.Time
}

type cachedPrincipal struct {
	p       Principal
	expires time.Time
}

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[string]cachedPrincipal{}, touched: map[int64]time.Time{}, uses: map[int64]int{}, users: map[int64]cachedUser{}}
}

func (c *tokenCache) get(key string) (Principal, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return Principal{}, false, c.gen
	}
	return e.p, true, c.gen
}

func (c *tokenCache) put(key string, p Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // purged since the lookup began
	}
	if len(c.entries) > 10000 {
		c.entries = map[string]cachedPrincipal{}
	}
	c.entries[key] = cachedPrincipal{p: p, expires: time.Now().Add(tokenCacheTTL)}
}

func (c *tokenCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]cachedPrincipal{}
	c.users = map[int64]cachedUser{}
	c.gen++
}

// use counts one use of a token and reports whether a minute has passed
// since its last record, with the uses counted until now.
func (c *tokenCache) use(id int64) (uses int, due bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.uses[id]++
	if time.Since(c.touched[id]) < time.Minute {
		return 0, false
	}
	if len(c.touched) > 10000 {
		c.touched, c.uses = map[int64]time.Time{}, map[int64]int{id: c.uses[id]}
	}
	c.touched[id] = time.Now()
	uses = c.uses[id]
	delete(c.uses, id)
	return uses, true
}

// ForgetCachedIdentities drops every cached token identity on this
// instance; call it after a change to roles or department membership.
func (s *Service) ForgetCachedIdentities() { s.tokens.purge() }

// Me returns the signed-in staff member, cached as briefly as identities
// are (a trivial authenticated request should not read the database
// twice for the same answer).
func (s *Service) Me(ctx context.Context, scope access.Scope) (User, error) {
	c := s.tokens
	c.mu.Lock()
	e, ok := c.users[scope.ActorID]
	gen := c.gen
	c.mu.Unlock()
	if ok && time.Now().Before(e.expires) && e.u.WorkspaceID == scope.WorkspaceID {
		return e.u, nil
	}
	u, err := s.GetUser(ctx, scope, scope.ActorID)
	if err != nil {
		return User{}, err
	}
	c.mu.Lock()
	if gen == c.gen {
		if len(c.users) > 10000 {
			c.users = map[int64]cachedUser{}
		}
		c.users[scope.ActorID] = cachedUser{u: u, expires: time.Now().Add(tokenCacheTTL)}
	}
	c.mu.Unlock()
	return u, nil
}
