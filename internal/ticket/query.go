package ticket

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

const ticketColumns = `t.id, t.workspace_id, t.number, t.subject_enc, t.status, t.priority, t.channel, t.department_id,
	t.assignee_id, t.customer_id, t.organization_id, t.tags, t.created_at, t.updated_at, t.first_response_at, t.solved_at, t.closed_at,
	t.subject_masked_kinds`

// canRead reports whether the scope may read tickets at all.
func canRead(scope access.Scope) bool {
	return scope.Can(access.TicketRead) || scope.Can(access.PortalTickets)
}

// canReadContent reports whether the scope may read what customers wrote:
// subjects, messages, files, search.
func canReadContent(scope access.Scope) bool {
	return scope.Can(access.TicketContent) || scope.Can(access.PortalTickets)
}

// forScope removes what the scope may not see from a ticket: supervisors
// get metadata without the subject.
// Customers do not see staff-only labels: tags and who is assigned.
func forScope(scope access.Scope, t Ticket) Ticket {
	if !canReadContent(scope) {
		t.Subject, t.SubjectMasked = "", nil
	}
	if scope.IsCustomer() {
		t.Tags, t.AssigneeID = []string{}, 0
	}
	return t
}

// args collects positional SQL arguments and hands out their placeholders.
type args struct{ list []any }

func (a *args) add(v any) string {
	a.list = append(a.list, v)
	return "$" + strconv.Itoa(len(a.list))
}

// scopeSQL is the part of every ticket query's WHERE that the caller's scope
// decides. It is the single place ticket visibility is defined.
func scopeSQL(scope access.Scope, a *args) string {
	w := "t.workspace_id = " + a.add(scope.WorkspaceID)
	switch {
	case scope.IsCustomer() && scope.OrgAccess:
		return w + " AND (t.customer_id = " + a.add(scope.ActorID) + " OR t.organization_id = " + a.add(scope.OrganizationID) + ")"
	case scope.IsCustomer():
		return w + " AND t.customer_id = " + a.add(scope.ActorID)
	case !scope.Can(access.TicketRead):
		return w + " AND 1 = 0"
	case scope.AllDepartments():
		return w
	case len(scope.Departments) == 0:
		return w + " AND 1 = 0"
	default:
		return w + " AND t.department_id IN (" + inList(scope.Departments, a) + ")"
	}
}

func inList[T any](vals []T, a *args) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.add(v)
	}
	return strings.Join(ph, ", ")
}

// Get returns the ticket with this number if the scope may see it, and
// errs.ErrNotFound otherwise.
func (s *Service) Get(ctx context.Context, scope access.Scope, number int64) (Ticket, error) {
	t, err := s.get(ctx, s.db.Read(), scope, number)
	return forScope(scope, t), err
}

func (s *Service) get(ctx context.Context, q db.Querier, scope access.Scope, number int64) (Ticket, error) {
	if !canRead(scope) {
		return Ticket{}, errs.ErrNotFound
	}
	a := &args{}
	where := scopeSQL(scope, a) + " AND t.number = " + a.add(number)
	row := q.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE `+where, a.list...)
	t, err := s.scan(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, errs.ErrNotFound
	}
	return t, err
}

type scanner interface{ Scan(dest ...any) error }

func (s *Service) scan(ctx context.Context, row scanner) (Ticket, error) {
	var t Ticket
	var subjectEnc []byte
	var status, priority, tags, masked string
	var assignee, org, firstResp, solved, closed sql.NullInt64
	var created, updated int64
	err := row.Scan(&t.ID, &t.WorkspaceID, &t.Number, &subjectEnc, &status, &priority, &t.Channel, &t.DepartmentID,
		&assignee, &t.CustomerID, &org, &tags, &created, &updated, &firstResp, &solved, &closed, &masked)
	if err != nil {
		return Ticket{}, err
	}
	if t.Subject, err = s.keys.Open(ctx, subjectField(t.WorkspaceID, t.ID), subjectEnc); err != nil {
		return Ticket{}, err
	}
	t.Status, t.Priority = Status(status), Priority(priority)
	t.SubjectMasked = splitKinds(masked)
	t.AssigneeID, t.OrganizationID = assignee.Int64, org.Int64
	t.Tags = []string{}
	if tags != "" {
		t.Tags = strings.Split(tags, " ")
	}
	t.CreatedAt, t.UpdatedAt = db.Time(created), db.Time(updated)
	t.FirstResponseAt, t.SolvedAt, t.ClosedAt = db.Time(firstResp.Int64), db.Time(solved.Int64), db.Time(closed.Int64)
	return t, nil
}

// Filter narrows and orders a ticket list. Zero values mean "any".
type Filter struct {
	Statuses     []Status
	Priorities   []Priority
	DepartmentID int64
	AssigneeID   int64
	Unassigned   bool
	CustomerID   int64
	Tag          string
	// Order is the order of the list ("" is OrderUpdated). Search takes
	// only OrderCreated and OrderCreatedAsc (see Search).
	Order  Order
	Cursor string
	Limit  int
}

// Page is one page of tickets and the cursor of the next ("" at the end).
type Page struct {
	Tickets    []Ticket
	NextCursor string
}

// Limits of one page.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// Order is an order a ticket list can come in. Each is served by indexes
// that hold it (migration 0010), so a page is an index range read that
// stops after the page, whatever the order.
type Order string

// Orders.
const (
	// OrderUpdated: most recently updated first (the default).
	OrderUpdated Order = "updated"
	// OrderOldest: least recently updated first, the longest waiting.
	OrderOldest Order = "oldest"
	// OrderCreated: newest tickets first.
	OrderCreated Order = "created"
	// OrderCreatedAsc: oldest tickets first.
	OrderCreatedAsc Order = "created_asc"
	// OrderPriority: urgent, then high, normal, low; within a priority,
	// most recently updated first.
	OrderPriority Order = "priority"
)

// Orders lists every order, the default first.
var Orders = []Order{OrderUpdated, OrderOldest, OrderCreated, OrderCreatedAsc, OrderPriority}

// ValidOrder reports whether o names an order ("" is not one).
func ValidOrder(o Order) bool { return slices.Contains(Orders, o) }

// byUrgency is the priorities in the order OrderPriority lists them.
var byUrgency = []Priority{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

func urgencyRank(p Priority) int { return slices.Index(byUrgency, p) }

// orderKey is the column an order sorts on (after the priority, for
// OrderPriority; before the id, which breaks ties, for every order).
func (o Order) key() string {
	if o == OrderCreated || o == OrderCreatedAsc {
		return "created_at"
	}
	return "updated_at"
}

func (o Order) ascending() bool { return o == OrderOldest || o == OrderCreatedAsc }

// cursor is where a page ended: the last ticket's sort key and id, and for
// OrderPriority its priority's rank.
type cursor struct {
	rank    int
	key, id int64
}

// encode writes the order into the cursor, so a cursor cannot be resumed
// under another order (it would skip or repeat tickets). The two orders
// by last update keep the untagged form cursors had before there were
// other orders, so a cursor given out before an upgrade still works.
func (c cursor) encode(o Order) string {
	var raw []byte
	switch o {
	case OrderUpdated, OrderOldest:
		raw = fmt.Appendf(nil, "%d.%d", c.key, c.id)
	case OrderPriority:
		raw = fmt.Appendf(nil, "%s:%d.%d.%d", o, c.rank, c.key, c.id)
	default:
		raw = fmt.Appendf(nil, "%s:%d.%d", o, c.key, c.id)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string, o Order) (cursor, error) {
	bad := errs.Field("cursor", "is not a cursor this server gave out")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	tag, rest, tagged := strings.Cut(string(raw), ":")
	from := Order(tag)
	if !tagged {
		from, rest = OrderUpdated, tag
		if o == OrderOldest {
			from = o
		}
	}
	if from != o {
		if ValidOrder(from) {
			return cursor{}, errs.Field("cursor", "belongs to another order: start again without a cursor")
		}
		return cursor{}, bad
	}
	var c cursor
	if o == OrderPriority {
		_, err = fmt.Sscanf(rest, "%d.%d.%d", &c.rank, &c.key, &c.id)
	} else {
		_, err = fmt.Sscanf(rest, "%d.%d", &c.key, &c.id)
	}
	if err != nil || c.id <= 0 || c.rank < 0 || c.rank >= len(byUrgency) {
		return cursor{}, bad
	}
	return c, nil
}

func (f *Filter) validate(scope access.Scope) error {
	var v errs.Validator
	// Canonical sets (known values, each once, in a fixed order) keep the
	// SQL to a bounded number of shapes: a list of repeated values must not
	// become an endless variety of prepared statements.
	f.Statuses = canonical(&v, "status", f.Statuses, Statuses)
	f.Priorities = canonical(&v, "priority", f.Priorities, Priorities)
	if scope.IsCustomer() && (f.Tag != "" || f.AssigneeID != 0 || f.Unassigned) {
		v.Add("filter", "customers can filter by status and priority only")
	}
	if f.Tag != "" {
		f.Tag = strings.ToLower(strings.TrimSpace(f.Tag))
		v.Text("tag", f.Tag, false, MaxTag)
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultPageSize
	case f.Limit < 1 || f.Limit > MaxPageSize:
		v.Add("limit", "must be between 1 and %d", MaxPageSize)
	}
	if f.Unassigned && f.AssigneeID != 0 {
		v.Add("assignee_id", "cannot be combined with unassigned")
	}
	if f.Order != "" && !ValidOrder(f.Order) {
		v.Add("order", "unknown order %q", string(f.Order))
	}
	return v.Err()
}

// searchDescending is the direction of a search in f.Order. Search walks
// the postings in ticket id order, which follows when tickets were opened,
// so of the orders only the two by creation apply ("" is OrderCreated).
func (f Filter) searchDescending() (bool, error) {
	switch f.Order {
	case "", OrderCreated:
		return true, nil
	case OrderCreatedAsc:
		return false, nil
	}
	return false, errs.Field("order", "search results come in the order tickets were opened: %s or %s", OrderCreated, OrderCreatedAsc)
}

// canonical returns the known values of given, once each, in the order of
// known, recording unknown ones as field errors.
func canonical[T ~string](v *errs.Validator, field string, given, known []T) []T {
	var out []T
	for _, k := range known {
		for _, g := range given {
			if g == k {
				out = append(out, k)
				break
			}
		}
	}
	for _, g := range given {
		found := false
		for _, k := range known {
			found = found || g == k
		}
		if !found {
			v.Add(field, "unknown %s %q", field, string(g))
		}
	}
	return out
}

// List returns one page of the tickets the scope may see that match f,
// in f.Order.
//
// Queue pages must stay fast at millions of tickets, so the query never
// counts and never sorts the whole set: when it spans several departments
// or statuses it becomes a UNION ALL of one index range scan per
// (department, status) pair, each stopping after a page, merged at the end.
//
// OrderPriority reads one priority at a time, most urgent first, each a
// list by last update served by the indexes that hold the priority before
// updated_at, until the page is full: an urgent queue costs one query, a
// page that spans priorities one more per priority it reaches.
func (s *Service) List(ctx context.Context, scope access.Scope, f Filter) (Page, error) {
	if !canRead(scope) {
		return Page{}, errs.ErrForbidden
	}
	if err := f.validate(scope); err != nil {
		return Page{}, err
	}
	if f.Order == "" {
		f.Order = OrderUpdated
	}
	var cur *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, f.Order)
		if err != nil {
			return Page{}, err
		}
		cur = &c
	}
	var page Page
	seen := map[int64]bool{}
	for _, ph := range phases(f, cur) {
		if err := s.listPhase(ctx, scope, f, ph, f.Limit+1-len(page.Tickets), seen, &page); err != nil {
			return Page{}, err
		}
		if len(page.Tickets) > f.Limit {
			break
		}
	}
	if len(page.Tickets) > f.Limit {
		page.Tickets = page.Tickets[:f.Limit]
		last := page.Tickets[f.Limit-1]
		key := last.UpdatedAt
		if f.Order.key() == "created_at" {
			key = last.CreatedAt
		}
		page.NextCursor = cursor{rank: urgencyRank(last.Priority), key: key.UnixMicro(), id: last.ID}.encode(f.Order)
	}
	return page, nil
}

// phase is one query of a list: the tickets of one priority (OrderPriority)
// or all of them (priority ""), after the cursor when there is one.
type phase struct {
	priority Priority
	after    *cursor
}

// phases are the queries a page is read by, in the order of the list.
func phases(f Filter, cur *cursor) []phase {
	if f.Order != OrderPriority {
		return []phase{{after: cur}}
	}
	var out []phase
	for rank, p := range byUrgency {
		if (cur != nil && rank < cur.rank) || (len(f.Priorities) > 0 && !slices.Contains(f.Priorities, p)) {
			continue
		}
		ph := phase{priority: p}
		if cur != nil && rank == cur.rank {
			ph.after = cur
		}
		out = append(out, ph)
	}
	return out
}

// listPhase appends to page up to limit tickets of one phase. A ticket met
// before is left out: one whose priority changed between two phases' reads
// would otherwise be listed twice.
func (s *Service) listPhase(ctx context.Context, scope access.Scope, f Filter, ph phase, limit int, seen map[int64]bool, page *Page) error {
	query, a := s.buildList(scope, f, ph, limit)
	rows, err := s.db.Read().QueryContext(ctx, query, a.list...)
	if err != nil {
		return fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := s.scan(ctx, rows)
		if err != nil {
			return err
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			page.Tickets = append(page.Tickets, forScope(scope, t))
		}
	}
	return rows.Err()
}

// maxBranches caps the UNION ALL expansion; beyond it one sorted query runs.
const maxBranches = 48

// buildList is the query of one phase of a list, reading at most limit
// tickets.
func (s *Service) buildList(scope access.Scope, f Filter, ph phase, limit int) (string, *args) {
	a := &args{}
	common := []string{scopeSQL(scope, a)}
	switch {
	case ph.priority != "":
		common = append(common, "t.priority = "+a.add(string(ph.priority)))
	case len(f.Priorities) > 0:
		common = append(common, "t.priority IN ("+inList(f.Priorities, a)+")")
	}
	if f.AssigneeID != 0 {
		common = append(common, "t.assignee_id = "+a.add(f.AssigneeID))
	}
	if f.Unassigned {
		common = append(common, "t.assignee_id IS NULL")
	}
	if f.CustomerID != 0 {
		common = append(common, "t.customer_id = "+a.add(f.CustomerID))
	}
	if f.Tag != "" {
		common = append(common, "EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = "+a.add(f.Tag)+")")
	}
	key, dir, cmp := f.Order.key(), "DESC", "<"
	if f.Order.ascending() {
		dir, cmp = "ASC", ">"
	}
	if ph.after != nil {
		common = append(common, fmt.Sprintf("(t.%s, t.id) %s (%s, %s)", key, cmp, a.add(ph.after.key), a.add(ph.after.id)))
	}
	lim := a.add(limit)
	orderBy := fmt.Sprintf(" ORDER BY t.%s %s, t.id %s LIMIT %s", key, dir, dir, lim)

	depts, statuses := branchKeys(scope, f)
	if len(depts)*len(statuses) <= 1 || len(depts)*len(statuses) > maxBranches {
		where := common
		if f.DepartmentID != 0 {
			where = append(where, "t.department_id = "+a.add(f.DepartmentID))
		}
		if len(f.Statuses) > 0 {
			where = append(where, "t.status IN ("+inList(f.Statuses, a)+")")
		}
		return `SELECT ` + ticketColumns + ` FROM tickets t WHERE ` + strings.Join(where, " AND ") + orderBy, a
	}
	base := strings.Join(common, " AND ")
	var branches []string
	for _, d := range depts {
		for _, st := range statuses {
			var cond []string
			if d != 0 {
				cond = append(cond, "t.department_id = "+a.add(d))
			}
			cond = append(cond, "t.status = "+a.add(string(st)))
			branches = append(branches, fmt.Sprintf(`SELECT * FROM (SELECT %s FROM tickets t WHERE %s AND %s%s) b%d`,
				ticketColumns, base, strings.Join(cond, " AND "), orderBy, len(branches)))
		}
	}
	outer := fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT %s", key, dir, dir, lim)
	return strings.Join(branches, " UNION ALL ") + outer, a
}

// branchKeys picks the (department, status) pairs a list is split into; a
// department of 0 means "any" (the caller sees all departments).
func branchKeys(scope access.Scope, f Filter) ([]int64, []Status) {
	if f.AssigneeID != 0 || f.CustomerID != 0 || scope.IsCustomer() {
		// A narrower index drives these: no split.
		return nil, nil
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = Statuses
	}
	switch {
	case f.DepartmentID != 0:
		return []int64{f.DepartmentID}, statuses
	case scope.AllDepartments():
		return []int64{0}, statuses
	default:
		return scope.Departments, statuses
	}
}

// Counts returns how many tickets in scope match f, per status. It reads
// an index, not the rows, but it does count: use it for queue badges, not
// for every page.
func (s *Service) Counts(ctx context.Context, scope access.Scope, f Filter) (map[Status]int, error) {
	if !canRead(scope) {
		return nil, errs.ErrForbidden
	}
	f.Cursor, f.Limit = "", 1
	if err := f.validate(scope); err != nil {
		return nil, err
	}
	a := &args{}
	where := append([]string{scopeSQL(scope, a)}, filterSQL(f, a)...)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT t.status, COUNT(*) FROM tickets t WHERE `+strings.Join(where, " AND ")+` GROUP BY t.status`, a.list...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[Status]int, len(Statuses))
	for _, st := range Statuses {
		out[st] = 0
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[Status(st)] = n
	}
	return out, rows.Err()
}
