package mail

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// FuzzHeaderGuard checks the promise of Enqueue and buildMessage together:
// whatever the recipient and subject, either the message is refused, or it
// is built into a message whose header has exactly the fields we wrote,
// whose To and Subject read back as given, and whose lines are short and
// 7-bit. No input can add a header or a recipient.
func FuzzHeaderGuard(f *testing.F) {
	seeds := [][2]string{
		{"a@example.com", "Hello"},
		{"Sara <sara@example.com>", "بازنشانی گذرواژهٔ حساب شما"},
		{"\"سارا احمدی\" <sara@example.com>", "ورود تازه به حساب شما در شرکت نمونه با نامی بسیار بسیار بسیار بسیار بسیار بلند"},
		{"a@example.com", "Hi\r\nBcc: evil@example.com"},
		{"a@example.com", "Hi\nBcc: evil@example.com"},
		{"a@example.com", "Hi\rX: y"},
		{"a@example.com\r\nBcc: evil@example.com", "Hi"},
		{"\"A\r\nBcc: x@y\" <a@example.com>", "Hi"},
		{"a@example.com", "=?utf-8?b?QmNjOiBldmlsQGV4YW1wbGUuY29t?="},
		{"a@example.com", "line\u2028separator"},
		{"a@example.com", "tab\there"},
		{"a@example.com, b@example.com", "Hi"},
		{"<a@example.com>", strings.Repeat("x", 400)},
		{"a@example.com", "\xff\xfe"},
		{"a@example.com", "0 "},
		{"a@example.com", "  lead and  double  spaces " + strings.Repeat("word ", 30)},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	from := &mail.Address{Name: "Hesar", Address: "noreply@hesar.test"}
	f.Fuzz(func(t *testing.T, to, subject string) {
		m := Message{WorkspaceID: 1, Kind: "k", To: to, Subject: subject, Body: "body"}
		validErr := m.validate()
		env, buildErr := buildMessage(from, m, time.Unix(0, 0))
		if strings.ContainsAny(to+subject, "\r\n") && (validErr == nil || buildErr == nil) {
			t.Fatalf("a line break was accepted: validate=%v build=%v", validErr, buildErr)
		}
		if validErr != nil || buildErr != nil {
			return
		}
		msg, err := mail.ReadMessage(bytes.NewReader(env.data))
		if err != nil {
			t.Fatalf("built message does not parse: %v\n%q", err, env.data)
		}
		want := []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "X-Auto-Response-Suppress"}
		if len(msg.Header) != len(want) {
			t.Fatalf("header has %d fields, want %d: %v", len(msg.Header), len(want), msg.Header)
		}
		for _, k := range want {
			if len(msg.Header[k]) != 1 {
				t.Fatalf("header %s appears %d times", k, len(msg.Header[k]))
			}
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Fatalf("subject reads back as %q (%v), want %q", got, err, subject)
		}
		addrs, err := msg.Header.AddressList("To")
		want1, _ := mail.ParseAddress(to)
		if err != nil || len(addrs) != 1 || addrs[0].Address != want1.Address || addrs[0].Name != want1.Name {
			t.Fatalf("To reads back as %v (%v), want %v", addrs, err, want1)
		}
		if env.to != want1.Address || strings.ContainsAny(env.to, "\r\n<>") {
			t.Fatalf("RCPT TO would be %q", env.to)
		}
		for _, line := range bytes.Split(env.data, []byte("\r\n")) {
			if len(line) > 998 {
				t.Fatalf("a line is %d octets", len(line))
			}
			for _, c := range line {
				if c >= 0x80 || c == '\r' || c == '\n' || c == 0 {
					t.Fatalf("line holds octet %#x: %q", c, line)
				}
			}
		}
	})
}
