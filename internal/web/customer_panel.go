package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/ticket"
)

// CustomerPanel is the ticket page's card about the customer: who they
// are and their other requests. The email address and phone number are
// shown masked until the agent asks to see them, after confirming who
// they are (step-up) and saying why; the reveal is recorded with its
// reason (ticket.RevealContact) and the read like the API's.
type CustomerPanel struct {
	Name         string
	Email, Phone string
	// Shown says Email and Phone are whole (the agent asked, and it was
	// recorded); otherwise they are masked.
	Shown bool
	Since time.Time
	// Others are the customer's other tickets the agent may open, newest
	// first; More says there are more than these.
	Others []TicketRow
	More   bool
	// RevealURL is where the reveal form posts; Reason and ReasonError
	// are what a refused form said.
	RevealURL   string
	Reason      string
	ReasonError string
	// NeedsStepUp says the reveal will ask the agent to confirm who they
	// are first (their session's last check is too old).
	NeedsStepUp bool
}

// customerPanelOthers is how many other requests the panel lists.
const customerPanelOthers = 5

// customerPanel builds the panel of ticket t's customer for a person
// holding customer.read (nil for anyone else). show asks for the contact
// details unmasked, after ticket.RevealContact recorded why: the read is
// recorded too, first, and a read that cannot be recorded shows nothing.
func (s *Server) customerPanel(r *http.Request, q *req, t ticket.Ticket, show bool) (*CustomerPanel, error) {
	ctx, scope := r.Context(), q.P.Scope
	if !scope.Can(access.CustomerRead) {
		return nil, nil
	}
	c, err := s.customers.Get(ctx, scope, t.CustomerID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil // a customer out of reach leaves the card out, not the ticket
	}
	if err != nil {
		return nil, err
	}
	p := &CustomerPanel{Name: c.Name, Since: c.CreatedAt, RevealURL: "/console/tickets/" + strconv.FormatInt(t.Number, 10) + "/contact",
		NeedsStepUp: !q.P.Session.Fresh(nowFunc())}
	if show {
		if err := s.recordRead(r, scope.WorkspaceID, "customer.view", "customer", c.ID,
			map[string]string{"via": "console", "number": strconv.FormatInt(t.Number, 10)}); err != nil {
			return nil, err
		}
		p.Email, p.Phone, p.Shown = c.Email, c.Phone, true
	} else {
		p.Email, p.Phone = maskEmail(c.Email), maskPhone(c.Phone)
	}
	p.Others, p.More, err = s.otherRequests(ctx, q, scope, c, t.Number)
	return p, err
}

// revealContact shows the ticket's customer's whole contact details,
// once the agent has confirmed who they are and said why. A POST, so a
// link cannot make anyone reveal anything, and the answer is not cached.
func (s *Server) revealContact(w http.ResponseWriter, r *http.Request, q *req) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := "/console/tickets/" + strconv.FormatInt(n, 10)
	if !q.P.Session.Fresh(nowFunc()) {
		return seeOther(w, r, "/auth/step-up?next="+url.QueryEscape(back+"#customer"))
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	_, rerr := s.tickets.RevealContact(r.Context(), q.P.Scope, n, reason)
	if rerr != nil {
		fe, ok := fieldErrors(q.L, rerr)
		if !ok {
			return rerr
		}
		v, err := s.consoleView(r, q, n, false)
		if err != nil {
			return err
		}
		if v.CustomerPanel != nil {
			v.CustomerPanel.Reason, v.CustomerPanel.ReasonError = reason, fe.Get("reason")
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "console_ticket", v)
	}
	v, err := s.consoleView(r, q, n, true)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, "console_ticket", v)
}

// otherRequests lists the customer's other tickets in the agent's scope.
func (s *Server) otherRequests(ctx context.Context, q *req, scope access.Scope, c customer.Customer, except int64) ([]TicketRow, bool, error) {
	page, err := s.tickets.List(ctx, scope, ticket.Filter{CustomerID: c.ID, Limit: customerPanelOthers + 2})
	if err != nil {
		return nil, false, err
	}
	var out []TicketRow
	for _, t := range page.Tickets {
		if t.Number == except {
			continue
		}
		row := TicketRow{Number: t.Number, Status: t.Status, Priority: t.Priority, UpdatedAt: t.UpdatedAt,
			URL: "/console/tickets/" + strconv.FormatInt(t.Number, 10)}
		if scope.Can(access.TicketContent) {
			row.Subject = t.Subject
		} else {
			row.Subject = q.L.T("ticket.number", q.L.Num(t.Number))
		}
		out = append(out, row)
	}
	more := len(out) > customerPanelOthers || page.NextCursor != ""
	if len(out) > customerPanelOthers {
		out = out[:customerPanelOthers]
	}
	return out, more, nil
}

// maskEmail keeps the first character of the mailbox and the domain:
// enough to tell two customers apart, too little to write to them.
func maskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return strings.Repeat("•", min(len([]rune(email)), 8))
	}
	first := []rune(email[:at])[0]
	return string(first) + "•••" + email[at:]
}

// maskPhone keeps the last two digits and the punctuation.
func maskPhone(phone string) string {
	digits := 0
	for _, r := range phone {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range phone {
		if unicode.IsDigit(r) {
			seen++
			if seen <= digits-2 {
				r = '•'
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
