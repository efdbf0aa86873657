package ticket

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// candidate is a ticket that holds the driver word. visible says the
// caller may open it; hit, that it also holds the other words and passes
// the filters.
type candidate struct {
	id           int64
	visible, hit bool
}

// walkPostings walks the driver word's postings in batches (see
// search_plan.go) and returns the ids of at most one page of hits, and the
// cursor to resume from (0 when the walk reached the end).
func (s *Service) walkPostings(ctx context.Context, q *searchQuery) (ids []int64, next int64, err error) {
	limit, examined, batch := q.f.Limit, 0, firstBatch
	for {
		cands, done, err := s.walkBatch(ctx, q, batch)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range cands {
			if !c.visible {
				continue // not counted: where a page ends must not depend on it
			}
			examined++
			if c.hit {
				if len(ids) == limit {
					return ids, ids[limit-1], nil // a further hit exists
				}
				ids = append(ids, c.id)
			}
			if examined == q.examine {
				return ids, c.id, nil // more results may exist
			}
		}
		if done {
			return ids, 0, nil
		}
		q.after = cands[len(cands)-1].id
		batch = min(batch*2, maxBatch)
	}
}

// walkBatch reads the next candidates after q.after: up to n per token of
// the driver word, merged in walk order. When the driver has a note form
// too, the tokens' lists are read side by side, and only candidates up to
// where every list not yet at its end has reached are kept: beyond that
// one list might still hold a candidate the other lists skipped. done is
// true when every list reached its end.
func (s *Service) walkBatch(ctx context.Context, q *searchQuery, n int) (cands []candidate, done bool, err error) {
	query, list := walkSQL(q, n)
	rows, err := s.db.Read().QueryContext(ctx, query, list...)
	if err != nil {
		return nil, false, fmt.Errorf("search postings: %w", err)
	}
	defer rows.Close()
	driver := q.words[0]
	got := make([]int, len(driver))
	last := make([]int64, len(driver))
	for rows.Next() {
		var b int
		var c candidate
		var state sql.NullInt64
		if err := rows.Scan(&b, &c.id, &state); err != nil {
			return nil, false, err
		}
		c.visible, c.hit = state.Valid, state.Int64 == 2
		got[b]++
		last[b] = c.id
		cands = append(cands, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	// The furthest point every unfinished list has reached.
	bound, done := int64(0), true
	for b := range driver {
		if got[b] < n {
			continue
		}
		if done || (q.desc && last[b] > bound) || (!q.desc && last[b] < bound) {
			bound = last[b]
		}
		done = false
	}
	slices.SortFunc(cands, func(x, y candidate) int {
		if q.desc {
			return cmp.Compare(y.id, x.id)
		}
		return cmp.Compare(x.id, y.id)
	})
	cands = slices.CompactFunc(cands, func(x, y candidate) bool { return x.id == y.id })
	if !done {
		keep := 0
		for _, c := range cands {
			if (q.desc && c.id >= bound) || (!q.desc && c.id <= bound) {
				cands[keep] = c
				keep++
			}
		}
		cands = cands[:keep]
	}
	return cands, done, nil
}

// walkSQL reads up to n candidates per token of the driver word, as one
// UNION ALL of index range scans that each stop after n rows. The ticket
// and the other words are probed per row in the select list: a correlated
// scalar subquery is never turned into a join, so neither planner can
// start from the tickets of the department and read all of them.
func walkSQL(q *searchQuery, n int) (string, []any) {
	a := &args{}
	scope := scopeSQL(q.scope, a)
	ws := a.add(q.scope.WorkspaceID)
	from := q.fromSQL(a, "d.ticket_id")
	hit := wordsSQL(ws, q.words[1:], "d.ticket_id", a)
	if filters := filterSQL(q.f, a); len(filters) > 0 {
		hit = append(hit, probeSQL("tickets t WHERE t.id = d.ticket_id AND "+strings.Join(filters, " AND ")))
	}
	if len(hit) == 0 {
		hit = []string{"1 = 1"}
	}
	// NULL: the caller may not open the ticket; 1: in scope; 2: a hit. The
	// scope alone is answered by tickets_search_scope without the row.
	state := fmt.Sprintf("CASE WHEN %s THEN CASE WHEN %s THEN 2 ELSE 1 END END",
		probeSQL(q.tickets+" WHERE t.id = d.ticket_id AND "+scope), strings.Join(hit, " AND "))
	limit := a.add(n)
	branches := make([]string, len(q.words[0]))
	for b, tok := range q.words[0] {
		branches[b] = fmt.Sprintf(`SELECT * FROM (
	SELECT %d AS b, d.ticket_id, %s AS state FROM search_postings d
	WHERE d.workspace_id = %s AND d.token = %s%s
	ORDER BY d.ticket_id %s LIMIT %s) w%d`, b, state, ws, a.add(tok), from, q.order(), limit, b)
	}
	return strings.Join(branches, "\nUNION ALL\n"), a.list
}
