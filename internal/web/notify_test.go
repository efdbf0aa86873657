package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/testutil/smtpd"
)

var requestLink = regexp.MustCompile(`http://localhost:8080(/portal/requests/[0-9]+)`)

// requestMails are the mails about requests addr has received, after
// sending what is due.
func (e *env) requestMails(addr string) []smtpd.Received {
	e.t.Helper()
	e.deliver()
	var out []smtpd.Received
	for _, m := range e.smtp.Messages() {
		if len(m.To) == 1 && strings.EqualFold(m.To[0], addr) && requestLink.MatchString(m.Body) {
			out = append(out, m)
		}
	}
	return out
}

// TestPortalRequestAndConsoleReplyAreMailedAndTheLinkOpensTheRequest: a
// request opened on the portal is acknowledged by mail; an agent's reply
// in the console is announced once (a note never), in the customer's
// language, without the text; the mail's link leads, through sign-in, to
// the request.
func TestPortalRequestAndConsoleReplyAreMailedAndTheLinkOpensTheRequest(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		e := newEnv(t, a)
		const pw = "a long customer passphrase 42"
		e.customerPassword(e.f.Customer.ID, pw)
		addr := e.f.Customer.Email
		c := e.client("en")
		c.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {addr}, "password": {pw}}).redirect(t, "/portal/")
		// Choosing English on the portal is saved with the account, and
		// so decides the language of the mail.
		c.get("/lang/en?next=/portal/").redirect(t, "/portal/")
		res := c.postFiles("/portal/requests", url.Values{"subject": {"Passport 4471 renewal"}, "body": {"My passport number is X1234567"}}).
			redirect(t, "/portal/requests/")
		page := strings.SplitN(res.location, "?", 2)[0]
		number := strings.TrimPrefix(page, "/portal/requests/")

		got := e.requestMails(addr)
		if len(got) != 1 || got[0].Subject != "We received your request #"+number+" ("+e.f.WS.Name+")" {
			t.Fatalf("receipt: %d mails %+v", len(got), got)
		}

		var dept int64
		if err := a.DB.Read().QueryRowContext(ctx, `SELECT department_id FROM tickets WHERE workspace_id = $1 AND number = $2`, e.f.WS.ID, number).Scan(&dept); err != nil {
			t.Fatal(err)
		}
		agent := e.staff("agent", "replier", "agent passphrase long enough 1", dept)
		g := e.signInStaff("en", agent.Email, "agent passphrase long enough 1")
		console := "/console/tickets/" + number
		g.postFiles(console+"/messages", url.Values{"kind": {"note"}, "body": {"internal: passport X1234567"}}).redirect(t, console)
		if got := e.requestMails(addr); len(got) != 1 {
			t.Fatalf("a note mailed the customer: %d mails", len(got))
		}
		g.postFiles(console+"/messages", url.Values{"kind": {"reply"}, "body": {"Your passport X1234567 is renewed"}}).redirect(t, console)
		g.postFiles(console+"/messages", url.Values{"kind": {"reply"}, "body": {"Pick it up on Monday"}}).redirect(t, console)
		got = e.requestMails(addr)
		if len(got) != 2 {
			t.Fatalf("two quick replies: %d mails in all, want the receipt and one answer", len(got))
		}
		answer := got[1]
		if answer.Subject != "New answer to your request #"+number+" ("+e.f.WS.Name+")" {
			t.Fatalf("answer mail subject %q", answer.Subject)
		}
		for _, m := range got {
			for _, secret := range []string{"Passport", "4471", "X1234567", "renewed", "Monday", "internal"} {
				if strings.Contains(m.Subject+m.Body+string(m.Data), secret) {
					t.Errorf("mail %q carries %q", m.Subject, secret)
				}
			}
		}

		// The link, opened in a browser that is not signed in, asks for
		// sign-in, which then leads to the request with the answer.
		link := requestLink.FindStringSubmatch(answer.Body)[1]
		if link != page {
			t.Fatalf("link %q, want %q", link, page)
		}
		fresh := e.client("en")
		signin := fresh.get(fresh.get(link).redirect(t, "/portal/signin").location).page(t, "en").body
		next := hiddenNext.FindStringSubmatch(signin)
		if next == nil {
			t.Fatalf("the sign-in page does not carry where to go next: %.2000s", signin)
		}
		landed := fresh.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {addr}, "password": {pw}, "next": {next[1]}}).
			redirect(t, "/portal/").location
		if landed != link {
			t.Errorf("after sign-in the browser went to %q, not to the request %q", landed, link)
		}
		body := fresh.get(link).page(t, "en").body
		if !strings.Contains(body, "Pick it up on Monday") || !strings.Contains(body, "Passport 4471 renewal") || strings.Contains(body, "internal: passport") {
			t.Fatalf("request page from the mail's link: %.2000s", body)
		}

		// The replies are audited as ever, with the mail in the same write.
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		recs, err := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: "ticket.reply", Limit: 10})
		if err != nil || len(recs) != 2 || recs[0].ActorID != agent.ID {
			t.Fatalf("audit of the replies: %d %v", len(recs), err)
		}
	})
}
