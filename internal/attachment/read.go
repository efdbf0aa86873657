package attachment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/ticket"
)

// MaxPage is the most attachments List returns at once.
const MaxPage = 200

const columns = `a.id, a.workspace_id, a.ticket_id, a.message_id, a.name_enc, a.content_type, a.size_bytes, a.dangerous,
	a.author_type, a.author_id, a.created_at`

// List returns the attachments of a ticket the scope can see, oldest
// first, after attachment id after, at most limit (up to MaxPage+1, so a
// caller showing MaxPage can ask for one more to learn whether another page
// follows). Customers do not see the files of internal notes.
func (s *Service) List(ctx context.Context, scope access.Scope, ticketNumber, after int64, limit int) ([]Attachment, error) {
	if !canReadContent(scope) {
		return nil, errs.ErrForbidden
	}
	h, err := s.tickets.Hold(ctx, scope, ticketNumber)
	if err != nil {
		return nil, err
	}
	return s.ListOf(ctx, h, after, limit)
}

// ListOf is List for a ticket already read through its scope.
func (s *Service) ListOf(ctx context.Context, h ticket.Held, after int64, limit int) ([]Attachment, error) {
	scope, t := h.Scope(), h.Ticket()
	if t.ID == 0 {
		return nil, errs.ErrNotFound // a zero Held was never read
	}
	if !canReadContent(scope) {
		return nil, errs.ErrForbidden
	}
	if limit < 1 || limit > MaxPage+1 {
		limit = MaxPage + 1
	}
	q := `SELECT ` + columns + ` FROM attachments a LEFT JOIN messages m ON m.id = a.message_id
		WHERE a.workspace_id = $1 AND a.ticket_id = $2 AND a.id > $3`
	if scope.IsCustomer() {
		q += ` AND (a.message_id IS NULL OR m.kind = 'reply')`
	}
	rows, err := s.db.Read().QueryContext(ctx, q+` ORDER BY a.id LIMIT $4`, scope.WorkspaceID, t.ID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		a, err := s.scan(ctx, rows)
		if err != nil {
			return nil, err
		}
		a.TicketNumber = t.Number
		out = append(out, a)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func (s *Service) scan(ctx context.Context, row scanner, extra ...any) (Attachment, error) {
	var a Attachment
	var msg sql.NullInt64
	var nameEnc []byte
	var dangerous int
	var created int64
	dest := append([]any{&a.ID, &a.WorkspaceID, &a.TicketID, &msg, &nameEnc, &a.ContentType, &a.Size, &dangerous,
		&a.AuthorType, &a.AuthorID, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Attachment{}, err
	}
	name, err := s.keys.Open(ctx, nameField(a.WorkspaceID, a.ID), nameEnc)
	if err != nil {
		return Attachment{}, err
	}
	a.Name, a.MessageID, a.Dangerous, a.CreatedAt = name, msg.Int64, dangerous != 0, db.Time(created)
	return a, nil
}

// Open returns an attachment and a reader of its content, if the scope can
// see the ticket it belongs to (and, for a customer, the message it is on);
// errs.ErrNotFound otherwise, exactly as for a missing one.
//
// The reader decrypts and authenticates chunk by chunk. If the stored
// content was tampered with, truncated or swapped, Read fails with an
// error wrapping ErrCorrupt at the first bad chunk, never returning its
// bytes; but chunks before it have already been returned. A caller that
// streams them on (the HTTP download) must abort the transfer on error.
func (s *Service) Open(ctx context.Context, scope access.Scope, id int64) (Attachment, io.ReadCloser, error) {
	if !canReadContent(scope) {
		return Attachment{}, nil, errs.ErrForbidden
	}
	// Find the ticket first without decrypting anything, then let the
	// ticket service, the one place visibility is defined, apply the scope.
	var number int64
	var msgKind sql.NullString
	err := s.db.Read().QueryRowContext(ctx, `SELECT t.number, m.kind FROM attachments a
		JOIN tickets t ON t.id = a.ticket_id AND t.workspace_id = a.workspace_id
		LEFT JOIN messages m ON m.id = a.message_id
		WHERE a.id = $1 AND a.workspace_id = $2`, id, scope.WorkspaceID).Scan(&number, &msgKind)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, nil, errs.ErrNotFound
	}
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("find attachment: %w", err)
	}
	if _, err := s.tickets.Get(ctx, scope, number); err != nil {
		return Attachment{}, nil, err
	}
	if scope.IsCustomer() && msgKind.Valid && msgKind.String != string(ticket.KindReply) {
		return Attachment{}, nil, errs.ErrNotFound
	}
	var version int64
	var salt []byte
	var key string
	row := s.db.Read().QueryRowContext(ctx, `SELECT `+columns+`, a.key_version, a.salt, a.storage_key
		FROM attachments a WHERE a.id = $1 AND a.workspace_id = $2`, id, scope.WorkspaceID)
	a, err := s.scan(ctx, row, &version, &salt, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return Attachment{}, nil, errs.ErrNotFound
	}
	if err != nil {
		return Attachment{}, nil, err
	}
	a.TicketNumber = number
	for attempt := 1; ; attempt++ {
		rc, err := s.openContent(ctx, a, uint32(version), salt, key)
		if err == nil {
			return a, rc, nil
		}
		if attempt == 3 || !errors.Is(err, ErrBlobMissing) && !errors.Is(err, keyring.ErrDecrypt) {
			return Attachment{}, nil, err
		}
		// Re-encryption may have moved the file between reading its row
		// and opening its blob (the old blob is then gone, its key version
		// perhaps retired): look where the row points now.
		prev := key
		err2 := s.db.Read().QueryRowContext(ctx, `SELECT key_version, salt, storage_key FROM attachments WHERE id = $1 AND workspace_id = $2`,
			id, scope.WorkspaceID).Scan(&version, &salt, &key)
		if errors.Is(err2, sql.ErrNoRows) {
			return Attachment{}, nil, errs.ErrNotFound
		}
		if err2 != nil || key == prev {
			return Attachment{}, nil, err
		}
	}
}

// openContent opens the blob of attachment a and decrypts it as it reads.
func (s *Service) openContent(ctx context.Context, a Attachment, version uint32, salt []byte, key string) (io.ReadCloser, error) {
	aead, _, err := s.keys.FileCipher(ctx, a.WorkspaceID, a.ID, salt, version)
	if err != nil {
		return nil, err
	}
	blob, err := s.blobs.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open attachment %d: %w", a.ID, err)
	}
	return newOpener(blob, aead, fileHeader(version, a.ID)), nil
}

// canReadContent reports whether the scope may read what customers sent:
// staff with ticket.content, and customers (within their own tickets).
func canReadContent(scope access.Scope) bool {
	return scope.Can(access.TicketContent) || scope.Can(access.PortalTickets)
}
