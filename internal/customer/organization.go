package customer

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/textnorm"
)

// Organization groups customers of one company.
type Organization struct {
	ID          int64
	WorkspaceID int64
	Name        string
	CreatedAt   time.Time
}

// CreateOrganization adds an organization; names are unique per workspace
// (compared through a blind index, as names are encrypted).
func (s *Service) CreateOrganization(ctx context.Context, scope access.Scope, name string) (Organization, error) {
	if !scope.Can(access.CustomerWrite) {
		return Organization{}, errs.ErrForbidden
	}
	var v errs.Validator
	v.Text("name", name, true, 200)
	if err := v.Err(); err != nil {
		return Organization{}, err
	}
	ws := scope.WorkspaceID
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Organization{}, err
	}
	nameEnc, err := s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "organizations", Column: "name", Row: id}, name)
	if err != nil {
		return Organization{}, err
	}
	nameIdx, err := s.keys.BlindIndex(ctx, ws, "organization.name", textnorm.Email(name))
	if err != nil {
		return Organization{}, err
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, workspace_id, name_enc, name_idx, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			id, ws, nameEnc, nameIdx, now)
		if db.IsUniqueViolation(err) {
			return &errs.Conflict{Field: "name", Message: "an organization with this name already exists"}
		}
		return err
	})
	if err != nil {
		return Organization{}, err
	}
	return Organization{ID: id, WorkspaceID: ws, Name: name, CreatedAt: db.Time(now)}, nil
}

// ListOrganizations returns the workspace's organizations, oldest first.
func (s *Service) ListOrganizations(ctx context.Context, scope access.Scope) ([]Organization, error) {
	if !scope.Can(access.CustomerRead) {
		return nil, errs.ErrForbidden
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, workspace_id, name_enc, created_at FROM organizations WHERE workspace_id = $1 ORDER BY id LIMIT 1000`, scope.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Organization
	for rows.Next() {
		var o Organization
		var enc []byte
		var created int64
		if err := rows.Scan(&o.ID, &o.WorkspaceID, &enc, &created); err != nil {
			return nil, err
		}
		if o.Name, err = s.keys.Open(ctx, keyring.Field{Workspace: o.WorkspaceID, Table: "organizations", Column: "name", Row: o.ID}, enc); err != nil {
			return nil, err
		}
		o.CreatedAt = db.Time(created)
		out = append(out, o)
	}
	return out, rows.Err()
}
