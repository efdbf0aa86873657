package api

import (
	"fmt"
	"net/http"

	"github.com/hesar/hesar/internal/identity"
)

// exportCustomer streams everything about one customer as JSON, as a
// download (a data subject access request).
func (s *Server) exportCustomer(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	// Check before the first byte: after it, errors can only cut the stream.
	if _, err := s.customers.Get(r.Context(), p.Scope, id); err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "customer.export", "customer", id, nil); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="customer-%d.json"`, id))
	if err := s.privacy.Export(r.Context(), p.Scope, id, w); err != nil {
		s.log.Error("customer export failed midway", "request_id", requestID(r.Context()), "error", err.Error())
		panic(http.ErrAbortHandler) // the client must see a broken download, not a short valid-looking one
	}
	return nil
}

type eraseRequest struct {
	Tickets string `json:"tickets"`
	Confirm string `json:"confirm"`
}

// eraseCustomer anonymizes a customer and erases or deletes their tickets.
func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req eraseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Confirm != "ERASE" {
		return fieldError(http.StatusUnprocessableEntity, "validation_failed", "confirm", `must be "ERASE": erasure cannot be undone`)
	}
	out, err := s.privacy.Erase(r.Context(), p.Scope, id, req.Tickets)
	if err != nil {
		return err
	}
	// Recorded after the erasure commits (privacy erases in several writes).
	if err := s.recordRead(r, p.Scope.WorkspaceID, "customer.erase", "customer", id,
		map[string]string{"tickets": req.Tickets, "tickets_affected": itoa(int64(out.Tickets))}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"tickets": out.Tickets, "messages": out.Messages, "attachments": out.Attachments, "tokens": out.Tokens})
	return nil
}
