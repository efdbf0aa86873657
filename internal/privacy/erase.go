package privacy

import (
	"context"
	"fmt"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// What Erase does with the customer's tickets.
const (
	// KeepTickets keeps the tickets as anonymous records (status, times,
	// department: what reports need) and erases every subject, message
	// body and attachment in them.
	KeepTickets = "keep"
	// DeleteTickets deletes the tickets and everything in them.
	DeleteTickets = "delete"
)

// erasedText replaces every erased subject and body.
const erasedText = "[erased at the customer's request]"

// Erased reports what Erase did.
type Erased struct {
	Tickets     int
	Messages    int
	Attachments int
	Tokens      int
}

type erasePlan struct {
	tickets  []int64
	messages []int64
	blobs    []string
	// What the customer wrote or uploaded on other customers' tickets
	// (organization access lets them): erased in either mode.
	foreignTickets  []int64
	foreignMessages []int64
	foreignFiles    []int64
	foreignBlobs    []string
	subjects        map[int64][]byte // sealed replacement per ticket
	bodies          map[int64][]byte // per message
	email, name     []byte
	phone           []byte
	emailIdx        []byte
}

// Erase removes a customer's personal data: the contact record is
// anonymized (its email can register again as a new customer), their API
// tokens are deleted, and their tickets are either kept with every text
// and file erased (KeepTickets) or deleted whole (DeleteTickets). It runs in
// one transaction; files are removed after it commits.
func (s *Service) Erase(ctx context.Context, scope access.Scope, customerID int64, mode string) (Erased, error) {
	if !scope.Can(access.CustomerPrivacy) {
		return Erased{}, errs.ErrForbidden
	}
	if mode != KeepTickets && mode != DeleteTickets {
		return Erased{}, errs.Field("tickets", "must be keep or delete")
	}
	if _, err := s.customers.Get(ctx, scope, customerID); err != nil {
		return Erased{}, err
	}
	ws := scope.WorkspaceID
	plan, err := s.plan(ctx, ws, customerID, mode)
	if err != nil {
		return Erased{}, err
	}
	var out Erased
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		var err error
		out, err = s.apply(ctx, tx, ws, customerID, mode, plan)
		return err
	})
	if err != nil {
		return Erased{}, err
	}
	s.identity.ForgetCachedIdentities() // the customer's tokens are gone: now, not in two seconds
	// Other customers' tickets keep their own words searchable, and lose
	// the erased customer's.
	if err := s.tickets.Reindex(ctx, ws, plan.foreignTickets); err != nil {
		return out, fmt.Errorf("erased, but rebuilding search for %d tickets failed: %w", len(plan.foreignTickets), err)
	}
	for _, key := range append(plan.blobs, plan.foreignBlobs...) {
		_ = s.attachments.Blobs().Delete(ctx, key) // the rows are gone; a leftover file is unreadable noise
	}
	return out, nil
}

// plan reads what is to be erased and seals the replacements before the
// write (sealing needs each row's id for its AAD).
func (s *Service) plan(ctx context.Context, ws, customerID int64, mode string) (*erasePlan, error) {
	p := &erasePlan{subjects: map[int64][]byte{}, bodies: map[int64][]byte{}}
	q := func(query string, args ...any) ([]int64, error) {
		rows, err := s.db.Read().QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var err error
	if p.tickets, err = q(`SELECT id FROM tickets WHERE workspace_id = $1 AND customer_id = $2`, ws, customerID); err != nil {
		return nil, err
	}
	if p.messages, err = q(`SELECT m.id FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace_id = $1 AND t.customer_id = $2`, ws, customerID); err != nil {
		return nil, err
	}
	const elsewhere = ` JOIN tickets t ON t.id = x.ticket_id WHERE x.workspace_id = $1 AND x.author_type = 'customer' AND x.author_id = $2 AND t.customer_id <> $2`
	if p.foreignMessages, err = q(`SELECT x.id FROM messages x`+elsewhere, ws, customerID); err != nil {
		return nil, err
	}
	if p.foreignFiles, err = q(`SELECT x.id FROM attachments x`+elsewhere, ws, customerID); err != nil {
		return nil, err
	}
	if p.foreignTickets, err = q(`SELECT DISTINCT x.ticket_id FROM messages x`+elsewhere+` UNION SELECT DISTINCT x.ticket_id FROM attachments x`+elsewhere, ws, customerID); err != nil {
		return nil, err
	}
	keys, err := s.storageKeys(ctx, ws, p.foreignFiles)
	if err != nil {
		return nil, err
	}
	p.foreignBlobs = keys
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.storage_key FROM attachments a JOIN tickets t ON t.id = a.ticket_id WHERE t.workspace_id = $1 AND t.customer_id = $2`, ws, customerID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			rows.Close()
			return nil, err
		}
		p.blobs = append(p.blobs, key)
	}
	rows.Close()
	seal := func(table, column string, id int64, text string) ([]byte, error) {
		return s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: table, Column: column, Row: id}, text)
	}
	for _, id := range p.foreignMessages {
		if p.bodies[id], err = seal("messages", "body", id, erasedText); err != nil {
			return nil, err
		}
	}
	if mode == KeepTickets {
		for _, id := range p.tickets {
			if p.subjects[id], err = seal("tickets", "subject", id, erasedText); err != nil {
				return nil, err
			}
		}
		for _, id := range p.messages {
			if p.bodies[id], err = seal("messages", "body", id, erasedText); err != nil {
				return nil, err
			}
		}
	}
	if p.email, err = seal("customers", "email", customerID, fmt.Sprintf("erased-%d@erased.invalid", customerID)); err != nil {
		return nil, err
	}
	if p.name, err = seal("customers", "name", customerID, ""); err != nil {
		return nil, err
	}
	if p.phone, err = seal("customers", "phone", customerID, ""); err != nil {
		return nil, err
	}
	p.emailIdx = randomBytes(16) // matches no email: the address is free again
	return p, nil
}

func inIDs(ids []int64, first int) (string, []any) {
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = fmt.Sprintf("$%d", first+i)
		args[i] = id
	}
	return strings.Join(ph, ", "), args
}

func (s *Service) apply(ctx context.Context, tx *db.Tx, ws, customerID int64, mode string, p *erasePlan) (Erased, error) {
	out := Erased{Tickets: len(p.tickets), Messages: len(p.messages) + len(p.foreignMessages), Attachments: len(p.blobs) + len(p.foreignBlobs)}
	for _, chunk := range chunks(p.foreignFiles, 500) {
		list, args := inIDs(chunk, 2)
		if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE workspace_id = $1 AND id IN (`+list+`)`, append([]any{ws}, args...)...); err != nil {
			return out, err
		}
	}
	exec := func(q string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	n, err := exec(`DELETE FROM api_tokens WHERE workspace_id = $1 AND customer_id = $2`, ws, customerID)
	if err != nil {
		return out, err
	}
	out.Tokens = int(n)
	// Every way the customer could sign in goes with them.
	for _, table := range []string{"sessions", "totp_secrets", "recovery_codes", "webauthn_credentials", "auth_links", "auth_challenges"} {
		if _, err := exec(`DELETE FROM `+table+` WHERE workspace_id = $1 AND customer_id = $2`, ws, customerID); err != nil {
			return out, err
		}
	}
	for _, chunk := range chunks(p.tickets, 500) {
		list, args := inIDs(chunk, 2)
		args = append([]any{ws}, args...)
		for _, q := range []string{
			`DELETE FROM search_postings WHERE workspace_id = $1 AND ticket_id IN (%s)`,
			`DELETE FROM attachments WHERE workspace_id = $1 AND ticket_id IN (%s)`,
			`DELETE FROM reveals WHERE workspace_id = $1 AND ticket_id IN (%s)`,
			`DELETE FROM form_submissions WHERE workspace_id = $1 AND ticket_id IN (%s)`,
		} {
			if _, err := exec(fmt.Sprintf(q, list), args...); err != nil {
				return out, err
			}
		}
		if mode == DeleteTickets {
			for _, q := range []string{
				`DELETE FROM ticket_tags WHERE workspace_id = $1 AND ticket_id IN (%s)`,
				`DELETE FROM ticket_events WHERE workspace_id = $1 AND ticket_id IN (%s)`,
				`DELETE FROM messages WHERE workspace_id = $1 AND ticket_id IN (%s)`,
				`DELETE FROM tickets WHERE workspace_id = $1 AND id IN (%s)`,
			} {
				if _, err := exec(fmt.Sprintf(q, list), args...); err != nil {
					return out, err
				}
			}
		}
	}
	if mode == KeepTickets {
		// Staff labels and the organization link go too: tags can name the
		// person, and the link would keep colleagues reading and writing.
		for _, chunk := range chunks(p.tickets, 500) {
			list, args := inIDs(chunk, 2)
			args = append([]any{ws}, args...)
			if _, err := exec(`DELETE FROM ticket_tags WHERE workspace_id = $1 AND ticket_id IN (`+list+`)`, args...); err != nil {
				return out, err
			}
			if _, err := exec(`UPDATE tickets SET tags = '', organization_id = NULL WHERE workspace_id = $1 AND id IN (`+list+`)`, args...); err != nil {
				return out, err
			}
			if _, err := exec(`UPDATE ticket_events SET old_value = '', new_value = '' WHERE workspace_id = $1 AND kind = 'tags' AND ticket_id IN (`+list+`)`, args...); err != nil {
				return out, err
			}
		}
		for id, enc := range p.subjects {
			if _, err := exec(`UPDATE tickets SET subject_enc = $1, subject_original_enc = NULL, subject_masked_kinds = '' WHERE workspace_id = $2 AND id = $3`, enc, ws, id); err != nil {
				return out, err
			}
		}

		// A message written after the plan was made is deleted rather than
		// left readable.
		if len(p.tickets) > 0 {
			list, args := inIDs(p.tickets, 2)
			q := `DELETE FROM messages WHERE workspace_id = $1 AND ticket_id IN (` + list + `)`
			if len(p.messages) > 0 {
				mlist, margs := inIDs(p.messages, 2+len(p.tickets))
				q += ` AND id NOT IN (` + mlist + `)`
				args = append(args, margs...)
			}
			if _, err := exec(q, append([]any{ws}, args...)...); err != nil {
				return out, err
			}
		}
	}
	for id, enc := range p.bodies {
		if _, err := exec(`UPDATE messages SET body_enc = $1, body_original_enc = NULL, body_html_enc = NULL, masked_kinds = '' WHERE workspace_id = $2 AND id = $3`, enc, ws, id); err != nil {
			return out, err
		}
	}
	_, err = exec(`UPDATE customers SET email_enc = $1, email_idx = $2, name_enc = $3, phone_enc = $4, organization_id = NULL, org_access = 0, updated_at = $5,
		password_hash = '', password_changed_at = NULL, email_verified_at = NULL, failed_logins = 0, locked_at = NULL, locale = '', webauthn_handle = NULL
		WHERE workspace_id = $6 AND id = $7`, p.email, p.emailIdx, p.name, p.phone, db.Now(), ws, customerID)
	return out, err
}

func chunks(ids []int64, size int) [][]int64 {
	var out [][]int64
	for len(ids) > 0 {
		n := min(len(ids), size)
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

// storageKeys returns where the given attachments' files are.
func (s *Service) storageKeys(ctx context.Context, ws int64, ids []int64) ([]string, error) {
	var out []string
	for _, chunk := range chunks(ids, 500) {
		list, args := inIDs(chunk, 2)
		rows, err := s.db.Read().QueryContext(ctx, `SELECT storage_key FROM attachments WHERE workspace_id = $1 AND id IN (`+list+`)`, append([]any{ws}, args...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, k)
		}
		rows.Close()
	}
	return out, nil
}
