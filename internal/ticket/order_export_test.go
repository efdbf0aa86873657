package ticket

import "github.com/hesar/hesar/internal/access"

// ListQueries returns the statements (and their arguments) the first page
// of f is read by, one per phase, so tests can ask the planners how they
// run them.
func (s *Service) ListQueries(scope access.Scope, f Filter) ([]string, [][]any, error) {
	if err := f.validate(scope); err != nil {
		return nil, nil, err
	}
	if f.Order == "" {
		f.Order = OrderUpdated
	}
	var queries []string
	var args [][]any
	for _, ph := range phases(f, nil) {
		q, a := s.buildList(scope, f, ph, f.Limit+1)
		queries, args = append(queries, q), append(args, a.list)
	}
	return queries, args, nil
}
