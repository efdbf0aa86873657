package web

import (
	"regexp"
	"strings"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/monitor"
)

// Alerts are stored with the detector's English title and explanation.
// Pages show them in the reader's language from the catalogs, by rule
// ("alert.<rule>.title", "alert.<rule>.text"), with the account's name
// filled in; the detector's own text, which carries the exact numbers,
// stays one click away. A rule the catalogs do not know (a detector newer
// than this page) shows its stored text.

// raisedTo finds the new role in a privilege_raised title ("… raised to admin").
var raisedTo = regexp.MustCompile(`raised to ([a-z]+)$`)

// volumeOf finds the kind of access in an exfiltration title ("Unusual
// volume of ticket.view by …").
var volumeOf = regexp.MustCompile(`^Unusual volume of ([a-z_.]+) by `)

// alertText returns the alert's title and explanation in l's language, and
// the detector's own report ("" when the title and explanation are it).
func alertText(l *Locale, a monitor.Alert, account string) (title, text, report string) {
	key := "alert." + a.Rule
	if !l.Has(key+".title") || !l.Has(key+".text") {
		return a.Title, a.Explanation, ""
	}
	titleKey := key + ".title"
	args := []any{account}
	switch a.Rule {
	case monitor.RulePrivilege:
		if m := raisedTo.FindStringSubmatch(a.Title); m != nil {
			if role, err := access.ParseRole(m[1]); err == nil {
				titleKey, args = key+".title_to", append(args, l.T("alert.role."+string(role)))
			}
		}
	case monitor.RuleExfiltration:
		if m := volumeOf.FindStringSubmatch(a.Title); m != nil && l.Has("access_kind."+m[1]) {
			titleKey, args = key+".title_kind", []any{l.T("access_kind." + m[1]), account}
		}
	case monitor.RuleNewSignIn:
		switch {
		case strings.Contains(a.Title, "new device in a new country"):
			titleKey = key + ".title_both"
		case strings.Contains(a.Title, "new country"):
			titleKey = key + ".title_country"
		}
	}
	return fill(l, titleKey, args...), fill(l, key+".text", account), a.Explanation
}

// fill is l.T with only as many arguments as the message has verbs, so a
// message that leaves the account out never shows Go's %!(EXTRA …).
func fill(l *Locale, key string, args ...any) string {
	n := strings.Count(l.msgs[key], "%s")
	return l.T(key, args[:min(n, len(args))]...)
}

// responseText writes the automatic responses an alert took ("lock,
// revoke_sessions (failed)") in l's language.
func responseText(l *Locale, stored string) string {
	if stored == "" {
		return ""
	}
	var out []string
	for _, item := range strings.Split(stored, ", ") {
		code, note, _ := strings.Cut(item, " (")
		if !l.Has("response." + code) {
			return stored
		}
		s := l.T("response." + code)
		switch note {
		case "":
		case "failed)":
			s = l.T("alerts.response_failed", s)
		case "not wired)":
			s = l.T("alerts.response_not_wired", s)
		default:
			return stored
		}
		out = append(out, s)
	}
	return strings.Join(out, listSep(l))
}
