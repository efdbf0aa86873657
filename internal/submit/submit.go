// Package submit keeps a form from doing its work twice. Each form that
// creates something carries a one-time token (Token); the write that
// creates it claims the token in its own transaction (Claim), and a
// second request with the same token finds what the first one made
// (Find) instead of making it again. This covers a double click, a reload
// that posts again, and a browser retrying after a lost answer.
package submit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// ErrRepeated says the token was already used: the work was done before.
var ErrRepeated = errors.New("submit: this form was already sent")

// keep is how long a token's record is kept: longer than anyone leaves a
// form open and then presses again.
const keep = 24 * time.Hour

// tokenLen is the length of a Token: 16 random bytes, base64url.
const tokenLen = 22

// Token makes a one-time token for a form.
func Token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// valid says whether s has the form of a Token; anything else (an old
// page without one, a hand-made request) is not deduplicated.
func valid(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Store records the tokens used.
type Store struct{ db *db.DB }

// New returns the store of d.
func New(d *db.DB) *Store { return &Store{db: d} }

// Claim records, inside the write that made them, that the scope's
// person used token to make ticket ticketID (and message messageID, 0 for
// none). It returns ErrRepeated when the token was used before: the
// caller's transaction must then be undone. An empty or malformed token
// claims nothing.
func (s *Store) Claim(ctx context.Context, tx *db.Tx, scope access.Scope, token string, ticketID, messageID int64) error {
	if !valid(token) {
		return nil
	}
	now := db.Now()
	if _, err := tx.ExecContext(ctx, `DELETE FROM form_submissions WHERE workspace_id = $1 AND actor_type = $2 AND actor_id = $3 AND created_at < $4`,
		scope.WorkspaceID, string(scope.Kind), scope.ActorID, now-keep.Microseconds()); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO form_submissions (workspace_id, actor_type, actor_id, token_hash, ticket_id, message_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		scope.WorkspaceID, string(scope.Kind), scope.ActorID, hash(token), ticketID, db.NullID(messageID), now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrRepeated
	}
	return nil
}

// Find returns what the scope's person made with token: the ticket's
// number and the message's id (0 for none). found is false when the token
// was not used (or is malformed).
func (s *Store) Find(ctx context.Context, scope access.Scope, token string) (number, messageID int64, found bool, err error) {
	if !valid(token) {
		return 0, 0, false, nil
	}
	var msg sql.NullInt64
	err = s.db.Read().QueryRowContext(ctx, `SELECT t.number, f.message_id FROM form_submissions f JOIN tickets t ON t.id = f.ticket_id
		WHERE f.workspace_id = $1 AND f.actor_type = $2 AND f.actor_id = $3 AND f.token_hash = $4`,
		scope.WorkspaceID, string(scope.Kind), scope.ActorID, hash(token)).Scan(&number, &msg)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	return number, msg.Int64, true, nil
}
