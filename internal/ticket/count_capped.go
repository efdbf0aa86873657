package ticket

import (
	"context"
	"fmt"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
)

// CountUpTo returns, for each filter, how many tickets in scope match it,
// counting no further than limit. Counts answers exactly but reads every
// index entry of the tickets it counts: at a million tickets the "all"
// badge alone would read the whole index on every queue page. Here each
// count is a subquery that stops after limit rows of the index driving
// its filter (department and status, assignee, or status, each also with
// the priority since migration 0010), so a page with a dozen badges reads
// at most a dozen times limit entries, and a badge says "999+" instead of
// the exact number. A condition no index holds (a status with an
// assignee, as the assignee indexes have no status) may read further than
// limit entries before it has limit matches, at worst every ticket in
// scope: callers bound the time with ctx (the console gives up on its
// badges after 50 ms). The order of a filter plays no part in a count.
// All counts run as one statement, one round trip.
func (s *Service) CountUpTo(ctx context.Context, scope access.Scope, filters []Filter, limit int) ([]int, error) {
	if !canRead(scope) {
		return nil, errs.ErrForbidden
	}
	if len(filters) == 0 {
		return nil, nil
	}
	a := &args{}
	lim := a.add(limit)
	cols := make([]string, len(filters))
	for i, f := range filters {
		f.Cursor, f.Limit = "", 1
		if err := f.validate(scope); err != nil {
			return nil, err
		}
		where := append([]string{scopeSQL(scope, a)}, filterSQL(f, a)...)
		cols[i] = fmt.Sprintf("(SELECT COUNT(*) FROM (SELECT 1 FROM tickets t WHERE %s LIMIT %s) c%d)", strings.Join(where, " AND "), lim, i)
	}
	dest := make([]any, len(filters))
	out := make([]int64, len(filters))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := s.db.Read().QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", "), a.list...).Scan(dest...); err != nil {
		return nil, fmt.Errorf("count tickets: %w", err)
	}
	counts := make([]int, len(out))
	for i, n := range out {
		counts[i] = int(n)
	}
	return counts, nil
}
