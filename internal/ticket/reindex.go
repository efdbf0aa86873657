package ticket

import (
	"context"
	"slices"

	"github.com/hesar/hesar/internal/db"
)

// Reindex rebuilds the search postings of the given tickets from their
// current subject and messages. Postings only ever grow as text is added,
// so after text is rewritten or erased (a subject change, a customer's
// erasure) the old words must be dropped this way.
func (s *Service) Reindex(ctx context.Context, ws int64, ticketIDs []int64) error {
	for _, id := range ticketIDs {
		tokens, err := s.ticketTokens(ctx, ws, id)
		if err != nil {
			return err
		}
		err = s.db.Write(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM search_postings WHERE workspace_id = $1 AND ticket_id = $2`, ws, id); err != nil {
				return err
			}
			return insertPostings(ctx, tx, ws, id, tokens)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ticketTokens computes the postings of one ticket as it stands.
func (s *Service) ticketTokens(ctx context.Context, ws, id int64) ([]int64, error) {
	var subjectEnc []byte
	if err := s.db.Read().QueryRowContext(ctx, `SELECT subject_enc FROM tickets WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&subjectEnc); err != nil {
		return nil, err
	}
	subject, err := s.keys.Open(ctx, subjectField(ws, id), subjectEnc)
	if err != nil {
		return nil, err
	}
	all, err := s.tokens(ctx, ws, subject, false)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, kind, body_enc FROM messages WHERE workspace_id = $1 AND ticket_id = $2`, ws, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var mid int64
		var kind string
		var enc []byte
		if err := rows.Scan(&mid, &kind, &enc); err != nil {
			return nil, err
		}
		body, err := s.keys.Open(ctx, bodyField(ws, mid), enc)
		if err != nil {
			return nil, err
		}
		toks, err := s.tokens(ctx, ws, body, kind == string(KindNote))
		if err != nil {
			return nil, err
		}
		all = append(all, toks...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}
