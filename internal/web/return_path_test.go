package web

import (
	"net/http/httptest"
	"testing"
)

// The language switch of a page answered to a form leads to a page one
// can open, never back to the form's address.
func TestReturnPathIsAlwaysAPage(t *testing.T) {
	x := newPageIndex(routes())
	for _, c := range []struct{ method, target, want string }{
		{"GET", "/console/tickets/7?notice=notice.ticket_updated", "/console/tickets/7?notice=notice.ticket_updated"},
		{"POST", "/console/tickets/7/reveal", "/console/tickets/7"},
		{"POST", "/console/tickets/7/contact", "/console/tickets/7"},
		{"POST", "/console/tickets/7/messages", "/console/tickets/7"},
		{"POST", "/console/tickets/7", "/console/tickets/7"},
		{"POST", "/portal/requests/3/messages", "/portal/requests/3"},
		{"POST", "/admin/settings", "/admin/settings"},
		{"POST", "/auth/step-up", "/auth/step-up"},
		{"POST", "/nothing/here/at/all", "/"},
		{"POST", "/portal/requests", "/portal/requests/new"},
		{"POST", "/portal/signin-link", "/portal/signin"},
		{"POST", "/account/language", "/account/security"},
		{"POST", "/account/tokens", "/account/security"},
		{"POST", "/account/tokens/9/revoke", "/account/security"},
	} {
		if got := x.returnPath(httptest.NewRequest(c.method, c.target, nil)); got != c.want {
			t.Errorf("%s %s: switch leads to %q, want %q", c.method, c.target, got, c.want)
		}
	}
}
