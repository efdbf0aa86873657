// Package workspace manages workspaces: one company each, with its own keys,
// departments, people and tickets.
package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Workspace is one tenant.
type Workspace struct {
	ID        int64
	Slug      string
	Name      string
	CreatedAt time.Time
}

// Service creates and finds workspaces.
type Service struct {
	db   *db.DB
	keys *keyring.Keyring
}

// Opts are the Service's dependencies.
type Opts struct {
	DB   *db.DB
	Keys *keyring.Keyring
}

// New builds the service.
func New(o Opts) *Service { return &Service{db: o.DB, keys: o.Keys} }

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)

// DefaultDepartment is the department every new workspace starts with, so
// that every ticket always belongs to one.
const DefaultDepartment = "General"

// Created is what Create made.
type Created struct {
	Workspace
	DefaultDepartmentID int64
}

// Create makes a workspace with its encryption keys and a default
// department, in one transaction.
func (s *Service) Create(ctx context.Context, slug, name string) (Created, error) {
	var v errs.Validator
	if !slugPattern.MatchString(slug) {
		v.Add("slug", "must be 1-40 lower-case letters, digits or dashes, not starting or ending with a dash")
	}
	v.Text("name", name, true, 200)
	if err := v.Err(); err != nil {
		return Created{}, err
	}
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Created{}, err
	}
	deptID, err := s.db.IDs().Next(ctx)
	if err != nil {
		return Created{}, err
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, slug, name, created_at) VALUES ($1, $2, $3, $4)`, id, slug, name, now)
		if db.IsUniqueViolation(err) {
			return &errs.Conflict{Field: "slug", Message: fmt.Sprintf("a workspace with slug %q already exists", slug)}
		}
		if err != nil {
			return err
		}
		if err := s.keys.CreateWorkspaceKeys(ctx, tx, id); err != nil {
			return fmt.Errorf("create workspace keys: %w", err)
		}
		if tx.Dialect() == db.Postgres {
			// Ticket numbers come from a per-workspace sequence on
			// PostgreSQL: a counter row would serialize every ticket
			// creation on one row lock held through each commit.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE SEQUENCE %s`, TicketSequence(id))); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO departments (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`,
			deptID, id, DefaultDepartment, now)
		return err
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Workspace: Workspace{ID: id, Slug: slug, Name: name, CreatedAt: db.Time(now)}, DefaultDepartmentID: deptID}, nil
}

// TicketSequence names the PostgreSQL sequence of a workspace's ticket
// numbers. The name is built from an integer id only, never user input.
func TicketSequence(workspaceID int64) string {
	return fmt.Sprintf("ticket_number_ws_%d", workspaceID)
}

// BySlug finds a workspace by its slug.
func (s *Service) BySlug(ctx context.Context, slug string) (Workspace, error) {
	return s.one(ctx, `SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1`, slug)
}

// Get finds a workspace by id.
func (s *Service) Get(ctx context.Context, id int64) (Workspace, error) {
	return s.one(ctx, `SELECT id, slug, name, created_at FROM workspaces WHERE id = $1`, id)
}

func (s *Service) one(ctx context.Context, q string, arg any) (Workspace, error) {
	var w Workspace
	var created int64
	err := s.db.Read().QueryRowContext(ctx, q, arg).Scan(&w.ID, &w.Slug, &w.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, errs.ErrNotFound
	}
	w.CreatedAt = db.Time(created)
	return w, err
}

// List returns every workspace, oldest first (operator use).
func (s *Service) List(ctx context.Context) ([]Workspace, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, slug, name, created_at FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Workspace
	for rows.Next() {
		var w Workspace
		var created int64
		if err := rows.Scan(&w.ID, &w.Slug, &w.Name, &created); err != nil {
			return nil, err
		}
		w.CreatedAt = db.Time(created)
		out = append(out, w)
	}
	return out, rows.Err()
}
