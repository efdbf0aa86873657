package mail

import (
	"bytes"
	"fmt"
	"text/template"
)

// TicketMail is the data of a mail to a customer about one of their
// requests. It holds no subject and no message text on purpose: mail is a
// weaker channel than the portal (it is forwarded, kept in other people's
// systems, read on shared screens), so the mail only says that something
// happened and links to the portal, where the customer signs in to read it.
type TicketMail struct {
	Name      string // the customer's name; optional
	Workspace string // the workspace (company) name
	Number    int64  // the request's number, as the portal shows it
	Link      string // the request's page on the portal
}

// Ticket mail kinds.
const (
	// KindTicketReceived acknowledges a new request.
	KindTicketReceived = "ticket_received"
	// KindTicketAnswered says staff answered a request.
	KindTicketAnswered = "ticket_answered"
)

// TicketKinds lists the templates RenderTicket knows.
var TicketKinds = []string{KindTicketReceived, KindTicketAnswered}

// ticketTemplates[locale][kind], parsed once like the account mails, with
// the locale's common.txt (greeting, footer).
var ticketTemplates = func() map[string]map[string]*template.Template {
	out := map[string]map[string]*template.Template{}
	for _, locale := range []string{"en", "fa"} {
		out[locale] = map[string]*template.Template{}
		for _, kind := range TicketKinds {
			t := template.New(kind).Funcs(funcsFor(locale)).Option("missingkey=error")
			out[locale][kind] = template.Must(t.ParseFS(templateFS,
				"templates/"+locale+"/common.txt", "templates/"+locale+"/"+kind+".txt"))
		}
	}
	return out
}()

// RenderTicket fills the template of a ticket mail kind in locale ("fa" or
// "en"; anything else is English). The link is required: it is the mail's
// whole point.
func RenderTicket(kind, locale string, data TicketMail) (subject, body string, err error) {
	if locale != "fa" {
		locale = "en"
	}
	t, ok := ticketTemplates[locale][kind]
	if !ok {
		return "", "", fmt.Errorf("mail: no ticket template for kind %q", kind)
	}
	if data.Link == "" || data.Number <= 0 {
		return "", "", fmt.Errorf("mail: %s needs a link and a request number", kind)
	}
	var s, b bytes.Buffer
	if err := t.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s/%s subject: %w", locale, kind, err)
	}
	if err := t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s/%s body: %w", locale, kind, err)
	}
	return oneLine(s.String()), tidyBody(b.String()), nil
}
