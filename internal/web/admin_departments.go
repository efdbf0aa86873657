package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/errs"
)

// Departments and their members (department.manage). Membership changes
// need step-up, as the API's PUT/DELETE …/members/{user_id} do, and are
// shown for confirmation first: membership decides who sees which tickets.

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
	// Confirm, when set, is shown instead of the departments.
	Confirm *Confirmation
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
	back := "/admin/departments#dept-" + strconv.FormatInt(id, 10)
	if !confirmed(r) {
		v, err := s.departmentsView(r, q)
		if err != nil {
			return err
		}
		c, err := s.memberChange(q, v, id, user, member)
		if err != nil {
			return err
		}
		if c == nil {
			return seeOther(w, r, "/admin/departments?notice=notice.nothing_changed#dept-"+strconv.FormatInt(id, 10))
		}
		c.Action, c.Cancel = r.URL.Path, back
		if member {
			c.Hidden = []KindValue{{"user", strconv.FormatInt(user, 10)}}
		}
		v.Confirm = c
		return s.render(w, r, http.StatusOK, "admin_departments", v)
	}
	if err := s.departments.SetMember(r.Context(), q.P.Scope, id, user, member); err != nil {
		return err
	}
	// Membership decides ticket visibility (as in the API).
	s.identity.ForgetCachedIdentities()
	return seeOther(w, r, "/admin/departments?notice=notice.members_changed#dept-"+strconv.FormatInt(id, 10))
}

// memberChange describes adding (member) or removing user in department
// id, in words; nil when it is so already.
func (s *Server) memberChange(q *req, v DepartmentsPage, id, user int64, member bool) (*Confirmation, error) {
	for _, d := range v.Departments {
		if d.ID != id {
			continue
		}
		in, out := d.Members, d.Others
		if member {
			in, out = out, in
		}
		for _, u := range in {
			if u.ID != user {
				continue
			}
			l := q.L
			state := map[bool]string{false: l.T("departments.not_member"), true: l.T("departments.is_member")}
			c := &Confirmation{L: l, Submit: "departments.confirm_remove", Danger: true,
				Text:    l.T("departments.confirm_remove_text", u.Name, d.Name),
				Changes: []ConfirmChange{{What: l.T("departments.member_of", u.Name, d.Name), From: state[!member], To: state[member]}}}
			if member {
				c.Submit, c.Danger, c.Text = "departments.confirm_add", false, l.T("departments.confirm_add_text", u.Name, d.Name)
			}
			return c, nil
		}
		for _, u := range out {
			if u.ID == user {
				return nil, nil // already so
			}
		}
	}
	return nil, errs.ErrNotFound
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
