package ticket

import (
	"context"
	"database/sql"
	"errors"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Reveal returns the original of a masked message (messageID), or of the
// ticket's masked subject (messageID 0), to staff holding
// access.SensitiveReveal. The reason is required; the reveal is recorded
// (who, when, why — the reason sealed like any other text) before the
// original is returned, and a reveal that cannot be recorded does not
// happen.
func (s *Service) Reveal(ctx context.Context, scope access.Scope, number, messageID int64, reason string) (string, error) {
	if !scope.Can(access.SensitiveReveal) {
		return "", errs.ErrForbidden
	}
	if err := checkReason(reason); err != nil {
		return "", err
	}
	t, err := s.Get(ctx, scope, number)
	if err != nil {
		return "", err
	}
	ws := scope.WorkspaceID
	var enc []byte
	var field keyring.Field
	if messageID == 0 {
		err = s.db.Read().QueryRowContext(ctx, `SELECT subject_original_enc FROM tickets WHERE workspace_id = $1 AND id = $2`, ws, t.ID).Scan(&enc)
		field = subjectOriginalField(ws, t.ID)
	} else {
		q := `SELECT body_original_enc FROM messages WHERE workspace_id = $1 AND ticket_id = $2 AND id = $3`
		err = s.db.Read().QueryRowContext(ctx, q, ws, t.ID, messageID).Scan(&enc)
		field = bodyOriginalField(ws, messageID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	if enc == nil {
		return "", errs.Field("message_id", "nothing was masked here, or the workspace redacts instead of masking")
	}
	ids, err := s.nextIDs(ctx, 2)
	if err != nil {
		return "", err
	}
	reasonEnc, err := s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "reveals", Column: "reason", Row: ids[0]}, reason)
	if err != nil {
		return "", err
	}
	actor, actorID := actorOf(scope)
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reveals (id, workspace_id, ticket_id, message_id, actor_type, actor_id, reason_enc, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ids[0], ws, t.ID, db.NullID(messageID), actor, actorID, reasonEnc, now)
		if err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, scope, ids[1], ws, t.ID, "reveal", "", idString(messageID), now); err != nil {
			return err
		}
		// The reason is personal enough to stay sealed in reveals; the
		// record names the reveal row.
		return s.record(ctx, tx, ws, "ticket.reveal", t, map[string]string{"message_id": idString(messageID), "reveal_id": idString(ids[0])})
	})
	if err != nil {
		return "", err
	}
	return s.keys.Open(ctx, field, enc)
}

// checkReason refuses a reason too short to say anything.
func checkReason(reason string) error {
	var v errs.Validator
	v.Text("reason", reason, true, 500)
	if utf8.RuneCountInString(reason) < 10 {
		v.Add("reason", "say in a sentence why you need to see this (at least 10 characters)")
	}
	return v.Err()
}

// RevealContact records that a person holding access.CustomerRead is about
// to see the whole contact details (email, phone) of ticket number's
// customer, for the reason given, and returns that customer's id. The
// console shows contact details masked and whole only after this: the
// record (who, when, why — the reason sealed) is written first, and a
// reveal that cannot be recorded does not happen.
func (s *Service) RevealContact(ctx context.Context, scope access.Scope, number int64, reason string) (int64, error) {
	if scope.IsCustomer() || !scope.Can(access.CustomerRead) {
		return 0, errs.ErrForbidden
	}
	if err := checkReason(reason); err != nil {
		return 0, err
	}
	t, err := s.Get(ctx, scope, number)
	if err != nil {
		return 0, err
	}
	ids, err := s.nextIDs(ctx, 2)
	if err != nil {
		return 0, err
	}
	ws := scope.WorkspaceID
	reasonEnc, err := s.keys.Seal(ctx, keyring.Field{Workspace: ws, Table: "reveals", Column: "reason", Row: ids[0]}, reason)
	if err != nil {
		return 0, err
	}
	actor, actorID := actorOf(scope)
	now := db.Now()
	err = s.db.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO reveals (id, workspace_id, ticket_id, message_id, actor_type, actor_id, reason_enc, created_at, target)
			VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, 'contact')`, ids[0], ws, t.ID, actor, actorID, reasonEnc, now)
		if err != nil {
			return err
		}
		if err := insertEvent(ctx, tx, scope, ids[1], ws, t.ID, "contact", "", idString(t.CustomerID), now); err != nil {
			return err
		}
		return s.record(ctx, tx, ws, "ticket.reveal", t, map[string]string{"target": "contact",
			"customer_id": idString(t.CustomerID), "reveal_id": idString(ids[0])})
	})
	if err != nil {
		return 0, err
	}
	return t.CustomerID, nil
}
