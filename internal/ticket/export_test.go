package ticket

import (
	"context"
	"encoding/json"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// SetMaskingPolicy changes a workspace's masking policy for tests, with
// no scope check and no audit entry. It lives in a test file so that no
// production caller can use it: admins go through
// attachment.SetDataProtection, which checks and audits.
func (s *Service) SetMaskingPolicy(ctx context.Context, ws int64, policy string) error {
	if policy != PolicyMask && policy != PolicyRedact {
		return errs.Field("masking", "must be mask or redact")
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var raw string
		if err := tx.QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, ws).Scan(&raw); err != nil {
			return err
		}
		settings := map[string]any{}
		_ = json.Unmarshal([]byte(raw), &settings)
		settings["masking"] = policy
		b, err := json.Marshal(settings)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, string(b), ws)
		return err
	})
	s.policies.Delete(ws)
	return err
}
