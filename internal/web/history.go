package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/ticket"
)

// HistoryLine is one change in a ticket's history, in words.
type HistoryLine struct {
	Text string
	At   Stamp
}

// history reads the ticket's events and says each in the page's language,
// naming people and departments rather than ids.
func (s *Server) history(r *http.Request, q *req, h ticket.Held, dir directory) ([]HistoryLine, error) {
	events, err := s.tickets.EventsOf(r.Context(), h)
	if err != nil {
		return nil, err
	}
	l := q.L
	name := func(id string) string {
		v, _ := strconv.ParseInt(id, 10, 64)
		switch {
		case v == 0:
			return l.T("ticket.unassigned")
		case dir.users[v] != "":
			return dir.users[v]
		}
		return l.Digits("#" + id)
	}
	dept := func(id string) string {
		v, _ := strconv.ParseInt(id, 10, 64)
		if d := dir.dept(v); d != "" {
			return d
		}
		return l.Digits("#" + id)
	}
	out := make([]HistoryLine, 0, len(events))
	for _, e := range events {
		who := l.T("author.customer")
		if e.ActorType == string(access.ActorUser) {
			who = name(strconv.FormatInt(e.ActorID, 10))
		} else if e.ActorType == string(access.ActorSystem) {
			who = l.T("author.system")
		}
		var text string
		switch e.Kind {
		case "created":
			text = l.T("event.created", who)
		case "status":
			text = l.T("event.status", who, l.Status(e.OldValue), l.Status(e.NewValue))
		case "priority":
			text = l.T("event.priority", who, l.Priority(e.OldValue), l.Priority(e.NewValue))
		case "assignee":
			text = l.T("event.assignee", who, name(e.NewValue))
		case "department":
			text = l.T("event.department", who, dept(e.OldValue), dept(e.NewValue))
		case "tags":
			text = l.T("event.tags", who, e.NewValue)
		case "subject":
			text = l.T("event.subject", who)
		case "reply":
			text = l.T("event.reply", who)
		case "note":
			text = l.T("event.note", who)
		case "reveal":
			text = l.T("event.reveal", who)
		case "contact":
			text = l.T("event.contact", who)
		default:
			text = l.T("event.other", who, e.Kind)
		}
		out = append(out, HistoryLine{Text: text, At: l.Stamp(e.CreatedAt)})
	}
	return out, nil
}

// reveal shows the original of a masked message (or subject) to staff who
// may, for a stated reason, after a recent proof of identity — the API's
// rule. The service records who, when and why before returning it.
func (s *Server) reveal(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := "/console/tickets/" + strconv.FormatInt(n, 10)
	// Someone who may not reveal is told so now, not after proving
	// who they are for nothing.
	if !q.P.Scope.Can(access.SensitiveReveal) {
		return errs.ErrForbidden
	}
	if !q.P.Session.Fresh(nowFunc()) {
		return seeOther(w, r, "/auth/step-up?next="+back)
	}
	msg, err := strconv.ParseInt(r.PostFormValue("message_id"), 10, 64)
	if err != nil || msg < 0 {
		return errBadForm
	}
	original, err := s.tickets.Reveal(r.Context(), q.P.Scope, n, msg, strings.TrimSpace(r.PostFormValue("reason")))
	v, verr := s.consoleView(r, q, n, false)
	if verr != nil {
		return verr
	}
	if err != nil {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v.RevealFor, v.Errors = msg, FieldErrors{"reason": fe.Get("reason")}
		return s.render(w, r, http.StatusUnprocessableEntity, "console_ticket", v)
	}
	w.Header().Set("Cache-Control", "no-store")
	for i := range v.Entries {
		if v.Entries[i].ID == msg {
			v.Entries[i].Original = original
		}
	}
	if msg == 0 {
		v.OriginalSubject = original
	}
	return s.render(w, r, http.StatusOK, "console_ticket", v)
}

// tagList reads the tags field: words separated by commas or spaces.
func tagList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '،' || r == ' ' || r == '\n' })
}
