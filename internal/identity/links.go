package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Emailed links. Each carries a 256-bit random token that is stored only
// as a keyed hash, works once, expires, and is bound to one account and
// one purpose; asking for a new one voids the older ones.
const (
	LinkVerifyEmail   = "verify_email"
	LinkPasswordReset = "password_reset"
	LinkInvite        = "invite"
	LinkSignIn        = "signin"
	linkPrefix        = "hsl_"
)

var linkLifetime = map[string]time.Duration{
	LinkVerifyEmail:   24 * time.Hour,
	LinkPasswordReset: time.Hour,
	LinkInvite:        72 * time.Hour,
	LinkSignIn:        15 * time.Minute,
}

// linkPath is the page a link opens (the web console and portal serve
// them; the API endpoints under /api/v1/auth take the same token).
var linkPath = map[string]string{
	LinkVerifyEmail:   "/auth/verify-email",
	LinkPasswordReset: "/auth/reset-password",
	LinkInvite:        "/auth/reset-password",
	LinkSignIn:        "/auth/signin-link",
}

// newLink records a link for a and returns its URL.
func (s *Service) newLink(ctx context.Context, tx *db.Tx, a account, purpose string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := linkPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id, err := s.db.IDs().NextIn(ctx, tx)
	if err != nil {
		return "", err
	}
	now := db.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE auth_links SET used_at = $1 WHERE workspace_id = $2 AND `+a.kind.ownerColumn()+` = $3
		AND purpose = $4 AND used_at IS NULL`, now, a.workspaceID, a.id, purpose); err != nil {
		return "", err
	}
	userID, customerID := a.owner()
	_, err = tx.ExecContext(ctx, `INSERT INTO auth_links (id, workspace_id, purpose, user_id, customer_id, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, a.workspaceID, purpose, userID, customerID, s.keys.TokenHash(token), now,
		now+linkLifetime[purpose].Microseconds())
	if err != nil {
		return "", err
	}
	q := url.Values{"token": {token}}.Encode()
	if purpose == LinkInvite {
		// The page greets a new person rather than speaking of a reset,
		// in the language the invitation was written in.
		extra := url.Values{"welcome": {"1"}}
		if a.locale != "" {
			extra.Set("lang", a.locale)
		}
		q += "&" + extra.Encode()
	}
	return strings.TrimSuffix(s.publicURL, "/") + linkPath[purpose] + "?" + q, nil
}

type foundLink struct {
	id      int64
	purpose string
	account account
}

// findLink returns the live link a token names, for one of purposes.
func (s *Service) findLink(ctx context.Context, q db.Querier, token string, purposes ...string) (foundLink, error) {
	if !strings.HasPrefix(token, linkPrefix) || len(token) > 100 {
		return foundLink{}, errs.ErrLinkInvalid
	}
	var l foundLink
	var ws int64
	var userID, customerID sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, workspace_id, purpose, user_id, customer_id FROM auth_links
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`, s.keys.TokenHash(token), db.Now()).Scan(&l.id, &ws, &l.purpose, &userID, &customerID)
	if errors.Is(err, sql.ErrNoRows) {
		return foundLink{}, errs.ErrLinkInvalid
	}
	if err != nil {
		return foundLink{}, err
	}
	ok := false
	for _, p := range purposes {
		ok = ok || p == l.purpose
	}
	if !ok {
		return foundLink{}, errs.ErrLinkInvalid
	}
	kind, id := Staff, userID.Int64
	if customerID.Valid {
		kind, id = Customer, customerID.Int64
	}
	l.account, err = s.accountByID(ctx, q, ws, kind, id)
	if errors.Is(err, errNoAccount) {
		return foundLink{}, errs.ErrLinkInvalid
	}
	return l, err
}

// useLink marks a link used inside the write that acts on it; a second
// use racing the first loses here.
func useLink(ctx context.Context, tx *db.Tx, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE auth_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, db.Now(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.ErrLinkInvalid
	}
	return nil
}
