// Package ticket is the heart of the help desk: tickets, their messages
// (public replies and internal notes) and their history. Every read takes an
// access.Scope and applies it in SQL; subjects and bodies are encrypted and
// indexed for search only as keyed hashes.
package ticket

import (
	"context"
	"github.com/hesar/hesar/internal/audit"
	"slices"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/keyring"
)

// Status is where a ticket is in its life.
type Status string

// Statuses.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusPending Status = "pending"
	StatusOnHold  Status = "on-hold"
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

// Statuses lists every status in workflow order.
var Statuses = []Status{StatusNew, StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed}

// transitions says which status may follow which. Closed is final: a
// customer writing again opens a follow-up ticket instead.
var transitions = map[Status][]Status{
	StatusNew:     {StatusOpen, StatusPending, StatusOnHold, StatusSolved, StatusClosed},
	StatusOpen:    {StatusPending, StatusOnHold, StatusSolved, StatusClosed},
	StatusPending: {StatusOpen, StatusOnHold, StatusSolved, StatusClosed},
	StatusOnHold:  {StatusOpen, StatusPending, StatusSolved, StatusClosed},
	StatusSolved:  {StatusOpen, StatusClosed},
	StatusClosed:  {},
}

// CanMove reports whether a ticket may go from one status to another.
func CanMove(from, to Status) bool { return from == to || slices.Contains(transitions[from], to) }

// ValidStatus reports whether s names a status.
func ValidStatus(s Status) bool { return slices.Contains(Statuses, s) }

// Priority says how urgent a ticket is.
type Priority string

// Priorities.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority from least to most urgent.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// ValidPriority reports whether p names a priority.
func ValidPriority(p Priority) bool { return slices.Contains(Priorities, p) }

// Channels tickets arrive by.
const (
	ChannelAPI    = "api"
	ChannelPortal = "portal"
	ChannelEmail  = "email"
)

// Ticket is one request for help.
type Ticket struct {
	ID             int64
	WorkspaceID    int64
	Number         int64
	Subject        string
	Status         Status
	Priority       Priority
	Channel        string
	DepartmentID   int64
	AssigneeID     int64 // 0: unassigned
	CustomerID     int64
	OrganizationID int64
	Tags           []string
	// SubjectMasked lists the kinds of sensitive value masked in the subject.
	SubjectMasked   []string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FirstResponseAt time.Time
	SolvedAt        time.Time
	ClosedAt        time.Time
}

// MessageKind separates what the customer sees from what only staff see.
type MessageKind string

// Message kinds.
const (
	KindReply MessageKind = "reply"
	KindNote  MessageKind = "note"
)

// Message is one entry of a ticket's conversation.
type Message struct {
	ID         int64
	TicketID   int64
	Kind       MessageKind
	AuthorType string
	AuthorID   int64
	Body       string
	// HTML is the sanitized, masked markup of a message that came
	// formatted ("" for plain text). Show it only through
	// richtext.Display.
	HTML string
	// BlockedImages counts the remote images removed from HTML when the
	// message was added (known only then).
	BlockedImages int
	// Masked lists the kinds of sensitive value masked in the body; when
	// not empty (and the policy is mask) the original can be revealed.
	Masked    []string
	CreatedAt time.Time
}

// Event is one line of a ticket's history.
type Event struct {
	ID        int64
	TicketID  int64
	ActorType string
	ActorID   int64
	Kind      string
	OldValue  string
	NewValue  string
	CreatedAt time.Time
}

// Limits on text sizes, in characters.
const (
	MaxSubject = 300
	MaxBody    = 100_000
	MaxTag     = 50
	MaxTags    = 20
)

// Service creates, reads and changes tickets.
type Service struct {
	db        *db.DB
	keys      *keyring.Keyring
	customers *customer.Service
	policies  sync.Map // workspace id -> cachedPolicy
	audit     *audit.Log
	notify    Notifier
}

// Opts are the Service's dependencies.
type Opts struct {
	DB        *db.DB
	Keys      *keyring.Keyring
	Customers *customer.Service
	// Audit records every change in the transaction that makes it (nil:
	// no audit log, as in some unit tests).
	Audit *audit.Log
	// Notifier is told, inside the same transaction, of what the ticket's
	// customer should hear about (nil: no one is told).
	Notifier Notifier
}

// Notifier hears of the events a customer is told about, inside the write
// that makes them: what it queues commits with the ticket or message, or
// not at all, and an error it returns undoes the write. The ticket package
// knows nothing of how (mail, today); see internal/notify.
type Notifier interface {
	// TicketOpened follows a new ticket, whoever opened it.
	TicketOpened(ctx context.Context, tx *db.Tx, t Ticket) error
	// ReplyAdded follows a staff member's reply (never a note, never the
	// customer's own message). t is the ticket as it was before the reply.
	ReplyAdded(ctx context.Context, tx *db.Tx, t Ticket, messageID int64) error
}

// New builds the service.
func New(o Opts) *Service {
	return &Service{db: o.DB, keys: o.Keys, customers: o.Customers, audit: o.Audit, notify: o.Notifier}
}

// record adds an audit record of a ticket change inside its transaction.
func (s *Service) record(ctx context.Context, tx *db.Tx, ws int64, action string, t Ticket, details map[string]string) error {
	if s.audit == nil {
		return nil
	}
	if details == nil {
		details = map[string]string{}
	}
	details["number"] = idString(t.Number)
	return s.audit.Record(ctx, tx, audit.About(ctx, ws, action, "ticket", t.ID, details))
}

func subjectField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "tickets", Column: "subject", Row: id}
}

func subjectOriginalField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "tickets", Column: "subject_original", Row: id, Restricted: true}
}

func bodyOriginalField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "messages", Column: "body_original", Row: id, Restricted: true}
}

func bodyField(ws, id int64) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "messages", Column: "body", Row: id}
}
