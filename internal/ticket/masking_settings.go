package ticket

import (
	"context"
	"encoding/json"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// MaskingPolicyOf reads the masking policy out of a workspace's settings
// column as it is enforced: anything but "redact" (missing, damaged,
// unknown) is PolicyMask, the default.
func MaskingPolicyOf(settings []byte) string {
	var s struct {
		Masking string `json:"masking"`
	}
	_ = json.Unmarshal(settings, &s) // a damaged setting falls back to the default
	if s.Masking == PolicyRedact {
		return PolicyRedact
	}
	return PolicyMask
}

// CheckMaskingPolicy returns a field error on "masking" unless p is a
// policy a workspace may choose.
func CheckMaskingPolicy(p string) error {
	if p != PolicyMask && p != PolicyRedact {
		return errs.Field("masking", "must be mask or redact")
	}
	return nil
}

// ForgetMaskingPolicy drops this instance's cached masking policy of
// workspace ws, so the next subject or message it protects reads the
// setting again. Other instances keep theirs until it expires, at most
// policyCacheTTL (30 s) after the change.
func (s *Service) ForgetMaskingPolicy(ws int64) { s.policies.Delete(ws) }

// AuditIn adds e to the service's audit log inside tx, so a change to
// what the ticket service enforces (the masking policy, set together with
// the attachment policy by attachment.SetDataProtection) commits with its
// record or not at all. Without an audit log (some unit tests) it records
// nothing.
func (s *Service) AuditIn(ctx context.Context, tx *db.Tx, e audit.Entry) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, tx, e)
}
