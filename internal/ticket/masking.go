package ticket

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/dlp"
	"github.com/hesar/hesar/internal/keyring"
)

// Masking policies a workspace may choose (settings "masking").
const (
	// PolicyMask stores and shows the masked text and keeps the original,
	// minus secrets, under the restricted key for authorized reveals.
	PolicyMask = "mask"
	// PolicyRedact removes sensitive values for good: nothing is kept.
	PolicyRedact = "redact"
)

// protected is a text after the workspace's masking policy.
type protected struct {
	shown    string // stored and displayed
	original string // "" unless something was masked under PolicyMask
	kinds    []dlp.Kind
}

// protect scans text for card numbers, security codes, PINs, IBANs and
// national IDs. Card security codes and PINs are never kept, not even in
// the restricted original (PCI DSS 3.3).
func protect(policy, text string) protected {
	if policy == PolicyRedact {
		shown, findings := dlp.Redact(text)
		return protected{shown: shown, kinds: kindsOf(findings)}
	}
	shown, findings := dlp.Mask(text)
	if len(findings) == 0 {
		return protected{shown: text}
	}
	var b strings.Builder
	last := 0
	for _, f := range findings {
		if f.Kind == dlp.KindCVV || f.Kind == dlp.KindPIN {
			b.WriteString(text[last:f.Start])
			b.WriteString(f.Masked)
			last = f.End
		}
	}
	b.WriteString(text[last:])
	return protected{shown: shown, original: b.String(), kinds: kindsOf(findings)}
}

func kindsOf(findings []dlp.Finding) []dlp.Kind {
	var out []dlp.Kind
	for _, f := range findings {
		if !slices.Contains(out, f.Kind) {
			out = append(out, f.Kind)
		}
	}
	slices.Sort(out)
	return out
}

func joinKinds(kinds []dlp.Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, " ")
}

func splitKinds(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// sealOriginal encrypts an original under the restricted key, or returns
// nil when there is none.
func (s *Service) sealOriginal(ctx context.Context, f keyring.Field, p protected) ([]byte, error) {
	if p.original == "" {
		return nil, nil
	}
	f.Restricted = true
	return s.keys.Seal(ctx, f, p.original)
}

// policyCacheTTL bounds how long a changed masking setting takes to apply.
const policyCacheTTL = 30 * time.Second

type cachedPolicy struct {
	policy string
	at     time.Time
}

// maskingPolicy reads the workspace's masking setting (default: mask),
// cached briefly: it is consulted on every ticket and message.
func (s *Service) maskingPolicy(ctx context.Context, ws int64) (string, error) {
	if v, ok := s.policies.Load(ws); ok && time.Since(v.(cachedPolicy).at) < policyCacheTTL {
		return v.(cachedPolicy).policy, nil
	}
	p, err := s.readPolicy(ctx, ws)
	if err == nil {
		s.policies.Store(ws, cachedPolicy{policy: p, at: time.Now()})
	}
	return p, err
}

func (s *Service) readPolicy(ctx context.Context, ws int64) (string, error) {
	var raw string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, ws).Scan(&raw); err != nil {
		return "", err
	}
	return MaskingPolicyOf([]byte(raw)), nil
}
