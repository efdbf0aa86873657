// Package attachment stores the files customers and agents attach to
// tickets. Content is typed by its own bytes, checked against the
// workspace's policy (size limit; executables, scripts, HTML, SVG and
// macro-enabled documents blocked or download-only), encrypted in chunks
// as it streams in (a file is never held whole in memory) and kept in a
// Blobs store, the local disk by default. Metadata lives in the attachments
// table with the file name encrypted. Every read goes through the access
// check of the ticket the file belongs to.
package attachment

import (
	"context"
	"fmt"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/ticket"
)

// Attachment is one stored file's metadata.
type Attachment struct {
	ID           int64
	WorkspaceID  int64
	TicketID     int64
	TicketNumber int64
	// MessageID is the reply or note the file belongs to (0: the ticket).
	MessageID   int64
	Name        string
	ContentType string
	Size        int64
	// Dangerous files are only ever served as application/octet-stream.
	Dangerous  bool
	AuthorType string
	AuthorID   int64
	CreatedAt  time.Time
}

// NewAttachment describes an upload.
type NewAttachment struct {
	// Name is the client's file name; it is sanitized (SanitizeName).
	Name string
	// MessageID attaches the file to a message of the ticket that the
	// uploader wrote; the file is then as visible as that message (a
	// note's files are hidden from customers). 0 attaches it to the
	// ticket, visible to everyone who can see the ticket.
	MessageID int64
	// Size is the length the client declared, or -1. A declared size over
	// the limit is refused before anything is read; the limit is enforced
	// on the bytes actually read either way.
	Size int64
}

// TooLargeError is returned when an upload exceeds the workspace's limit.
// Nothing of it is kept.
type TooLargeError struct {
	Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("file is larger than the limit of %d bytes", e.Max)
}

// Service stores and serves attachments.
type Service struct {
	db      *db.DB
	keys    *keyring.Keyring
	tickets *ticket.Service
	blobs   Blobs
	audit   Auditor
}

// Auditor records an audit entry inside the caller's transaction, so the
// change it describes commits with its record or not at all. *audit.Log
// is one.
type Auditor interface {
	Record(ctx context.Context, tx *db.Tx, e audit.Entry) error
}

// Opts are the Service's dependencies.
type Opts struct {
	DB      *db.DB
	Keys    *keyring.Keyring
	Tickets *ticket.Service
	// Blobs holds the sealed content (LocalBlobs by default).
	Blobs Blobs
	// Audit receives the records of settings changes
	// (SetDataProtection). Without one (some unit tests) nothing is
	// recorded.
	Audit Auditor
}

// New builds the service.
func New(o Opts) *Service {
	return &Service{db: o.DB, keys: o.Keys, tickets: o.Tickets, blobs: o.Blobs, audit: o.Audit}
}

// Blobs returns the store the content is kept in.
func (s *Service) Blobs() Blobs { return s.blobs }

func nameField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "attachments", Column: "name", Row: id}
}

// actorOf names who acts, as the ticket package records it.
func actorOf(scope access.Scope) (string, int64) {
	if scope.Kind == "" {
		return string(access.ActorSystem), 0
	}
	return string(scope.Kind), scope.ActorID
}
