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
		{"PATCH", "/api/v1/me", perms(access.Authenticated), (*Server).updateMe},

		// Signing in and recovering access.
		{"POST", "/api/v1/auth/signin", public, (*Server).signIn},
		{"POST", "/api/v1/auth/signout", perms(access.Authenticated), (*Server).signOut},
		{"POST", "/api/v1/auth/mfa/verify", perms(access.Authenticated), (*Server).verifyMFA},
		{"POST", "/api/v1/auth/passkey/challenge", perms(access.Authenticated), (*Server).passkeyChallenge},
		{"POST", "/api/v1/auth/step-up", perms(access.Authenticated), (*Server).stepUp},
		{"POST", "/api/v1/auth/passwordless/begin", public, (*Server).beginPasswordless},
		{"POST", "/api/v1/auth/passwordless/finish", public, (*Server).finishPasswordless},
		{"POST", "/api/v1/auth/signup", public, (*Server).signUp},
		{"POST", "/api/v1/auth/verify-email", public, (*Server).verifyEmail},
		{"POST", "/api/v1/auth/verify-email/request", public, (*Server).requestVerification},
		{"POST", "/api/v1/auth/password-reset", public, (*Server).resetPassword},
		{"POST", "/api/v1/auth/password-reset/request", public, (*Server).requestPasswordReset},
		{"POST", "/api/v1/auth/signin-link", public, (*Server).signInWithLink},
		{"POST", "/api/v1/auth/signin-link/request", public, (*Server).requestSignInLink},

		// The signed-in person's own credentials and sessions.
		{"GET", "/api/v1/account/security", perms(access.Authenticated), (*Server).accountSecurity},
		{"POST", "/api/v1/account/password", perms(access.Authenticated), (*Server).changePassword},
		{"POST", "/api/v1/account/totp", perms(access.Authenticated), (*Server).beginTOTP},
		{"POST", "/api/v1/account/totp/confirm", perms(access.Authenticated), (*Server).confirmTOTP},
		{"DELETE", "/api/v1/account/totp", perms(access.Authenticated), (*Server).removeTOTP},
		{"POST", "/api/v1/account/recovery-codes", perms(access.Authenticated), (*Server).renewRecoveryCodes},
		{"GET", "/api/v1/account/passkeys", perms(access.Authenticated), (*Server).listPasskeys},
		{"POST", "/api/v1/account/passkeys/begin", perms(access.Authenticated), (*Server).beginPasskey},
		{"POST", "/api/v1/account/passkeys", perms(access.Authenticated), (*Server).addPasskey},
		{"PATCH", "/api/v1/account/passkeys/{id}", perms(access.Authenticated), (*Server).renamePasskey},
		{"DELETE", "/api/v1/account/passkeys/{id}", perms(access.Authenticated), (*Server).removePasskey},
		{"GET", "/api/v1/account/sessions", perms(access.Authenticated), (*Server).mySessions},
		{"DELETE", "/api/v1/account/sessions", perms(access.Authenticated), (*Server).revokeMyOtherSessions},
		{"DELETE", "/api/v1/account/sessions/{id}", perms(access.Authenticated), (*Server).revokeMySession},

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
		{"GET", "/api/v1/users/{id}/security", perms(access.UserManage), (*Server).userSecurity},
		{"GET", "/api/v1/users/{id}/sessions", perms(access.UserManage), (*Server).userSessions},
		{"DELETE", "/api/v1/users/{id}/sessions", perms(access.UserManage), (*Server).revokeUserSessions},
		{"POST", "/api/v1/users/{id}/mfa-reset", perms(access.UserManage), (*Server).resetUserMFA},
		{"POST", "/api/v1/users/{id}/unlock", perms(access.UserManage), (*Server).unlockUser},
		{"POST", "/api/v1/users/{id}/password-setup", perms(access.UserManage), (*Server).sendPasswordSetup},
		{"GET", "/api/v1/settings/security", perms(access.UserManage), (*Server).getSecuritySettings},
		{"PUT", "/api/v1/settings/security", perms(access.UserManage), (*Server).putSecuritySettings},
		{"GET", "/api/v1/settings/data-protection", perms(access.UserManage), (*Server).getDataProtection},
		{"PUT", "/api/v1/settings/data-protection", perms(access.UserManage), (*Server).putDataProtection},

		{"GET", "/api/v1/audit", perms(access.AuditRead), (*Server).listAudit},
		{"GET", "/api/v1/audit/export", perms(access.AuditRead), (*Server).exportAudit},
		{"GET", "/api/v1/audit/verify", perms(access.SecurityManage), (*Server).verifyAudit},
		{"GET", "/api/v1/security/dashboard", perms(access.SecurityManage), (*Server).securityDashboard},
		{"GET", "/api/v1/security/alerts", perms(access.SecurityManage), (*Server).listAlerts},
		{"GET", "/api/v1/security/alerts/{id}", perms(access.SecurityManage), (*Server).getAlert},
		{"PATCH", "/api/v1/security/alerts/{id}", perms(access.SecurityManage), (*Server).setAlertState},
		{"GET", "/api/v1/security/monitoring", perms(access.SecurityManage), (*Server).getMonitoring},
		{"PUT", "/api/v1/security/monitoring", perms(access.SecurityManage), (*Server).putMonitoring},

		{"GET", "/api/v1/tokens", perms(access.TokenCreate, access.UserManage), (*Server).listTokens},
		{"POST", "/api/v1/tokens", perms(access.TokenCreate, access.UserManage), (*Server).createToken},
		{"DELETE", "/api/v1/tokens/{id}", perms(access.TokenCreate, access.UserManage), (*Server).revokeToken},
	}
}

func (s *Server) routes() []Route { return Routes() }
