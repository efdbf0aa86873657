package ticket

import "github.com/hesar/hesar/internal/access"

// ListQueries returns the statements (and their arguments) a page of f is
// read by, one per phase (List stops after the phase that fills the page),
// so tests and benchmarks can ask the planners how they run them.
func (s *Service) ListQueries(scope access.Scope, f Filter) ([]string, [][]any, error) {
	if err := f.validate(scope); err != nil {
		return nil, nil, err
	}
	if f.Order == "" {
		f.Order = OrderUpdated
	}
	var cur *cursor
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor, f.Order)
		if err != nil {
			return nil, nil, err
		}
		cur = &c
	}
	var queries []string
	var args [][]any
	for _, ph := range phases(f, cur) {
		q, a := s.buildList(scope, f, ph, f.Limit+1)
		queries, args = append(queries, q), append(args, a.list)
	}
	return queries, args, nil
}
