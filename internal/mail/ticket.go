package mail

import (
	"fmt"
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

// ticketTemplates[locale][kind], parsed once like the account mails.
var ticketTemplates = parseTemplates(TicketKinds)

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
	return execute(t, locale, kind, data)
}
