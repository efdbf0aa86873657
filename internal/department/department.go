// Package department manages departments and who belongs to them.
// Membership decides which tickets an agent can see.
package department

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Department is a team that owns tickets.
type Department struct {
	ID          int64
	WorkspaceID int64
	Name        string
	Members     []int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Audit actions of department changes. Membership decides who sees which
// tickets, so every change is recorded in the write that makes it; the
// record names the department (target) and the user (details "user_id"),
// never a name or an email.
const (
	ActionCreated       = "department.created"
	ActionRenamed       = "department.renamed"
	ActionMemberAdded   = "department.member_added"
	ActionMemberRemoved = "department.member_removed"
)

// Service manages departments.
type Service struct {
	db    *db.DB
	audit *audit.Log
}

// Opts are the Service's dependencies.
type Opts struct {
	DB *db.DB
	// Audit records every change in its transaction (nil: none, as in
	// some unit tests).
	Audit *audit.Log
}

// New builds the service.
func New(o Opts) *Service { return &Service{db: o.DB, audit: o.Audit} }

// record adds the audit record of a change to department id inside tx.
func (s *Service) record(ctx context.Context, tx *db.Tx, ws int64, action string, id int64, details map[string]string) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, tx, audit.About(ctx, ws, action, "department", id, details))
}

// Create adds a department.
func (s *Service) Create(ctx context.Context, scope access.Scope, name string) (Department, error) {
	if !scope.Can(access.DepartmentManage) {
		return Department{}, errs.ErrForbidden
	}
	var v errs.Validator
	v.Text("name", name, true, 100)
	if err := v.Err(); err != nil {
		return Department{}, err
	}
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Department{}, err
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO departments (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			id, scope.WorkspaceID, name, now)
		if db.IsUniqueViolation(err) {
			return &errs.Conflict{Field: "name", Message: fmt.Sprintf("a department named %q already exists", name)}
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, scope.WorkspaceID, ActionCreated, id, nil)
	})
	if err != nil {
		return Department{}, err
	}
	return s.Get(ctx, scope, id)
}

// Get returns one department with its members.
func (s *Service) Get(ctx context.Context, scope access.Scope, id int64) (Department, error) {
	if !scope.Can(access.DepartmentRead) {
		return Department{}, errs.ErrNotFound
	}
	var d Department
	var created, updated int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT id, workspace_id, name, created_at, updated_at FROM departments WHERE workspace_id = $1 AND id = $2`,
		scope.WorkspaceID, id).Scan(&d.ID, &d.WorkspaceID, &d.Name, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Department{}, errs.ErrNotFound
	}
	if err != nil {
		return Department{}, err
	}
	d.CreatedAt, d.UpdatedAt = db.Time(created), db.Time(updated)
	d.Members, err = s.members(ctx, scope.WorkspaceID, id)
	return d, err
}

func (s *Service) members(ctx context.Context, ws, id int64) ([]int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT user_id FROM department_members WHERE workspace_id = $1 AND department_id = $2 ORDER BY user_id`, ws, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// List returns every department of the workspace by name.
func (s *Service) List(ctx context.Context, scope access.Scope) ([]Department, error) {
	if !scope.Can(access.DepartmentRead) {
		return nil, errs.ErrForbidden
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, workspace_id, name, created_at, updated_at FROM departments WHERE workspace_id = $1 ORDER BY name, id`, scope.WorkspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Department
	for rows.Next() {
		var d Department
		var created, updated int64
		if err := rows.Scan(&d.ID, &d.WorkspaceID, &d.Name, &created, &updated); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt = db.Time(created), db.Time(updated)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if out[i].Members, err = s.members(ctx, scope.WorkspaceID, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Rename changes a department's name.
func (s *Service) Rename(ctx context.Context, scope access.Scope, id int64, name string) (Department, error) {
	if !scope.Can(access.DepartmentManage) {
		return Department{}, errs.ErrForbidden
	}
	var v errs.Validator
	v.Text("name", name, true, 100)
	if err := v.Err(); err != nil {
		return Department{}, err
	}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		// The record says from what to what (a department's name is the
		// company's, not personal data).
		var old string
		err := tx.QueryRowContext(ctx, `SELECT name FROM departments WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE departments SET name = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`, name, db.Now(), scope.WorkspaceID, id)
		if db.IsUniqueViolation(err) {
			return &errs.Conflict{Field: "name", Message: fmt.Sprintf("a department named %q already exists", name)}
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.ErrNotFound
		}
		return s.record(ctx, tx, scope.WorkspaceID, ActionRenamed, id, map[string]string{"name_from": old, "name": name})
	})
	if err != nil {
		return Department{}, err
	}
	return s.Get(ctx, scope, id)
}

// SetMember adds (member=true) or removes a user from a department.
func (s *Service) SetMember(ctx context.Context, scope access.Scope, departmentID, userID int64, member bool) error {
	if !scope.Can(access.DepartmentManage) {
		return errs.ErrForbidden
	}
	return s.db.Write(ctx, func(tx *db.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM departments WHERE workspace_id = $1 AND id = $2) + (SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND id = $3)`,
			scope.WorkspaceID, departmentID, userID).Scan(&n)
		if err != nil {
			return err
		}
		if n != 2 {
			return errs.ErrNotFound
		}
		var res sql.Result
		action := ActionMemberAdded
		if member {
			res, err = tx.ExecContext(ctx, `INSERT INTO department_members (workspace_id, department_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, scope.WorkspaceID, departmentID, userID)
		} else {
			action = ActionMemberRemoved
			res, err = tx.ExecContext(ctx, `DELETE FROM department_members WHERE workspace_id = $1 AND department_id = $2 AND user_id = $3`, scope.WorkspaceID, departmentID, userID)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			// Already so: nothing changed, nothing to record.
			return err
		}
		return s.record(ctx, tx, scope.WorkspaceID, action, departmentID, map[string]string{"user_id": strconv.FormatInt(userID, 10)})
	})
}
