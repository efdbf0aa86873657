package api

import (
	"net/http"

	"github.com/hesar/hesar/internal/identity"
)

func (s *Server) listDepartments(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	ds, err := s.departments.List(r.Context(), p.Scope)
	if err != nil {
		return err
	}
	out := list[departmentView]{Data: make([]departmentView, len(ds))}
	for i, d := range ds {
		out.Data[i] = viewDepartment(d)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type departmentRequest struct {
	Name string `json:"name"`
}

func (s *Server) createDepartment(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req departmentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.departments.Create(r.Context(), p.Scope, req.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/departments/"+itoa(d.ID))
	writeJSON(w, http.StatusCreated, viewDepartment(d))
	return nil
}

func (s *Server) getDepartment(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.departments.Get(r.Context(), p.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewDepartment(d))
	return nil
}

func (s *Server) renameDepartment(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req departmentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d, err := s.departments.Rename(r.Context(), p.Scope, id, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewDepartment(d))
	return nil
}

func (s *Server) setMember(w http.ResponseWriter, r *http.Request, p identity.Principal, member bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	userID, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	if err := s.departments.SetMember(r.Context(), p.Scope, id, userID, member); err != nil {
		return err
	}
	// Membership decides ticket visibility: cached identities must not
	// outlive the change on this instance.
	s.identity.ForgetCachedIdentities()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	return s.setMember(w, r, p, true)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	return s.setMember(w, r, p, false)
}
