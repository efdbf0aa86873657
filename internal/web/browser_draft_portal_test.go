package web_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/db"
)

// TestBrowserNewRequestTypedWhenTheSessionEndedIsNotLost: a customer
// writes a new request in Persian; meanwhile the session ends. Sending
// leads to the portal's sign-in, then back to the form with subject and
// text restored; the second send makes exactly one request, and the tab
// keeps no draft after it.
func TestBrowserNewRequestTypedWhenTheSessionEndedIsNotLost(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, _ string) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a passphrase long enough to pass"
		e.customerPassword(e.f.Customer.ID, pw)
		const subject, text = "فاکتور اشتباه", "مبلغ فاکتور شمارهٔ ۱۲ دو بار حساب شده است."

		c := newBrowser(t, browserCtx, e.url, "")
		c.open("/lang/fa?next="+url.QueryEscape("/portal/signin?workspace="+e.f.WS.Slug), "title.signin_customer")
		c.do(fill("#f-email", e.f.Customer.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		c.open("/portal/requests/new", "title.new_request")
		c.do(chromedp.SendKeys(chromedp.CSS("#f-subject"), subject), chromedp.SendKeys(chromedp.CSS("#f-body"), text))
		err := a.DB.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE customer_id = $1`, e.f.Customer.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		c.submit(`form[action="/portal/requests"] button[type=submit]`, "title.signin_customer")
		c.do(fill("#f-email", e.f.Customer.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.new_request")
		if got := c.eval(`[document.querySelector("#f-subject").value, document.querySelector("#f-body").value]`).([]any); got[0] != subject || got[1] != text {
			t.Fatalf("the form holds %q, want what was typed before", got)
		}
		before := e.stored().tickets
		c.submit(`form[action="/portal/requests"] button[type=submit]`, "title.request")
		if n := e.stored().tickets - before; n != 1 {
			t.Fatalf("%d requests made, want 1", n)
		}
		if n := c.eval(`Object.keys(sessionStorage).filter(k => k.startsWith("hesar.draft.")).length`); n != float64(0) {
			t.Fatalf("%v drafts kept after the request was made", n)
		}
		e.seal()
	})
}
