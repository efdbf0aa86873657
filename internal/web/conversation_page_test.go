package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

// TestLongConversationShowsItsEndAndPagesBack: a conversation longer than
// a page shows its newest messages (not its first ones) with a link to the
// earlier ones, page by page back to the first, in the console and the
// portal alike; the portal's pages never count or show notes.
func TestLongConversationShowsItsEndAndPagesBack(t *testing.T) {
	defer web.SetMaxMessages(3)()
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "long one", Body: "message 0",
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 7; i++ {
			kind := ticket.KindReply
			if i == 6 {
				kind = ticket.KindNote
			}
			if _, err := a.Tickets.AddMessage(ctx, e.f.System(), tk.Number, ticket.NewMessage{Kind: kind, Body: fmt.Sprintf("message %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		agent := e.staff("agent", "Leila", pw, e.f.Sales)
		g := e.signInStaff("en", agent.Email, pw)
		page := fmt.Sprintf("/console/tickets/%d", tk.Number)

		// walk follows "earlier" links from the newest page and returns the
		// messages of each page.
		walk := func(c *client, start string) [][]string {
			t.Helper()
			var pages [][]string
			for path := start; path != ""; {
				body := c.get(path).must(t, 200).body
				var shown []string
				for _, part := range strings.Split(body, "message ")[1:] {
					shown = append(shown, "m"+part[:1])
				}
				pages = append(pages, shown)
				path = ""
				if i := strings.Index(body, `<p class="earlier"><a href="`); i >= 0 {
					link := body[i+len(`<p class="earlier"><a href="`):]
					link = strings.ReplaceAll(link[:strings.IndexByte(link, '"')], "&amp;", "&")
					if strings.Contains(link, "before=") {
						path = strings.TrimSuffix(link, "#conversation")
					}
				}
				if len(pages) > 5 {
					t.Fatal("the earlier links never end")
				}
			}
			return pages
		}
		if got, want := fmt.Sprint(walk(g, page)), "[[m5 m6 m7] [m2 m3 m4] [m0 m1]]"; got != want {
			t.Errorf("console pages %s, want %s", got, want)
		}
		// The history lists the latest changes, with a link to all.
		for i := range 25 {
			tags := []string{fmt.Sprintf("t%d", i)}
			if _, err := a.Tickets.Update(ctx, e.f.System(), tk.Number, ticket.Patch{Tags: &tags}); err != nil {
				t.Fatal(err)
			}
		}
		body := g.get(page).must(t, 200).body
		hist := body[strings.Index(body, `<ol class="history">`):]
		hist = hist[:strings.Index(hist, "</ol>")]
		if n := strings.Count(hist, "<li>"); n != 20 || !strings.Contains(hist, "t24") || strings.Contains(hist, "t0 ") {
			t.Errorf("the page lists %d changes (want the latest 20)", n)
		}
		all := g.get(page+"?history=all").must(t, 200).body
		if !strings.Contains(body, `href="`+page+`?history=all#history"`) || strings.Count(all[strings.Index(all, `<ol class="history">`):], "<li>") < 33 {
			t.Error("no way to the whole history, or it is not whole")
		}
		// Tabs of several tickets tell apart by number, never by subject.
		if body := g.get(page).must(t, 200).body; !strings.Contains(body, fmt.Sprintf("<title>#%d · Ticket · Hesar</title>", tk.Number)) {
			t.Error("the ticket page's title does not name its number")
		}
		// A page of earlier messages links back to the latest.
		if body := g.get(page+"?before=3").must(t, 200).body; !strings.Contains(body, `href="`+page+`#conversation"`) {
			t.Error("a page of earlier messages has no way back to the latest")
		}
		// The customer's pages skip the note.
		e.customerPassword(e.f.Customer.ID, pw)
		cu := e.client("en")
		cu.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")
		if got, want := fmt.Sprint(walk(cu, fmt.Sprintf("/portal/requests/%d", tk.Number))), "[[m4 m5 m7] [m1 m2 m3] [m0]]"; got != want {
			t.Errorf("portal pages %s, want %s", got, want)
		}
		// Nonsense in before= is the newest page, not an error.
		if body := g.get(page+"?before=x").must(t, 200).body; !strings.Contains(body, "message 7") {
			t.Error("before=x did not show the newest messages")
		}
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
