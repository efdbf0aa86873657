package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/submit"
	"github.com/hesar/hesar/internal/ticket"
)

// The agent console. Every list and ticket comes from the ticket service
// with the staff member's scope: their departments only (unless their role
// spans all), content only with ticket.content.

// Option is one choice of a select or a filter link.
type Option struct {
	Value    string
	Label    string
	Selected bool
	URL      string
	// Count is a queue badge ("" for none).
	Count string
}

// Queue is the ticket list with its filters.
type Queue struct {
	Page
	Views       []Option
	Statuses    []Option
	Departments []Option
	Priorities  []Option
	Tickets     []TicketRow
	Next        string
	// View, Status, Priority, Department, Sort, Tag and Customer echo the
	// filter for the form.
	View, Status, Priority, Department, Sort, Tag, Customer string
	// CanFilterCustomer: the customer filter needs customer.read.
	CanFilterCustomer bool
	// Sorts are the orders the queue offers, with their links.
	Sorts []Option
	// ByCreation says the rows are in order of creation (search, or a
	// creation order), so the time column shows when each was opened
	// rather than its last update, which would look out of order.
	ByCreation bool
	// Query is the search, on the search page.
	Query  string
	Search bool
	Errors FieldErrors
}

// directory holds the names a page shows for ids.
type directory struct {
	users map[int64]string
	// staff is the staff list users was made from, for pickers.
	staff []identity.User
	depts []department.Department
}

func (d directory) dept(id int64) string {
	for _, x := range d.depts {
		if x.ID == id {
			return x.Name
		}
	}
	return ""
}

// maxStaffListed bounds the staff names read for one page.
const maxStaffListed = 500

func (s *Server) directory(ctx context.Context, scope access.Scope) (directory, error) {
	d := directory{users: map[int64]string{}}
	var err error
	if scope.Can(access.DepartmentRead) {
		if d.depts, err = s.departments.List(ctx, scope); err != nil {
			return d, err
		}
	}
	if scope.Can(access.UserRead) {
		if d.staff, err = s.identity.ListUsers(ctx, scope, 0, maxStaffListed); err != nil {
			return d, err
		}
		for _, u := range d.staff {
			d.users[u.ID] = u.Name
		}
	}
	return d, nil
}

// activeStatuses are the statuses of work still to do (the default view).
var activeStatuses = []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending, ticket.StatusOnHold}

// queueFilter is a queue's view, filters and order as its URL gives them;
// anything unknown falls back to the default (mine, active, newest
// activity first). The order's values are the store's (ticket.Orders),
// the names the API takes too.
type queueFilter struct {
	view, status, dept, prio, sort string
	// tag and customer (an email address) are as typed; customerID is
	// the customer found for it (queue looks it up).
	tag, customer string
	customerID    int64
}

// maxFilterText bounds a typed filter (an email address is at most 254).
const maxFilterText = 254

func readQueueFilter(in url.Values) queueFilter {
	f := queueFilter{view: in.Get("view"), status: in.Get("status"), dept: in.Get("department"), prio: in.Get("priority"), sort: in.Get("sort"),
		tag: strings.TrimSpace(in.Get("tag")), customer: strings.TrimSpace(in.Get("customer"))}
	if len(f.tag) > maxFilterText || !utf8.ValidString(f.tag) {
		f.tag = ""
	}
	if len(f.customer) > maxFilterText || !utf8.ValidString(f.customer) {
		f.customer = ""
	}
	if f.view != "unassigned" && f.view != "all" {
		f.view = "mine"
	}
	if f.status != "any" && !ticket.ValidStatus(ticket.Status(f.status)) {
		f.status = "active"
	}
	if !ticket.ValidPriority(ticket.Priority(f.prio)) {
		f.prio = ""
	}
	if id, err := strconv.ParseInt(f.dept, 10, 64); err != nil || id <= 0 {
		f.dept = ""
	}
	// Every order has indexes of its own (migration 0010), so each is an
	// index range read at a million tickets too.
	if !ticket.ValidOrder(ticket.Order(f.sort)) {
		f.sort = string(ticket.OrderUpdated)
	}
	return f
}

// ticketFilter is the store's filter for a queue; me is the agent.
func (f queueFilter) ticketFilter(me int64) ticket.Filter {
	tf := ticket.Filter{Limit: ticket.DefaultPageSize, Order: ticket.Order(f.sort)}
	switch f.view {
	case "unassigned":
		tf.Unassigned = true
	case "mine":
		tf.AssigneeID = me
	}
	switch f.status {
	case "any":
	case "active":
		tf.Statuses = activeStatuses
	default:
		tf.Statuses = []ticket.Status{ticket.Status(f.status)}
	}
	if f.prio != "" {
		tf.Priorities = []ticket.Priority{ticket.Priority(f.prio)}
	}
	if f.dept != "" {
		tf.DepartmentID, _ = strconv.ParseInt(f.dept, 10, 64)
	}
	tf.Tag, tf.CustomerID = f.tag, f.customerID
	return tf
}

// url is the queue's address with this filter, defaults left out, so a
// view can be bookmarked and every link keeps the rest of the filter.
func (f queueFilter) url() string {
	u := url.Values{"view": {f.view}, "status": {f.status}}
	if f.dept != "" {
		u.Set("department", f.dept)
	}
	if f.prio != "" {
		u.Set("priority", f.prio)
	}
	if f.sort != string(ticket.OrderUpdated) {
		u.Set("sort", f.sort)
	}
	if f.tag != "" {
		u.Set("tag", f.tag)
	}
	if f.customer != "" {
		u.Set("customer", f.customer)
	}
	return "/console/?" + u.Encode()
}

// sortLabels name the orders in the queue's select.
var sortLabels = map[ticket.Order]string{
	ticket.OrderUpdated:    "queue.view.sort_updated",
	ticket.OrderOldest:     "queue.view.sort_oldest",
	ticket.OrderCreated:    "queue.view.sort_created",
	ticket.OrderCreatedAsc: "queue.view.sort_created_asc",
	ticket.OrderPriority:   "queue.view.sort_priority",
}

// countCap is where the queue's badges stop counting (ticket.CountUpTo):
// a badge at the cap reads "999+".
const countCap = 1000

func (s *Server) queue(w http.ResponseWriter, r *http.Request, q *req) error {
	qf := readQueueFilter(r.URL.Query())
	v := Queue{Page: s.page(r, q, "title.queue"), View: qf.view, Status: qf.status, Department: qf.dept, Priority: qf.prio, Sort: qf.sort,
		Tag: qf.tag, Customer: qf.customer, CanFilterCustomer: q.P.Scope.Can(access.CustomerRead), Errors: FieldErrors{}}
	var page ticket.Page
	var err error
	nobody := false // the customer filter names no customer: nothing to list
	if qf.customer != "" {
		c, ferr := s.customers.FindByEmail(r.Context(), q.P.Scope, qf.customer)
		switch {
		case errors.Is(ferr, errs.ErrNotFound):
			v.Errors["customer"], nobody = q.L.T("queue.no_customer"), true
		case ferr != nil:
			return ferr
		default:
			qf.customerID = c.ID
		}
	}
	f := qf.ticketFilter(q.P.Scope.ActorID)
	f.Cursor = r.URL.Query().Get("cursor")
	if !nobody {
		if page, err = s.tickets.List(r.Context(), q.P.Scope, f); err != nil {
			if fe, ok := fieldErrors(q.L, err); ok {
				v.Errors = fe
				nobody = true
			} else {
				return err
			}
		}
	}
	details := map[string]string{"count": strconv.Itoa(len(page.Tickets)), "via": "console"}
	if qf.customerID != 0 {
		details["customer_id"] = strconv.FormatInt(qf.customerID, 10)
	}
	if err := s.recordRead(r, q.P.Scope.WorkspaceID, audit.ActionTicketList, "", 0, details); err != nil {
		return err
	}
	if err := s.fillQueue(r.Context(), q, &v, page); err != nil {
		return err
	}
	views := []string{"mine", "unassigned", "all"}
	statuses := append([]string{"active"}, append(statusNames(), "any")...)
	var counts []int
	if !nobody {
		if counts, err = s.queueCounts(r.Context(), q.P.Scope, qf, views, statuses); err != nil {
			return err
		}
	}
	badge := func(i int) string {
		if counts == nil {
			return ""
		}
		return q.L.count(counts[i])
	}
	for i, x := range views {
		o := qf
		o.view = x
		v.Views = append(v.Views, Option{Value: x, Label: q.L.T("queue.view." + x), Selected: x == qf.view, URL: o.url(), Count: badge(i)})
	}
	for i := range v.Statuses {
		o := qf
		o.status = v.Statuses[i].Value
		v.Statuses[i].URL, v.Statuses[i].Count = o.url(), badge(len(views)+i)
	}
	for _, x := range ticket.Orders {
		o := qf
		o.sort = string(x)
		v.Sorts = append(v.Sorts, Option{Value: o.sort, Label: q.L.T(sortLabels[x]), Selected: o.sort == qf.sort, URL: o.url()})
	}
	if page.NextCursor != "" {
		v.Next = qf.url() + "&cursor=" + url.QueryEscape(page.NextCursor)
	}
	return s.render(w, r, http.StatusOK, "console_queue", v)
}

// countBudget bounds what the badges may add to a queue page. Each count
// stops at countCap matches, but a filter no index leads with (a priority,
// or a status in the "mine" view, which the assignee index does not hold)
// may read many entries before it has them. Past the budget the page goes
// out without badges rather than late: they are a convenience, the list
// is the work. (With tickets at a million, unassigned and urgent had none:
// the count scanned every unassigned ticket, about a second on SQLite.)
// (A variable only so tests on a loaded machine can give more, and less.)
var countBudget = 50 * time.Millisecond

// queueCounts counts, capped, the tickets of each view (with the page's
// status) and of each status (in the page's view), in that order; nil when
// they take longer than countBudget.
func (s *Server) queueCounts(ctx context.Context, scope access.Scope, qf queueFilter, views, statuses []string) ([]int, error) {
	var fs []ticket.Filter
	for _, x := range views {
		o := qf
		o.view = x
		fs = append(fs, o.ticketFilter(scope.ActorID))
	}
	for _, x := range statuses {
		o := qf
		o.status = x
		fs = append(fs, o.ticketFilter(scope.ActorID))
	}
	budget, cancel := context.WithTimeout(ctx, countBudget)
	defer cancel()
	counts, err := s.tickets.CountUpTo(budget, scope, fs, countCap)
	if err != nil && budget.Err() != nil && ctx.Err() == nil {
		return nil, nil
	}
	return counts, err
}

// count shows a capped count: the number, or "999+" at the cap.
func (l *Locale) count(n int) string {
	if n >= countCap {
		return l.T("queue.view.count_capped", l.Num(countCap-1))
	}
	return l.Num(int64(n))
}

// fillQueue adds the filter choices and the page's rows to a queue view.
func (s *Server) fillQueue(ctx context.Context, q *req, v *Queue, page ticket.Page) error {
	dir, err := s.directory(ctx, q.P.Scope)
	if err != nil {
		return err
	}
	for _, x := range append([]string{"active"}, append(statusNames(), "any")...) {
		v.Statuses = append(v.Statuses, Option{Value: x, Label: q.L.T("status." + x), Selected: x == v.Status})
	}
	v.Departments = append(v.Departments, Option{Value: "", Label: q.L.T("queue.all_departments"), Selected: v.Department == ""})
	for _, d := range dir.depts {
		if !q.P.Scope.InDepartment(d.ID) {
			continue
		}
		id := strconv.FormatInt(d.ID, 10)
		v.Departments = append(v.Departments, Option{Value: id, Label: d.Name, Selected: id == v.Department})
	}
	v.ByCreation = v.Search || v.Sort == string(ticket.OrderCreated) || v.Sort == string(ticket.OrderCreatedAsc)
	for _, t := range page.Tickets {
		v.Tickets = append(v.Tickets, TicketRow{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority,
			Department: dir.dept(t.DepartmentID), Assignee: dir.users[t.AssigneeID], UpdatedAt: t.UpdatedAt, CreatedAt: t.CreatedAt,
			URL: "/console/tickets/" + strconv.FormatInt(t.Number, 10)})
	}
	v.Priorities = append(v.Priorities, Option{Value: "", Label: q.L.T("queue.any_priority"), Selected: v.Priority == ""})
	for _, p := range ticket.Priorities {
		v.Priorities = append(v.Priorities, Option{Value: string(p), Label: q.L.Priority(p), Selected: string(p) == v.Priority})
	}
	return nil
}

// search finds tickets by words of their subject and messages, within the
// agent's scope (the service applies departments and content rights).
func (s *Server) search(w http.ResponseWriter, r *http.Request, q *req) error {
	in := r.URL.Query()
	v := Queue{Page: s.page(r, q, "title.search"), Query: strings.TrimSpace(in.Get("q")), Search: true, Status: "any"}
	var page ticket.Page
	if v.Query != "" {
		var err error
		page, err = s.tickets.Search(r.Context(), q.P.Scope, v.Query, ticket.Filter{Cursor: in.Get("cursor"), Limit: ticket.DefaultPageSize})
		if fe, ok := fieldErrors(q.L, err); ok {
			v.Errors = fe
			return s.render(w, r, http.StatusUnprocessableEntity, "console_queue", v)
		}
		if err != nil {
			return err
		}
		fp, err := s.tickets.QueryFingerprint(r.Context(), q.P.Scope.WorkspaceID, v.Query)
		if err != nil {
			return err
		}
		if err := s.recordRead(r, q.P.Scope.WorkspaceID, audit.ActionSearch, "", 0,
			map[string]string{"count": strconv.Itoa(len(page.Tickets)), "query_fingerprint": fp, "via": "console"}); err != nil {
			return err
		}
	}
	if err := s.fillQueue(r.Context(), q, &v, page); err != nil {
		return err
	}
	if page.NextCursor != "" {
		v.Next = "/console/search?" + url.Values{"q": {v.Query}, "cursor": {page.NextCursor}}.Encode()
	}
	return s.render(w, r, http.StatusOK, "console_queue", v)
}

func statusNames() []string {
	out := make([]string, len(ticket.Statuses))
	for i, st := range ticket.Statuses {
		out[i] = string(st)
	}
	return out
}

// ConsoleTicket is the agent's view of one ticket.
type ConsoleTicket struct {
	Page
	Ticket   TicketRow
	Customer string
	// CustomerPanel is the card about the customer (nil without
	// customer.read).
	CustomerPanel *CustomerPanel
	Content       bool
	Thread
	Statuses    []Option
	Priorities  []Option
	Assignees   []Option
	Departments []Option
	CanReply    bool
	CanNote     bool
	CanUpdate   bool
	CanAssign   bool
	CanReveal   bool
	Tags        string
	History     []HistoryLine
	// HistoryAllURL shows the whole history when only its latest
	// historyShown lines are; HistoryAll is how many there are.
	HistoryAllURL, HistoryAll string
	// RevealFor is the message whose reveal form had an error.
	RevealFor       int64
	OriginalSubject string
	SubjectMasked   bool
	Errors          FieldErrors
	Body            string
	// Once is the reply form's one-time token (package submit).
	Once string
}

// historyShown is how many of a ticket's latest changes its page lists.
const historyShown = 20

// consoleView builds the ticket page; showContact shows the customer's
// whole contact details (only after revealContact recorded the reveal).
func (s *Server) consoleView(r *http.Request, q *req, n int64, showContact bool) (ConsoleTicket, error) {
	ctx, scope := r.Context(), q.P.Scope
	h, err := s.tickets.Hold(ctx, scope, n)
	if err != nil {
		return ConsoleTicket{}, err
	}
	t := h.Ticket()
	if err := s.recordRead(r, scope.WorkspaceID, audit.ActionTicketView, "ticket", t.ID, map[string]string{"number": strconv.FormatInt(t.Number, 10), "via": "console"}); err != nil {
		return ConsoleTicket{}, err
	}
	dir, err := s.directory(ctx, scope)
	if err != nil {
		return ConsoleTicket{}, err
	}
	v := ConsoleTicket{Page: s.page(r, q, "title.ticket"), Errors: FieldErrors{}, Content: scope.Can(access.TicketContent),
		Ticket: TicketRow{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority,
			Department: dir.dept(t.DepartmentID), Assignee: dir.users[t.AssigneeID], UpdatedAt: t.UpdatedAt},
		CanReply: scope.Can(access.TicketReply) && t.Status != ticket.StatusClosed, CanNote: scope.Can(access.TicketNote),
		CanUpdate: scope.Can(access.TicketUpdate), CanAssign: scope.Can(access.TicketAssign), CanReveal: scope.Can(access.SensitiveReveal),
		Tags: strings.Join(t.Tags, " "), SubjectMasked: len(t.SubjectMasked) > 0, RevealFor: -1}
	v.TitleNote = q.L.T("ticket.number", q.L.Num(t.Number))
	v.Once = submit.Token()
	if v.History, err = s.history(r, q, h, dir); err != nil {
		return ConsoleTicket{}, err
	}
	// A busy ticket's history is long: the latest changes, and a link to
	// all of them.
	if n := len(v.History); n > historyShown && r.URL.Query().Get("history") != "all" {
		v.History = v.History[n-historyShown:]
		v.HistoryAllURL, v.HistoryAll = "/console/tickets/"+strconv.FormatInt(t.Number, 10)+"?history=all#history", q.L.Num(int64(n))
	}
	if v.CustomerPanel, err = s.customerPanel(r, q, t, showContact); err != nil {
		return ConsoleTicket{}, err
	}
	if v.CustomerPanel != nil {
		v.Customer = v.CustomerPanel.Name
	}
	if v.Content {
		names := map[int64]string{}
		if v.CustomerPanel != nil { // already read for the card: most messages are the ticket's customer's
			names[t.CustomerID] = v.CustomerPanel.Name
		}
		v.Thread, err = s.conversation(ctx, q.L, h, "/console/tickets/"+strconv.FormatInt(t.Number, 10), "/console/files/", beforeParam(r), func(m ticket.Message) (string, bool) {
			if m.AuthorType == string(access.ActorCustomer) {
				if _, ok := names[m.AuthorID]; !ok {
					names[m.AuthorID] = q.L.T("author.customer")
					if c, err := s.customers.Get(ctx, scope, m.AuthorID); err == nil {
						names[m.AuthorID] = c.Name
					}
				}
				return names[m.AuthorID], false
			}
			if name, ok := dir.users[m.AuthorID]; ok && m.AuthorType == string(access.ActorUser) {
				return name, m.AuthorID == scope.ActorID
			}
			return q.L.T("author.system"), false
		})
		if err != nil {
			return ConsoleTicket{}, err
		}
	}
	for _, st := range ticket.Statuses {
		if ticket.CanMove(t.Status, st) {
			v.Statuses = append(v.Statuses, Option{Value: string(st), Label: q.L.Status(st), Selected: st == t.Status})
		}
	}
	for _, p := range ticket.Priorities {
		v.Priorities = append(v.Priorities, Option{Value: string(p), Label: q.L.Priority(p), Selected: p == t.Priority})
	}
	v.Assignees = append(v.Assignees, Option{Value: "0", Label: q.L.T("ticket.unassigned"), Selected: t.AssigneeID == 0})
	for _, u := range dir.staff {
		if u.Disabled || !sharesDepartment(u, t.DepartmentID) {
			continue
		}
		v.Assignees = append(v.Assignees, Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name, Selected: u.ID == t.AssigneeID})
	}
	for _, d := range dir.depts {
		v.Departments = append(v.Departments, Option{Value: strconv.FormatInt(d.ID, 10), Label: d.Name, Selected: d.ID == t.DepartmentID})
	}
	return v, nil
}

// sharesDepartment: an assignee must work in the ticket's department
// (admins, who span all, have no departments of their own).
func sharesDepartment(u identity.User, dept int64) bool {
	if u.Role == access.RoleAdmin {
		return true
	}
	for _, d := range u.Departments {
		if d == dept {
			return true
		}
	}
	return false
}

func (s *Server) consoleTicket(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	v, err := s.consoleView(r, q, n, false)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "console_ticket", v)
}

// consoleUpdate changes the fields whose value differs from the ticket's,
// so each change asks only for its own permission.
func (s *Server) consoleUpdate(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	t, err := s.tickets.Get(r.Context(), q.P.Scope, n)
	if err != nil {
		return err
	}
	p, changed, err := patchFrom(r.PostForm, t)
	if err != nil {
		return err
	}
	target := "/console/tickets/" + strconv.FormatInt(n, 10)
	if !changed {
		return seeOther(w, r, target)
	}
	if _, err := s.tickets.Update(r.Context(), q.P.Scope, n, p); err != nil {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v, verr := s.consoleView(r, q, n, false)
		if verr != nil {
			return verr
		}
		v.Errors = fe
		v.keepSent(r.PostForm)
		return s.render(w, r, http.StatusUnprocessableEntity, "console_ticket", v)
	}
	// A ticket moved to a department the agent is not in leaves their
	// sight: back to the queue then.
	if _, err := s.tickets.Get(r.Context(), q.P.Scope, n); err != nil {
		return seeOther(w, r, "/console/?notice=notice.ticket_moved")
	}
	return seeOther(w, r, target+"?notice=notice.ticket_updated")
}

func (s *Server) consoleMessage(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	return s.addMessage(w, r, q, n, "/console/tickets/", func(fe FieldErrors, body string) error {
		v, err := s.consoleView(r, q, n, false)
		if err != nil {
			return err
		}
		v.Errors, v.Body = fe, body
		return s.render(w, r, http.StatusUnprocessableEntity, "console_ticket", v)
	})
}

// keepSent shows a refused properties form as it was sent, not as
// stored, so one mistake does not throw away the agent's other choices.
func (v *ConsoleTicket) keepSent(form url.Values) {
	pick := func(opts []Option, name string) {
		sent, ok := form[name]
		if !ok || len(sent) == 0 || !slices.ContainsFunc(opts, func(o Option) bool { return o.Value == sent[0] }) {
			return // nothing sent, or nothing the list offers: keep the stored choice
		}
		for i := range opts {
			opts[i].Selected = opts[i].Value == sent[0]
		}
	}
	pick(v.Statuses, "status")
	pick(v.Priorities, "priority")
	pick(v.Departments, "department")
	pick(v.Assignees, "assignee")
	if tags, ok := form["tags"]; ok && len(tags) > 0 {
		v.Tags = tags[0]
	}
}

// patchFrom reads the properties form into a patch of the fields whose
// value differs from the ticket's; changed is false when none does.
func patchFrom(form url.Values, t ticket.Ticket) (p ticket.Patch, changed bool, err error) {
	if st := ticket.Status(form.Get("status")); st != "" && st != t.Status {
		p.Status, changed = &st, true
	}
	if pr := ticket.Priority(form.Get("priority")); pr != "" && pr != t.Priority {
		p.Priority, changed = &pr, true
	}
	if a := form.Get("assignee"); a != "" {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return p, false, errBadForm
		}
		if id != t.AssigneeID {
			p.AssigneeID, changed = &id, true
		}
	}
	if _, ok := form["tags"]; ok {
		tags := tagList(form.Get("tags"))
		if strings.Join(tags, " ") != strings.Join(t.Tags, " ") {
			p.Tags, changed = &tags, true
		}
	}
	if d := form.Get("department"); d != "" {
		id, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return p, false, errBadForm
		}
		if id != t.DepartmentID {
			p.DepartmentID, changed = &id, true
		}
	}
	return p, changed, nil
}
