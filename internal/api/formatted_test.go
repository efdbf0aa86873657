package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

// TestFormattedMessagesOverHTTP: an integration posts HTML; the answer and
// the conversation carry it sanitized, with the text beside it.
func TestFormattedMessagesOverHTTP(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		f := testutil.NewFixture(t, a)
		srv := testutil.Server(t, a)
		agent := client{t, srv.URL, f.Tokens["sales_agent"]}
		var tk ticketJSON
		agent.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": "html", "body": "plain first",
			"customer": map[string]string{"email": "html@example.com", "name": "H"}}, &tk)
		path := fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID)

		var m struct {
			Body          string  `json:"body"`
			BodyHTML      *string `json:"body_html"`
			BlockedImages *int    `json:"blocked_images"`
		}
		agent.must(201, "POST", path, map[string]any{"body_html": `<h2>Your order</h2><p>Shipped <img src="http://t.example/p.gif"><em>today</em></p><script>x()</script>`}, &m)
		if m.BodyHTML == nil || strings.Contains(*m.BodyHTML, "script") || !strings.Contains(*m.BodyHTML, "<em>today</em>") {
			t.Errorf("body_html = %v", m.BodyHTML)
		}
		if m.BlockedImages == nil || *m.BlockedImages != 1 {
			t.Errorf("blocked_images = %v, want 1", m.BlockedImages)
		}
		if m.Body != "Your order\nShipped today" {
			t.Errorf("body = %q", m.Body)
		}
		var page struct {
			Data []struct {
				BodyHTML      *string `json:"body_html"`
				BlockedImages *int    `json:"blocked_images"`
			} `json:"data"`
		}
		agent.must(200, "GET", path, nil, &page)
		if len(page.Data) != 2 || page.Data[0].BodyHTML != nil || page.Data[1].BodyHTML == nil || page.Data[1].BlockedImages != nil {
			t.Errorf("conversation = %+v", page.Data)
		}
		var tk2 ticketJSON
		agent.must(201, "POST", "/api/v1/tickets", map[string]any{"subject": "formatted first", "body_html": "<p>Hello <i>there</i></p><script>x()</script>",
			"customer": map[string]string{"email": "html@example.com", "name": "H"}}, &tk2)
		agent.must(200, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk2.ID), nil, &page)
		if len(page.Data) != 1 || page.Data[0].BodyHTML == nil || *page.Data[0].BodyHTML != "<p>Hello <i>there</i></p>" {
			t.Errorf("first message of a formatted ticket = %+v", page.Data)
		}
		for body, want := range map[string]int{
			`{"body_html": 5}`:                  400,
			`{"body_html": "<p> </p>"}`:         422,
			`{"body_html": "<p>x</p>", "x": 1}`: 400,
		} {
			if r := agent.raw("POST", path, "application/json", []byte(body)); r.Status != want {
				t.Errorf("%s: %d, want %d (%s)", body, r.Status, want, r.Body)
			}
		}
	})
}
