package web

import (
	"net/http"
	"net/http/httptest"
)

func httptestRequest(accept, cookie string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if accept != "" {
		r.Header.Set("Accept-Language", accept)
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: langCookie, Value: cookie})
	}
	return r
}
