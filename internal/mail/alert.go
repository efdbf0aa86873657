package mail

import (
	"fmt"
	"time"
)

// AlertMail is the data of a security_alert mail to an admin. Title and
// Explanation come from the monitor, in English; the template frames them
// in the recipient's language.
type AlertMail struct {
	Name        string // the recipient's name; optional
	Workspace   string // the workspace (company) name
	ID          int64  // the alert's id, as the dashboard shows it
	Rule        string // the detector, e.g. "brute_force"
	Severity    string // low, medium, high or critical
	Title       string
	Explanation string
	FirstSeen   time.Time // in the zone to show
	Link        string    // the security dashboard; optional
}

// AlertKinds lists the templates Render fills with an AlertMail.
var AlertKinds = []string{"security_alert"}

// RenderAlert renders a security_alert mail for a recipient of locale.
func RenderAlert(locale string, a AlertMail) (subject, body string, err error) {
	return Render("security_alert", locale, a)
}

// severityFa and ruleFa name the monitor's severities and detectors in
// Persian (the severities as the web pages name them). A name missing here is shown as it is, so a rule added to the
// monitor still mails, only less well (the monitor's tests check every
// rule has a name).
var severityFa = map[string]string{"low": "پایین", "medium": "متوسط", "high": "بالا", "critical": "بحرانی"}

var ruleFa = map[string]string{
	"brute_force":          "حدس زدن گذرواژهٔ یک حساب",
	"password_spraying":    "امتحان گذرواژه روی حساب‌های بسیار از یک نشانی",
	"impossible_travel":    "سفر ناممکن",
	"concurrent_countries": "نشست‌های هم‌زمان از دو کشور",
	"new_signin":           "ورود از دستگاه یا کشور تازه",
	"exfiltration":         "دسترسی انبوه به داده‌ها",
	"mfa_removed":          "حذف تأیید دومرحله‌ای",
	"recovery_code_used":   "ورود با کد بازیابی",
	"privilege_raised":     "بالا رفتن نقش کاربر",
	"wide_token":           "توکن API با دسترسی گسترده",
	"admin_off_hours":      "ورود مدیر بیرون از ساعت کاری",
	"policy_weakened":      "تضعیف سیاست ورود",
}

// severityName and ruleName are the templates' "severity" and "rule".
// English shows the monitor's own words, which the dashboard and webhook
// use too; Persian shows a Persian name, with the rule's code beside it
// so it can be matched on the dashboard.
func severityName(locale string) func(string) string {
	return func(s string) string {
		if n, ok := severityFa[s]; ok && locale == "fa" {
			return n
		}
		return s
	}
}

func ruleName(locale string) func(string) string {
	return func(r string) string {
		if n, ok := ruleFa[r]; ok && locale == "fa" {
			return n + " (" + r + ")"
		}
		return r
	}
}

func number(locale string) func(int64) string {
	return func(n int64) string {
		if locale == "fa" {
			return persianDigits(fmt.Sprint(n))
		}
		return fmt.Sprint(n)
	}
}
