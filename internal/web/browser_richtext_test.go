package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/ticket"
)

// hostileHTML is a formatted reply an integration might post, carrying
// everything that has run script or tracked readers somewhere.
const hostileHTML = `<p dir="rtl">سفارش <b>شما</b> ارسال شد</p>` +
	`<script>alert("html")</script><img src=x onerror=alert("img")><svg onload=alert(1)></svg>` +
	`<img src="https://tracker.example/open.gif"><a href="javascript:alert('href')">click</a>` +
	`<iframe src="https://evil.example/"></iframe><p onclick=alert(3) class="notice" id="main">fake notice</p>` +
	`<a href="https://shop.example/track/7">پیگیری مرسوله</a>`

// TestBrowserFormattedMessageRendersWithoutRunningAnything: the agent and
// the customer open a conversation holding hostile HTML; the formatting
// shows, nothing planted runs or is built, no remote image is asked for,
// and the link opens apart.
func TestBrowserFormattedMessageRendersWithoutRunningAnything(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, chrome context.Context, shots string) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "formatted message passphrase"
		cust, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "rich-" + e.f.WS.Slug + "@example.com", Name: "Rich"})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(cust.ID, pw)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "order", Body: "where is it", DepartmentID: e.f.Sales, CustomerID: cust.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Tickets.AddMessage(ctx, e.f.System(), tk.Number, ticket.NewMessage{Kind: ticket.KindReply, HTML: hostileHTML}); err != nil {
			t.Fatal(err)
		}
		u := e.staff("agent", "richreader", pw, e.f.Sales)

		check := func(b *browser, who string) {
			t.Helper()
			if got := b.text(".body.rich b"); got != "شما" {
				t.Errorf("%s: formatting lost: bold text %q", who, got)
			}
			for _, sel := range []string{`.body.rich img`, `.body.rich [onclick]`, `.body.rich #main`, `.body.rich .notice`, `a[href^="javascript"]`} {
				if n := b.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)); n != float64(0) {
					t.Errorf("%s: %v elements match %s", who, n, sel)
				}
			}
			if n := b.eval(`performance.getEntriesByType("resource").filter(r => !r.name.startsWith(location.origin)).length`); n != float64(0) {
				t.Errorf("%s: the page asked another site for %v resources", who, n)
			}
			if got := b.eval(`document.querySelector('.body.rich a[href="https://shop.example/track/7"]').getAttribute("target")`); got != "_blank" {
				t.Errorf("%s: the link opens with target %v", who, got)
			}
			b.safe()
		}

		agent := newBrowser(t, chrome, e.url, shots)
		agent.open("/lang/en?next=/console/signin?workspace="+e.f.WS.Slug, "title.signin_staff")
		agent.do(fill("#f-email", u.Email, "#f-password", pw))
		agent.submit(`form[action="/console/signin"] button`, "title.queue")
		agent.open(fmt.Sprintf("/console/tickets/%d", tk.Number), "title.ticket")
		check(agent, "agent")
		agent.shot("console-ticket-formatted")

		c := newBrowser(t, chrome, e.url, shots)
		c.open("/lang/fa?next=/portal/signin?workspace="+e.f.WS.Slug, "title.signin_customer")
		c.do(fill("#f-email", cust.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		c.open(fmt.Sprintf("/portal/requests/%d", tk.Number), "title.request")
		check(c, "customer")
		if got := c.text(".conversation"); strings.Contains(got, "alert") {
			t.Errorf("customer sees script text: %q", got)
		}
		c.shot("portal-ticket-formatted")
	})
}
