package identity

import (
	"context"
	"time"

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/mail"
)

// Mails the identity service sends (mail template kinds).
const (
	mailVerifyEmail     = "verify_email"
	mailPasswordReset   = "password_reset"
	mailInvitation      = "invitation"
	mailSignInLink      = "signin_link"
	mailAccountLocked   = "account_locked"
	mailPasswordChanged = "password_changed"
	mailMFAChanged      = "mfa_changed"
)

type accountMailData struct {
	Link     string
	Expires  time.Duration
	IP       string
	Device   string
	Failures int
}

// mailAccount renders a mail in the account's language and queues it in
// the same write as the change it reports.
func (s *Service) mailAccount(ctx context.Context, tx *db.Tx, a account, kind string, d accountMailData) error {
	if s.mail == nil {
		return nil
	}
	wsName, err := s.workspaceName(ctx, a.workspaceID)
	if err != nil {
		return err
	}
	subject, body, err := mail.Render(kind, a.locale, mail.AccountMail{Name: a.name, Workspace: wsName, Link: d.Link,
		ExpiresIn: d.Expires, IP: d.IP, Device: d.Device, When: time.Now()})
	if err != nil {
		return err
	}
	return s.mail.Enqueue(ctx, tx, mail.Message{WorkspaceID: a.workspaceID, Kind: kind, To: a.email, Subject: subject, Body: body})
}

// mailLink makes a link for a and mails it, in one write.
func (s *Service) mailLink(ctx context.Context, a account, purpose, kind string) error {
	return s.db.Write(ctx, func(tx *db.Tx) error {
		link, err := s.newLink(ctx, tx, a, purpose)
		if err != nil {
			return err
		}
		return s.mailAccount(ctx, tx, a, kind, accountMailData{Link: link, Expires: linkLifetime[purpose]})
	})
}

func (s *Service) sendVerification(ctx context.Context, a account) error {
	return s.mailLink(ctx, a, LinkVerifyEmail, mailVerifyEmail)
}

// background runs work that must not change how long a response takes
// (whether an account exists decides what it does), with its own deadline.
// Tests wait for it with WaitBackground.
func (s *Service) background(what string, f func(ctx context.Context) error) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			s.log.Error("identity background work failed", "work", what, "error", err.Error())
		}
	}()
}

// WaitBackground waits for background work started so far (tests, and
// shutdown).
func (s *Service) WaitBackground() { s.bg.Wait() }
