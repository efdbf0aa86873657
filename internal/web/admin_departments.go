package web

import (
	"net/http"
	"strconv"
	"strings"
)

// Departments and their members (department.manage). Membership changes
// need step-up, as the API's PUT/DELETE …/members/{user_id} do.

// DeptRow is a department with its members.
type DeptRow struct {
	ID      int64
	Name    string
	Members []UserRow
	// Others are the staff who could be added.
	Others []UserRow
}

// DepartmentsPage lists departments with their members.
type DepartmentsPage struct {
	Page
	Departments []DeptRow
	Fresh       bool
	Errors      FieldErrors
	NoErrors    FieldErrors
	// ErrorFor is the department whose rename failed (0: the new one).
	ErrorFor int64
}

func (s *Server) departmentsView(r *http.Request, q *req) (DepartmentsPage, error) {
	v := DepartmentsPage{Page: s.page(r, q, "title.admin_departments"), Fresh: !stale(q), Errors: FieldErrors{}}
	ds, err := s.departments.List(r.Context(), q.P.Scope)
	if err != nil {
		return v, err
	}
	users, err := s.identity.ListUsers(r.Context(), q.P.Scope, 0, 1000)
	if err != nil {
		return v, err
	}
	for _, d := range ds {
		row := DeptRow{ID: d.ID, Name: d.Name}
		in := map[int64]bool{}
		for _, id := range d.Members {
			in[id] = true
		}
		for _, u := range users {
			ur := UserRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled}
			if in[u.ID] {
				row.Members = append(row.Members, ur)
			} else {
				row.Others = append(row.Others, ur)
			}
		}
		v.Departments = append(v.Departments, row)
	}
	return v, nil
}

func (s *Server) adminDepartments(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.departmentsView(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_departments", v)
}

func (s *Server) departmentFailed(w http.ResponseWriter, r *http.Request, q *req, err error, dept int64) error {
	fe, ok := fieldErrors(q.L, err)
	if !ok {
		return err
	}
	v, verr := s.departmentsView(r, q)
	if verr != nil {
		return verr
	}
	if msg := fe.Get("name"); msg != "" {
		fe = FieldErrors{"department_name": msg}
	}
	v.Errors, v.ErrorFor = fe, dept
	return s.render(w, r, http.StatusUnprocessableEntity, "admin_departments", v)
}

func (s *Server) createDepartment(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.departments.Create(r.Context(), q.P.Scope, strings.TrimSpace(r.PostFormValue("department_name"))); err != nil {
		return s.departmentFailed(w, r, q, err, 0)
	}
	return seeOther(w, r, "/admin/departments?notice=notice.department_created")
}

func (s *Server) renameDepartment(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := s.departments.Rename(r.Context(), q.P.Scope, id, strings.TrimSpace(r.PostFormValue("department_name"))); err != nil {
		return s.departmentFailed(w, r, q, err, id)
	}
	return seeOther(w, r, "/admin/departments?notice=notice.department_renamed")
}

func (s *Server) setMember(w http.ResponseWriter, r *http.Request, q *req, user int64, member bool) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/departments")
	}
	if err := s.departments.SetMember(r.Context(), q.P.Scope, id, user, member); err != nil {
		return err
	}
	// Membership decides ticket visibility (as in the API).
	s.identity.ForgetCachedIdentities()
	return seeOther(w, r, "/admin/departments?notice=notice.members_changed#dept-"+strconv.FormatInt(id, 10))
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	user, err := strconv.ParseInt(r.PostFormValue("user"), 10, 64)
	if err != nil || user <= 0 {
		return errBadForm
	}
	return s.setMember(w, r, q, user, true)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	user, err := pathInt(r, "user")
	if err != nil {
		return err
	}
	return s.setMember(w, r, q, user, false)
}
