// Package mail sends Hesar's own mail (sign-in links, password resets,
// security notices) through an outbox table.
//
// A message is written to mail_outbox in the same transaction as the change
// it reports ("no change without its mail"), with its recipient, subject and
// body sealed under the workspace key. A Deliverer claims due rows with a
// lease, so several instances can share the outbox, delivers them over SMTP
// with TLS required, retries with exponential backoff and wipes the body once
// it is sent, so no reset link stays in the database.
//
// Nothing here logs a recipient, subject or body: they hold personal data
// and working sign-in links. Log lines carry the message id and kind only.
package mail

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/errs"
)

// Message is one mail to send. Body is text/plain UTF-8.
type Message struct {
	WorkspaceID int64
	Kind        string // what the mail is for, e.g. "password_reset"; logged
	To          string // one address: "name@example.com" or "Name <name@example.com>"
	Subject     string
	Body        string
}

// Limits on what a message may hold.
const (
	maxSubject = 400     // characters
	maxBody    = 1 << 20 // bytes
	maxKind    = 64
)

// validate checks a message before it is stored. Every header value is
// checked here, at Enqueue, so a CR or LF smuggled into a recipient or a
// subject is refused where the caller can see it, never sent.
func (m Message) validate() error {
	var v errs.Validator
	if m.WorkspaceID <= 0 {
		v.Add("workspace_id", "is required")
	}
	if !validKind(m.Kind) {
		v.Add("kind", "must be 1 to %d lowercase letters, digits or underscores", maxKind)
	}
	if _, err := parseRecipient(m.To); err != nil {
		v.Add("to", "%s", err.Error())
	}
	if err := checkHeaderText(m.Subject, maxSubject); err != nil {
		v.Add("subject", "%s", err.Error())
	} else if strings.TrimSpace(m.Subject) == "" {
		v.Add("subject", "is required")
	}
	switch {
	case !utf8.ValidString(m.Body):
		v.Add("body", "must be valid UTF-8 text")
	case strings.ContainsRune(m.Body, 0):
		v.Add("body", "must not contain NUL characters")
	case len(m.Body) > maxBody:
		v.Add("body", "must be at most %d bytes", maxBody)
	}
	return v.Err()
}

func validKind(k string) bool {
	if k == "" || len(k) > maxKind {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkHeaderText refuses what could end a header line or confuse a mail
// reader: CR, LF and every other control character (Unicode line and
// paragraph separators and NEL included), and invalid UTF-8.
func checkHeaderText(s string, maxChars int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(s) > maxChars {
		return fmt.Errorf("must be at most %d characters", maxChars)
	}
	for _, r := range s {
		if unsafeHeaderRune(r) {
			return fmt.Errorf("must be a single line without control characters")
		}
	}
	return nil
}

func unsafeHeaderRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// parseRecipient accepts one address, optionally with a display name, and
// returns it parsed. The address itself must be ASCII: a mailbox that needs
// SMTPUTF8 is refused rather than sent to servers that may mangle it.
func parseRecipient(s string) (*mail.Address, error) {
	if err := checkHeaderText(s, 320); err != nil {
		return nil, err
	}
	return parseAddress(s)
}

func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address == "" {
		return nil, fmt.Errorf("must be one email address like name@example.com")
	}
	for _, r := range a.Address {
		if r >= utf8.RuneSelf || r <= ' ' {
			return nil, fmt.Errorf("must be an address in plain ASCII (internationalized addresses are not supported)")
		}
	}
	if !strings.Contains(a.Address, "@") || strings.HasPrefix(a.Address, "@") || strings.HasSuffix(a.Address, "@") {
		return nil, fmt.Errorf("must be one email address like name@example.com")
	}
	return a, nil
}
