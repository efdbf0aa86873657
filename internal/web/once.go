package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/ticket"
)

// Forms that create a request or a message carry a one-time token
// ("once"); see package submit. A second send of the same form leads to
// what the first one made.

// noticeMessageSent is the notice after a message was added; a new
// request's page opens at its top.
const noticeMessageSent = "notice.message_sent"

// claiming claims the form's token inside the write, then runs then.
func (s *Server) claiming(scope access.Scope, token string, then ticket.WriteHook) ticket.WriteHook {
	return func(ctx context.Context, tx *db.Tx, ticketID, messageID int64) error {
		if s.submits != nil {
			if err := s.submits.Claim(ctx, tx, scope, token, ticketID, messageID); err != nil {
				return err
			}
		}
		return then(ctx, tx, ticketID, messageID)
	}
}

// madeBefore finds what an earlier send of this form made: the address
// to show it at (under base, with notice, and when the form added a
// message, that message's anchor), and ok.
func (s *Server) madeBefore(r *http.Request, q *req, token, base, notice string) (string, bool, error) {
	if s.submits == nil {
		return "", false, nil
	}
	n, msg, found, err := s.submits.Find(r.Context(), q.P.Scope, token)
	if err != nil || !found {
		return "", false, err
	}
	to := base + strconv.FormatInt(n, 10) + "?notice=" + notice
	if msg != 0 && notice == noticeMessageSent {
		to += "#m" + strconv.FormatInt(msg, 10)
	}
	return to, true, nil
}

// afterRepeat answers the send that lost the race to an identical one.
func (s *Server) afterRepeat(w http.ResponseWriter, r *http.Request, q *req, token, base, notice string) error {
	to, ok, err := s.madeBefore(r, q, token, base, notice)
	if err != nil {
		return err
	}
	if !ok {
		return submit.ErrRepeated // claimed but not found: cannot happen while the row is kept
	}
	return seeOther(w, r, to)
}
