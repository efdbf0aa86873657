package ticket

import (
	"encoding/json"

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
