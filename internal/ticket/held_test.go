package ticket

import (
	"context"
	"errors"
	"testing"

	"github.com/hesar/hesar/internal/errs"
)

// A zero Held (the only one a caller can make without Hold) reads
// nothing: the reads refuse it before touching the database.
func TestZeroHeldReadsNothing(t *testing.T) {
	s := &Service{} // no database: a read that got past the check would panic
	if _, err := s.MessagesOf(context.Background(), Held{}, 0, 10); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("MessagesOf(zero Held) = %v, want ErrNotFound", err)
	}
	if _, err := s.EventsOf(context.Background(), Held{}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("EventsOf(zero Held) = %v, want ErrNotFound", err)
	}
}
