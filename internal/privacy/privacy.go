// Package privacy carries out customers' data rights: a complete export of
// everything Hesar holds about one customer, and erasure (anonymizing the
// customer and erasing or deleting their tickets).
package privacy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/ticket"
)

// Service exports and erases customers' data.
type Service struct {
	db          *db.DB
	keys        *keyring.Keyring
	customers   *customer.Service
	tickets     *ticket.Service
	attachments *attachment.Service
	identity    *identity.Service
}

// Opts are the Service's dependencies.
type Opts struct {
	DB          *db.DB
	Keys        *keyring.Keyring
	Customers   *customer.Service
	Tickets     *ticket.Service
	Attachments *attachment.Service
	Identity    *identity.Service
}

// New builds the service.
func New(o Opts) *Service {
	return &Service{db: o.DB, keys: o.Keys, customers: o.Customers, tickets: o.Tickets, attachments: o.Attachments, identity: o.Identity}
}

// exportTicket is one ticket in an export, with its whole conversation.
type exportTicket struct {
	Number      int64              `json:"number"`
	Subject     string             `json:"subject"`
	Status      string             `json:"status"`
	Priority    string             `json:"priority"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	Messages    []exportMessage    `json:"messages"`
	Attachments []exportAttachment `json:"attachments"`
}

type exportMessage struct {
	Kind      string    `json:"kind"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

type exportAttachment struct {
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
	// ContentBase64 is the file itself.
	ContentBase64 string `json:"content_base64"`
}

// Export writes everything about one customer as one JSON document: the
// contact record, every ticket of theirs with all messages (internal notes
// included: they are data about the customer too) and every attachment's
// content. Texts appear as stored, that is masked. Tickets are written one
// at a time, so an export's memory stays bounded by its largest ticket.
func (s *Service) Export(ctx context.Context, scope access.Scope, customerID int64, w io.Writer) error {
	if !scope.Can(access.CustomerPrivacy) {
		return errs.ErrForbidden
	}
	c, err := s.customers.Get(ctx, scope, customerID)
	if err != nil {
		return err
	}
	sys := access.System(scope.WorkspaceID)
	head, err := json.Marshal(map[string]any{
		"format": "hesar-customer-export/1", "exported_at": time.Now().UTC(),
		"customer": map[string]any{"id": c.ID, "email": c.Email, "name": c.Name, "phone": c.Phone,
			"organization_id": c.OrganizationID, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt},
	})
	if err != nil {
		return err
	}
	// Stream: the document's head, then each ticket, then the closing.
	if _, err := w.Write(append(head[:len(head)-1], []byte(`,"tickets":[`)...)); err != nil {
		return err
	}
	first := true
	f := ticket.Filter{CustomerID: customerID, Limit: ticket.MaxPageSize, Order: ticket.OrderOldest}
	for {
		page, err := s.tickets.List(ctx, sys, f)
		if err != nil {
			return err
		}
		for _, t := range page.Tickets {
			et, err := s.exportTicket(ctx, sys, t)
			if err != nil {
				return err
			}
			b, err := json.Marshal(et)
			if err != nil {
				return err
			}
			if !first {
				b = append([]byte{','}, b...)
			}
			first = false
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	elsewhere, err := s.contributions(ctx, scope.WorkspaceID, customerID)
	if err != nil {
		return err
	}
	tail, err := json.Marshal(elsewhere)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `],"elsewhere":%s}`+"\n", tail)
	return err
}

// contribution is a message the customer wrote on someone else's ticket
// (their organization's).
type contribution struct {
	TicketNumber int64     `json:"ticket_number"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

func (s *Service) contributions(ctx context.Context, ws, customerID int64) ([]contribution, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT m.id, t.number, m.body_enc, m.created_at FROM messages m JOIN tickets t ON t.id = m.ticket_id
		WHERE m.workspace_id = $1 AND m.author_type = 'customer' AND m.author_id = $2 AND t.customer_id <> $2 ORDER BY m.id`, ws, customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []contribution{}
	for rows.Next() {
		var id, number, created int64
		var enc []byte
		if err := rows.Scan(&id, &number, &enc, &created); err != nil {
			return nil, err
		}
		body, err := s.keys.Open(ctx, keyring.Field{Workspace: ws, Table: "messages", Column: "body", Row: id}, enc)
		if err != nil {
			return nil, err
		}
		out = append(out, contribution{TicketNumber: number, Body: body, CreatedAt: db.Time(created)})
	}
	return out, rows.Err()
}

func (s *Service) exportTicket(ctx context.Context, sys access.Scope, t ticket.Ticket) (exportTicket, error) {
	et := exportTicket{Number: t.Number, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Messages: []exportMessage{}, Attachments: []exportAttachment{}}
	var after int64
	for {
		msgs, err := s.tickets.Messages(ctx, sys, t.Number, after, 500)
		if err != nil {
			return et, err
		}
		for _, m := range msgs {
			et.Messages = append(et.Messages, exportMessage{Kind: string(m.Kind), Author: m.AuthorType, Body: m.Body, CreatedAt: m.CreatedAt})
			after = m.ID
		}
		if len(msgs) < 500 {
			break
		}
	}
	var files []attachment.Attachment
	for after := int64(0); ; {
		page, err := s.attachments.List(ctx, sys, t.Number, after, attachment.MaxPage)
		if err != nil {
			return et, err
		}
		files = append(files, page...)
		if len(page) < attachment.MaxPage {
			break
		}
		after = page[len(page)-1].ID
	}
	for _, a := range files {
		_, rc, err := s.attachments.Open(ctx, sys, a.ID)
		if err != nil {
			return et, err
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return et, fmt.Errorf("read attachment %d: %w", a.ID, err)
		}
		et.Attachments = append(et.Attachments, exportAttachment{Name: a.Name, ContentType: a.ContentType, Size: a.Size,
			CreatedAt: a.CreatedAt, ContentBase64: base64.StdEncoding.EncodeToString(content)})
	}
	return et, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
