package api

import (
	"net/http"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/ticket"
)

type customerInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

type createTicketRequest struct {
	Subject      string         `json:"subject"`
	Body         string         `json:"body"`
	BodyHTML     string         `json:"body_html"`
	Priority     string         `json:"priority"`
	Status       string         `json:"status"`
	DepartmentID int64          `json:"department_id"`
	AssigneeID   int64          `json:"assignee_id"`
	CustomerID   int64          `json:"customer_id"`
	Customer     *customerInput `json:"customer"`
	Tags         []string       `json:"tags"`
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req createTicketRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	in := ticket.NewTicket{Subject: req.Subject, Body: req.Body, HTML: req.BodyHTML, Priority: ticket.Priority(req.Priority),
		Status: ticket.Status(req.Status), DepartmentID: req.DepartmentID, AssigneeID: req.AssigneeID,
		CustomerID: req.CustomerID, Tags: req.Tags, Channel: ticket.ChannelAPI}
	if req.Customer != nil {
		in.Customer = &customer.NewCustomer{Email: req.Customer.Email, Name: req.Customer.Name, Phone: req.Customer.Phone}
	}
	t, err := s.tickets.Create(r.Context(), p.Scope, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+itoa(t.Number))
	writeJSON(w, http.StatusCreated, viewTicket(t))
	return nil
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.tickets.Get(r.Context(), p.Scope, n)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "ticket.view", "ticket", t.ID, map[string]string{"number": itoa(t.Number)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTicket(t))
	return nil
}

// ticketFilter reads the list filters shared by list, counts and search.
func ticketFilter(q *query) ticket.Filter {
	var f ticket.Filter
	for _, st := range q.list("status") {
		f.Statuses = append(f.Statuses, ticket.Status(st))
	}
	for _, pr := range q.list("priority") {
		f.Priorities = append(f.Priorities, ticket.Priority(pr))
	}
	f.DepartmentID = q.int("department_id")
	if q.str("assignee_id") == "none" {
		f.Unassigned = true
	} else {
		f.AssigneeID = q.int("assignee_id")
	}
	f.CustomerID = q.int("customer_id")
	f.Tag = q.str("tag")
	f.Cursor = q.str("cursor")
	if l := q.str("limit"); l != "" {
		f.Limit = int(q.int("limit"))
		if f.Limit == 0 {
			f.Limit = -1
		}
	}
	return f
}

// listOrders are the values of a list's order parameter: the store's
// orders by name, and newest, the name the default had before there were
// other orders.
var listOrders = func() map[string]ticket.Order {
	m := map[string]ticket.Order{"": ticket.OrderUpdated, "newest": ticket.OrderUpdated}
	for _, o := range ticket.Orders {
		m[string(o)] = o
	}
	return m
}()

// searchOrders are the values of a search's order parameter. Search results
// come in the order tickets were opened; newest and oldest are the names
// that order had before lists took other orders, and keep working.
var searchOrders = map[string]ticket.Order{
	"": ticket.OrderCreated, "newest": ticket.OrderCreated, "oldest": ticket.OrderCreatedAsc,
	string(ticket.OrderCreated): ticket.OrderCreated, string(ticket.OrderCreatedAsc): ticket.OrderCreatedAsc,
}

// readOrder reads the order parameter: an unknown value is a bad
// parameter (400), like any other malformed one, with msg naming the
// values known.
func readOrder(q *query, known map[string]ticket.Order, msg string) ticket.Order {
	o, ok := known[q.str("order")]
	if !ok {
		q.fail("order", msg)
	}
	return o
}

var listParams = []string{"status", "priority", "department_id", "assignee_id", "customer_id", "tag", "order", "cursor", "limit"}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, listParams...)
	if err != nil {
		return err
	}
	f := ticketFilter(q)
	f.Order = readOrder(q, listOrders, "must be updated, oldest, created, created_asc or priority (newest is updated)")
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.tickets.List(r.Context(), p.Scope, f)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "ticket.list", "", 0, count(len(page.Tickets))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTicketPage(page))
	return nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, append(listParams, "q")...)
	if err != nil {
		return err
	}
	f := ticketFilter(q)
	f.Order = readOrder(q, searchOrders, "must be created or created_asc (or newest, oldest): search results come in the order tickets were opened")
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.tickets.Search(r.Context(), p.Scope, q.str("q"), f)
	if err != nil {
		return err
	}
	// The words searched for are kept only as a keyed fingerprint: the
	// log can show that two searches were the same, not what they were.
	fp, err := s.tickets.QueryFingerprint(r.Context(), p.Scope.WorkspaceID, q.str("q"))
	if err != nil {
		return err
	}
	details := count(len(page.Tickets))
	details["query_fingerprint"] = fp
	if err := s.recordRead(r, p.Scope.WorkspaceID, "search", "", 0, details); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTicketPage(page))
	return nil
}

func (s *Server) countTickets(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, "status", "priority", "department_id", "assignee_id", "customer_id", "tag")
	if err != nil {
		return err
	}
	f := ticketFilter(q)
	if err := q.done(); err != nil {
		return err
	}
	counts, err := s.tickets.Counts(r.Context(), p.Scope, f)
	if err != nil {
		return err
	}
	total := 0
	byStatus := map[string]int{}
	for st, n := range counts {
		byStatus[string(st)] = n
		total += n
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "by_status": byStatus})
	return nil
}

type updateTicketRequest struct {
	Subject      optional[string]   `json:"subject"`
	Status       optional[string]   `json:"status"`
	Priority     optional[string]   `json:"priority"`
	DepartmentID optional[int64]    `json:"department_id"`
	AssigneeID   optional[int64]    `json:"assignee_id"`
	Tags         optional[[]string] `json:"tags"`
}

func (req updateTicketRequest) patch() (ticket.Patch, error) {
	var p ticket.Patch
	var err error
	if p.Subject, err = req.Subject.ptr("subject"); err != nil {
		return p, err
	}
	st, err := req.Status.ptr("status")
	if err != nil {
		return p, err
	}
	if st != nil {
		v := ticket.Status(*st)
		p.Status = &v
	}
	pr, err := req.Priority.ptr("priority")
	if err != nil {
		return p, err
	}
	if pr != nil {
		v := ticket.Priority(*pr)
		p.Priority = &v
	}
	if p.DepartmentID, err = req.DepartmentID.ptr("department_id"); err != nil {
		return p, err
	}
	if req.AssigneeID.Set {
		v := req.AssigneeID.Value // null unassigns
		p.AssigneeID = &v
	}
	if p.Tags, err = req.Tags.ptr("tags"); err != nil {
		return p, err
	}
	return p, nil
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateTicketRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	patch, err := req.patch()
	if err != nil {
		return err
	}
	t, err := s.tickets.Update(r.Context(), p.Scope, n, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewTicket(t))
	return nil
}

type addMessageRequest struct {
	Kind     string  `json:"kind"`
	Body     string  `json:"body"`
	BodyHTML string  `json:"body_html"`
	Status   *string `json:"status"`
}

func (s *Server) addMessage(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req addMessageRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Kind == "" {
		req.Kind = string(ticket.KindReply)
	}
	in := ticket.NewMessage{Kind: ticket.MessageKind(req.Kind), Body: req.Body, HTML: req.BodyHTML}
	if req.Status != nil {
		st := ticket.Status(*req.Status)
		in.Status = &st
	}
	m, err := s.tickets.AddMessage(r.Context(), p.Scope, n, in)
	if err != nil {
		return err
	}
	v := viewMessage(m)
	v.BlockedImages = &m.BlockedImages
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, after, limit, err := childPage(r, 200)
	if err != nil {
		return err
	}
	msgs, err := s.tickets.Messages(r.Context(), p.Scope, n, after, int(limit)+1)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "ticket.messages.view", "ticket_number", n, count(min(len(msgs), int(limit)))); err != nil {
		return err
	}
	out := pageOf(msgs, int(limit), func(x ticket.Message) int64 { return x.ID }, viewMessage)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	events, err := s.tickets.Events(r.Context(), p.Scope, n)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "ticket.history.view", "ticket_number", n, nil); err != nil {
		return err
	}
	out := list[eventView]{Data: make([]eventView, len(events))}
	for i, e := range events {
		out.Data[i] = viewEvent(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
