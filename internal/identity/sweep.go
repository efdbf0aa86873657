package identity

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/db"
)

// sessionRetention is how long ended sessions stay listed for
// investigation before they are deleted.
const sessionRetention = 30 * 24 * time.Hour

// Sweep deletes what sign-in leaves behind and no longer needs: stale
// throttle counters, expired ceremonies, old links, long-ended sessions.
// Every instance may run it; the deletes are idempotent.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	now := db.Now()
	day := (24 * time.Hour).Microseconds()
	stmts := []struct {
		q   string
		arg int64
	}{
		{`DELETE FROM auth_throttle WHERE updated_at < $1 AND blocked_until < $1`, now - day},
		{`DELETE FROM auth_challenges WHERE expires_at < $1`, now},
		{`DELETE FROM auth_links WHERE expires_at < $1`, now - 7*day},
		{`DELETE FROM sessions WHERE (revoked_at IS NOT NULL AND revoked_at < $1) OR expires_at < $1`, now - sessionRetention.Microseconds()},
	}
	var total int64
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		for _, st := range stmts {
			res, err := tx.ExecContext(ctx, st.q, st.arg)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}
