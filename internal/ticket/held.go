package ticket

import (
	"context"

	"github.com/hesar/hesar/internal/access"
)

// Held is a ticket read through a scope, kept as proof that the scope
// may see it. A page that shows a ticket's conversation, history and
// files reads the ticket once and passes this to each of those reads,
// instead of each of them reading (and decrypting) the ticket again to
// check access. Its fields are unexported, so only Hold makes one: a
// caller cannot build a Held for a ticket its scope was not shown.
//
// A Held is for the request that made it; it does not notice a ticket
// moving out of reach afterwards, as a second read within the same
// request would not either.
type Held struct {
	t     Ticket
	scope access.Scope
}

// Hold reads the ticket with this number if the scope may see it (as
// Get), and errs.ErrNotFound otherwise.
func (s *Service) Hold(ctx context.Context, scope access.Scope, number int64) (Held, error) {
	t, err := s.Get(ctx, scope, number)
	if err != nil {
		return Held{}, err
	}
	return Held{t: t, scope: scope}, nil
}

// Ticket is the ticket as the scope sees it.
func (h Held) Ticket() Ticket { return h.t }

// Scope is the scope the ticket was read through.
func (h Held) Scope() access.Scope { return h.scope }
