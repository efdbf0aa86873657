package api

import (
	"net/http"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	sc := p.Scope
	out := map[string]any{
		"workspace_id": sc.WorkspaceID,
		"actor":        map[string]any{"type": sc.Kind, "id": sc.ActorID},
		"permissions":  sc.Permissions(),
		"token_id":     p.TokenID,
	}
	switch sc.Kind {
	case access.ActorUser:
		u, err := s.identity.Me(r.Context(), sc)
		if err != nil {
			return err
		}
		out["user"] = viewUser(u)
		out["locale"] = u.Locale
	case access.ActorCustomer:
		c, err := s.customers.Get(r.Context(), sc, sc.ActorID)
		if err != nil {
			return err
		}
		out["customer"] = viewCustomer(c)
		if out["locale"], err = s.identity.Locale(r.Context(), sc); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type updateMeRequest struct {
	Locale *string `json:"locale"`
}

// updateMe saves the caller's own preferences (today: the language).
func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req updateMeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Locale == nil {
		var v errs.Validator
		v.Add("locale", "is required: fa, en, or \"\" to follow the browser")
		return v.Err()
	}
	if err := s.identity.SetLocale(r.Context(), p.Scope, *req.Locale); err != nil {
		return err
	}
	return s.me(w, r, p)
}

type createUserRequest struct {
	Email       string  `json:"email"`
	Name        string  `json:"name"`
	Role        string  `json:"role"`
	Password    string  `json:"password"`
	Departments []int64 `json:"departments"`
	// InviteLocale is the invitation's language when no password is
	// given ("fa", "en"; "" English).
	InviteLocale string `json:"invite_locale"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if l := req.InviteLocale; l != "" && l != "fa" && l != "en" {
		return errs.Field("invite_locale", "must be fa, en or empty")
	}
	u, err := s.identity.CreateUser(r.Context(), p.Scope, identity.NewUser{Email: req.Email, Name: req.Name, Role: req.Role,
		Password: req.Password, Departments: req.Departments, InviteLocale: req.InviteLocale})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+itoa(u.ID))
	writeJSON(w, http.StatusCreated, viewUser(u))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.identity.GetUser(r.Context(), p.Scope, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, "cursor", "limit")
	if err != nil {
		return err
	}
	after, limit := q.int("cursor"), q.int("limit")
	if err := q.done(); err != nil {
		return err
	}
	if limit == 0 || limit > 200 {
		limit = 100
	}
	us, err := s.identity.ListUsers(r.Context(), p.Scope, after, int(limit)+1)
	if err != nil {
		return err
	}
	out := pageOf(us, int(limit), func(x identity.User) int64 { return x.ID }, viewUser)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type updateUserRequest struct {
	Name        optional[string]  `json:"name"`
	Role        optional[string]  `json:"role"`
	Disabled    optional[bool]    `json:"disabled"`
	Departments optional[[]int64] `json:"departments"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var patch identity.UserPatch
	if patch.Name, err = req.Name.ptr("name"); err != nil {
		return err
	}
	if patch.Role, err = req.Role.ptr("role"); err != nil {
		return err
	}
	if patch.Disabled, err = req.Disabled.ptr("disabled"); err != nil {
		return err
	}
	if patch.Departments, err = req.Departments.ptr("departments"); err != nil {
		return err
	}
	u, err := s.identity.UpdateUser(r.Context(), p.Scope, id, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewUser(u))
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	ts, err := s.identity.ListTokens(r.Context(), p.Scope)
	if err != nil {
		return err
	}
	out := list[tokenView]{Data: make([]tokenView, len(ts))}
	for i, t := range ts {
		out.Data[i] = viewToken(t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createTokenRequest struct {
	Name          string    `json:"name"`
	UserID        int64     `json:"user_id"`
	CustomerID    int64     `json:"customer_id"`
	ExpiresInDays int       `json:"expires_in_days"`
	Permissions   *[]string `json:"permissions"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	var req createTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.UserID == 0 && req.CustomerID == 0 && p.Scope.Kind == access.ActorUser {
		req.UserID = p.Scope.ActorID // a token for yourself by default
	}
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return fieldError(http.StatusUnprocessableEntity, "validation_failed", "expires_in_days", "must be between 0 (never) and 3650")
	}
	in := identity.NewToken{Name: req.Name, UserID: req.UserID, CustomerID: req.CustomerID,
		TTL: time.Duration(req.ExpiresInDays) * 24 * time.Hour, Client: s.client(r)}
	if req.Permissions != nil {
		in.Permissions = []access.Permission{}
		for _, name := range *req.Permissions {
			in.Permissions = append(in.Permissions, access.Permission(name))
		}
	}
	t, secret, err := s.identity.CreateToken(r.Context(), p.Scope, in)
	if err != nil {
		return err
	}
	v := viewToken(t)
	v.Token = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.identity.RevokeToken(r.Context(), p.Scope, id, s.client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
