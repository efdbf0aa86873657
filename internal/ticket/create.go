package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/hesar/hesar/internal/richtext"
	"regexp"
	"slices"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/workspace"
)

// NewTicket is what Create needs. Staff name the customer by CustomerID or
// by Customer (matched by email, created when unknown); a customer always
// opens tickets as themselves.
type NewTicket struct {
	Subject string
	Body    string
	// HTML is the first message's markup when it came formatted; see
	// NewMessage.HTML.
	HTML         string
	clean        richtext.Clean // HTML after validate sanitized it
	Priority     Priority
	Status       Status
	DepartmentID int64
	AssigneeID   int64
	CustomerID   int64
	Customer     *customer.NewCustomer
	Tags         []string
	Channel      string
	// InWrite, when set, runs inside the ticket's write with the new
	// ticket's and first message's ids (see NewMessage.InWrite).
	InWrite WriteHook
}

var tagPattern = regexp.MustCompile(`^[\p{L}\p{N}_\-.:]+$`)

// normalizeTags lower-cases, trims, de-duplicates and checks tags.
func normalizeTags(v *errs.Validator, field string, tags []string) []string {
	if len(tags) > MaxTags {
		v.Add(field, "at most %d tags", MaxTags)
		return nil
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		v.Text(field, t, true, MaxTag)
		if t != "" && !tagPattern.MatchString(t) {
			v.Add(field, "tags may hold letters, digits and _ - . : only")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func (in *NewTicket) validate(scope access.Scope) error {
	var v errs.Validator
	v.Text("subject", in.Subject, true, MaxSubject)
	if in.HTML != "" {
		if v.Text("body_html", in.HTML, false, MaxHTML); v.Err() == nil {
			in.clean, in.Body = sanitizeHTML(in.HTML, in.Body)
		}
	}
	v.Text("body", in.Body, true, MaxBody)
	if in.Priority == "" {
		in.Priority = PriorityNormal
	} else if !ValidPriority(in.Priority) {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	if in.Status == "" {
		in.Status = StatusNew
	} else if !ValidStatus(in.Status) || in.Status == StatusClosed {
		v.Add("status", "must be one of new, open, pending, on-hold, solved")
	}
	in.Tags = normalizeTags(&v, "tags", in.Tags)
	if in.Channel == "" {
		in.Channel = ChannelAPI
	}
	if scope.IsCustomer() {
		// A customer opens tickets for themselves and cannot steer them.
		if in.AssigneeID != 0 {
			v.Add("assignee_id", "customers cannot assign tickets")
		}
		if len(in.Tags) > 0 {
			v.Add("tags", "customers cannot tag tickets")
		}
		if in.Status != StatusNew {
			v.Add("status", "customers cannot set a status")
		}
		if in.Priority != PriorityNormal {
			v.Add("priority", "customers cannot set a priority")
		}
		if in.DepartmentID != 0 {
			// Which departments exist is staff knowledge; a customer's
			// ticket goes to the default one and staff route it.
			v.Add("department_id", "customers cannot choose a department")
		}
		if in.Customer != nil || (in.CustomerID != 0 && in.CustomerID != scope.ActorID) {
			v.Add("customer", "customers open tickets as themselves")
		}
		in.CustomerID, in.Customer = scope.ActorID, nil
	} else if (in.CustomerID == 0) == (in.Customer == nil) {
		v.Add("customer", "give either customer_id or customer (with an email)")
	}
	return v.Err()
}

// Create opens a ticket with its first message. Everything slow (ids,
// encryption, search tokens) is done before the write, so the shared write
// path only runs the inserts.
func (s *Service) Create(ctx context.Context, scope access.Scope, in NewTicket) (Ticket, error) {
	if !scope.Can(access.TicketCreate) && !scope.Can(access.PortalTickets) {
		return Ticket{}, errs.ErrForbidden
	}
	if err := in.validate(scope); err != nil {
		return Ticket{}, err
	}
	ws := scope.WorkspaceID
	var pending *customer.Pending
	if in.Customer != nil {
		if !scope.Can(access.CustomerWrite) && !scope.Can(access.CustomerRead) {
			return Ticket{}, errs.Field("customer", "you may not create customers")
		}
		p, err := s.customers.Prepare(ctx, ws, *in.Customer)
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			return Ticket{}, prefixFields("customer.", inv)
		}
		if err != nil {
			return Ticket{}, err
		}
		pending = p
	}
	ids, err := s.nextIDs(ctx, 3)
	if err != nil {
		return Ticket{}, err
	}
	ticketID, messageID, eventID := ids[0], ids[1], ids[2]
	policy, err := s.maskingPolicy(ctx, ws)
	if err != nil {
		return Ticket{}, err
	}
	subject, body := protect(policy, in.Subject), protect(policy, in.Body)
	subjectEnc, err := s.keys.Seal(ctx, subjectField(ws, ticketID), subject.shown)
	if err != nil {
		return Ticket{}, err
	}
	subjectOrig, err := s.sealOriginal(ctx, subjectOriginalField(ws, ticketID), subject)
	if err != nil {
		return Ticket{}, err
	}
	bodyEnc, err := s.keys.Seal(ctx, bodyField(ws, messageID), body.shown)
	if err != nil {
		return Ticket{}, err
	}
	bodyOrig, err := s.sealOriginal(ctx, bodyOriginalField(ws, messageID), body)
	if err != nil {
		return Ticket{}, err
	}
	bodyHTML, err := s.sealHTML(ctx, ws, messageID, protectHTML(policy, in.clean))
	if err != nil {
		return Ticket{}, err
	}
	// Only the masked text is indexed: a card number is never searchable.
	tokens, err := s.tokens(ctx, ws, subject.shown+"\n"+body.shown, false)
	if err != nil {
		return Ticket{}, err
	}
	now := db.Now()
	t := Ticket{ID: ticketID, WorkspaceID: ws, Subject: subject.shown, SubjectMasked: splitKinds(joinKinds(subject.kinds)), Status: in.Status, Priority: in.Priority,
		Channel: in.Channel, AssigneeID: in.AssigneeID, CustomerID: in.CustomerID, Tags: in.Tags,
		CreatedAt: db.Time(now), UpdatedAt: db.Time(now)}
	if in.Status == StatusSolved {
		t.SolvedAt = t.UpdatedAt
	}
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		if err := s.resolveCustomer(ctx, tx, scope, &t, pending); err != nil {
			return err
		}
		dept, err := s.resolveDepartment(ctx, tx, scope, in.DepartmentID)
		if err != nil {
			return err
		}
		t.DepartmentID = dept
		if t.AssigneeID != 0 {
			if err := checkAssignee(ctx, tx, ws, dept, t.AssigneeID); err != nil {
				return err
			}
		}
		rows := newTicketRows{t: &t, scope: scope, messageID: messageID, eventID: eventID, subjectEnc: subjectEnc,
			subjectOrig: subjectOrig, subjectKinds: joinKinds(subject.kinds), bodyEnc: bodyEnc, bodyOrig: bodyOrig,
			bodyKinds: joinKinds(body.kinds), bodyHTML: bodyHTML, tokens: tokens, now: now}
		if tx.Dialect() == db.Postgres && len(tokens) <= maxPostingsInOneStatement {
			err = rows.insertPostgres(ctx, tx)
		} else {
			err = rows.insert(ctx, tx)
		}
		if err != nil {
			return err
		}
		if in.InWrite != nil {
			if err := in.InWrite(ctx, tx, t.ID, messageID); err != nil {
				return err
			}
		}
		if s.notify != nil {
			if err := s.notify.TicketOpened(ctx, tx, t); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, ws, "ticket.create", t, map[string]string{"department_id": idString(t.DepartmentID), "channel": string(t.Channel)})
	})
	if err != nil {
		return Ticket{}, err
	}
	return forScope(scope, t), nil
}

func prefixFields(prefix string, inv *errs.Invalid) error {
	var v errs.Validator
	for k, msg := range inv.Fields {
		v.Add(prefix+k, "%s", msg)
	}
	return v.Err()
}

func (s *Service) nextIDs(ctx context.Context, n int) ([]int64, error) {
	out := make([]int64, n)
	for i := range out {
		id, err := s.db.IDs().Next(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// resolveCustomer fills the ticket's customer and organization, creating
// the customer from pending when it is new.
func (s *Service) resolveCustomer(ctx context.Context, tx *db.Tx, scope access.Scope, t *Ticket, pending *customer.Pending) error {
	if pending != nil {
		id, org, _, err := pending.Upsert(ctx, tx)
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			return prefixFields("customer.", inv)
		}
		t.CustomerID, t.OrganizationID = id, org
		return err
	}
	var org sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT organization_id FROM customers WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, t.CustomerID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Field("customer_id", "no such customer")
	}
	t.OrganizationID = org.Int64
	return err
}

// resolveDepartment checks the department is in the workspace and in the
// actor's reach, or picks a default: the actor's first department, else the
// workspace's oldest.
func (s *Service) resolveDepartment(ctx context.Context, tx *db.Tx, scope access.Scope, id int64) (int64, error) {
	if id == 0 {
		if scope.Kind == access.ActorUser && !scope.AllDepartments() && len(scope.Departments) > 0 {
			return scope.Departments[0], nil
		}
		err := tx.QueryRowContext(ctx, `SELECT id FROM departments WHERE workspace_id = $1 AND name = $2`, scope.WorkspaceID, workspace.DefaultDepartment).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRowContext(ctx, `SELECT id FROM departments WHERE workspace_id = $1 ORDER BY id LIMIT 1`, scope.WorkspaceID).Scan(&id)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return 0, errs.Field("department_id", "this workspace has no department yet")
		}
		return id, err
	}
	if scope.Kind == access.ActorUser && !scope.InDepartment(id) {
		return 0, errs.Field("department_id", "you are not a member of this department")
	}
	if scope.Kind == access.ActorUser && !scope.AllDepartments() {
		return id, nil // membership rows only name departments of this workspace
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, id).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errs.Field("department_id", "no such department")
	}
	return id, nil
}

// checkAssignee accepts active staff of the ticket's department, and admins.
func checkAssignee(ctx context.Context, tx *db.Tx, ws, dept, userID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u WHERE u.workspace_id = $1 AND u.id = $2 AND u.disabled_at IS NULL
		AND (u.role = 'admin' OR EXISTS (SELECT 1 FROM department_members m WHERE m.user_id = u.id AND m.department_id = $3))`,
		ws, userID, dept).Scan(&n)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Field("assignee_id", "must be an active member of the ticket's department")
	}
	return nil
}

// nextNumber takes the workspace's next ticket number.
func nextNumber(ctx context.Context, tx *db.Tx, ws int64) (int64, error) {
	var n int64
	var err error
	if tx.Dialect() == db.Postgres {
		err = tx.QueryRowContext(ctx, `SELECT nextval('`+workspace.TicketSequence(ws)+`')`).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `UPDATE workspaces SET next_ticket_number = next_ticket_number + 1 WHERE id = $1 RETURNING next_ticket_number - 1`, ws).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("next ticket number: %w", err)
	}
	return n, nil
}

func insertTags(ctx context.Context, tx *db.Tx, ws, ticketID int64, tags []string) error {
	for _, tag := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_tags (workspace_id, ticket_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, ws, ticketID, tag); err != nil {
			return fmt.Errorf("insert tag: %w", err)
		}
	}
	return nil
}

func insertEvent(ctx context.Context, tx *db.Tx, scope access.Scope, id, ws, ticketID int64, kind, oldValue, newValue string, at int64) error {
	actor, actorID := actorOf(scope)
	_, err := tx.ExecContext(ctx, `INSERT INTO ticket_events (id, workspace_id, ticket_id, actor_type, actor_id, kind, old_value, new_value, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, ws, ticketID, actor, actorID, kind, oldValue, newValue, at)
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

func actorOf(scope access.Scope) (string, int64) {
	if scope.Kind == "" {
		return string(access.ActorSystem), 0
	}
	return string(scope.Kind), scope.ActorID
}

func nullTime(us int64, ok bool) any {
	if !ok {
		return nil
	}
	return us
}
