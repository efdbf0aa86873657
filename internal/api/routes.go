package api

import (
	"net/http"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/identity"
)

// Route is one endpoint: method, pattern, the permissions that let a caller
// in (any one suffices; object-level checks happen in the services), and the
// handler.
type Route struct {
	Method  string
	Pattern string
	Perms   []access.Permission
	Handle  func(s *Server, w http.ResponseWriter, r *http.Request, p identity.Principal) error
}

func (rt Route) public() bool { return len(rt.Perms) == 1 && rt.Perms[0] == access.Public }

func (rt Route) allows(scope access.Scope) bool {
	for _, p := range rt.Perms {
		if scope.Can(p) {
			return true
		}
	}
	return false
}

func perms(p ...access.Permission) []access.Permission { return p }

// Shorthands for permission sets used by several routes.
var (
	readTickets = perms(access.TicketRead, access.PortalTickets)
	// readContent is for what customers wrote: messages, files, search.
	readContent = perms(access.TicketContent, access.PortalTickets)
	public      = perms(access.Public)
)

// Routes is the whole API surface. A test fails for any route here without
// a permission, or missing from the OpenAPI document.
func Routes() []Route {
	return []Route{
		{"GET", "/healthz", public, (*Server).healthz},
		{"GET", "/readyz", public, (*Server).readyz},
		{"GET", "/api/v1/openapi.json", public, (*Server).openAPI},
		{"GET", "/api/v1/me", perms(access.Authenticated), (*Server).me},

		{"GET", "/api/v1/tickets", readTickets, (*Server).listTickets},
		{"POST", "/api/v1/tickets", perms(access.TicketCreate, access.PortalTickets), (*Server).createTicket},
		{"GET", "/api/v1/tickets/counts", readTickets, (*Server).countTickets},
		{"GET", "/api/v1/tickets/{id}", readTickets, (*Server).getTicket},
		{"PATCH", "/api/v1/tickets/{id}", perms(access.TicketUpdate, access.TicketAssign, access.PortalTickets), (*Server).updateTicket},
		{"GET", "/api/v1/tickets/{id}/messages", readContent, (*Server).listMessages},
		{"POST", "/api/v1/tickets/{id}/messages", perms(access.TicketReply, access.TicketNote, access.PortalTickets), (*Server).addMessage},
		{"GET", "/api/v1/tickets/{id}/events", perms(access.TicketRead), (*Server).listEvents},
		{"POST", "/api/v1/tickets/{id}/reveal", perms(access.SensitiveReveal), (*Server).reveal},
		{"GET", "/api/v1/search", readContent, (*Server).search},
		{"GET", "/api/v1/tickets/{id}/attachments", readContent, (*Server).listAttachments},
		{"POST", "/api/v1/tickets/{id}/attachments", perms(access.TicketReply, access.TicketNote, access.PortalTickets), (*Server).uploadAttachment},
		{"GET", "/api/v1/attachments/{id}", readContent, (*Server).downloadAttachment},

		{"GET", "/api/v1/customers", perms(access.CustomerRead), (*Server).listCustomers},
		{"POST", "/api/v1/customers", perms(access.CustomerWrite), (*Server).createCustomer},
		{"GET", "/api/v1/customers/{id}", perms(access.CustomerRead), (*Server).getCustomer},
		{"PATCH", "/api/v1/customers/{id}", perms(access.CustomerWrite), (*Server).updateCustomer},
		{"GET", "/api/v1/customers/{id}/export", perms(access.CustomerPrivacy), (*Server).exportCustomer},
		{"POST", "/api/v1/customers/{id}/erase", perms(access.CustomerPrivacy), (*Server).eraseCustomer},
		{"GET", "/api/v1/organizations", perms(access.CustomerRead), (*Server).listOrganizations},
		{"POST", "/api/v1/organizations", perms(access.CustomerWrite), (*Server).createOrganization},

		{"GET", "/api/v1/departments", perms(access.DepartmentRead), (*Server).listDepartments},
		{"POST", "/api/v1/departments", perms(access.DepartmentManage), (*Server).createDepartment},
		{"GET", "/api/v1/departments/{id}", perms(access.DepartmentRead), (*Server).getDepartment},
		{"PATCH", "/api/v1/departments/{id}", perms(access.DepartmentManage), (*Server).renameDepartment},
		{"PUT", "/api/v1/departments/{id}/members/{user_id}", perms(access.DepartmentManage), (*Server).addMember},
		{"DELETE", "/api/v1/departments/{id}/members/{user_id}", perms(access.DepartmentManage), (*Server).removeMember},

		{"GET", "/api/v1/users", perms(access.UserRead), (*Server).listUsers},
		{"POST", "/api/v1/users", perms(access.UserManage), (*Server).createUser},
		{"GET", "/api/v1/users/{id}", perms(access.UserRead), (*Server).getUser},
		{"PATCH", "/api/v1/users/{id}", perms(access.UserManage), (*Server).updateUser},

		{"GET", "/api/v1/tokens", perms(access.TokenCreate, access.UserManage), (*Server).listTokens},
		{"POST", "/api/v1/tokens", perms(access.TokenCreate, access.UserManage), (*Server).createToken},
		{"DELETE", "/api/v1/tokens/{id}", perms(access.TokenCreate, access.UserManage), (*Server).revokeToken},
	}
}

func (s *Server) routes() []Route { return Routes() }
