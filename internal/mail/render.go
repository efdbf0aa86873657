package mail

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
)

// AccountMail is the data of every identity mail. Fields a kind does not
// use are ignored; empty optional fields are left out of the text.
type AccountMail struct {
	Name      string        // the recipient's name; optional
	Workspace string        // the workspace (company) name
	Link      string        // the one link the mail carries
	ExpiresIn time.Duration // how long Link works (verify, reset, sign-in)
	IP        string        // where an event came from (security notices)
	Device    string        // e.g. "Firefox on Windows"
	Place     string        // e.g. "Tehran, Iran"
	When      time.Time     // when it happened, in the zone to show
}

// Kinds lists the templates Render knows.
var Kinds = []string{"verify_email", "password_reset", "invitation", "signin_link", "account_locked", "password_changed", "mfa_changed", "new_signin"}

// linkRequired are the kinds whose whole point is the link.
var linkRequired = map[string]bool{"verify_email": true, "password_reset": true, "invitation": true, "signin_link": true}

//go:embed templates
var templateFS embed.FS

// templates[locale][kind], parsed once; each file defines "subject" and
// "body" and may use the locale's "common.txt".
var templates = parseTemplates(append(slices.Clone(Kinds), AlertKinds...))

// parseTemplates parses each kind's file for each locale with that
// locale's common.txt (greeting, footer).
func parseTemplates(kinds []string) map[string]map[string]*template.Template {
	out := map[string]map[string]*template.Template{}
	for _, locale := range []string{"en", "fa"} {
		out[locale] = map[string]*template.Template{}
		for _, kind := range kinds {
			t := template.New(kind).Funcs(funcsFor(locale)).Option("missingkey=error")
			out[locale][kind] = template.Must(t.ParseFS(templateFS,
				"templates/"+locale+"/common.txt", "templates/"+locale+"/"+kind+".txt"))
		}
	}
	return out
}

// Render fills the template of kind in locale ("fa" or "en"; anything else
// is English) with data: an AccountMail for Kinds, an AlertMail for
// AlertKinds. The subject comes back as one line.
func Render(kind, locale string, data any) (subject, body string, err error) {
	if locale != "fa" {
		locale = "en"
	}
	t, ok := templates[locale][kind]
	if !ok {
		return "", "", fmt.Errorf("mail: no template for kind %q", kind)
	}
	if a, ok := data.(AccountMail); ok && linkRequired[kind] && a.Link == "" {
		return "", "", fmt.Errorf("mail: %s needs a link", kind)
	}
	if _, ok := data.(AlertMail); !ok && slices.Contains(AlertKinds, kind) {
		return "", "", fmt.Errorf("mail: %s needs an AlertMail", kind)
	}
	return execute(t, locale, kind, data)
}

// execute renders a parsed mail: its subject as one line, its body tidied.
func execute(t *template.Template, locale, kind string, data any) (subject, body string, err error) {
	var s, b bytes.Buffer
	if err := t.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s/%s subject: %w", locale, kind, err)
	}
	if err := t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", fmt.Errorf("mail: render %s/%s body: %w", locale, kind, err)
	}
	return oneLine(s.String()), tidyBody(b.String()), nil
}

// oneLine collapses a rendered subject, whatever names went into it, to a
// single line of single spaces.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unsafeHeaderRune(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// tidyBody trims template whitespace: no trailing spaces, at most one
// blank line in a row, one final newline.
func tidyBody(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

func funcsFor(locale string) template.FuncMap {
	f := template.FuncMap{"duration": durationEn, "when": whenEn,
		"severity": severityName(locale), "rule": ruleName(locale), "number": number(locale)}
	if locale == "fa" {
		f["duration"], f["when"] = durationFa, whenFa
	}
	return f
}

// durationParts splits d into the one unit a reader needs.
func durationParts(d time.Duration) (n int, unit string) {
	switch {
	case d >= 48*time.Hour:
		return int(d.Round(24*time.Hour) / (24 * time.Hour)), "day"
	case d >= 2*time.Hour:
		return int(d.Round(time.Hour) / time.Hour), "hour"
	case d >= time.Minute:
		return int(d.Round(time.Minute) / time.Minute), "minute"
	}
	return 1, "minute"
}

func durationEn(d time.Duration) string {
	n, unit := durationParts(d)
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func durationFa(d time.Duration) string {
	n, unit := durationParts(d)
	name := map[string]string{"day": "روز", "hour": "ساعت", "minute": "دقیقه"}[unit]
	return persianDigits(fmt.Sprint(n)) + " " + name
}

func whenEn(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("Monday 2 January 2006, 15:04 MST")
}

var jalaliMonths = [...]string{"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"}

// whenFa writes t in the Persian (Jalali) calendar with Persian digits,
// e.g. "۱۵ خرداد ۱۴۰۴، ساعت ۱۴:۰۵ (UTC)".
func whenFa(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	jy, jm, jd := toJalali(t.Year(), int(t.Month()), t.Day())
	return persianDigits(fmt.Sprintf("%d %s %d، ساعت %02d:%02d (%s)", jd, jalaliMonths[jm-1], jy, t.Hour(), t.Minute(), t.Format("MST")))
}

// toJalali converts a Gregorian date to the Solar Hijri (Jalali) calendar
// (the arithmetic of the widely used jdf algorithm, valid for 1600–3000).
func toJalali(gy, gm, gd int) (jy, jm, jd int) {
	gdm := [...]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}
	gy2 := gy
	if gm > 2 {
		gy2 = gy + 1
	}
	days := 355666 + 365*gy + (gy2+3)/4 - (gy2+99)/100 + (gy2+399)/400 + gd + gdm[gm-1]
	jy = -1595 + 33*(days/12053)
	days %= 12053
	jy += 4 * (days / 1461)
	days %= 1461
	if days > 365 {
		jy += (days - 1) / 365
		days = (days - 1) % 365
	}
	if days < 186 {
		return jy, 1 + days/31, 1 + days%31
	}
	return jy, 7 + (days-186)/30, 1 + (days-186)%30
}

func persianDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + (r - '0')
		}
		return r
	}, s)
}
