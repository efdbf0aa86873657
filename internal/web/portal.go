package web

import (
	"github.com/hesar/hesar/internal/audit"
	"io"
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/attachment"
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
}

func (s *Server) newRequestPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.render(w, r, http.StatusOK, "portal_new", NewRequest{Page: s.page(r, q, "title.new_request"), Errors: FieldErrors{}})
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, q *req) error {
	limit, err := s.uploadLimit(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	var created ticket.Ticket
	create := func(f map[string]string) error {
		if created.Number != 0 {
			return nil
		}
		var err error
		created, err = s.tickets.Create(r.Context(), q.P.Scope, ticket.NewTicket{Subject: f["subject"], Body: f["body"], Channel: ticket.ChannelPortal})
		return err
	}
	attach := func(name string, body io.Reader) error {
		_, err := s.attachments.Attach(r.Context(), q.P.Scope, created.Number, attachment.NewAttachment{Name: name, Size: -1}, body)
		return err
	}
	u, err := readUpload(w, r, limit, create, attach)
	if err == nil && created.Number == 0 {
		err = create(u.fields)
	}
	if err != nil && created.Number == 0 {
		v := NewRequest{Page: s.page(r, q, "title.new_request")}
		if u != nil {
			v.Subject, v.Body = u.fields["subject"], u.fields["body"]
		}
		var ok bool
		if v.Errors, ok = fieldErrors(q.L, err); !ok {
			if n := fileError(w, err); n != "" {
				v.Errors = FieldErrors{"file": q.L.T(n)}
			} else {
				return err
			}
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "portal_new", v)
	}
	target := "/portal/requests/" + strconv.FormatInt(created.Number, 10)
	if err != nil {
		if n := fileError(w, err); n != "" {
			return seeOther(w, r, target+"?notice="+n)
		}
		return err
	}
	return seeOther(w, r, target+"?notice=notice.request_sent")
}

// PortalTicket is one of the customer's requests with its conversation.
type PortalTicket struct {
	Page
	Ticket   TicketRow
	Entries  []Entry
	Files    []FileLink
	CanReply bool
	CanClose bool
	Errors   FieldErrors
	Body     string
}

func (s *Server) portalView(r *http.Request, q *req, n int64) (PortalTicket, error) {
	t, err := s.tickets.Get(r.Context(), q.P.Scope, n)
	if err != nil {
		return PortalTicket{}, err
	}
	if err := s.recordRead(r, q.P.Scope.WorkspaceID, audit.ActionTicketView, "ticket", t.ID, map[string]string{"number": strconv.FormatInt(t.Number, 10), "via": "portal"}); err != nil {
		return PortalTicket{}, err
	}
	me := q.P.Scope.ActorID
	entries, files, err := s.conversation(r.Context(), q.P.Scope, n, "/portal/files/", func(m ticket.Message) (string, bool) {
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
	v := PortalTicket{Page: s.page(r, q, "title.request"), Entries: entries, Files: files, Errors: FieldErrors{},
		Ticket: TicketRow{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority, UpdatedAt: t.UpdatedAt}}
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

// addMessage reads a reply (or, for staff, a note) with an optional file,
// adds it, attaches the file to it, and goes back to the ticket. invalid
// re-renders the ticket page with the form's errors.
func (s *Server) addMessage(w http.ResponseWriter, r *http.Request, q *req, n int64, base string, invalid func(FieldErrors, string) error) error {
	limit, err := s.uploadLimit(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	var added ticket.Message
	add := func(f map[string]string) error {
		if added.ID != 0 {
			return nil
		}
		in := ticket.NewMessage{Kind: ticket.KindReply, Body: f["body"]}
		if f["kind"] == string(ticket.KindNote) && q.isStaff() {
			in.Kind = ticket.KindNote
		}
		if st := ticket.Status(f["status"]); st != "" && q.isStaff() {
			in.Status = &st
		}
		var err error
		added, err = s.tickets.AddMessage(r.Context(), q.P.Scope, n, in)
		return err
	}
	attach := func(name string, body io.Reader) error {
		_, err := s.attachments.Attach(r.Context(), q.P.Scope, n, attachment.NewAttachment{Name: name, MessageID: added.ID, Size: -1}, body)
		return err
	}
	u, err := readUpload(w, r, limit, add, attach)
	if err == nil && added.ID == 0 {
		err = add(u.fields)
	}
	target := base + strconv.FormatInt(n, 10)
	if err != nil && added.ID == 0 {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			if note := fileError(w, err); note != "" {
				fe, ok = FieldErrors{"file": q.L.T(note)}, true
			}
		}
		if !ok {
			return err
		}
		body := ""
		if u != nil {
			body = u.fields["body"]
		}
		return invalid(fe, body)
	}
	if err != nil {
		if note := fileError(w, err); note != "" {
			return seeOther(w, r, target+"?notice="+note)
		}
		return err
	}
	return seeOther(w, r, target+"?notice=notice.message_sent#m"+strconv.FormatInt(added.ID, 10))
}
