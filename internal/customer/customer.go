// Package customer manages the people who ask for help (customers, also
// called contacts) and the organizations they belong to. Every contact
// field is encrypted; customers are matched by a blind index of their email.
package customer

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/textnorm"
)

// Customer is a contact.
type Customer struct {
	ID             int64
	WorkspaceID    int64
	Email          string
	Name           string
	Phone          string
	OrganizationID int64
	// OrgAccess lets the customer see every ticket of their organization.
	OrgAccess bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Service manages customers and organizations.
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

// NewCustomer is what Create needs.
type NewCustomer struct {
	Email          string
	Name           string
	Phone          string
	OrganizationID int64
	OrgAccess      bool
}

func (in NewCustomer) validate() error {
	var v errs.Validator
	v.Email("email", in.Email)
	v.Text("name", in.Name, false, 200)
	v.Text("phone", in.Phone, false, 40)
	return v.Err()
}

// Pending is a customer encrypted and ready to be written inside another
// write (a new ticket from an unknown sender). Prepare it before db.Write.
type Pending struct {
	id, ws             int64
	emailEnc, emailIdx []byte
	nameEnc, phoneEnc  []byte
	organizationID     int64
	orgAccess          bool
}

// Prepare validates and encrypts a customer outside the write path.
func (s *Service) Prepare(ctx context.Context, workspaceID int64, in NewCustomer) (*Pending, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	id, err := s.db.IDs().Next(ctx)
	if err != nil {
		return nil, err
	}
	email := textnorm.Email(in.Email)
	p := &Pending{id: id, ws: workspaceID, organizationID: in.OrganizationID, orgAccess: in.OrgAccess}
	field := func(col string) keyring.Field {
		return keyring.Field{Workspace: workspaceID, Table: "customers", Column: col, Row: id}
	}
	if p.emailEnc, err = s.keys.Seal(ctx, field("email"), email); err != nil {
		return nil, err
	}
	if p.nameEnc, err = s.keys.Seal(ctx, field("name"), in.Name); err != nil {
		return nil, err
	}
	if p.phoneEnc, err = s.keys.Seal(ctx, field("phone"), in.Phone); err != nil {
		return nil, err
	}
	if p.emailIdx, err = s.keys.BlindIndex(ctx, workspaceID, "customer.email", email); err != nil {
		return nil, err
	}
	return p, nil
}

// Upsert writes the pending customer unless one with the same email exists,
// and returns the id and organization of whichever customer now holds the
// email. Known and new customers cost the same: one insert attempt, one
// indexed read.
func (p *Pending) Upsert(ctx context.Context, tx *db.Tx) (id, organizationID int64, created bool, err error) {
	if p.organizationID != 0 {
		if err := orgExists(ctx, tx, p.ws, p.organizationID); err != nil {
			return 0, 0, false, err
		}
	}
	now := db.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO customers (id, workspace_id, organization_id, org_access, email_enc, email_idx, name_enc, phone_enc, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (workspace_id, email_idx) DO NOTHING`,
		p.id, p.ws, db.NullID(p.organizationID), db.Bool(p.orgAccess), p.emailEnc, p.emailIdx, p.nameEnc, p.phoneEnc, now)
	if err != nil {
		return 0, 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return p.id, p.organizationID, true, nil
	}
	var org sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT id, organization_id FROM customers WHERE workspace_id = $1 AND email_idx = $2`, p.ws, p.emailIdx).Scan(&id, &org)
	return id, org.Int64, false, err
}

func orgExists(ctx context.Context, tx *db.Tx, ws, org int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations WHERE workspace_id = $1 AND id = $2`, ws, org).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("organization_id", "no such organization")
	}
	return nil
}

// Create adds a customer; an existing email is a conflict.
func (s *Service) Create(ctx context.Context, scope access.Scope, in NewCustomer) (Customer, error) {
	if !scope.Can(access.CustomerWrite) {
		return Customer{}, errs.ErrForbidden
	}
	p, err := s.Prepare(ctx, scope.WorkspaceID, in)
	if err != nil {
		return Customer{}, err
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, _, created, err := p.Upsert(ctx, tx)
		if err == nil && !created {
			return &errs.Conflict{Field: "email", Message: "a customer with this email already exists"}
		}
		return err
	})
	if err != nil {
		return Customer{}, err
	}
	return s.Get(ctx, scope, p.id)
}

const customerColumns = `id, workspace_id, organization_id, org_access, email_enc, name_enc, phone_enc, created_at, updated_at`

// Get returns one customer. A customer may read their own record.
func (s *Service) Get(ctx context.Context, scope access.Scope, id int64) (Customer, error) {
	own := scope.IsCustomer() && scope.ActorID == id
	if !scope.Can(access.CustomerRead) && !own {
		return Customer{}, errs.ErrNotFound
	}
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, id)
	c, err := s.scan(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, errs.ErrNotFound
	}
	return c, err
}

// FindByEmail looks a customer up by email through the blind index.
func (s *Service) FindByEmail(ctx context.Context, scope access.Scope, email string) (Customer, error) {
	if !scope.Can(access.CustomerRead) {
		return Customer{}, errs.ErrNotFound
	}
	idx, err := s.keys.BlindIndex(ctx, scope.WorkspaceID, "customer.email", textnorm.Email(email))
	if err != nil {
		return Customer{}, err
	}
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE workspace_id = $1 AND email_idx = $2`, scope.WorkspaceID, idx)
	c, err := s.scan(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, errs.ErrNotFound
	}
	return c, err
}

// List returns customers newest first, before the id in before (0: start).
func (s *Service) List(ctx context.Context, scope access.Scope, before int64, limit int) ([]Customer, error) {
	if !scope.Can(access.CustomerRead) {
		return nil, errs.ErrForbidden
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE workspace_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		scope.WorkspaceID, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		c, err := s.scan(ctx, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Patch changes some of a customer's fields; nil means unchanged.
type Patch struct {
	Name           *string
	Phone          *string
	OrganizationID *int64
	OrgAccess      *bool
}

// Update changes a customer.
func (s *Service) Update(ctx context.Context, scope access.Scope, id int64, p Patch) (Customer, error) {
	if !scope.Can(access.CustomerWrite) {
		return Customer{}, errs.ErrForbidden
	}
	if _, err := s.Get(ctx, scope, id); err != nil {
		return Customer{}, err
	}
	var v errs.Validator
	if p.Name != nil {
		v.Text("name", *p.Name, false, 200)
	}
	if p.Phone != nil {
		v.Text("phone", *p.Phone, false, 40)
	}
	if err := v.Err(); err != nil {
		return Customer{}, err
	}
	ws := scope.WorkspaceID
	field := func(col string) keyring.Field {
		return keyring.Field{Workspace: ws, Table: "customers", Column: col, Row: id}
	}
	var nameEnc, phoneEnc []byte
	var err error
	if p.Name != nil {
		if nameEnc, err = s.keys.Seal(ctx, field("name"), *p.Name); err != nil {
			return Customer{}, err
		}
	}
	if p.Phone != nil {
		if phoneEnc, err = s.keys.Seal(ctx, field("phone"), *p.Phone); err != nil {
			return Customer{}, err
		}
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		set := func(q string, arg any) error {
			_, err := tx.ExecContext(ctx, `UPDATE customers SET `+q+` = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`, arg, now, ws, id)
			return err
		}
		if nameEnc != nil {
			if err := set("name_enc", nameEnc); err != nil {
				return err
			}
		}
		if phoneEnc != nil {
			if err := set("phone_enc", phoneEnc); err != nil {
				return err
			}
		}
		if p.OrganizationID != nil {
			if *p.OrganizationID != 0 {
				if err := orgExists(ctx, tx, ws, *p.OrganizationID); err != nil {
					return err
				}
			}
			if err := set("organization_id", db.NullID(*p.OrganizationID)); err != nil {
				return err
			}
			// Tickets follow the customer's organization, so organization
			// access stays correct.
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET organization_id = $1 WHERE workspace_id = $2 AND customer_id = $3`, db.NullID(*p.OrganizationID), ws, id); err != nil {
				return err
			}
		}
		if p.OrgAccess != nil {
			if err := set("org_access", db.Bool(*p.OrgAccess)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Customer{}, err
	}
	return s.Get(ctx, scope, id)
}

type scanner interface{ Scan(dest ...any) error }

func (s *Service) scan(ctx context.Context, row scanner) (Customer, error) {
	var c Customer
	var org sql.NullInt64
	var orgAccess int
	var emailEnc, nameEnc, phoneEnc []byte
	var created, updated int64
	if err := row.Scan(&c.ID, &c.WorkspaceID, &org, &orgAccess, &emailEnc, &nameEnc, &phoneEnc, &created, &updated); err != nil {
		return Customer{}, err
	}
	field := func(col string) keyring.Field {
		return keyring.Field{Workspace: c.WorkspaceID, Table: "customers", Column: col, Row: c.ID}
	}
	var err error
	if c.Email, err = s.keys.Open(ctx, field("email"), emailEnc); err != nil {
		return Customer{}, err
	}
	if c.Name, err = s.keys.Open(ctx, field("name"), nameEnc); err != nil {
		return Customer{}, err
	}
	if c.Phone, err = s.keys.Open(ctx, field("phone"), phoneEnc); err != nil {
		return Customer{}, err
	}
	c.OrganizationID, c.OrgAccess = org.Int64, orgAccess == 1
	c.CreatedAt, c.UpdatedAt = db.Time(created), db.Time(updated)
	return c, nil
}
