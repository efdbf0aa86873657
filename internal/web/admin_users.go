package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/department"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
)

// Admin pages for people (user.manage), with the API's step-up rule for
// every change to a user (api stepUpRoutes: POST /users, PATCH /users/{id},
// mfa-reset, unlock, DELETE sessions). A change to what someone may do or
// whether they are signed in (role, departments, disabling, second
// factors, sessions) is shown for confirmation first, from what to what
// in words; only the same form sent again with confirm=yes makes it.

// Confirmation is a change shown before it is made (the "confirm"
// partial): what changes from what to what, in words, and the form that
// makes it, sent again with confirm=yes.
type Confirmation struct {
	L *Locale
	// Text says what will happen, in the page's language.
	Text    string
	Changes []ConfirmChange
	// Notes say what follows from the change.
	Notes []string
	// Action is where the form posts; Cancel where Cancel leads.
	Action, Cancel string
	Hidden         []KindValue
	// Submit is the catalog key of the button.
	Submit string
	Danger bool
}

// ConfirmChange is one thing that will change.
type ConfirmChange struct{ What, From, To string }

// confirmed reports whether the form is the confirmation sent back.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

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
	// NameField is the person's name, labelled as theirs, not the
	// reader's ("field.name" is "Your name").
	NameField Field
	// InviteLocale is the language the invitation is written in.
	InviteLocale  string
	InviteLocales []string
	// Confirm, when set, is shown instead of the forms.
	Confirm *Confirmation
}

// nameField is the user-name field of the admin forms.
func nameField(l *Locale, value string, fe FieldErrors) Field {
	f := newField(l, "name", "text", value, fe, "off")
	f.Label = l.T("field.user_name")
	return f
}

func (s *Server) userForm(r *http.Request, q *req, title string, role string, checked []int64) (UserForm, error) {
	_, ds, err := s.deptNames(r, q)
	if err != nil {
		return UserForm{}, err
	}
	v := UserForm{Page: s.page(r, q, title), Role: role, Fresh: !stale(q), Errors: FieldErrors{}, InviteLocale: q.L.Lang,
		InviteLocales: identity.Locales}
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
	v.NameField = nameField(q.L, "", v.Errors)
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
		Role: r.PostFormValue("role"), Password: r.PostFormValue("initial_password"), Departments: depts,
		InviteLocale: r.PostFormValue("invite_locale")}
	u, err := s.identity.CreateUser(r.Context(), q.P.Scope, in)
	if err != nil {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		// The service names the fields as the API does.
		for from, to := range map[string]string{"password": "initial_password", "locale": "invite_locale"} {
			if msg, ok := fe[from]; ok {
				delete(fe, from)
				fe[to] = msg
			}
		}
		v, verr := s.userForm(r, q, "title.admin_new_user", in.Role, depts)
		if verr != nil {
			return verr
		}
		v.User, v.Errors, v.NameField = UserRow{Name: in.Name, Email: in.Email}, fe, nameField(q.L, in.Name, fe)
		if in.InviteLocale == "fa" || in.InviteLocale == "en" {
			v.InviteLocale = in.InviteLocale
		}
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
	v.NameField = nameField(q.L, u.Name, v.Errors)
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
// form always sends all four. The changes are shown for confirmation
// first; the form sent back with confirm=yes saves them.
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
	v, err := s.userView(r, q, id)
	if err != nil {
		return err
	}
	failed := func(err error) error {
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v.Errors, v.NameField = fe, nameField(q.L, name, fe)
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_user", v)
	}
	if err := checkUserPatch(q.P.Scope, id, name, role, disabled); err != nil {
		return failed(err)
	}
	if !confirmed(r) {
		c := s.userChanges(q.L, v, name, role, disabled, depts)
		if len(c.Changes) == 0 {
			return seeOther(w, r, back+"?notice=notice.nothing_changed")
		}
		c.Action, c.Cancel, c.Submit = back, back, "users.confirm_save"
		c.Hidden = []KindValue{{"name", name}, {"role", role}}
		if disabled {
			c.Hidden = append(c.Hidden, KindValue{"disabled", "on"})
		}
		for _, d := range depts {
			c.Hidden = append(c.Hidden, KindValue{"departments", strconv.FormatInt(d, 10)})
		}
		v.Confirm = c
		return s.render(w, r, http.StatusOK, "admin_user", v)
	}
	if _, err := s.identity.UpdateUser(r.Context(), q.P.Scope, id, identity.UserPatch{Name: &name, Role: &role, Disabled: &disabled, Departments: &depts}); err != nil {
		return failed(err)
	}
	// Role and departments decide what the user may see: cached
	// identities must not outlive the change on this instance.
	s.identity.ForgetCachedIdentities()
	return seeOther(w, r, back+"?notice=notice.user_saved")
}

// checkUserPatch refuses, before anything is shown for confirmation, what
// identity.UpdateUser would refuse after it (which stays the authority).
func checkUserPatch(scope access.Scope, id int64, name, role string, disabled bool) error {
	var v errs.Validator
	v.Text("name", name, true, 200)
	if _, err := access.ParseRole(role); err != nil {
		v.Add("role", "%s", err.Error())
	} else if scope.ActorID == id && access.Role(role) != scope.Role {
		v.Add("role", "you cannot change your own role")
	}
	if disabled && scope.ActorID == id {
		v.Add("disabled", "you cannot disable yourself")
	}
	return v.Err()
}

// userChanges describes, in words, what saving the user form would change.
func (s *Server) userChanges(l *Locale, v UserForm, name, role string, disabled bool, depts []int64) *Confirmation {
	c := &Confirmation{L: l, Text: l.T("users.confirm_text", v.User.Name)}
	if name != v.User.Name {
		c.Changes = append(c.Changes, ConfirmChange{What: l.T("field.user_name"), From: v.User.Name, To: name})
	}
	if role != v.User.Role {
		c.Changes = append(c.Changes, ConfirmChange{What: l.T("field.role"), From: l.T("role." + v.User.Role), To: l.T("role." + role)})
		c.Notes = append(c.Notes, l.T("users.confirm_role_note"))
		c.Danger = true
	}
	if disabled != v.User.Disabled {
		state := map[bool]string{false: l.T("users.active"), true: l.T("users.disabled")}
		c.Changes = append(c.Changes, ConfirmChange{What: l.T("col.state"), From: state[v.User.Disabled], To: state[disabled]})
		if disabled {
			c.Notes = append(c.Notes, l.T("users.confirm_disable_note"))
			c.Danger = true
		}
	}
	var from, to []string
	want := map[int64]bool{}
	for _, d := range depts {
		want[d] = true
	}
	changed := false
	for _, d := range v.Departments {
		if d.Checked {
			from = append(from, d.Name)
		}
		if want[d.ID] {
			to = append(to, d.Name)
		}
		changed = changed || d.Checked != want[d.ID]
	}
	if changed {
		c.Changes = append(c.Changes, ConfirmChange{What: l.T("field.departments"), From: nameList(l, from), To: nameList(l, to)})
		c.Notes = append(c.Notes, l.T("users.confirm_departments_note"))
	}
	return c
}

// nameList joins names for a sentence; none is "None".
func nameList(l *Locale, names []string) string {
	if len(names) == 0 {
		return l.T("users.none")
	}
	return strings.Join(names, listSep(l))
}

// userAction runs one of the account actions on a user's page, after
// step-up, and comes back with a notice. With describe, the action is
// first shown for confirmation (nil from describe: nothing to do).
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, q *req, stepUp bool, notice string,
	describe func(v UserForm) *Confirmation, do func(id int64) error) error {
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
	if describe != nil && !confirmed(r) {
		v, err := s.userView(r, q, id)
		if err != nil {
			return err
		}
		c := describe(v)
		if c == nil {
			return seeOther(w, r, back+"?notice=notice.nothing_changed")
		}
		c.L, c.Action, c.Cancel, c.Danger = q.L, r.URL.Path, back, true
		v.Confirm = c
		return s.render(w, r, http.StatusOK, "admin_user", v)
	}
	if err := do(id); err != nil {
		return err
	}
	return seeOther(w, r, back+"?notice="+notice)
}

func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request, q *req) error {
	describe := func(v UserForm) *Confirmation {
		if len(v.Status.Factors) == 0 {
			return nil
		}
		var names []string
		for _, f := range v.Status.Factors {
			names = append(names, q.L.T("factor."+f))
		}
		return &Confirmation{Text: q.L.T("users.confirm_mfa_reset", v.User.Name), Submit: "users.mfa_reset",
			Changes: []ConfirmChange{{What: q.L.T("users.factors"), From: nameList(q.L, names), To: q.L.T("users.none")}},
			Notes:   []string{q.L.T("users.confirm_mfa_reset_note")}}
	}
	return s.userAction(w, r, q, true, "notice.mfa_reset", describe, func(id int64) error {
		return s.identity.ResetMFA(r.Context(), q.P, id, s.client(r))
	})
}

func (s *Server) unlockUser(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, true, "notice.user_unlocked", nil, func(id int64) error {
		return s.identity.UnlockUser(r.Context(), q.P, id, s.client(r))
	})
}

func (s *Server) revokeUserSessions(w http.ResponseWriter, r *http.Request, q *req) error {
	describe := func(v UserForm) *Confirmation {
		if v.Status.ActiveSessions == 0 {
			return nil
		}
		return &Confirmation{Text: q.L.T("users.confirm_end_sessions", v.User.Name), Submit: "users.end_sessions",
			Changes: []ConfirmChange{{What: q.L.T("users.sessions"), From: q.L.Num(int64(v.Status.ActiveSessions)), To: q.L.Num(0)}}}
	}
	return s.userAction(w, r, q, true, "notice.user_sessions_ended", describe, func(id int64) error {
		_, err := s.identity.RevokeSessions(r.Context(), q.P, identity.Staff, id, s.client(r))
		return err
	})
}

func (s *Server) sendPasswordSetup(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.userAction(w, r, q, false, "notice.password_setup_sent", nil, func(id int64) error {
		return s.identity.SendPasswordSetupIn(r.Context(), q.P, id, q.L.Lang)
	})
}
