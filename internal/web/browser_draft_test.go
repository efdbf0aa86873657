package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/ticket"
)

// TestBrowserReplyTypedWhenTheSessionEndedIsNotLost: an agent writes an
// internal note; meanwhile the session ends on the server. Pressing send
// leads to the staff sign-in page, then back to the ticket, where the
// text waits — still a note — and the note goes on the second press.
// After that the tab keeps no draft; signing out empties the rest.
func TestBrowserReplyTypedWhenTheSessionEndedIsNotLost(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, _ string) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a passphrase long enough to pass"
		agent := e.staff("agent", "Sara", pw, e.f.Sales)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "router", Body: "it blinks red",
			CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		page := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		const text = "Checked the line: the fault is on the street cabinet, not the router. یادداشت"

		g := newBrowser(t, browserCtx, e.url, "")
		// A link to the ticket, before signing in, comes back to it.
		g.open("/lang/en?next="+page, "title.signin_staff")
		g.do(fill("#f-workspace", e.f.WS.Slug, "#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.ticket")
		if got := g.eval(`location.pathname`); got != page {
			t.Fatalf("signed in to %v, want %s", got, page)
		}

		g.do(chromedp.Click(chromedp.CSS(`form.reply input[name=kind][value=note]`)),
			chromedp.SendKeys(chromedp.CSS("#f-body"), text))
		// The session ends on the server (expired, revoked: gone).
		err = a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, agent.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		g.submit(`form.reply button[type=submit]`, "title.signin_staff")
		if got := g.text(".notice"); !strings.Contains(got, "Your session has ended") {
			t.Errorf("the sign-in page says %q", got)
		}
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.ticket")
		if got := g.eval(`location.pathname`); got != page {
			t.Fatalf("after signing in again: at %v, want %s", got, page)
		}
		if got := g.eval(`document.querySelector("#f-body").value`); got != text {
			t.Fatalf("the reply box holds %q, want the text typed before", got)
		}
		if got := g.eval(`document.querySelector("form.reply input[name=kind]:checked").value`); got != "note" {
			t.Fatalf("the restored draft is a %v, not the note it was", got)
		}
		if got := g.text(".draft-restored"); got == "" {
			t.Error("nothing says the text was brought back")
		}
		g.submit(`form.reply button[type=submit]`, "title.ticket")
		if got := g.text(".notice"); got != "Sent." {
			t.Fatalf("after sending: notice %q", got)
		}
		if got := g.eval(`document.querySelector("#f-body").value`); got != "" {
			t.Fatalf("the sent text came back into the box: %q", got)
		}
		if n := g.eval(`Object.keys(sessionStorage).filter(k => k.startsWith("hesar.draft.")).length`); n != float64(0) {
			t.Fatalf("%v drafts kept after the server saved the note", n)
		}
		if !strings.Contains(g.text(".conversation"), "street cabinet") {
			t.Fatal("the note is not on the ticket")
		}
		msgs, err := a.Tickets.Messages(ctx, e.f.System(), tk.Number, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		notes := 0
		for _, m := range msgs {
			if m.Kind == ticket.KindNote && strings.Contains(m.Body, "street cabinet") {
				notes++
			}
		}
		if notes != 1 {
			t.Fatalf("%d notes saved, want exactly 1", notes)
		}
		// A reload of the page that said "Sent." keeps a new draft.
		g.do(chromedp.SendKeys(chromedp.CSS("#f-body"), "second thought"))
		g.do(chromedp.Reload(), waitPage("title.ticket"))
		if got := g.eval(`document.querySelector("#f-body").value`); got != "second thought" {
			t.Fatalf("after a reload the box holds %q", got)
		}
		// Signing out empties the tab's drafts.
		g.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
		if n := g.eval(`Object.keys(sessionStorage).filter(k => k.startsWith("hesar.draft.")).length`); n != float64(0) {
			t.Fatalf("%v drafts kept after signing out", n)
		}
		e.seal()
	})
}
