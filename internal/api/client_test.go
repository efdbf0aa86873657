package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.Run(m)) }

// client calls the API over real HTTP as one token.
type client struct {
	t     testing.TB
	base  string
	token string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody is the API's error envelope.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (r response) err(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.Body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("status %d: body is not an error envelope: %s", r.Status, r.Body)
	}
	return e
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// raw sends body bytes as they are, with the given content type.
func (c client) raw(method, path, contentType string, body []byte) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// do sends v as JSON (nil: no body).
func (c client) do(method, path string, v any) response {
	c.t.Helper()
	if v == nil {
		return c.raw(method, path, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.raw(method, path, "application/json", b)
}

// must sends and fails the test unless the status is want.
func (c client) must(want int, method, path string, v any, out any) response {
	c.t.Helper()
	r := c.do(method, path, v)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, strings.TrimSpace(string(r.Body)))
	}
	if out != nil {
		r.decode(c.t, out)
	}
	return r
}

type ticketJSON struct {
	ID           int64    `json:"id"`
	Subject      string   `json:"subject"`
	Status       string   `json:"status"`
	Priority     string   `json:"priority"`
	DepartmentID int64    `json:"department_id"`
	AssigneeID   *int64   `json:"assignee_id"`
	CustomerID   int64    `json:"customer_id"`
	Tags         []string `json:"tags"`
}

type pageJSON struct {
	Data       []ticketJSON `json:"data"`
	NextCursor *string      `json:"next_cursor"`
}
