package ticket

import (
	"context"
	"encoding/hex"
	"strings"

	"github.com/hesar/hesar/internal/textnorm"
)

// QueryFingerprint is a keyed hash of a search's normalized words, for the
// audit log: equal searches have equal fingerprints, and the words cannot
// be read back from it.
func (s *Service) QueryFingerprint(ctx context.Context, ws int64, query string) (string, error) {
	words := textnorm.Words(query)
	b, err := s.keys.BlindIndex(ctx, ws, "audit.search", strings.Join(words, " "))
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:16]), nil
}
