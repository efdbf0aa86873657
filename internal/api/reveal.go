package api

import (
	"net/http"

	"github.com/hesar/hesar/internal/identity"
)

type revealRequest struct {
	MessageID int64  `json:"message_id"`
	Reason    string `json:"reason"`
}

// reveal shows the original of masked financial data in a ticket's subject
// (message_id 0) or one of its messages, for a stated reason.
func (s *Server) reveal(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req revealRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	original, err := s.tickets.Reveal(r.Context(), p.Scope, n, req.MessageID, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message_id": req.MessageID, "original": original})
	return nil
}
