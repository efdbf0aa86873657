package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Locales a person may save as their language. The empty locale means "no
// choice": the browser's Accept-Language decides.
var Locales = []string{"fa", "en"}

// validLocale reports whether l may be saved.
func validLocale(l string) bool {
	return l == "" || l == "fa" || l == "en"
}

// SetLocale saves the language of the person scope stands for: pages, and
// the mail Hesar sends them, use it from then on.
func (s *Service) SetLocale(ctx context.Context, scope access.Scope, locale string) error {
	if !validLocale(locale) {
		var v errs.Validator
		v.Add("locale", "must be fa, en or empty (follow the browser)")
		return v.Err()
	}
	table := "users"
	switch scope.Kind {
	case access.ActorUser:
	case access.ActorCustomer:
		table = "customers"
	default:
		return errs.ErrForbidden
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET locale = $1 WHERE workspace_id = $2 AND id = $3`, table),
			locale, scope.WorkspaceID, scope.ActorID)
		if err != nil {
			return fmt.Errorf("save locale: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errs.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	if scope.Kind == access.ActorUser {
		// Me() caches the user, locale included; only this one entry goes,
		// so changing one's language is no lever to empty the whole cache.
		s.tokens.mu.Lock()
		delete(s.tokens.users, scope.ActorID)
		s.tokens.mu.Unlock()
	}
	return nil
}

// Locale returns the saved language of the person scope stands for ("" when
// they chose none).
func (s *Service) Locale(ctx context.Context, scope access.Scope) (string, error) {
	table := "users"
	switch scope.Kind {
	case access.ActorUser:
	case access.ActorCustomer:
		table = "customers"
	default:
		return "", errs.ErrNotFound
	}
	var l string
	err := s.db.Read().QueryRowContext(ctx, fmt.Sprintf(`SELECT locale FROM %s WHERE workspace_id = $1 AND id = $2`, table),
		scope.WorkspaceID, scope.ActorID).Scan(&l)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.ErrNotFound
	}
	return l, err
}
