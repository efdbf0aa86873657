package web

import (
	"net/http"

	"github.com/hesar/hesar/internal/access"
)

// Roles and permissions (user.read: every staff member may read the user
// list through the API, and the policy is the same for everyone, so
// anyone on staff may see what each role can do). The policy is fixed in
// internal/access; this page only explains it.

// permArea groups permissions under one heading (a catalog key).
type permArea struct {
	Key   string
	Perms []access.Permission
}

// permAreas orders every staff permission by what it is about. A test
// fails when a permission of access.AllPermissions is left out.
var permAreas = []permArea{
	{"perm_area.tickets", []access.Permission{access.TicketRead, access.TicketContent, access.TicketAllDepartments, access.TicketCreate,
		access.TicketUpdate, access.TicketAssign, access.TicketReply, access.TicketNote}},
	{"perm_area.customers", []access.Permission{access.CustomerRead, access.CustomerWrite, access.SensitiveReveal, access.CustomerPrivacy}},
	{"perm_area.people", []access.Permission{access.DepartmentRead, access.DepartmentManage, access.UserRead, access.UserManage, access.TokenCreate}},
	{"perm_area.security", []access.Permission{access.AuditRead, access.SecurityManage}},
}

// RoleColumn is one role: its name and how many active staff hold it.
type RoleColumn struct {
	Role   string
	People int64
}

// PermRow is one permission and, per role (in RolesPage.Roles order),
// whether the role holds it.
type PermRow struct {
	Name string
	Has  []bool
}

// PermGroup is one area of permissions.
type PermGroup struct {
	Key  string
	Rows []PermRow
}

// RolesPage is /admin/roles.
type RolesPage struct {
	Page
	Roles  []RoleColumn
	Groups []PermGroup
	// Span is the table's column count, for the area headings.
	Span int
}

// rolesPageSize is how many users one ListUsers call reads while counting.
const rolesPageSize = 1000

func (s *Server) rolesPage(w http.ResponseWriter, r *http.Request, q *req) error {
	v := RolesPage{Page: s.page(r, q, "title.admin_roles")}
	counts, err := s.peoplePerRole(r, q)
	if err != nil {
		return err
	}
	for _, ro := range access.Roles {
		v.Roles = append(v.Roles, RoleColumn{Role: string(ro), People: counts[ro]})
	}
	v.Span = len(v.Roles) + 1
	for _, area := range permAreas {
		g := PermGroup{Key: area.Key}
		for _, p := range area.Perms {
			row := PermRow{Name: string(p)}
			for _, ro := range access.Roles {
				row.Has = append(row.Has, holds(ro, p))
			}
			g.Rows = append(g.Rows, row)
		}
		v.Groups = append(v.Groups, g)
	}
	return s.render(w, r, http.StatusOK, "admin_roles", v)
}

// holds reports whether role has p.
func holds(role access.Role, p access.Permission) bool {
	for _, x := range access.PermissionsOf(role) {
		if x == p {
			return true
		}
	}
	return false
}

// peoplePerRole counts the workspace's active staff by role, through the
// same user list the API serves (GET /api/v1/users).
func (s *Server) peoplePerRole(r *http.Request, q *req) (map[access.Role]int64, error) {
	out := map[access.Role]int64{}
	var after int64
	for {
		us, err := s.identity.ListUsers(r.Context(), q.P.Scope, after, rolesPageSize)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if !u.Disabled {
				out[u.Role]++
			}
		}
		if len(us) < rolesPageSize {
			return out, nil
		}
		after = us[len(us)-1].ID
	}
}
