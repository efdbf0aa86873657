package web

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/ticket"
)

// The customer portal. Every call passes the customer's own scope, so the
// ticket service returns their requests (and their organization's, when
// the organization shares) and nothing else; an unknown or foreign number
// is the same "not found".

// RequestList is the customer's requests.
type RequestList struct {
	Page
	Tickets []TicketRow
	Next    string
}

func (s *Server) myRequests(w http.ResponseWriter, r *http.Request, q *req) error {
	page, err := s.tickets.List(r.Context(), q.P.Scope, ticket.Filter{Cursor: r.URL.Query().Get("cursor"), Limit: ticket.DefaultPageSize})
	if err != nil {
		return err
	}
	v := RequestList{Page: s.page(r, q, "title.my_requests")}
	for _, t := range page.Tickets {
		v.Tickets = append(v.Tickets, TicketRow{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority,
			UpdatedAt: t.UpdatedAt, URL: "/portal/requests/" + strconv.FormatInt(t.Number, 10)})
	}
	if page.NextCursor != "" {
		v.Next = "/portal/?cursor=" + urlQueryEscape(page.NextCursor)
	}
	return s.render(w, r, http.StatusOK, "portal_list", v)
}

// NewRequest is the form for a new request.
type NewRequest struct {
	Page
	Subject, Body string
	Errors        FieldErrors
	// Once is the form's one-time token (package submit).
	Once string
}

func (s *Server) newRequestPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, http.StatusOK, "portal_new", NewRequest{Page: s.page(r, q, "title.new_request"), Errors: FieldErrors{}, Once: submit.Token()})
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, q *req) error {
	u, err := s.readUpload(w, r, q.P.Scope)
	once := u.fields["once"]
	if err == nil {
		if done, ok, ferr := s.madeBefore(r, q, once, "/portal/requests/", "notice.request_sent"); ferr != nil || ok {
			s.attachments.Discard(r.Context(), u.files)
			return cmp.Or(ferr, seeOther(w, r, done))
		}
	}
	var created ticket.Ticket
	if err == nil {
		err = s.attachments.Commit(r.Context(), u.files, func() error {
			var err error
			created, err = s.tickets.Create(r.Context(), q.P.Scope, ticket.NewTicket{Subject: u.fields["subject"], Body: u.fields["body"],
				Channel: ticket.ChannelPortal, InWrite: s.claiming(q.P.Scope, once, s.attachments.Recorder(q.P.Scope, u.files))})
			return err
		})
	}
	if errors.Is(err, submit.ErrRepeated) {
		// The same form, sent twice at once: the other request made it.
		return s.afterRepeat(w, r, q, once, "/portal/requests/", "notice.request_sent")
	}
	if err != nil {
		fe, ok := uploadErrors(w, q.L, err)
		if !ok {
			return err
		}
		v := NewRequest{Page: s.page(r, q, "title.new_request"), Errors: fe, Subject: u.fields["subject"], Body: u.fields["body"], Once: cmp.Or(once, submit.Token())}
		return s.render(w, r, http.StatusUnprocessableEntity, "portal_new", v)
	}
	return seeOther(w, r, "/portal/requests/"+strconv.FormatInt(created.Number, 10)+"?notice=notice.request_sent")
}

// PortalTicket is one of the customer's requests with its conversation.
type PortalTicket struct {
	Page
	Ticket TicketRow
	Thread
	CanReply bool
	CanClose bool
	Errors   FieldErrors
	Body     string
	// Once is the reply form's one-time token (package submit).
	Once string
}

func (s *Server) portalView(r *http.Request, q *req, n int64) (PortalTicket, error) {
	h, err := s.tickets.Hold(r.Context(), q.P.Scope, n)
	if err != nil {
		return PortalTicket{}, err
	}
	t := h.Ticket()
	if err := s.recordRead(r, q.P.Scope.WorkspaceID, audit.ActionTicketView, "ticket", t.ID, map[string]string{"number": strconv.FormatInt(t.Number, 10), "via": "portal"}); err != nil {
		return PortalTicket{}, err
	}
	me := q.P.Scope.ActorID
	thread, err := s.conversation(r.Context(), q.L, h, "/portal/requests/"+strconv.FormatInt(t.Number, 10), "/portal/files/", beforeParam(r), func(m ticket.Message) (string, bool) {
		if m.AuthorType == string(access.ActorCustomer) {
			if m.AuthorID == me {
				return q.L.T("author.you"), true
			}
			return q.L.T("author.colleague"), false
		}
		return q.L.T("author.support"), false
	})
	if err != nil {
		return PortalTicket{}, err
	}
	v := PortalTicket{Page: s.page(r, q, "title.request"), Thread: thread, Errors: FieldErrors{},
		Ticket: TicketRow{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority, UpdatedAt: t.UpdatedAt}}
	v.TitleNote = q.L.T("ticket.number", q.L.Num(t.Number))
	v.Once = submit.Token()
	v.CanReply = t.Status != ticket.StatusClosed
	v.CanClose = t.Status != ticket.StatusClosed && ticket.CanMove(t.Status, ticket.StatusClosed)
	return v, nil
}

func (s *Server) portalTicket(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	v, err := s.portalView(r, q, n)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "portal_ticket", v)
}

func (s *Server) portalReply(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	return s.addMessage(w, r, q, n, "/portal/requests/", func(fe FieldErrors, body string) error {
		v, err := s.portalView(r, q, n)
		if err != nil {
			return err
		}
		v.Errors, v.Body = fe, body
		return s.render(w, r, http.StatusUnprocessableEntity, "portal_ticket", v)
	})
}

func (s *Server) portalClose(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	closed := ticket.StatusClosed
	if _, err := s.tickets.Update(r.Context(), q.P.Scope, n, ticket.Patch{Status: &closed}); err != nil {
		return err
	}
	return seeOther(w, r, "/portal/requests/"+strconv.FormatInt(n, 10)+"?notice=notice.request_closed")
}

// addMessage reads a reply (or, for staff, a note) with its files, adds
// them in one write, and goes back to the ticket. Nothing is kept when
// anything is refused; invalid re-renders the ticket page with the form's
// errors.
func (s *Server) addMessage(w http.ResponseWriter, r *http.Request, q *req, n int64, base string, invalid func(FieldErrors, string) error) error {
	// A ticket out of sight is "not found" before a byte of any file is read.
	if _, err := s.tickets.Get(r.Context(), q.P.Scope, n); err != nil {
		return err
	}
	u, err := s.readUpload(w, r, q.P.Scope)
	once := u.fields["once"]
	if err == nil {
		if done, ok, ferr := s.madeBefore(r, q, once, base, noticeMessageSent); ferr != nil || ok {
			s.attachments.Discard(r.Context(), u.files)
			return cmp.Or(ferr, seeOther(w, r, done))
		}
	}
	var added ticket.Message
	if err == nil {
		in := ticket.NewMessage{Kind: ticket.KindReply, Body: u.fields["body"], InWrite: s.claiming(q.P.Scope, once, s.attachments.Recorder(q.P.Scope, u.files))}
		if u.fields["kind"] == string(ticket.KindNote) && q.isStaff() {
			in.Kind = ticket.KindNote
		}
		if st := ticket.Status(u.fields["status"]); st != "" && q.isStaff() {
			in.Status = &st
		}
		err = s.attachments.Commit(r.Context(), u.files, func() error {
			var err error
			added, err = s.tickets.AddMessage(r.Context(), q.P.Scope, n, in)
			return err
		})
	}
	if errors.Is(err, submit.ErrRepeated) {
		return s.afterRepeat(w, r, q, once, base, noticeMessageSent)
	}
	if err != nil {
		fe, ok := uploadErrors(w, q.L, err)
		if !ok {
			return err
		}
		return invalid(fe, u.fields["body"])
	}
	return seeOther(w, r, base+strconv.FormatInt(n, 10)+"?notice=notice.message_sent#m"+strconv.FormatInt(added.ID, 10))
}
