package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestBadInputGetsSpecificErrorAndWritesNothing throws malformed, hostile
// and oversized requests at the API: each must get the documented 4xx with
// a specific code (and field, where there is one), never a 500, and none may
// leave a ticket behind.
func TestBadInputGetsSpecificErrorAndWritesNothing(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		c := client{t, srv.URL, f.Tokens["admin"]}
		valid := fmt.Sprintf(`{"subject":"s","body":"b","customer_id":%d}`, f.Customer.ID)
		long := strings.Repeat("ک", ticket.MaxSubject+1)
		cases := []struct {
			name        string
			contentType string
			body        []byte
			status      int
			code        string
			field       string
		}{
			{"malformed JSON", "application/json", []byte(`{"subject": "s",`), 400, "malformed_json", ""},
			{"not JSON at all", "application/json", []byte(`subject=s`), 400, "malformed_json", ""},
			{"empty body", "application/json", nil, 400, "malformed_json", ""},
			{"two objects", "application/json", []byte(valid + valid), 400, "malformed_json", ""},
			{"array instead of object", "application/json", []byte(`[1,2]`), 400, "invalid_type", ""},
			{"unknown field", "application/json", []byte(`{"subject":"s","body":"b","customer_id":1,"admin":true}`), 400, "unknown_field", "admin"},
			{"wrong type", "application/json", []byte(`{"subject":5,"body":"b"}`), 400, "invalid_type", "subject"},
			{"wrong nested type", "application/json", []byte(`{"subject":"s","body":"b","customer":{"email":7}}`), 400, "invalid_type", "customer.email"},
			{"number too big", "application/json", []byte(`{"subject":"s","body":"b","customer_id":1e40}`), 400, "invalid_type", "customer_id"},
			{"invalid UTF-8", "application/json", []byte("{\"subject\":\"\xff\xfe\",\"body\":\"b\"}"), 400, "invalid_utf8", ""},
			{"wrong content type", "text/plain", []byte(valid), 415, "unsupported_media_type", ""},
			{"form post (CSRF shape)", "application/x-www-form-urlencoded", []byte("subject=s"), 415, "unsupported_media_type", ""},
			{"oversized body", "application/json", []byte(`{"subject":"` + strings.Repeat("a", 2<<20) + `"}`), 413, "body_too_large", ""},
			{"missing fields", "application/json", []byte(`{}`), 422, "validation_failed", "subject"},
			{"null body", "application/json", []byte(`null`), 422, "validation_failed", "body"},
			{"over-long subject", "application/json", []byte(fmt.Sprintf(`{"subject":%q,"body":"b","customer_id":%d}`, long, f.Customer.ID)), 422, "validation_failed", "subject"},
			{"NUL in text", "application/json", []byte(fmt.Sprintf(`{"subject":"a\u0000b","body":"b","customer_id":%d}`, f.Customer.ID)), 422, "validation_failed", "subject"},
			{"blank subject", "application/json", []byte(fmt.Sprintf(`{"subject":"   ","body":"b","customer_id":%d}`, f.Customer.ID)), 422, "validation_failed", "subject"},
			{"bad enum", "application/json", []byte(fmt.Sprintf(`{"subject":"s","body":"b","customer_id":%d,"status":"done"}`, f.Customer.ID)), 422, "validation_failed", "status"},
			{"negative id", "application/json", []byte(`{"subject":"s","body":"b","customer_id":-5}`), 422, "validation_failed", "customer_id"},
			{"another workspace's customer", "application/json", []byte(`{"subject":"s","body":"b","customer_id":1}`), 422, "validation_failed", "customer_id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.raw("POST", "/api/v1/tickets", tc.contentType, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				e := r.err(t)
				if e.Error.Code != tc.code {
					t.Errorf("code %q, want %q (%s)", e.Error.Code, tc.code, e.Error.Message)
				}
				if tc.field != "" && e.Error.Fields[tc.field] == "" {
					t.Errorf("no message for field %q: %+v", tc.field, e.Error.Fields)
				}
				if e.Error.Message == "" {
					t.Errorf("empty message")
				}
			})
		}
		page, err := a.Tickets.List(context.Background(), f.System(), ticket.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tickets) != 0 {
			t.Errorf("bad requests left %d tickets behind", len(page.Tickets))
		}
	})
}

func TestBadQueryAndPathParametersAreClientErrors(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		c := client{t, srv.URL, f.Tokens["admin"]}
		for _, tc := range []struct {
			path   string
			status int
			code   string
		}{
			{"/api/v1/tickets?stauts=open", 400, "unknown_parameter"},
			{"/api/v1/tickets?status=finished", 422, "validation_failed"},
			{"/api/v1/tickets?limit=1000", 422, "validation_failed"},
			{"/api/v1/tickets?limit=abc", 400, "invalid_parameter"},
			{"/api/v1/tickets?department_id=-1", 400, "invalid_parameter"},
			{"/api/v1/tickets?cursor=not-a-cursor", 422, "validation_failed"},
			{"/api/v1/tickets?order=random", 400, "invalid_parameter"},
			{"/api/v1/tickets?q=%ZZ", 400, "invalid_query"},
			{"/api/v1/tickets/abc", 404, "not_found"},
			{"/api/v1/tickets/99999999999999999999", 404, "not_found"},
			{"/api/v1/tickets/0", 404, "not_found"},
			{"/api/v1/search", 422, "validation_failed"},
			{"/api/v1/search?q=!!!", 422, "validation_failed"},
			{"/api/v1/search?q=a1+b2+c3+d4+e5+f6+g7+h8+i9+j10", 422, "validation_failed"},
			{"/api/v1/nothing-here", 404, "no_route"},
		} {
			r := c.do("GET", tc.path, nil)
			if r.Status != tc.status {
				t.Errorf("GET %s: status %d, want %d: %s", tc.path, r.Status, tc.status, r.Body)
				continue
			}
			if e := r.err(t); e.Error.Code != tc.code {
				t.Errorf("GET %s: code %q, want %q", tc.path, e.Error.Code, tc.code)
			}
		}
		// A method the route table does not have.
		r := c.do("DELETE", "/api/v1/tickets", nil)
		if r.Status != 405 || r.Header.Get("Allow") != "GET, POST" || r.err(t).Error.Code != "method_not_allowed" {
			t.Errorf("DELETE /api/v1/tickets: %d Allow=%q %s", r.Status, r.Header.Get("Allow"), r.Body)
		}
	})
}

func TestHostileTextIsStoredAndReturnedAsInertData(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		c := client{t, srv.URL, f.Tokens["admin"]}
		hostile := []string{
			`<script>alert(1)</script>`,
			`'; DROP TABLE tickets; --`,
			"\u202eevil\u202c RTL override",
			`{{.Secret}} ${jndi:ldap://x}`,
			"emoji 🧾 and زبان فارسی",
		}
		for _, h := range hostile {
			var tk ticketJSON
			r := c.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": h, "body": h, "customer_id": f.Customer.ID}, &tk)
			if bytes.Contains(r.Body, []byte("<script>")) {
				t.Errorf("response carries raw markup: %s", r.Body)
			}
			var got ticketJSON
			c.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil, &got)
			if got.Subject != h {
				t.Errorf("subject round trip: %q, want %q", got.Subject, h)
			}
		}
		var page pageJSON
		c.must(200, "GET", "/api/v1/tickets?limit=100", nil, &page)
		if len(page.Data) != len(hostile) {
			t.Errorf("listed %d tickets, want %d (did the SQL-looking subject do anything?)", len(page.Data), len(hostile))
		}
	})
}

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	a := testutil.App(t, "sqlite")
	srv := testutil.Server(t, a)
	for _, path := range []string{"/healthz", "/api/v1/me", "/api/v1/tickets/1", "/nope"} {
		r := client{t, srv.URL, ""}.do("GET", path, nil)
		// The API allows nothing at all; web pages (everything outside
		// /api/) allow only Hesar's own files and no framing.
		csp := "default-src 'none'"
		if path == "/nope" {
			csp = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": csp,
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		} {
			if !strings.Contains(r.Header.Get(h), want) {
				t.Errorf("%s: %s = %q, want %q", path, h, r.Header.Get(h), want)
			}
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
	}
}
