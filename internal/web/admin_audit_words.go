package web

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The audit log page says what happened in words of the page's language:
// each action has a catalog key audit.action.<action> (a test fails for
// any action the program records without one in either language), each
// result audit.result.<result>, each detail its label audit.detail.<key>.
// What the catalog does not know is shown as recorded.

// AuditDetail is one detail of a record, labelled.
type AuditDetail struct {
	Label, Value string
	// Raw marks a label or value shown as recorded (no words for it).
	Raw bool
}

// ActionChoice is one action the filter offers.
type ActionChoice struct{ Value, Text string }

// auditAction names an action; Raw reports an action without words.
func auditAction(l *Locale, action string) (text string, raw bool) {
	if k := "audit.action." + action; l.Has(k) {
		return l.T(k), false
	}
	return action, true
}

func auditResult(l *Locale, result string) string {
	if k := "audit.result." + result; l.Has(k) {
		return l.T(k)
	}
	return result
}

// auditTarget names a record's target ("Ticket 65"). A ticket is named
// by the number people know it by when the record gives it, rather than
// by its row id.
func auditTarget(l *Locale, kind string, id int64, details map[string]string) string {
	if kind == "" {
		return ""
	}
	if n, err := strconv.ParseInt(details["number"], 10, 64); err == nil && kind == "ticket" {
		return l.T("audit.target.ticket_number", l.Num(n))
	}
	if k := "audit.target." + kind; l.Has(k) {
		return l.T(k, l.Num(id))
	}
	return kind + " " + l.Num(id)
}

// plainNumber is a value written in digits and separators only, which
// Persian pages write in Persian digits; hashes and names stay as they are.
var plainNumber = regexp.MustCompile(`^[0-9][0-9.,:/ -]*$`)

// auditDetails labels a record's details, known keys first in the
// catalog's words, sorted by label.
func auditDetails(l *Locale, details map[string]string) []AuditDetail {
	out := make([]AuditDetail, 0, len(details))
	for k, v := range details {
		d := AuditDetail{Label: k, Value: v, Raw: true}
		base, from := strings.CutSuffix(k, "_from")
		if k == "from" || k == "to" {
			// A change's two ends (a role: from agent to supervisor);
			// "audit.detail.from" is the "(before)" pattern for *_from.
			base, from = "change", false
			d.Label, d.Raw = l.T("audit.detail.change_"+k), false
		} else if lk := "audit.detail." + k; l.Has(lk) {
			d.Label, d.Raw = l.T(lk), false
		} else if lk := "audit.detail." + base; from && l.Has(lk) {
			d.Label, d.Raw = l.T("audit.detail.from", l.T(lk)), false
		}
		switch vk := "audit.value." + base + "." + v; {
		case l.Has(vk):
			d.Value = l.T(vk)
		case (base == "change" || base == "role") && l.Has("role."+v):
			d.Value = l.T("role." + v)
		case plainNumber.MatchString(v):
			d.Value = l.Digits(v)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Raw != out[j].Raw {
			return !out[i].Raw
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// actionChoices are the actions the filter offers: every action the
// catalog has words for, in the order of those words, and the one typed
// (a prefix such as "ticket.") when it is none of them.
func actionChoices(l *Locale, current string) []ActionChoice {
	var out []ActionChoice
	seen := false
	for _, k := range catalogKeys(l.msgs) {
		if a, ok := strings.CutPrefix(k, "audit.action."); ok {
			out = append(out, ActionChoice{Value: a, Text: l.T(k)})
			seen = seen || a == current
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	if current != "" && !seen {
		out = append([]ActionChoice{{Value: current, Text: current}}, out...)
	}
	return out
}

// auditDateError names the form a date filter takes, by language.
var auditDateError = map[string]string{"fa": "error.field.audit_date_fa", "en": "error.field.audit_date_en"}

// auditDate reads a date filter typed in the page's calendar, and writes
// it back as the page writes dates (Persian digits, leading zeros). An
// "until" date without a time means the end of that day.
func auditDate(l *Locale, name, s string) (t time.Time, shown string, ok bool) {
	t, hasTime, err := l.ParseDate(s)
	if err != nil {
		return time.Time{}, s, false
	}
	shown = l.DateInput(t)
	if !hasTime {
		shown, _, _ = strings.Cut(shown, " ")
		if name == "until" {
			t = t.AddDate(0, 0, 1)
		}
	}
	return t, shown, true
}

// auditDateField is a date filter's field: a text input, with its hint
// giving the form the page takes and the zone it is read in.
func auditDateField(l *Locale, name, value string, fe FieldErrors) Field {
	f := newField(l, name, "text", value, fe, "off")
	f.Required = false
	day := "2026-11-26"
	if l.Lang == "fa" {
		day = PersianDigits(ToJalali(2026, time.November, 26).String())
	}
	f.Hint = l.T("audit.date_hint", day, day+l.Digits(" 14:30"), l.ZoneName())
	return f
}
