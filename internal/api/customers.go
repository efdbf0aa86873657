package api

import (
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/identity"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type createCustomerRequest struct {
	Email          string `json:"email"`
	Name           string `json:"name"`
	Phone          string `json:"phone"`
	OrganizationID int64  `json:"organization_id"`
	OrgAccess      bool   `json:"organization_access"`
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req createCustomerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := s.customers.Create(r.Context(), p.Scope, customer.NewCustomer{Email: req.Email, Name: req.Name, Phone: req.Phone,
		OrganizationID: req.OrganizationID, OrgAccess: req.OrgAccess})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/customers/"+itoa(c.ID))
	writeJSON(w, http.StatusCreated, viewCustomer(c))
	return nil
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.customers.Get(r.Context(), p.Scope, id)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "customer.view", "customer", c.ID, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewCustomer(c))
	return nil
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, "email", "cursor", "limit")
	if err != nil {
		return err
	}
	before, limit := q.int("cursor"), q.int("limit")
	if err := q.done(); err != nil {
		return err
	}
	out := list[customerView]{Data: []customerView{}}
	if email := q.str("email"); email != "" {
		// Exact match through the blind index: the only way to find a
		// customer by a contact field without storing it in clear.
		c, err := s.customers.FindByEmail(r.Context(), p.Scope, email)
		if err == nil {
			out.Data = append(out.Data, viewCustomer(c))
		}
		if err := s.recordRead(r, p.Scope.WorkspaceID, "customer.lookup", "", 0, count(len(out.Data))); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	if limit == 0 || limit > 100 {
		limit = 50
	}
	cs, err := s.customers.List(r.Context(), p.Scope, before, int(limit)+1)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "customer.list", "", 0, count(min(len(cs), int(limit)))); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(cs, int(limit), func(c customer.Customer) int64 { return c.ID }, viewCustomer))
	return nil
}

type updateCustomerRequest struct {
	Name           optional[string] `json:"name"`
	Phone          optional[string] `json:"phone"`
	OrganizationID optional[int64]  `json:"organization_id"`
	OrgAccess      optional[bool]   `json:"organization_access"`
}

func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateCustomerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var patch customer.Patch
	if patch.Name, err = req.Name.ptr("name"); err != nil {
		return err
	}
	if patch.Phone, err = req.Phone.ptr("phone"); err != nil {
		return err
	}
	if req.OrganizationID.Set {
		v := req.OrganizationID.Value // null removes the organization
		patch.OrganizationID = &v
	}
	if patch.OrgAccess, err = req.OrgAccess.ptr("organization_access"); err != nil {
		return err
	}
	c, err := s.customers.Update(r.Context(), p.Scope, id, patch)
	if err != nil {
		return err
	}
	if patch.OrganizationID != nil || patch.OrgAccess != nil {
		s.identity.ForgetCachedIdentities() // what the customer may see changed
	}
	writeJSON(w, http.StatusOK, viewCustomer(c))
	return nil
}

func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	orgs, err := s.customers.ListOrganizations(r.Context(), p.Scope)
	if err != nil {
		return err
	}
	out := list[organizationView]{Data: make([]organizationView, len(orgs))}
	for i, o := range orgs {
		out.Data[i] = organizationView{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createOrganizationRequest struct {
	Name string `json:"name"`
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req createOrganizationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	o, err := s.customers.CreateOrganization(r.Context(), p.Scope, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, organizationView{ID: o.ID, Name: o.Name, CreatedAt: o.CreatedAt})
	return nil
}
