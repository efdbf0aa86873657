package ticket

import (
	"context"
	"math"
	"slices"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/richtext"
)

// NewMessage is a reply or an internal note. Status, when set, changes the
// ticket's status in the same write (reply and mark pending, say).
type NewMessage struct {
	Kind MessageKind
	Body string
	// HTML is the message's markup when it came formatted (mail, or an
	// integration): sanitized, masked and kept beside Body. When Body is
	// empty, it is the markup's text.
	HTML   string
	Status *Status
	// InWrite, when set, runs inside the message's write after its rows
	// are in, with the ticket's and the new message's ids: what must be
	// committed with the message or not at all (its files). An error
	// undoes the message.
	InWrite WriteHook
}

// WriteHook is work done inside the transaction that adds a message.
type WriteHook func(ctx context.Context, tx *db.Tx, ticketID, messageID int64) error

// AddMessage adds a reply or note to a ticket the scope can see. Replies by
// staff set the first-response time and open a new ticket; a customer's
// reply reopens a ticket waiting on them.
func (s *Service) AddMessage(ctx context.Context, scope access.Scope, number int64, in NewMessage) (Message, error) {
	var v errs.Validator
	var clean richtext.Clean
	if in.HTML != "" {
		if v.Text("body_html", in.HTML, false, MaxHTML); v.Err() == nil {
			clean, in.Body = sanitizeHTML(in.HTML, in.Body)
		}
	}
	v.Text("body", in.Body, true, MaxBody)
	if in.Kind != KindReply && in.Kind != KindNote {
		v.Add("kind", "must be reply or note")
	}
	if in.Status != nil && !ValidStatus(*in.Status) {
		v.Add("status", "must be one of new, open, pending, on-hold, solved, closed")
	}
	if err := v.Err(); err != nil {
		return Message{}, err
	}
	cur, err := s.Get(ctx, scope, number)
	if err != nil {
		return Message{}, err
	}
	switch {
	case scope.IsCustomer() && (in.Kind != KindReply || in.Status != nil):
		return Message{}, errs.ErrForbidden
	case in.Kind == KindReply && !scope.Can(access.TicketReply) && !scope.IsCustomer():
		return Message{}, errs.ErrForbidden
	case in.Kind == KindNote && !scope.Can(access.TicketNote):
		return Message{}, errs.ErrForbidden
	case in.Status != nil && !scope.Can(access.TicketUpdate):
		return Message{}, errs.ErrForbidden
	}
	ws := scope.WorkspaceID
	ids, err := s.nextIDs(ctx, 3)
	if err != nil {
		return Message{}, err
	}
	msgID := ids[0]
	policy, err := s.maskingPolicy(ctx, ws)
	if err != nil {
		return Message{}, err
	}
	body := protect(policy, in.Body)
	bodyEnc, err := s.keys.Seal(ctx, bodyField(ws, msgID), body.shown)
	if err != nil {
		return Message{}, err
	}
	bodyOrig, err := s.sealOriginal(ctx, bodyOriginalField(ws, msgID), body)
	if err != nil {
		return Message{}, err
	}
	rich := protectHTML(policy, clean)
	htmlEnc, err := s.sealHTML(ctx, ws, msgID, rich)
	if err != nil {
		return Message{}, err
	}
	tokens, err := s.tokens(ctx, ws, body.shown, in.Kind == KindNote)
	if err != nil {
		return Message{}, err
	}
	author, authorID := actorOf(scope)
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.lockTicket(ctx, tx, scope, number)
		if err != nil {
			return err
		}
		if t.Status == StatusClosed {
			return errs.Field("ticket", "ticket #%d is closed; open a new ticket instead", cur.Number)
		}
		next := nextStatus(scope, t, in)
		if next != t.Status && !CanMove(t.Status, next) {
			return errs.Field("status", "a %s ticket cannot become %s", t.Status, next)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages (id, workspace_id, ticket_id, kind, author_type, author_id, body_enc, created_at, body_original_enc, masked_kinds, body_html_enc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, msgID, ws, t.ID, string(in.Kind), author, authorID, bodyEnc, now, bodyOrig, joinKinds(body.kinds), htmlEnc); err != nil {
			return err
		}
		if err := insertPostings(ctx, tx, ws, t.ID, tokens); err != nil {
			return err
		}
		set := &setList{}
		set.add("updated_at", now)
		if in.Kind == KindReply && !scope.IsCustomer() && t.FirstResponseAt.IsZero() {
			set.add("first_response_at", now)
		}
		if next != t.Status {
			set.add("status", string(next))
			switch {
			case next == StatusSolved:
				set.add("solved_at", now)
			case next == StatusClosed:
				set.add("closed_at", now)
				if t.SolvedAt.IsZero() {
					set.add("solved_at", now)
				}
			case !t.SolvedAt.IsZero():
				set.add("solved_at", nil) // reopened
			}
			if err := insertEvent(ctx, tx, scope, ids[2], ws, t.ID, "status", string(t.Status), string(next), now); err != nil {
				return err
			}
		}
		if err := set.exec(ctx, tx, ws, t.ID); err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, scope, ids[1], ws, t.ID, string(in.Kind), "", idString(msgID), now); err != nil {
			return err
		}
		if in.InWrite != nil {
			if err := in.InWrite(ctx, tx, t.ID, msgID); err != nil {
				return err
			}
		}
		if s.notify != nil && in.Kind == KindReply && !scope.IsCustomer() {
			if err := s.notify.ReplyAdded(ctx, tx, t, msgID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, ws, "ticket."+string(in.Kind), t, map[string]string{"message_id": idString(msgID)})
	})
	if err != nil {
		return Message{}, err
	}
	return Message{ID: msgID, TicketID: cur.ID, Kind: in.Kind, AuthorType: author, AuthorID: authorID, Body: body.shown,
		HTML: rich.html, BlockedImages: rich.blocked, Masked: splitKinds(joinKinds(body.kinds)), CreatedAt: db.Time(now)}, nil
}

// nextStatus is the status a message leaves the ticket in.
func nextStatus(scope access.Scope, t Ticket, in NewMessage) Status {
	switch {
	case in.Status != nil:
		return *in.Status
	case in.Kind == KindNote:
		return t.Status
	case scope.IsCustomer() && (t.Status == StatusPending || t.Status == StatusSolved || t.Status == StatusOnHold):
		return StatusOpen
	case !scope.IsCustomer() && t.Status == StatusNew:
		return StatusOpen
	}
	return t.Status
}

// Messages returns a ticket's conversation in order, after message id
// after. Customers never see internal notes.
func (s *Service) Messages(ctx context.Context, scope access.Scope, number int64, after int64, limit int) ([]Message, error) {
	if !canReadContent(scope) {
		return nil, errs.ErrForbidden
	}
	h, err := s.Hold(ctx, scope, number)
	if err != nil {
		return nil, err
	}
	return s.MessagesOf(ctx, h, after, limit)
}

// MessagesOf is Messages for a ticket already read through its scope.
func (s *Service) MessagesOf(ctx context.Context, h Held, after int64, limit int) ([]Message, error) {
	scope, t := h.scope, h.t
	if t.ID == 0 {
		return nil, errs.ErrNotFound // a zero Held was never read
	}
	if !canReadContent(scope) {
		return nil, errs.ErrForbidden
	}
	return s.readMessages(ctx, scope, messagesSQL(scope, "id > $3")+` ORDER BY id LIMIT $4`, t.ID, after, limit)
}

// LastMessagesOf returns the last limit messages of h's ticket before
// message id before (0: the newest), oldest first, and whether there are
// earlier ones: a long conversation is shown from its end, a page at a
// time backwards.
func (s *Service) LastMessagesOf(ctx context.Context, h Held, before int64, limit int) ([]Message, bool, error) {
	scope, t := h.scope, h.t
	if t.ID == 0 {
		return nil, false, errs.ErrNotFound
	}
	if !canReadContent(scope) {
		return nil, false, errs.ErrForbidden
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	out, err := s.readMessages(ctx, scope, messagesSQL(scope, "id < $3")+` ORDER BY id DESC LIMIT $4`, t.ID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	slices.Reverse(out)
	return out, more, nil
}

// messagesSQL selects a ticket's messages ($1 workspace, $2 ticket) that
// the scope may see and that meet cond.
func messagesSQL(scope access.Scope, cond string) string {
	q := `SELECT id, ticket_id, kind, author_type, author_id, body_enc, created_at, masked_kinds, body_html_enc FROM messages WHERE workspace_id = $1 AND ticket_id = $2 AND ` + cond
	if scope.IsCustomer() {
		q += ` AND kind = 'reply'`
	}
	return q
}

// readMessages runs a messagesSQL query and opens each message.
func (s *Service) readMessages(ctx context.Context, scope access.Scope, q string, ticketID int64, args ...any) ([]Message, error) {
	rows, err := s.db.Read().QueryContext(ctx, q, append([]any{scope.WorkspaceID, ticketID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var kind, masked string
		var enc, htmlEnc []byte
		var created int64
		if err := rows.Scan(&m.ID, &m.TicketID, &kind, &m.AuthorType, &m.AuthorID, &enc, &created, &masked, &htmlEnc); err != nil {
			return nil, err
		}
		if m.Body, err = s.keys.Open(ctx, bodyField(scope.WorkspaceID, m.ID), enc); err != nil {
			return nil, err
		}
		if htmlEnc != nil {
			if m.HTML, err = s.keys.Open(ctx, bodyHTMLField(scope.WorkspaceID, m.ID), htmlEnc); err != nil {
				return nil, err
			}
		}
		m.Kind, m.CreatedAt, m.Masked = MessageKind(kind), db.Time(created), splitKinds(masked)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Events returns a ticket's history, oldest first. Staff only.
func (s *Service) Events(ctx context.Context, scope access.Scope, number int64) ([]Event, error) {
	if scope.IsCustomer() {
		return nil, errs.ErrForbidden
	}
	h, err := s.Hold(ctx, scope, number)
	if err != nil {
		return nil, err
	}
	return s.EventsOf(ctx, h)
}

// EventsOf is Events for a ticket already read through its scope.
func (s *Service) EventsOf(ctx context.Context, h Held) ([]Event, error) {
	scope, t := h.scope, h.t
	if t.ID == 0 {
		return nil, errs.ErrNotFound
	}
	if scope.IsCustomer() {
		return nil, errs.ErrForbidden
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, ticket_id, actor_type, actor_id, kind, old_value, new_value, created_at
		FROM ticket_events WHERE workspace_id = $1 AND ticket_id = $2 ORDER BY id LIMIT 1000`, scope.WorkspaceID, t.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var created int64
		if err := rows.Scan(&e.ID, &e.TicketID, &e.ActorType, &e.ActorID, &e.Kind, &e.OldValue, &e.NewValue, &created); err != nil {
			return nil, err
		}
		e.CreatedAt = db.Time(created)
		out = append(out, e)
	}
	return out, rows.Err()
}
