package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/identity"
)

// Admin pages for people (user.manage), with the API's step-up rule for
// every change to a user (api stepUpRoutes: POST /users, PATCH /users/{id},
// mfa-reset, unlock, DELETE sessions).

// AdminHome links to the admin pages the person may open.
type AdminHome struct {
	Page
	Users, Departments, Settings, Security, Audit bool
}

func (s *Server) adminHome(w http.ResponseWriter, r *http.Request, q *req) error {
	sc := q.P.Scope
	v := AdminHome{Page: s.page(r, q, "title.admin"), Users: sc.Can(access.UserManage), Departments: sc.Can(access.DepartmentManage),
		Settings: sc.Can(access.UserManage), Security: sc.Can(access.SecurityManage), Audit: sc.Can(access.AuditRead)}
	return s.render(w, r, http.StatusOK, "admin_home", v)
}

// UserRow is a staff member in the admin list.
type UserRow struct {
	ID                int64
	Name, Email, Role string
	Disabled          bool
	Departments       []string
}

// UsersPage lists the workspace's staff.
type UsersPage struct {
	Page
	Users []UserRow
	Next  int64
}

// deptNames maps department ids to names.
func (s *Server) deptNames(r *http.Request, q *req) (map[int64]string, []department.Department, error) {
	ds, err := s.departments.List(r.Context(), q.P.Scope)
	if err != nil {
		return nil, nil, err
	}
	out := map[int64]string{}
	for _, d := range ds {
		out[d.ID] = d.Name
	}
	return out, ds, nil
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, q *req) error {
	after, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	const pageSize = 100
	us, err := s.identity.ListUsers(r.Context(), q.P.Scope, after, pageSize+1)
	if err != nil {
		return err
	}
	names, _, err := s.deptNames(r, q)
	if err != nil {
		return err
	}
	v := UsersPage{Page: s.page(r, q, "title.admin_users")}
	for i, u := range us {
		if i == pageSize {
			v.Next = us[i-1].ID
			break
		}
		row := UserRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled}
		for _, d := range u.Departments {
			row.Departments = append(row.Departments, names[d])
		}
		sort.Strings(row.Departments)
		v.Users = append(v.Users, row)
	}
	return s.render(w, r, http.StatusOK, "admin_users", v)
}

// DeptChoice is a department offered in a user form.
type DeptChoice struct {
	ID      int64
	Name    string
	Checked bool
}

// UserForm is the new-user page and the user page.
type UserForm struct {
	Page
	// User is zero on the new-user page.
	User        UserRow
	Status      identity.AccountStatus
	Roles       []string
	Role        string
	Departments []DeptChoice
	Self        bool
	Fresh       bool
	Errors      FieldErrors
}

func (s *Server) userForm(r *http.Request, q *req, title string, role string, checked []int64) (UserForm, error) {
	_, ds, err := s.deptNames(r, q)
	if err != nil {
		return UserForm{}, err
	}
	v := UserForm{Page: s.page(r, q, title), Role: role, Fresh: !stale(q), Errors: FieldErrors{}}
	for _, ro := range access.Roles {
		v.Roles = append(v.Roles, string(ro))
	}
	for _, d := range ds {
		c := DeptChoice{ID: d.ID, Name: d.Name}
		for _, id := range checked {
			c.Checked = c.Checked || id == d.ID
		}
		v.Departments = append(v.Departments, c)
	}
	return v, nil
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v, err := s.userForm(r, q, "title.admin_new_user", string(access.RoleAgent), nil)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_user_new", v)
}

// formIDs reads the checked ids of a multi-value field.
func formIDs(r *http.Request, name string) ([]int64, error) {
	out := []int64{}
	for _, x := range r.PostForm[name] {
		id, err := strconv.ParseInt(x, 10, 64)
		if err != nil || id <= 0 {
			return nil, errBadForm
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/users/new")
	}
	depts, err := formIDs(r, "departments")
	if err != nil {
		return err
	}
	in := identity.NewUser{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: r.PostFormValue("role"), Password: r.PostFormValue("password"), Departments: depts}
	u, err := s.identity.CreateUser(r.Context(), q.P.Scope, in)
	if err != nil {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v, verr := s.userForm(r, q, "title.admin_new_user", in.Role, depts)
		if verr != nil {
			return verr
		}
		v.User, v.Errors = UserRow{Name: in.Name, Email: in.Email}, fe
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_user_new", v)
	}
	s.identity.ForgetCachedIdentities()
	notice := "notice.user_created"
	if in.Password == "" {
		// identity.CreateUser has mailed the invitation in the same write.
		notice = "notice.user_invited"
	}
	return seeOther(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10)+"?notice="+notice)
}

func (s *Server) userView(r *http.Request, q *req, id int64) (UserForm, error) {
	u, err := s.identity.GetUser(r.Context(), q.P.Scope, id)
	if err != nil {
		return UserForm{}, err
	}
	v, err := s.userForm(r, q, "title.admin_user", string(u.Role), u.Departments)
	if err != nil {
		return v, err
	}
	v.User = UserRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled}
	v.Self = u.ID == q.P.Scope.ActorID
	if v.Status, err = s.identity.UserAccountStatus(r.Context(), q.P, id); err != nil {
		return v, err
	}
	return v, nil
}

func (s *Server) adminUser(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	v, err := s.userView(r, q, id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_user", v)
}

// updateUser changes name, role, disabled and departments together: the
// form always sends all four.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := "/admin/users/" + strconv.FormatInt(id, 10)
	if stale(q) {
		return stepUpFirst(w, r, back)
	}
	depts, err := formIDs(r, "departments")
	if err != nil {
		return err
	}
	name, role, disabled := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role"), r.PostFormValue("disabled") == "on"
	if _, err := s.identity.UpdateUser(r.Context(), q.P.Scope, id, identity.UserPatch{Name: &name, Role: &role, Disabled: &disabled, Departments: &depts}); err != nil {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v, verr := s.userView(r, q, id)
		if verr != nil {
			return verr
		}
		v.Errors = fe
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_user", v)
	}
	// Role and departments decide what the user may see: cached
	// identities must not outlive the change on this instance.
	s.identity.ForgetCachedIdentities()
	return seeOther(w, r, back+"?notice=notice.user_saved")
}

// userAction runs one of the account actions on a user's page, after
// step-up, and comes back with a notice.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, q *req, stepUp bool, notice string, do func(id int64) error) error {
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := "/admin/users/" + strconv.FormatInt(id, 10)
	if stepUp && stale(q) {
		return stepUpFirst(w, r, back)
	}
	if err := do(id); err != nil {
		return err
	}
	return seeOther(w, r, back+"?notice="+notice)
}

func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, true, "notice.mfa_reset", func(id int64) error {
		return s.identity.ResetMFA(r.Context(), q.P, id, s.client(r))
	})
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, true, "notice.user_unlocked", func(id int64) error {
		return s.identity.UnlockUser(r.Context(), q.P, id, s.client(r))
	})
}

func (s *Server) revokeUserSessions(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, true, "notice.user_sessions_ended", func(id int64) error {
		_, err := s.identity.RevokeSessions(r.Context(), q.P, identity.Staff, id, s.client(r))
		return err
	})
}

func (s *Server) sendPasswordSetup(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, false, "notice.password_setup_sent", func(id int64) error {
		return s.identity.SendPasswordSetup(r.Context(), q.P, id)
	})
}
