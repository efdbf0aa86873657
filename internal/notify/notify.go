// Package notify tells customers by email what happened to their requests:
// that a new request was received, and that staff answered one. It is the
// ticket service's Notifier: every mail is queued in the mail outbox inside
// the transaction that writes the ticket or the reply, so a committed reply
// is always announced and a rolled-back one never is.
//
// The mails carry no subject and no message text, only the request's
// number, the workspace's name and a link to the request on the portal,
// where the customer signs in to read it: subjects and messages may hold
// what the customer would not want in an inbox that is forwarded, synced to
// phones and kept by other companies.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
	"github.com/hesar/hesar/internal/mail"
	"github.com/hesar/hesar/internal/ticket"
)

// ReplyQuietPeriod is how long after a staff reply on a ticket further
// staff replies on it send no mail: a burst of replies (an answer and a
// correction, three agents on one ticket) is one mail, not several.
const ReplyQuietPeriod = 5 * time.Minute

// DefaultLocale is the language of mail to a customer who chose none.
const DefaultLocale = "fa"

// Notifier queues the customer mails of the ticket service.
type Notifier struct {
	keys      *keyring.Keyring
	outbox    *mail.Outbox
	publicURL string
}

// Opts are the Notifier's dependencies.
type Opts struct {
	Keys   *keyring.Keyring
	Outbox *mail.Outbox
	// PublicURL is where customers reach Hesar (scheme and host): the base
	// of the link to the request.
	PublicURL string
}

// New builds the notifier.
func New(o Opts) (*Notifier, error) {
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("notify: public URL %q must be like https://desk.example.com", o.PublicURL)
	}
	return &Notifier{keys: o.Keys, outbox: o.Outbox, publicURL: u.Scheme + "://" + u.Host}, nil
}

var _ ticket.Notifier = (*Notifier)(nil)

// TicketOpened acknowledges a new request to its customer.
func (n *Notifier) TicketOpened(ctx context.Context, tx *db.Tx, t ticket.Ticket) error {
	return n.send(ctx, tx, t, mail.KindTicketReceived)
}

// ReplyAdded tells the customer their request has an answer, unless staff
// already replied on it within ReplyQuietPeriod (that reply's mail covers
// this one). The reply itself is in tx already, so it is left out by id;
// so is the request's first message, written with the ticket (by staff,
// when they opened it for the customer), which the receipt covered.
func (n *Notifier) ReplyAdded(ctx context.Context, tx *db.Tx, t ticket.Ticket, messageID int64) error {
	since := max(db.Now()-ReplyQuietPeriod.Microseconds(), t.CreatedAt.UnixMicro())
	var recent int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE workspace_id = $1 AND ticket_id = $2
		AND kind = 'reply' AND author_type <> 'customer' AND id <> $3 AND created_at > $4 LIMIT 1) recent`,
		t.WorkspaceID, t.ID, messageID, since).Scan(&recent)
	if err != nil {
		return fmt.Errorf("notify: recent replies: %w", err)
	}
	if recent > 0 {
		return nil
	}
	return n.send(ctx, tx, t, mail.KindTicketAnswered)
}

// recipient is what a mail to a customer needs to know of them.
type recipient struct {
	email, name, locale string
}

// send renders kind for t's customer in their language and queues it in tx.
// A customer who cannot be written to (no address, or erased) is skipped.
func (n *Notifier) send(ctx context.Context, tx *db.Tx, t ticket.Ticket, kind string) error {
	ws := t.WorkspaceID
	r, ok, err := n.recipient(ctx, tx, ws, t.CustomerID)
	if err != nil || !ok {
		return err
	}
	var wsName string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM workspaces WHERE id = $1`, ws).Scan(&wsName); err != nil {
		return fmt.Errorf("notify: workspace: %w", err)
	}
	subject, body, err := mail.RenderTicket(kind, r.locale, mail.TicketMail{Name: r.name, Workspace: wsName, Number: t.Number,
		Link: n.publicURL + "/portal/requests/" + strconv.FormatInt(t.Number, 10)})
	if err != nil {
		return err
	}
	err = n.outbox.Enqueue(ctx, tx, mail.Message{WorkspaceID: ws, Kind: kind, To: r.email, Subject: subject, Body: body})
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		// An address the outbox cannot send to (one that needs SMTPUTF8):
		// the request must not fail for want of its mail. Enqueue checks
		// before it writes, so nothing is half-queued.
		return nil
	}
	return err
}

// recipient reads the customer inside tx (a customer created with the
// ticket is visible only there). ok is false for one that gets no mail.
func (n *Notifier) recipient(ctx context.Context, tx *db.Tx, ws, id int64) (recipient, bool, error) {
	var emailEnc, nameEnc []byte
	var r recipient
	err := tx.QueryRowContext(ctx, `SELECT email_enc, name_enc, locale FROM customers WHERE workspace_id = $1 AND id = $2`, ws, id).
		Scan(&emailEnc, &nameEnc, &r.locale)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("notify: customer: %w", err)
	}
	field := func(col string) keyring.Field {
		return keyring.Field{Workspace: ws, Table: "customers", Column: col, Row: id}
	}
	if r.email, err = n.keys.Open(ctx, field("email"), emailEnc); err != nil {
		return r, false, err
	}
	if !deliverable(r.email) {
		return r, false, nil
	}
	if r.name, err = n.keys.Open(ctx, field("name"), nameEnc); err != nil {
		return r, false, err
	}
	if r.locale != "fa" && r.locale != "en" {
		r.locale = DefaultLocale
	}
	return r, true, nil
}

// deliverable reports whether mail to address can reach anyone. Erasing a
// customer replaces their address with one under the reserved .invalid
// top-level domain (RFC 2606), which no mail reaches.
func deliverable(address string) bool {
	address = strings.TrimSpace(strings.ToLower(address))
	at := strings.LastIndexByte(address, '@')
	return at > 0 && at < len(address)-1 && !strings.HasSuffix(address, ".invalid")
}
