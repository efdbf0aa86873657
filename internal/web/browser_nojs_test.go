package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/ticket"
)

// TestBrowserCoreFlowsWorkWithJavaScriptOff: issue 5 promises that every
// core flow but passkeys works with JavaScript off. In a Chromium with
// page scripts disabled from the first page: a customer signs in, sends a
// request holding a card number, and later replies and closes it; an agent
// signs in with a password and an authenticator code, filters and sorts
// the queue, searches, opens the ticket, writes a note and a reply,
// changes its status and priority, reveals the masked card number and the
// customer's contact details with reasons, and switches language. The
// store must agree with what the pages showed.
func TestBrowserCoreFlowsWorkWithJavaScriptOff(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		ctx := context.Background()
		ws := e.f.WS.Slug
		e.setMFA("none")
		const pw = "a passphrase long enough to pass"
		cust, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "nojs-" + ws + "@example.com", Name: "Nasrin Karimi", Phone: "+98 912 000 1234"})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(cust.ID, pw)
		// An admin may reveal masked data (sensitive.reveal) and see contacts.
		agent := e.staff("admin", "Arash", pw)

		noScript := func(b *browser) {
			t.Helper()
			if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				t.Fatal(err)
			}
		}
		// scriptsOff proves the page really runs without its scripts: the
		// console's script shows the shortcuts button and the file field's
		// shows the chosen-files line; both stay hidden here.
		scriptsOff := func(b *browser) {
			t.Helper()
			v := b.eval(`[...document.querySelectorAll('[data-shortcuts="open"], #f-file-chosen')].map(el => el.hidden)`).([]any)
			if len(v) == 0 {
				t.Fatal("no element on this page tells whether its scripts ran")
			}
			for _, hidden := range v {
				if hidden != true {
					t.Fatalf("a page script ran: %v", v)
				}
			}
		}

		// The customer sends a request.
		c := newBrowser(t, browserCtx, e.url, "")
		noScript(c)
		c.open("/lang/en?next=/portal/signin?workspace="+ws, "title.signin_customer")
		c.do(fill("#f-email", cust.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		c.open("/portal/requests/new", "title.new_request")
		c.do(fill("#f-subject", "Refund to my card", "#f-body", "Please refund to card 4111 1111 1111 1111, thanks."))
		c.submit(`form[action="/portal/requests"] button`, "title.request")
		scriptsOff(c)
		if got := c.text(".entry .body"); strings.Contains(got, "4111 1111 1111 1111") || !strings.Contains(got, "1111") {
			t.Fatalf("the customer's own message shows %q: want the card masked", got)
		}
		// The masked number is isolated left to right, so it cannot be
		// reordered among right-to-left words.
		if got := c.eval(`(() => { const b = document.querySelector('.entry .body bdi[dir=ltr]'); return b ? b.textContent : ""; })()`); got != "4111 11•• •••• 1111" {
			t.Errorf("the masked number is isolated as %q", got)
		}
		number := strings.TrimPrefix(c.eval(`location.pathname`).(string), "/portal/requests/")

		// The agent enrolls an authenticator app and signs in with it.
		g := newBrowser(t, browserCtx, e.url, "")
		noScript(g)
		g.open("/lang/en?next=/console/signin?workspace="+ws, "title.signin_staff")
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.queue")
		g.open("/auth/enroll", "title.enroll")
		g.submitThen(`form[action="/auth/enroll/totp"] button`, "#totp-secret")
		secret := g.text("#totp-secret")
		g.do(fill("#f-code", totpCode(t, secret, time.Now())))
		g.submitThen(`form[action="/auth/enroll/confirm"] button`, ".codes")
		g.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.mfa")
		g.do(fill("#f-code", totpCode(t, secret, time.Now().Add(30*time.Second))))
		g.submit(`form[action="/auth/mfa"] button[type=submit]`, "title.queue")
		scriptsOff(g)

		// The queue's filters and order are a plain GET form.
		g.open("/console/?view=all", "title.queue")
		g.do(chromedp.SetValue(chromedp.CSS("#f-priority"), "normal"), chromedp.SetValue(chromedp.CSS("#f-sort"), "created"))
		submitAgain(g, `form.filters button[type=submit]`, "title.queue")
		if q := g.eval(`location.search`).(string); !strings.Contains(q, "priority=normal") || !strings.Contains(q, "sort=created") {
			t.Fatalf("the filter form went to %q", q)
		}
		if got := g.text("table.tickets"); !strings.Contains(got, "Refund to my card") {
			t.Fatalf("the filtered queue shows %q", got)
		}
		// Search is a GET form too.
		g.do(fill(`form.search input[name="q"]`, "refund"))
		g.submit(`form.search button[type=submit]`, "title.search")
		g.submit(`table.tickets a`, "title.ticket")
		if got := g.text("h1"); got != "Refund to my card" {
			t.Fatalf("search led to %q", got)
		}

		// A note, then a reply.
		g.do(fill("#f-body", "Checked the payment: eligible."), chromedp.Click(chromedp.CSS(`input[name=kind][value=note]`)))
		submitAgain(g, `form.reply button[type=submit]`, "title.ticket")
		g.do(fill("#f-body", "Refunded; it shows in 3 days."))
		submitAgain(g, `form.reply button[type=submit]`, "title.ticket")

		// Properties.
		g.do(chromedp.SetValue(chromedp.CSS("#f-status"), "pending"), chromedp.SetValue(chromedp.CSS("#f-priority"), "high"))
		submitAgain(g, `form[action="/console/tickets/`+number+`"] button[type=submit]`, "title.ticket")

		// Reveal the masked card number: <details> opens without script.
		g.do(chromedp.Click(chromedp.CSS(`.entry details.reveal summary`)))
		g.do(fill(`.entry details.reveal input[name="reason"]`, "customer disputes the refund amount"))
		submitAgain(g, `.entry details.reveal button[type=submit]`, "title.ticket")
		if got := g.text(".original .body"); !strings.Contains(got, "4111 1111 1111 1111") {
			t.Fatalf("the reveal shows %q", got)
		}
		// And the customer's contact details.
		g.open("/console/tickets/"+number, "title.ticket")
		if got := g.text("#customer .contact"); strings.Contains(got, "nojs-") || strings.Contains(got, "000 1234") {
			t.Fatalf("the card shows the contact whole before asking: %q", got)
		}
		g.do(chromedp.Click(chromedp.CSS(`#customer details.reveal summary`)))
		g.do(fill("#f-contact-reason", "calling back about the refund date"))
		submitAgain(g, `#customer details.reveal button[type=submit]`, "title.ticket")
		if got := g.text("#customer .contact"); !strings.Contains(got, cust.Email) || !strings.Contains(got, "000 1234") {
			t.Fatalf("the contact reveal shows %q", got)
		}

		// The language switch is a plain link.
		submitAgain(g, "#lang-switch", "title.ticket")
		if d := g.eval(`getComputedStyle(document.documentElement).direction`); d != "rtl" {
			t.Fatalf("after the switch the page is %v", d)
		}
		scriptsOff(g)

		// The customer sees the reply (not the note), answers and closes.
		c.open("/portal/requests/"+number, "title.request")
		if got := c.text(".conversation"); !strings.Contains(got, "Refunded") || strings.Contains(got, "eligible") {
			t.Fatalf("the customer's conversation: %q", got)
		}
		c.do(fill("#f-body", "Thank you!"))
		submitAgain(c, `form.reply button[type=submit]`, "title.request")
		scriptsOff(c)
		submitAgain(c, `.close-form button`, "title.request")

		n := mustAtoi(t, number)
		tk, err := a.Tickets.Get(ctx, e.f.System(), n)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != ticket.StatusClosed || tk.Priority != ticket.PriorityHigh {
			t.Errorf("stored ticket: status %s, priority %s; want closed, high", tk.Status, tk.Priority)
		}
		msgs, err := a.Tickets.Messages(ctx, e.f.System(), n, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, m := range msgs {
			kinds = append(kinds, fmt.Sprintf("%s:%s", m.Kind, m.AuthorType))
		}
		if got := strings.Join(kinds, " "); got != "reply:customer note:user reply:user reply:customer" {
			t.Errorf("stored conversation %s", got)
		}
		var reveals int
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM reveals WHERE ticket_id = $1`, tk.ID).Scan(&reveals); err != nil {
			t.Fatal(err)
		}
		if reveals != 2 {
			t.Errorf("%d reveals recorded, want 2 (card number, contact)", reveals)
		}
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// submitAgain presses a button whose form leads to another page of the
// same kind: the old page is marked first, so the wait is for the new one.
func submitAgain(b *browser, button, pageKey string) {
	b.t.Helper()
	b.eval(`document.body.dataset.old = "1"`)
	b.do(chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(`body[data-page="`+pageKey+`"]:not([data-old])`)))
	b.safe()
}
