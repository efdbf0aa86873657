package attachment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hesar/hesar/internal/errs"
)

// DangerousAction is what a workspace does with dangerous files.
type DangerousAction string

// Dangerous-file actions.
const (
	// Block refuses the upload (the default).
	Block DangerousAction = "block"
	// DownloadOnly stores the file but only ever serves it as an opaque
	// download (application/octet-stream), never for display.
	DownloadOnly DangerousAction = "download-only"
)

// Size limits.
const (
	// DefaultMaxBytes is the upload limit when a workspace sets none.
	DefaultMaxBytes = 25 << 20
	// CeilingMaxBytes bounds what a workspace may set, so a typo cannot
	// let one upload fill the disk.
	CeilingMaxBytes = 1 << 30
)

// Policy is a workspace's attachment rules, read from workspaces.settings:
//
//	{"attachments": {"max_bytes": 26214400, "dangerous": "block" | "download-only"}}
type Policy struct {
	MaxBytes  int64
	Dangerous DangerousAction
}

// DefaultPolicy is the policy of a workspace that sets nothing.
func DefaultPolicy() Policy { return Policy{MaxBytes: DefaultMaxBytes, Dangerous: Block} }

// ParsePolicy reads the policy from a workspace's settings JSON. It fails
// closed: anything missing, malformed or unknown takes the default, which
// is the strict choice (block dangerous files, 25 MiB).
func ParsePolicy(settings []byte) Policy {
	p := DefaultPolicy()
	var s struct {
		Attachments struct {
			MaxBytes  json.Number `json:"max_bytes"`
			Dangerous string      `json:"dangerous"`
		} `json:"attachments"`
	}
	if json.Unmarshal(settings, &s) != nil {
		return p
	}
	if n, err := s.Attachments.MaxBytes.Int64(); err == nil && n > 0 {
		p.MaxBytes = min(n, CeilingMaxBytes)
	}
	if DangerousAction(s.Attachments.Dangerous) == DownloadOnly {
		p.Dangerous = DownloadOnly
	}
	return p
}

// Policy returns the attachment policy of workspace ws.
func (s *Service) Policy(ctx context.Context, ws int64) (Policy, error) {
	var settings string
	err := s.db.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, ws).Scan(&settings)
	if errors.Is(err, sql.ErrNoRows) {
		return Policy{}, errs.ErrNotFound
	}
	if err != nil {
		return Policy{}, fmt.Errorf("read attachment policy: %w", err)
	}
	return ParsePolicy([]byte(settings)), nil
}
