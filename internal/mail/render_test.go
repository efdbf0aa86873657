package mail_test

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hesar/hesar/internal/mail"
)

func TestEveryKindRendersInBothLocalesWithItsLink(t *testing.T) {
	full := mail.AccountMail{
		Name: "Sara", Workspace: "Acme", Link: "https://desk.example.com/l/tok3n", ExpiresIn: 30 * time.Minute,
		IP: "203.0.113.9", Device: "Firefox on Linux", Place: "Tehran, Iran", When: time.Date(2025, 3, 21, 10, 4, 0, 0, time.UTC),
	}
	minimal := mail.AccountMail{Workspace: "Acme", Link: "https://desk.example.com/l/tok3n"}
	for _, locale := range []string{"en", "fa"} {
		for _, kind := range mail.Kinds {
			for name, data := range map[string]mail.AccountMail{"full": full, "minimal": minimal} {
				subject, body, err := mail.Render(kind, locale, data)
				if err != nil {
					t.Errorf("%s/%s/%s: %v", locale, kind, name, err)
					continue
				}
				where := locale + "/" + kind + "/" + name
				if !strings.Contains(body, data.Link) {
					t.Errorf("%s: body lacks the link", where)
				}
				for _, bad := range []string{"<no value>", "{{", "}}", "%!"} {
					if strings.Contains(subject+body, bad) {
						t.Errorf("%s: output holds %q", where, bad)
					}
				}
				if subject == "" || strings.ContainsAny(subject, "\r\n") || !strings.Contains(subject, "Acme") {
					t.Errorf("%s: subject %q", where, subject)
				}
				if locale == "fa" && !hasPersian(subject) {
					t.Errorf("%s: Persian subject %q has no Persian letters", where, subject)
				}
				if locale == "en" && hasPersian(body) {
					t.Errorf("%s: English body has Persian text", where)
				}
				if name == "full" && (kind == "new_signin" || kind == "account_locked") && !strings.Contains(body, "203.0.113.9") {
					t.Errorf("%s: body lacks the IP", where)
				}
			}
		}
	}
}

func hasPersian(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
	return false
}

func TestRenderDetails(t *testing.T) {
	data := mail.AccountMail{Workspace: "Acme", Link: "https://x.test/l", ExpiresIn: 2 * time.Hour, When: time.Date(2025, 3, 21, 10, 4, 0, 0, time.UTC)}
	_, fa, err := mail.Render("password_reset", "fa", data)
	if err != nil || !strings.Contains(fa, "۲ ساعت") {
		t.Errorf("fa expiry: %v\n%s", err, fa)
	}
	_, fa, _ = mail.Render("new_signin", "fa", data)
	if !strings.Contains(fa, "۱ فروردین ۱۴۰۴") {
		t.Errorf("fa date is not Jalali with Persian digits:\n%s", fa)
	}
	_, en, _ := mail.Render("password_reset", "de", data)
	if !strings.Contains(en, "expires in 2 hours") {
		t.Errorf("unknown locale should be English:\n%s", en)
	}
	if _, _, err := mail.Render("password_reset", "en", mail.AccountMail{Workspace: "Acme"}); err == nil {
		t.Error("a reset mail without a link rendered")
	}
	if _, _, err := mail.Render("no_such_kind", "en", data); err == nil {
		t.Error("an unknown kind rendered")
	}
	s, _, _ := mail.Render("signin_link", "en", mail.AccountMail{Workspace: "Evil\r\nBcc: x@y", Link: "https://x.test/l"})
	if strings.ContainsAny(s, "\r\n") {
		t.Errorf("a line break in the workspace name reached the subject: %q", s)
	}
}

func TestSecurityAlertFramesTheEnglishAlertInTheRecipientsLanguage(t *testing.T) {
	a := mail.AlertMail{Name: "Sara", Workspace: "Acme", ID: 4711, Rule: "policy_weakened", Severity: "high",
		Title: "Sign-in policy weakened by user #12", Explanation: "The workspace's sign-in policy was weakened by user #12.",
		FirstSeen: time.Date(2025, 3, 21, 10, 4, 0, 0, time.UTC), Link: "https://desk.example.com/admin/security"}
	subject, body, err := mail.RenderAlert("fa", a)
	if err != nil {
		t.Fatal(err)
	}
	if want := "هشدار امنیتی (بالا) در Acme: Sign-in policy weakened by user #12"; subject != want {
		t.Errorf("fa subject %q, want %q", subject, want)
	}
	for _, part := range []string{"Sara گرامی", "«بالا»", a.Title, a.Explanation, "شمارهٔ ۴۷۱۱", "تضعیف سیاست ورود (policy_weakened)",
		"۱ فروردین ۱۴۰۴", a.Link} {
		if !strings.Contains(body, part) {
			t.Errorf("fa body lacks %q:\n%s", part, body)
		}
	}
	subject, body, err = mail.RenderAlert("en", a)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Security alert (high): Sign-in policy weakened by user #12" || hasPersian(subject+body) {
		t.Errorf("en subject %q", subject)
	}
	for _, part := range []string{"high security alert in Acme", a.Explanation, "Alert #4711, rule policy_weakened", a.Link} {
		if !strings.Contains(body, part) {
			t.Errorf("en body lacks %q:\n%s", part, body)
		}
	}
	// Without a dashboard link, and for a rule the mail does not know yet.
	a.Link, a.Rule, a.FirstSeen = "", "some_new_rule", time.Time{}
	for _, locale := range []string{"en", "fa"} {
		_, body, err := mail.RenderAlert(locale, a)
		if err != nil || !strings.Contains(body, "some_new_rule") || strings.Contains(body, "<no value>") {
			t.Errorf("%s without link: %v\n%s", locale, err, body)
		}
	}
	if _, _, err := mail.Render("security_alert", "en", mail.AccountMail{Workspace: "Acme"}); err == nil {
		t.Error("an alert mail rendered from account data")
	}
}
