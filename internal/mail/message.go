package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// envelope is a message ready for the wire: the SMTP envelope and the
// RFC 5322 text.
type envelope struct {
	from, to string // bare addresses for MAIL FROM and RCPT TO
	data     []byte
}

// buildMessage renders m as an RFC 5322 message from sender. Header values
// are checked again here (they were at Enqueue) so that nothing with a line
// break can reach the wire even if a row was written some other way.
func buildMessage(from *mail.Address, m Message, now time.Time) (envelope, error) {
	to, err := parseRecipient(m.To)
	if err != nil {
		return envelope{}, fmt.Errorf("recipient: %w", err)
	}
	if err := checkHeaderText(m.Subject, maxSubject); err != nil {
		return envelope{}, fmt.Errorf("subject: %w", err)
	}
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", formatAddress(from))
	header("To", formatAddress(to))
	header("Subject", encodeHeader(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", messageID(from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// RFC 3834: no vacation or out-of-office replies to machine mail.
	header("Auto-Submitted", "auto-generated")
	header("X-Auto-Response-Suppress", "All")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// The writer turns "\n" into CRLF; drop the CRs first so a CRLF body
	// does not become =0D.
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\r\n", "\n"))); err != nil {
		return envelope{}, err
	}
	if err := qp.Close(); err != nil {
		return envelope{}, err
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return envelope{from: from.Address, to: to.Address, data: b.Bytes()}, nil
}

// formatAddress writes an address header value; a non-ASCII display name is
// RFC 2047 encoded by net/mail.
func formatAddress(a *mail.Address) string {
	return (&mail.Address{Name: a.Name, Address: a.Address}).String()
}

// encodeHeader returns s as an unstructured header value: unchanged when it
// is printable ASCII, otherwise RFC 2047 base64 encoded-words (compact for
// Persian), folded onto continuation lines so no line passes 78 characters.
func encodeHeader(s string) string {
	if isPrintableASCII(s) {
		return foldASCII(s)
	}
	// RFC 2047 base64 encoded-words of at most 42 octets (56 base64
	// characters, 68 with the wrapper, 77 after "Subject: "), cut between
	// characters; readers ignore the folding whitespace between
	// encoded-words. mime.BEncoding is not used: it leaves ASCII that looks
	// like an encoded-word as it is.
	var b strings.Builder
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > 42 {
				break
			}
			n += size
		}
		if b.Len() > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString("=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s[:n])) + "?=")
		s = s[n:]
	}
	return b.String()
}

// foldASCII breaks a long ASCII value before single spaces so lines stay
// near 78 characters; unfolding gives back the same text. Runs of spaces
// are left alone, as unfolding would shorten them.
func foldASCII(s string) string {
	const width = 78 - len("Subject: ")
	var b strings.Builder
	line := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && line >= width/2 && i > 0 && s[i-1] != ' ' && i+1 < len(s) && s[i+1] != ' ' {
			next := strings.IndexByte(s[i+1:], ' ')
			if next < 0 {
				next = len(s) - i - 1
			}
			if line+1+next > width {
				b.WriteString("\r\n")
				line = 0
			}
		}
		b.WriteByte(s[i])
		line++
	}
	return b.String()
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	// An ASCII value that looks like an encoded-word would be decoded by
	// readers, and readers trim spaces at either end; encode those so they
	// show as written.
	return !strings.Contains(s, "=?") && strings.TrimSpace(s) == s
}

// messageID returns a fresh, globally unique Message-ID in the sender's
// domain.
func messageID(fromAddress string) string {
	domain := "hesar.invalid"
	if i := strings.LastIndexByte(fromAddress, '@'); i >= 0 && i < len(fromAddress)-1 {
		domain = fromAddress[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
