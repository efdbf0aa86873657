package ticket

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// How a search runs.
//
// Intersecting whole postings lists costs time in proportion to how common
// the words are, whatever the page size: at a million tickets a common word
// has hundreds of thousands of postings. Instead, the postings of one word
// (the driver, the rarest one) are walked in ticket-id order, the way the
// primary key (workspace_id, token, ticket_id) already keeps them. Each
// candidate is joined to its ticket for the caller's scope, and the other
// words are probed by index (EXISTS on the same key). The walk stops as
// soon as one page plus one ticket has been found, so a page costs about
// limit / P(other words | driver) probes.
//
// Two things bound the work and must not leak what the caller cannot see:
//   - Rarity is estimated from the caller's own tickets: for each token, how
//     far back the rankSample-th newest ticket in scope that holds it lies.
//     Which word drives the walk therefore depends only on tickets the
//     caller can open.
//   - The walk stops after maxExamined tickets in scope that hold the driver
//     word, and the page then carries a cursor to go on ("more results may
//     exist"). The cursor is the last ticket examined, which the caller can
//     open, so where a page ends reveals nothing about other tickets.
//
// Customers, and staff filtering by one customer, see few tickets: for them
// the ticket index drives and the postings are probed (searchByTickets).

// rankSample is how many in-scope postings per token estimate its rarity.
const rankSample = 32

// maxExamined bounds how many in-scope tickets holding the driver word one
// request examines before it answers with what it has and a cursor.
const maxExamined = 2000

// Batches of the walk grow from firstBatch to maxBatch candidates, so a
// query whose page fills early reads little and one that does not still
// needs few round trips.
const (
	firstBatch = 128
	maxBatch   = 1024
)

// searchQuery is one search request after validation.
type searchQuery struct {
	scope access.Scope
	f     Filter
	words [][]int64 // per word, its alternative tokens; words[0] drives
	desc  bool      // newest first
	after int64     // resume strictly beyond this ticket id; 0 from the start
	// examine bounds the in-scope tickets holding the driver word that one
	// request examines (maxExamined but in tests).
	examine int
	// tickets names the tickets table for the per-candidate scope probe.
	tickets string
}

// scopeTable is how the scope probe names the tickets table. SQLite takes
// any unique index on an equality at once (its one-row shortcut), which
// here means the id index and then the row; told, it answers from
// tickets_search_scope alone, at half the CPU per candidate. PostgreSQL
// picks the covering index by cost.
func scopeTable(d db.Dialect) string {
	if d == db.SQLite {
		return "tickets t INDEXED BY tickets_search_scope"
	}
	return "tickets t"
}

func (q *searchQuery) order() string {
	if q.desc {
		return "DESC"
	}
	return "ASC"
}

// beyond is the comparison that moves forward in the walk's order.
func (q *searchQuery) beyond() string {
	if q.desc {
		return "<"
	}
	return ">"
}

func (s *Service) search(ctx context.Context, q *searchQuery) (Page, error) {
	if q.scope.IsCustomer() || q.f.CustomerID != 0 {
		return s.searchByTickets(ctx, q)
	}
	q.tickets = scopeTable(s.db.Dialect())
	if some, err := s.rankWords(ctx, q); err != nil || !some {
		return Page{}, err // !some: a word is in none of the caller's tickets
	}
	ids, next, err := s.walkPostings(ctx, q)
	if err != nil {
		return Page{}, err
	}
	page, err := s.fetchTickets(ctx, q.scope, ids)
	if next != 0 {
		page.NextCursor = encodeSearchCursor(next)
	}
	return page, err
}

// rankWords orders q.words rarest first among the caller's tickets (see
// rankSample). One statement reads at most rankSample postings per token.
// It also drops tokens no ticket of the caller's holds (beyond the cursor),
// usually the note forms, which saves a probe per candidate; and reports
// whether every word is left with a token, that is, whether anything can
// be found at all.
func (s *Service) rankWords(ctx context.Context, q *searchQuery) (some bool, err error) {
	if len(q.words) < 2 {
		return true, nil
	}
	a := &args{}
	scope := scopeSQL(q.scope, a)
	ws, from := a.add(q.scope.WorkspaceID), q.fromSQL(a, "d.ticket_id")
	visible := probeSQL(q.tickets + " WHERE t.id = d.ticket_id AND " + scope)
	edge := "MIN"
	if !q.desc {
		edge = "MAX"
	}
	var branches []string
	for i, alts := range q.words {
		for j, tok := range alts {
			branches = append(branches, fmt.Sprintf(`SELECT %d AS w, %d AS j, COUNT(*) AS n, %s(id) AS edge FROM (
	SELECT d.ticket_id AS id FROM search_postings d
	WHERE d.workspace_id = %s AND d.token = %s%s
	AND %s
	ORDER BY d.ticket_id %s LIMIT %d) r%d_%d`, i, j, edge, ws, a.add(tok), from, visible, q.order(), rankSample, i, j))
		}
	}
	rows, err := s.db.Read().QueryContext(ctx, strings.Join(branches, "\nUNION ALL\n"), a.list...)
	if err != nil {
		return false, fmt.Errorf("rank search words: %w", err)
	}
	defer rows.Close()
	ranks := make([]wordRank, len(q.words))
	for rows.Next() {
		var w, j, n int
		var e sql.NullInt64
		if err := rows.Scan(&w, &j, &n, &e); err != nil {
			return false, err
		}
		if n > 0 {
			ranks[w].tokens = append(ranks[w].tokens, q.words[w][j])
		}
		ranks[w].add(n, e.Int64, q.desc)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	slices.SortStableFunc(ranks, func(x, y wordRank) int { return x.compare(y, q.desc) })
	for i, r := range ranks {
		if len(r.tokens) == 0 {
			return false, nil
		}
		q.words[i] = r.tokens
	}
	return true, nil
}

// wordRank is one word's rarity among the caller's tickets: fewer than
// rankSample postings (count), or how far back the sample reaches (edge).
type wordRank struct {
	tokens []int64
	count  int
	full   bool  // some token has rankSample postings: count is not all
	edge   int64 // for full words: the sample's far end, the densest token's
}

func (r *wordRank) add(n int, edge int64, desc bool) {
	r.count += n
	if n < rankSample {
		return
	}
	if !r.full || (desc && edge > r.edge) || (!desc && edge < r.edge) {
		r.edge = edge
	}
	r.full = true
}

// compare puts rarer words first: a word with few postings before any
// full one; among full ones, the one whose sample reaches furthest back.
func (r wordRank) compare(o wordRank, desc bool) int {
	switch {
	case r.full != o.full:
		if r.full {
			return 1
		}
		return -1
	case !r.full:
		return cmp.Compare(r.count, o.count)
	case desc:
		return cmp.Compare(r.edge, o.edge)
	default:
		return cmp.Compare(o.edge, r.edge)
	}
}

// fromSQL is the cursor condition on col, or "" at the start.
func (q *searchQuery) fromSQL(a *args, col string) string {
	if q.after == 0 {
		return ""
	}
	return " AND " + col + " " + q.beyond() + " " + a.add(q.after)
}

// filterSQL is the list filters of f as conditions on t (not the scope).
func filterSQL(f Filter, a *args) []string {
	var c []string
	if f.DepartmentID != 0 {
		c = append(c, "t.department_id = "+a.add(f.DepartmentID))
	}
	if len(f.Statuses) > 0 {
		c = append(c, "t.status IN ("+inList(f.Statuses, a)+")")
	}
	if len(f.Priorities) > 0 {
		c = append(c, "t.priority IN ("+inList(f.Priorities, a)+")")
	}
	if f.AssigneeID != 0 {
		c = append(c, "t.assignee_id = "+a.add(f.AssigneeID))
	}
	if f.Unassigned {
		c = append(c, "t.assignee_id IS NULL")
	}
	if f.CustomerID != 0 {
		c = append(c, "t.customer_id = "+a.add(f.CustomerID))
	}
	if f.Tag != "" {
		c = append(c, "EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = "+a.add(f.Tag)+")")
	}
	return c
}

// wordsSQL is, for each of words, a probe of the postings key that ticket
// col holds one of the word's tokens.
func wordsSQL(ws string, words [][]int64, col string, a *args) []string {
	c := make([]string, len(words))
	for i, alts := range words {
		c[i] = probeSQL(fmt.Sprintf("search_postings p WHERE p.workspace_id = %s AND p.token IN (%s) AND p.ticket_id = %s",
			ws, inList(alts, a), col))
	}
	return c
}

// probeSQL is a condition that "FROM from" has a row, written as a scalar
// subquery rather than EXISTS: PostgreSQL may run an EXISTS as a hash of
// every matching row (all tickets of the department, built per query),
// but evaluates a scalar subquery per row as one index lookup.
func probeSQL(from string) string {
	return "(SELECT 1 FROM " + from + " LIMIT 1) IS NOT NULL"
}

// searchByTickets serves scopes with few tickets: their tickets are read
// in id order and each is probed for every word.
func (s *Service) searchByTickets(ctx context.Context, q *searchQuery) (Page, error) {
	a := &args{}
	where := []string{scopeSQL(q.scope, a)}
	where = append(where, filterSQL(q.f, a)...)
	if from := q.fromSQL(a, "t.id"); from != "" {
		where = append(where, strings.TrimPrefix(from, " AND "))
	}
	where = append(where, wordsSQL(a.add(q.scope.WorkspaceID), q.words, "t.id", a)...)
	query := fmt.Sprintf(`SELECT %s FROM tickets t WHERE %s ORDER BY t.id %s LIMIT %s`,
		ticketColumns, strings.Join(where, " AND "), q.order(), a.add(q.f.Limit+1))
	page, err := s.queryTickets(ctx, q.scope, query, a.list)
	if err != nil {
		return Page{}, fmt.Errorf("search tickets: %w", err)
	}
	if len(page.Tickets) > q.f.Limit {
		page.Tickets = page.Tickets[:q.f.Limit]
		page.NextCursor = encodeSearchCursor(page.Tickets[q.f.Limit-1].ID)
	}
	return page, nil
}

// fetchTickets reads the tickets of ids, in that order, rechecking scope.
func (s *Service) fetchTickets(ctx context.Context, scope access.Scope, ids []int64) (Page, error) {
	if len(ids) == 0 {
		return Page{}, nil
	}
	a := &args{}
	query := `SELECT ` + ticketColumns + ` FROM tickets t WHERE ` + scopeSQL(scope, a) + ` AND t.id IN (` + inList(ids, a) + `)`
	page, err := s.queryTickets(ctx, scope, query, a.list)
	if err != nil {
		return Page{}, fmt.Errorf("read found tickets: %w", err)
	}
	slices.SortFunc(page.Tickets, func(x, y Ticket) int {
		return cmp.Compare(slices.Index(ids, x.ID), slices.Index(ids, y.ID))
	})
	return page, nil
}

func (s *Service) queryTickets(ctx context.Context, scope access.Scope, query string, list []any) (Page, error) {
	rows, err := s.db.Read().QueryContext(ctx, query, list...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		t, err := s.scan(ctx, rows)
		if err != nil {
			return Page{}, err
		}
		page.Tickets = append(page.Tickets, forScope(scope, t))
	}
	return page, rows.Err()
}
