package monitor

import (
	"context"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/mail"
)

// userMail tells an account holder about a sign-in from a new device or
// country.
type userMail struct {
	ws                int64
	kind              access.ActorKind
	id                int64
	ip, device, place string
	at                time.Time
}

// afterOpened mails and responds once the write that opened alerts has
// committed. Failures are logged: the alerts stand either way.
func (m *Monitor) afterOpened(ctx context.Context, st batchState, opened []openedAlert, mails []userMail) {
	var msgs []mail.Message
	for _, a := range opened {
		msgs = append(msgs, m.alertMail(ctx, st.settings[a.ws], a)...)
	}
	for _, u := range mails {
		if msg, ok := m.newSignInMail(ctx, u); ok {
			msgs = append(msgs, msg)
		}
	}
	if len(msgs) > 0 {
		err := m.o.DB.Write(ctx, func(tx *db.Tx) error {
			for _, msg := range msgs {
				if err := m.o.Mail.Enqueue(ctx, tx, msg); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			m.o.Log.Error("monitor: queue mail", "err", err)
		}
	}
	for _, a := range opened {
		m.respond(ctx, st.settings[a.ws], a)
	}
}

// alertMail is one message per recipient (the listed users, or else the
// workspace's admins) for an alert at or above the mailing severity, in
// each recipient's language.
func (m *Monitor) alertMail(ctx context.Context, s Settings, a openedAlert) []mail.Message {
	if severityRank(a.Severity) < severityRank(s.EmailSeverity) {
		return nil
	}
	ids := s.Recipients
	if len(ids) == 0 {
		var err error
		if ids, err = m.o.Accounts.Admins(ctx, a.ws); err != nil {
			m.o.Log.Error("monitor: alert recipients", "alert_id", a.ID, "err", err)
			return nil
		}
	}
	var out []mail.Message
	for _, id := range ids {
		c, err := m.o.Accounts.Contact(ctx, a.ws, access.ActorUser, id)
		if err != nil || c.Email == "" {
			m.o.Log.Warn("monitor: no address for an alert recipient", "alert_id", a.ID, "user_id", id)
			continue
		}
		subject, body, err := mail.RenderAlert(c.Locale, mail.AlertMail{Name: c.Name, Workspace: c.Workspace, ID: a.ID, Rule: a.Rule,
			Severity: a.Severity, Title: a.Title, Explanation: a.Explanation, FirstSeen: a.FirstSeen.UTC(), Link: m.o.DashboardURL})
		if err != nil {
			m.o.Log.Error("monitor: render alert mail", "alert_id", a.ID, "err", err)
			continue
		}
		out = append(out, mail.Message{WorkspaceID: a.ws, Kind: "security_alert", To: address(c), Subject: subject, Body: body})
	}
	return out
}

func address(c Contact) string {
	return (&netmail.Address{Name: c.Name, Address: c.Email}).String()
}

func (m *Monitor) newSignInMail(ctx context.Context, u userMail) (mail.Message, bool) {
	c, err := m.o.Accounts.Contact(ctx, u.ws, u.kind, u.id)
	if err != nil || c.Email == "" {
		m.o.Log.Warn("monitor: no address for a new sign-in notice", "account_kind", string(u.kind), "account_id", u.id)
		return mail.Message{}, false
	}
	subject, body, err := mail.Render("new_signin", c.Locale, mail.AccountMail{Name: c.Name, Workspace: c.Workspace, Link: m.o.SessionsURL,
		IP: u.ip, Device: u.device, Place: u.place, When: u.at})
	if err != nil {
		m.o.Log.Error("monitor: render new sign-in mail", "err", err)
		return mail.Message{}, false
	}
	return mail.Message{WorkspaceID: u.ws, Kind: "new_signin", To: address(c), Subject: subject, Body: body}, true
}

// respond takes the rule's automatic responses on the alert's account and
// records what was done.
func (m *Monitor) respond(ctx context.Context, s Settings, a openedAlert) {
	resp := s.Rules[a.Rule].Response
	if len(resp) == 0 || a.AccountID == 0 {
		return
	}
	var done []string
	for _, r := range resp {
		if m.o.Responder == nil {
			done = append(done, r+" (not wired)")
			continue
		}
		var err error
		switch r {
		case RespondRevokeSessions:
			err = m.o.Responder.RevokeSessions(ctx, a.ws, a.AccountKind, a.AccountID)
		case RespondLock:
			err = m.o.Responder.Lock(ctx, a.ws, a.AccountKind, a.AccountID)
		case RespondRequireMFA:
			err = m.o.Responder.RequireMFA(ctx, a.ws, a.AccountKind, a.AccountID)
		}
		if err != nil {
			m.o.Log.Error("monitor: automatic response failed", "alert_id", a.ID, "response", r, "err", err)
			done = append(done, r+" (failed)")
			continue
		}
		done = append(done, r)
	}
	err := m.o.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE monitor_alerts SET response = $1 WHERE id = $2`, strings.Join(done, ", "), a.ID)
		return err
	})
	if err != nil {
		m.o.Log.Error("monitor: record response", "alert_id", a.ID, "err", err)
	}
}
