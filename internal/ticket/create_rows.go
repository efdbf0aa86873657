package ticket

import (
	"context"
	"fmt"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/workspace"
)

// newTicketRows is everything a new ticket writes, prepared (sealed,
// tokenized) before the write.
type newTicketRows struct {
	t                       *Ticket
	scope                   access.Scope
	messageID, eventID      int64
	subjectEnc, subjectOrig []byte
	subjectKinds            string
	bodyEnc, bodyOrig       []byte
	bodyKinds               string
	bodyHTML                []byte // nil for a plain-text message
	tokens                  []int64
	now                     int64
}

// insert writes the rows one statement at a time (SQLite, where a
// statement costs no round trip).
func (r newTicketRows) insert(ctx context.Context, tx *db.Tx) error {
	t, ws := r.t, r.t.WorkspaceID
	var err error
	if t.Number, err = nextNumber(ctx, tx, ws); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO tickets (id, workspace_id, number, subject_enc, status, priority, channel, department_id,
		assignee_id, customer_id, organization_id, tags, created_at, updated_at, solved_at, subject_original_enc, subject_masked_kinds)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16)`, r.ticketArgs()...)
	if err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (id, workspace_id, ticket_id, kind, author_type, author_id, body_enc, created_at, body_original_enc, masked_kinds, body_html_enc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, r.messageArgs()...); err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	if err := insertTags(ctx, tx, ws, t.ID, t.Tags); err != nil {
		return err
	}
	if err := insertPostings(ctx, tx, ws, t.ID, r.tokens); err != nil {
		return err
	}
	return insertEvent(ctx, tx, r.scope, r.eventID, ws, t.ID, "created", "", string(t.Status), r.now)
}

func (r newTicketRows) ticketArgs() []any {
	t := r.t
	return []any{t.ID, t.WorkspaceID, t.Number, r.subjectEnc, string(t.Status), string(t.Priority), t.Channel, t.DepartmentID,
		db.NullID(t.AssigneeID), t.CustomerID, db.NullID(t.OrganizationID), strings.Join(t.Tags, " "), r.now,
		nullTime(t.SolvedAt.UnixMicro(), !t.SolvedAt.IsZero()), r.subjectOrig, r.subjectKinds}
}

func (r newTicketRows) messageArgs() []any {
	author, authorID := actorOf(r.scope)
	return []any{r.messageID, r.t.WorkspaceID, r.t.ID, string(KindReply), author, authorID, r.bodyEnc, r.now, r.bodyOrig, r.bodyKinds, r.bodyHTML}
}

// maxPostingsInOneStatement bounds the single-statement PostgreSQL path.
const maxPostingsInOneStatement = maxTokensPerText

// insertPostgres writes ticket, first message, history and search postings
// in one statement. On PostgreSQL every statement is a network round trip
// and a commit holds its locks until the WAL flush, so four statements
// folded into one is most of the difference in ticket creation rate
// (foreign keys are checked at the end of the statement, when the ticket row
// exists).
func (r newTicketRows) insertPostgres(ctx context.Context, tx *db.Tx) error {
	t, ws := r.t, r.t.WorkspaceID
	a := &args{}
	targs := r.ticketArgs()
	ph := make([]string, len(targs))
	for i, v := range targs {
		if i == 2 { // number: from the workspace's sequence
			ph[i] = `nextval('` + workspace.TicketSequence(ws) + `')`
			continue
		}
		ph[i] = a.add(v)
	}
	var q strings.Builder
	fmt.Fprintf(&q, `WITH tk AS (INSERT INTO tickets (id, workspace_id, number, subject_enc, status, priority, channel, department_id,
		assignee_id, customer_id, organization_id, tags, created_at, updated_at, solved_at, subject_original_enc, subject_masked_kinds)
		VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING number)`,
		ph[0], ph[1], ph[2], ph[3], ph[4], ph[5], ph[6], ph[7], ph[8], ph[9], ph[10], ph[11], ph[12], ph[12], ph[13], ph[14], ph[15])
	margs := r.messageArgs()
	fmt.Fprintf(&q, `, msg AS (INSERT INTO messages (id, workspace_id, ticket_id, kind, author_type, author_id, body_enc, created_at, body_original_enc, masked_kinds, body_html_enc)
		VALUES (%s))`, inList(margs, a))
	actor, actorID := actorOf(r.scope)
	fmt.Fprintf(&q, `, ev AS (INSERT INTO ticket_events (id, workspace_id, ticket_id, actor_type, actor_id, kind, old_value, new_value, created_at)
		VALUES (%s, %s, %s, %s, %s, 'created', '', %s, %s))`,
		a.add(r.eventID), a.add(ws), a.add(t.ID), a.add(actor), a.add(actorID), a.add(string(t.Status)), a.add(r.now))
	// The tokens travel as one array parameter, so the statement has one
	// shape whatever the text's length (pgx prepares each shape once per
	// connection).
	fmt.Fprintf(&q, `, po AS (INSERT INTO search_postings (workspace_id, token, ticket_id)
		SELECT %s, tok, %s FROM unnest(%s::bigint[]) AS tok ON CONFLICT DO NOTHING)`, a.add(ws), a.add(t.ID), a.add(r.tokens))
	q.WriteString(` SELECT number FROM tk`)
	if err := tx.QueryRowContext(ctx, q.String(), a.list...).Scan(&t.Number); err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	return insertTags(ctx, tx, ws, t.ID, t.Tags)
}
