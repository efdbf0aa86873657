package web

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// pageIndex answers whether a path is a page one can open (a GET route):
// the language switch must lead back to one.
type pageIndex struct{ mux *http.ServeMux }

func newPageIndex(rs []route) pageIndex {
	mux := http.NewServeMux()
	for _, rt := range rs {
		if strings.HasPrefix(rt.Pattern, http.MethodGet+" ") {
			mux.Handle(rt.Pattern, http.NotFoundHandler())
		}
	}
	return pageIndex{mux: mux}
}

func (x pageIndex) has(p string) bool {
	_, pattern := x.mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}})
	return pattern != ""
}

// returnPath is where the page's language switch leads back to: the page
// itself when it was opened (GET), and when it answers a form whose
// address is no page (a reply, a reveal: POST /console/tickets/7/reveal),
// the nearest page above it (/console/tickets/7), so switching language
// never lands on "not found" or sends the form again.
func (x pageIndex) returnPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	for p := r.URL.Path; p != "" && p != "/"; p = path.Dir(p) {
		if page, ok := formPages[p]; ok {
			return page
		}
		if x.has(p) {
			return p
		}
	}
	return "/"
}

// formPages are the forms (and the addresses under them) whose page is
// not the nearest one above: a new request is written on
// /portal/requests/new and sent to /portal/requests.
var formPages = map[string]string{
	"/portal/requests":    "/portal/requests/new",
	"/portal/signin-link": "/portal/signin",
	"/account/language":   "/account/security",
	"/account/tokens":     "/account/security",
}
