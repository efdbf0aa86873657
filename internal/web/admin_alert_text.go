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
//
// Some rules have more than one wording, chosen by one of the alert's
// details (the role raised to, the kind of access, what was new, which
// policy). Alerts stored before details were kept have none; for them the
// value is read out of the English title, as the detectors wrote it then.

// variantDetail names, per rule, the detail its wording turns on.
var variantDetail = map[string]string{
	monitor.RulePrivilege:      monitor.DetailRoleTo,
	monitor.RuleExfiltration:   monitor.DetailAccessKind,
	monitor.RuleNewSignIn:      monitor.DetailNew,
	monitor.RulePolicyWeakened: monitor.DetailPolicy,
}

// alertText returns the alert's title and explanation in l's language, and
// the detector's own report ("" when the title and explanation are it).
func alertText(l *Locale, a monitor.Alert, account string) (title, text, report string) {
	key := "alert." + a.Rule
	if !l.Has(key+".title") || !l.Has(key+".text") {
		return a.Title, a.Explanation, ""
	}
	titleKey, textKey := key+".title", key+".text"
	args := []any{account}
	switch v := alertVariant(a); a.Rule {
	case monitor.RulePrivilege:
		if role, err := access.ParseRole(v); err == nil {
			titleKey, args = key+".title_to", append(args, l.T("alert.role."+string(role)))
		}
	case monitor.RuleExfiltration:
		if v != "" && l.Has("access_kind."+v) {
			titleKey, args = key+".title_kind", []any{l.T("access_kind." + v), account}
		}
	case monitor.RuleNewSignIn:
		switch v {
		case monitor.NewDeviceCountry:
			titleKey = key + ".title_both"
		case monitor.NewCountry:
			titleKey = key + ".title_country"
		}
	case monitor.RulePolicyWeakened:
		if v == monitor.PolicyDataProtection {
			titleKey, textKey = key+".title_data", key+".text_data"
		}
	}
	return fill(l, titleKey, args...), fill(l, textKey, account), a.Explanation
}

// alertVariant is the value of the detail a's wording turns on: from its
// details, or, for an alert stored without them, out of its title.
func alertVariant(a monitor.Alert) string {
	name, ok := variantDetail[a.Rule]
	if !ok {
		return ""
	}
	if v, ok := a.Details[name]; ok {
		return v
	}
	return variantFromTitle(a.Rule, a.Title)
}

// raisedTo finds the new role in a privilege_raised title ("… raised to admin").
var raisedTo = regexp.MustCompile(`raised to ([a-z]+)$`)

// volumeOf finds the kind of access in an exfiltration title ("Unusual
// volume of ticket.view by …").
var volumeOf = regexp.MustCompile(`^Unusual volume of ([a-z_.]+) by `)

// variantFromTitle reads the variant out of an English title as the
// detectors wrote it before alerts kept details; "" when it is not there.
func variantFromTitle(rule, title string) string {
	switch rule {
	case monitor.RulePrivilege:
		if m := raisedTo.FindStringSubmatch(title); m != nil {
			return m[1]
		}
	case monitor.RuleExfiltration:
		if m := volumeOf.FindStringSubmatch(title); m != nil {
			return m[1]
		}
	case monitor.RuleNewSignIn:
		switch {
		case strings.Contains(title, "new device in a new country"):
			return monitor.NewDeviceCountry
		case strings.Contains(title, "new country"):
			return monitor.NewCountry
		}
		return monitor.NewDevice
	case monitor.RulePolicyWeakened:
		if strings.HasPrefix(title, "Data protection weakened") {
			return monitor.PolicyDataProtection
		}
		return monitor.PolicySignIn
	}
	return ""
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
