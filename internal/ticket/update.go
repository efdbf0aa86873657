package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Patch changes some of a ticket's fields; nil means unchanged. AssigneeID
// 0 unassigns.
type Patch struct {
	Subject      *string
	Status       *Status
	Priority     *Priority
	DepartmentID *int64
	AssigneeID   *int64
	Tags         *[]string
}

func (p *Patch) validate(scope access.Scope) error {
	var v errs.Validator
	if p.Subject != nil {
		v.Text("subject", *p.Subject, true, MaxSubject)
	}
	if p.Status != nil && !ValidStatus(*p.Status) {
		v.Add("status", "must be one of new, open, pending, on-hold, solved, closed")
	}
	if p.Priority != nil && !ValidPriority(*p.Priority) {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	if p.Tags != nil {
		tags := normalizeTags(&v, "tags", *p.Tags)
		p.Tags = &tags
	}
	if p.AssigneeID != nil && *p.AssigneeID < 0 {
		v.Add("assignee_id", "must be a user id, or 0 to unassign")
	}
	if err := v.Err(); err != nil {
		return err
	}
	// Field-level rights: the route lets in anyone who may change some part
	// of a ticket; here each field asks for its own permission.
	if scope.IsCustomer() {
		onlyClose := p.Status != nil && (*p.Status == StatusSolved || *p.Status == StatusClosed) &&
			p.Subject == nil && p.Priority == nil && p.DepartmentID == nil && p.AssigneeID == nil && p.Tags == nil
		if !onlyClose {
			return errs.ErrForbidden
		}
		return nil
	}
	if (p.Subject != nil || p.Status != nil || p.Priority != nil || p.DepartmentID != nil || p.Tags != nil) && !scope.Can(access.TicketUpdate) {
		return errs.ErrForbidden
	}
	if p.Subject != nil && !scope.Can(access.TicketContent) {
		return errs.ErrForbidden // rewriting a subject means reading it
	}
	if p.AssigneeID != nil && !scope.Can(access.TicketAssign) {
		return errs.ErrForbidden
	}
	return nil
}

type change struct{ kind, old, new string }

// Update applies a patch and records each change in the ticket's history.
func (s *Service) Update(ctx context.Context, scope access.Scope, number int64, p Patch) (Ticket, error) {
	cur, err := s.Get(ctx, scope, number)
	if err != nil {
		return Ticket{}, err
	}
	if err := p.validate(scope); err != nil {
		return Ticket{}, err
	}
	ws := scope.WorkspaceID
	var subjectEnc, subjectOrig []byte
	var subjectTokens []int64
	var subject protected
	if p.Subject != nil && *p.Subject != cur.Subject {
		policy, err := s.maskingPolicy(ctx, ws)
		if err != nil {
			return Ticket{}, err
		}
		subject = protect(policy, *p.Subject)
		if subjectEnc, err = s.keys.Seal(ctx, subjectField(ws, cur.ID), subject.shown); err != nil {
			return Ticket{}, err
		}
		if subjectOrig, err = s.sealOriginal(ctx, subjectOriginalField(ws, cur.ID), subject); err != nil {
			return Ticket{}, err
		}
		if subjectTokens, err = s.tokens(ctx, ws, subject.shown, false); err != nil {
			return Ticket{}, err
		}
	}
	eventIDs, err := s.nextIDs(ctx, 7)
	if err != nil {
		return Ticket{}, err
	}
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		t, err := s.lockTicket(ctx, tx, scope, number)
		if err != nil {
			return err
		}
		changes, set, err := s.plan(ctx, tx, scope, t, p, now)
		if err != nil {
			return err
		}
		if subjectEnc != nil {
			set.add("subject_enc", subjectEnc)
			set.add("subject_original_enc", subjectOrig)
			set.add("subject_masked_kinds", joinKinds(subject.kinds))
			changes = append(changes, change{kind: "subject"}) // values stay encrypted: not copied to history
			if err := insertPostings(ctx, tx, ws, t.ID, subjectTokens); err != nil {
				return err
			}
		}
		if len(changes) == 0 {
			return nil
		}
		set.add("updated_at", now)
		if err := set.exec(ctx, tx, ws, t.ID); err != nil {
			return err
		}
		if p.Tags != nil && !slices.Equal(*p.Tags, t.Tags) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM ticket_tags WHERE ticket_id = $1`, t.ID); err != nil {
				return err
			}
			if err := insertTags(ctx, tx, ws, t.ID, *p.Tags); err != nil {
				return err
			}
		}
		kinds := make([]string, 0, len(changes))
		for i, c := range changes {
			if err := insertEvent(ctx, tx, scope, eventIDs[i], ws, t.ID, c.kind, c.old, c.new, now); err != nil {
				return err
			}
			kinds = append(kinds, c.kind)
		}
		if len(kinds) == 0 {
			return nil
		}
		return s.record(ctx, tx, ws, "ticket.update", t, map[string]string{"changed": strings.Join(kinds, ",")})
	})
	if err != nil {
		return Ticket{}, err
	}
	if subjectEnc != nil {
		// The old subject's words should stop finding the ticket. The change
		// is committed and the new words are already indexed, so a failure
		// here only leaves extra matches (still filtered by scope): it must
		// not turn a committed update into an error.
		_ = s.Reindex(ctx, ws, []int64{cur.ID})
	}
	// Read back with the system's view: a ticket handed to another
	// department leaves the caller's scope, and the caller still deserves
	// to see the result of their own change.
	t, err := s.get(ctx, s.db.Read(), access.System(ws), number)
	return forScope(scope, t), err
}

// lockTicket re-reads the ticket inside the write, locking its row on
// PostgreSQL (SQLite's single writer already serializes).
func (s *Service) lockTicket(ctx context.Context, tx *db.Tx, scope access.Scope, number int64) (Ticket, error) {
	a := &args{}
	where := scopeSQL(scope, a) + " AND t.number = " + a.add(number)
	q := `SELECT ` + ticketColumns + ` FROM tickets t WHERE ` + where
	if tx.Dialect() == db.Postgres {
		q += ` FOR UPDATE`
	}
	t, err := s.scan(ctx, tx.QueryRowContext(ctx, q, a.list...))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, errs.ErrNotFound
	}
	return t, err
}

// setList builds an UPDATE's SET clause.
type setList struct {
	cols []string
	vals []any
}

func (s *setList) add(col string, v any) {
	s.cols = append(s.cols, col)
	s.vals = append(s.vals, v)
}

func (s *setList) exec(ctx context.Context, tx *db.Tx, ws, id int64) error {
	parts := make([]string, len(s.cols))
	for i, c := range s.cols {
		parts[i] = c + " = $" + strconv.Itoa(i+1)
	}
	n := len(s.vals)
	q := fmt.Sprintf(`UPDATE tickets SET %s WHERE workspace_id = $%d AND id = $%d`, strings.Join(parts, ", "), n+1, n+2)
	_, err := tx.ExecContext(ctx, q, append(s.vals, ws, id)...)
	return err
}

// plan compares the patch with the locked ticket and returns the history
// entries and column updates it implies, refusing invalid moves.
func (s *Service) plan(ctx context.Context, tx *db.Tx, scope access.Scope, t Ticket, p Patch, now int64) ([]change, *setList, error) {
	var changes []change
	set := &setList{}
	if p.Status != nil && *p.Status != t.Status {
		if !CanMove(t.Status, *p.Status) {
			return nil, nil, errs.Field("status", "a %s ticket cannot become %s", t.Status, *p.Status)
		}
		changes = append(changes, change{"status", string(t.Status), string(*p.Status)})
		set.add("status", string(*p.Status))
		switch *p.Status {
		case StatusSolved:
			set.add("solved_at", now)
		case StatusClosed:
			set.add("closed_at", now)
			if t.SolvedAt.IsZero() {
				set.add("solved_at", now)
			}
		default:
			if !t.SolvedAt.IsZero() {
				set.add("solved_at", nil) // reopened
			}
		}
	} else if t.Status == StatusClosed && (p.Subject != nil || p.Priority != nil || p.DepartmentID != nil || p.AssigneeID != nil || p.Tags != nil) {
		return nil, nil, errs.Field("status", "a closed ticket cannot be changed")
	}
	if p.Priority != nil && *p.Priority != t.Priority {
		changes = append(changes, change{"priority", string(t.Priority), string(*p.Priority)})
		set.add("priority", string(*p.Priority))
	}
	dept := t.DepartmentID
	if p.DepartmentID != nil && *p.DepartmentID != t.DepartmentID {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM departments WHERE workspace_id = $1 AND id = $2`, scope.WorkspaceID, *p.DepartmentID).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, errs.Field("department_id", "no such department")
		}
		dept = *p.DepartmentID
		changes = append(changes, change{"department", idString(t.DepartmentID), idString(dept)})
		set.add("department_id", dept)
	}
	assignee := t.AssigneeID
	if p.AssigneeID != nil {
		assignee = *p.AssigneeID
	}
	if assignee != 0 && (assignee != t.AssigneeID || dept != t.DepartmentID) {
		err := checkAssignee(ctx, tx, scope.WorkspaceID, dept, assignee)
		switch {
		case err != nil && p.AssigneeID == nil:
			assignee = 0 // handed to a department the assignee is not in
		case err != nil:
			return nil, nil, err
		}
	}
	if assignee != t.AssigneeID {
		changes = append(changes, change{"assignee", idString(t.AssigneeID), idString(assignee)})
		set.add("assignee_id", db.NullID(assignee))
	}
	if p.Tags != nil && !slices.Equal(*p.Tags, t.Tags) {
		changes = append(changes, change{"tags", strings.Join(t.Tags, " "), strings.Join(*p.Tags, " ")})
		set.add("tags", strings.Join(*p.Tags, " "))
	}
	return changes, set, nil
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
