package attachment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/ticket"
)

// MinMaxBytes is the smallest upload limit a workspace may set.
const MinMaxBytes = 1 << 20

// DataProtection is how a workspace treats what customers send: the
// masking policy of new subjects and messages (ticket.PolicyMask or
// ticket.PolicyRedact, settings key "masking") and the attachment policy
// (key "attachments"). They live here, beside the attachment policy,
// because this package already builds on the ticket service; the ticket
// package cannot import this one.
type DataProtection struct {
	Masking     string
	Attachments Policy
}

// Validate checks every value and names each bad one: "masking",
// "attachments.max_bytes", "attachments.dangerous".
func (d DataProtection) Validate() error {
	var v errs.Validator
	if ticket.CheckMaskingPolicy(d.Masking) != nil {
		v.Add("masking", "must be mask or redact")
	}
	if d.Attachments.MaxBytes < MinMaxBytes || d.Attachments.MaxBytes > CeilingMaxBytes {
		v.Add("attachments.max_bytes", "must be between %d (1 MiB) and %d (%d MiB) bytes", MinMaxBytes, CeilingMaxBytes, CeilingMaxBytes>>20)
	}
	if d.Attachments.Dangerous != Block && d.Attachments.Dangerous != DownloadOnly {
		v.Add("attachments.dangerous", "must be block or download-only")
	}
	return v.Err()
}

// DataProtectionChange is what SetDataProtection did: the settings before
// and after.
type DataProtectionChange struct {
	From, To DataProtection
}

// MaskingChanged reports whether the masking policy changed.
func (c DataProtectionChange) MaskingChanged() bool { return c.From.Masking != c.To.Masking }

// AttachmentsChanged reports whether the attachment policy changed.
func (c DataProtectionChange) AttachmentsChanged() bool {
	return c.From.Attachments != c.To.Attachments
}

// Changed reports whether anything changed.
func (c DataProtectionChange) Changed() bool { return c.MaskingChanged() || c.AttachmentsChanged() }

// MaskingDetails are the masking policy and, under "masking_from", the
// one it replaced.
func (c DataProtectionChange) MaskingDetails() map[string]string {
	return map[string]string{"masking": c.To.Masking, "masking_from": c.From.Masking}
}

// AttachmentDetails are the attachment policy's values and, under
// "<name>_from", the ones they replaced.
func (c DataProtectionChange) AttachmentDetails() map[string]string {
	return map[string]string{
		"max_bytes": strconv.FormatInt(c.To.Attachments.MaxBytes, 10), "max_bytes_from": strconv.FormatInt(c.From.Attachments.MaxBytes, 10),
		"dangerous": string(c.To.Attachments.Dangerous), "dangerous_from": string(c.From.Attachments.Dangerous),
	}
}

// Details are both, for a reader that wants the whole change (the
// monitor's policy_weakened detector).
func (c DataProtectionChange) Details() map[string]string {
	d := c.MaskingDetails()
	for k, v := range c.AttachmentDetails() {
		d[k] = v
	}
	return d
}

func dataProtectionOf(settings []byte) DataProtection {
	return DataProtection{Masking: ticket.MaskingPolicyOf(settings), Attachments: ParsePolicy(settings)}
}

// DataProtection returns the workspace's data-protection settings as they
// are enforced (user.manage).
func (s *Service) DataProtection(ctx context.Context, scope access.Scope) (DataProtection, error) {
	if !scope.Can(access.UserManage) {
		return DataProtection{}, errs.ErrForbidden
	}
	var raw string
	err := s.db.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, scope.WorkspaceID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return DataProtection{}, errs.ErrNotFound
	}
	if err != nil {
		return DataProtection{}, fmt.Errorf("read data-protection settings: %w", err)
	}
	return dataProtectionOf([]byte(raw)), nil
}

// SetDataProtection replaces the workspace's data-protection settings
// (user.manage). Every other key of the settings column is kept. Each
// policy that changes gets an audit record with its old and new values,
// in the same transaction; a change to nothing writes nothing.
//
// The attachment policy is read from the database on every upload, so it
// applies at once everywhere. The masking policy is cached by each
// instance's ticket service for up to 30 s: this instance forgets it
// here, other instances follow within those 30 s.
func (s *Service) SetDataProtection(ctx context.Context, scope access.Scope, d DataProtection) (DataProtectionChange, error) {
	if !scope.Can(access.UserManage) {
		return DataProtectionChange{}, errs.ErrForbidden
	}
	if err := d.Validate(); err != nil {
		return DataProtectionChange{}, err
	}
	var c DataProtectionChange
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, scope.WorkspaceID).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The settings replaced are read in the write, not from a cache:
		// the record must say what was really in force.
		c = DataProtectionChange{From: dataProtectionOf([]byte(raw)), To: d}
		if !c.Changed() {
			return nil
		}
		all := map[string]any{}
		_ = json.Unmarshal([]byte(raw), &all) // damaged settings are replaced by valid ones
		all["masking"] = d.Masking
		att, _ := all["attachments"].(map[string]any)
		if att == nil {
			att = map[string]any{}
		}
		att["max_bytes"] = d.Attachments.MaxBytes
		att["dangerous"] = string(d.Attachments.Dangerous)
		all["attachments"] = att
		b, err := json.Marshal(all)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, string(b), scope.WorkspaceID); err != nil {
			return err
		}
		if c.MaskingChanged() {
			if err := s.record(ctx, tx, settingsEntry(ctx, scope, audit.ActionMaskingPolicyChanged, c.MaskingDetails())); err != nil {
				return err
			}
		}
		if c.AttachmentsChanged() {
			return s.record(ctx, tx, settingsEntry(ctx, scope, audit.ActionAttachmentPolicyChanged, c.AttachmentDetails()))
		}
		return nil
	})
	if err != nil {
		return DataProtectionChange{}, err
	}
	if c.MaskingChanged() {
		s.tickets.ForgetMaskingPolicy(scope.WorkspaceID)
	}
	return c, nil
}

// record adds e to the audit log inside tx; without a log it records
// nothing.
func (s *Service) record(ctx context.Context, tx *db.Tx, e audit.Entry) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, tx, e)
}

// settingsEntry is the audit record of a settings change: the request's
// address, agent and id, the actor from the scope.
func settingsEntry(ctx context.Context, scope access.Scope, action string, details map[string]string) audit.Entry {
	e := audit.About(ctx, scope.WorkspaceID, action, "workspace", scope.WorkspaceID, details)
	switch scope.Kind {
	case access.ActorUser:
		e.ActorKind, e.ActorID = audit.ActorUser, scope.ActorID
	case access.ActorSystem, "":
		e.ActorKind, e.ActorID = audit.ActorSystem, 0
	}
	return e
}
