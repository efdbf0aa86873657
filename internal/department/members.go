package department

import (
	"context"

	"github.com/hesar/hesar/internal/access"
)

// MembersOf lists the staff users who share a department with the scope
// (its own departments' members, itself included), for views limited to
// "your departments".
func (s *Service) MembersOf(ctx context.Context, scope access.Scope) ([]int64, error) {
	out := []int64{}
	seen := map[int64]bool{}
	for _, d := range scope.Departments {
		ids, err := s.members(ctx, scope.WorkspaceID, d)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	if scope.Kind == access.ActorUser && !seen[scope.ActorID] {
		out = append(out, scope.ActorID)
	}
	return out, nil
}
