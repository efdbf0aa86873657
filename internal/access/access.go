// Package access decides who may do what. A request's identity becomes a
// Scope; stores take the Scope and put it in the SQL WHERE clause, so no
// handler can forget to apply it.
package access

import (
	"errors"
	"slices"
	"sort"
)

// Permission is a named right. Routes declare the one they need.
type Permission string

// The permissions. Department-bound ticket rights apply only to tickets in
// the actor's departments unless the actor also has TicketAllDepartments.
const (
	TicketRead Permission = "ticket.read"
	// TicketContent adds what customers wrote to TicketRead: subjects,
	// messages, attachments and keyword search. Without it a reader sees a
	// ticket's metadata only (status, times, department, assignee).
	TicketContent        Permission = "ticket.content"
	TicketAllDepartments Permission = "ticket.all_departments"
	TicketCreate         Permission = "ticket.create"
	TicketUpdate         Permission = "ticket.update"
	TicketAssign         Permission = "ticket.assign"
	TicketReply          Permission = "ticket.reply"
	TicketNote           Permission = "ticket.note"
	CustomerRead         Permission = "customer.read"
	CustomerWrite        Permission = "customer.write"
	DepartmentRead       Permission = "department.read"
	DepartmentManage     Permission = "department.manage"
	UserRead             Permission = "user.read"
	UserManage           Permission = "user.manage"
	TokenCreate          Permission = "token.create"
	// SensitiveReveal lets staff see the original of masked financial data
	// (with a reason, recorded).
	SensitiveReveal Permission = "sensitive.reveal"
	// CustomerPrivacy lets staff export or erase everything about a
	// customer (data subject requests).
	CustomerPrivacy Permission = "customer.privacy"
	// AuditRead lets staff read the audit log (supervisors: what the
	// members of their departments did).
	AuditRead Permission = "audit.read"
	// SecurityManage lets admins handle security alerts, see the security
	// dashboard, verify the audit log and set up monitoring.
	SecurityManage Permission = "security.manage"
	// PortalTickets lets a customer read, open and answer their own tickets.
	PortalTickets Permission = "portal.tickets"
	// Authenticated is held by every signed-in actor (for /me).
	Authenticated Permission = "authenticated"
	// Public marks routes that need no identity at all.
	Public Permission = "public"
)

// AllPermissions lists every permission that can be granted.
var AllPermissions = []Permission{
	TicketRead, TicketContent, TicketAllDepartments, TicketCreate, TicketUpdate, TicketAssign,
	TicketReply, TicketNote, CustomerRead, CustomerWrite, DepartmentRead,
	DepartmentManage, UserRead, UserManage, TokenCreate, SensitiveReveal, CustomerPrivacy, AuditRead, SecurityManage, PortalTickets,
}

// Role names a built-in set of permissions for staff.
type Role string

// Built-in roles.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// Roles lists the staff roles in order of power.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAgent}

// rolePermissions is the whole policy for staff. Supervisors watch and
// steer their departments' work (status, priority, department, assignee)
// without seeing customers' personal data: no customer directory and no
// ticket content (subjects, messages, files, search).
var rolePermissions = map[Role][]Permission{
	RoleAdmin: {
		TicketRead, TicketContent, TicketAllDepartments, TicketCreate, TicketUpdate, TicketAssign,
		TicketReply, TicketNote, CustomerRead, CustomerWrite, DepartmentRead,
		DepartmentManage, UserRead, UserManage, TokenCreate, SensitiveReveal, CustomerPrivacy, AuditRead, SecurityManage,
	},
	RoleSupervisor: {
		TicketRead, TicketUpdate, TicketAssign, DepartmentRead, UserRead, TokenCreate, AuditRead,
	},
	RoleAgent: {
		TicketRead, TicketContent, TicketCreate, TicketUpdate, TicketAssign, TicketReply, TicketNote,
		CustomerRead, CustomerWrite, DepartmentRead, UserRead, TokenCreate,
	},
}

// customerPermissions is what a customer's identity carries.
var customerPermissions = []Permission{PortalTickets}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if _, ok := rolePermissions[r]; !ok {
		return "", errors.New("role must be one of admin, supervisor, agent")
	}
	return r, nil
}

// PermissionsOf returns a role's permissions, sorted.
func PermissionsOf(r Role) []Permission {
	out := slices.Clone(rolePermissions[r])
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ActorKind says what kind of identity acts.
type ActorKind string

// Actor kinds.
const (
	ActorUser     ActorKind = "user"
	ActorCustomer ActorKind = "customer"
	ActorSystem   ActorKind = "system"
)

// Scope is everything a store needs to know about who is asking.
type Scope struct {
	WorkspaceID int64
	Kind        ActorKind
	ActorID     int64
	Role        Role // staff only
	perms       map[Permission]bool
	// Departments the staff member belongs to (ignored with
	// TicketAllDepartments).
	Departments []int64
	// OrganizationID and OrgAccess widen a customer's view to their
	// organization's tickets.
	OrganizationID int64
	OrgAccess      bool
}

// ForUser builds the scope of a staff member.
func ForUser(workspaceID, userID int64, role Role, departments []int64) Scope {
	return Scope{
		WorkspaceID: workspaceID, Kind: ActorUser, ActorID: userID, Role: role,
		perms: setOf(rolePermissions[role]), Departments: departments,
	}
}

// ForCustomer builds the scope of a customer.
func ForCustomer(workspaceID, customerID, organizationID int64, orgAccess bool) Scope {
	return Scope{
		WorkspaceID: workspaceID, Kind: ActorCustomer, ActorID: customerID,
		perms: setOf(customerPermissions), OrganizationID: organizationID,
		OrgAccess: orgAccess && organizationID != 0,
	}
}

// System is the scope of Hesar itself (CLI, jobs): every permission in one
// workspace.
func System(workspaceID int64) Scope {
	perms := setOf(AllPermissions)
	delete(perms, PortalTickets)
	return Scope{WorkspaceID: workspaceID, Kind: ActorSystem, perms: perms}
}

func setOf(ps []Permission) map[Permission]bool {
	m := make(map[Permission]bool, len(ps)+1)
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// Can reports whether the scope holds p. Everyone with an identity holds
// Authenticated; everyone holds Public.
func (s Scope) Can(p Permission) bool {
	switch p {
	case Public:
		return true
	case Authenticated:
		return s.Kind != "" && s.WorkspaceID != 0
	}
	return s.perms[p]
}

// Restrict returns the scope with only the permissions it holds that are
// also in keep (an API token limited to part of its owner's rights).
func (s Scope) Restrict(keep []Permission) Scope {
	perms := make(map[Permission]bool, len(keep))
	for _, p := range keep {
		if s.perms[p] {
			perms[p] = true
		}
	}
	s.perms = perms
	return s
}

// ParsePermission validates a permission name.
func ParsePermission(name string) (Permission, bool) {
	p := Permission(name)
	return p, slices.Contains(AllPermissions, p)
}

// Permissions returns the scope's permissions, sorted.
func (s Scope) Permissions() []Permission {
	out := make([]Permission, 0, len(s.perms))
	for p := range s.perms {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AllDepartments reports whether department membership is not a limit.
func (s Scope) AllDepartments() bool { return s.perms[TicketAllDepartments] }

// InDepartment reports whether the scope may act on tickets of department.
func (s Scope) InDepartment(departmentID int64) bool {
	return s.AllDepartments() || slices.Contains(s.Departments, departmentID)
}

// IsCustomer reports whether a customer acts.
func (s Scope) IsCustomer() bool { return s.Kind == ActorCustomer }

// ErrForbidden means the actor lacks a permission for something it may see.
var ErrForbidden = errors.New("forbidden")
