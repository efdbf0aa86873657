package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/monitor"
)

// monitorChanges lists, in words, what saving next over cur would change:
// the confirmation the admin reads before the settings are saved.
func (s *Server) monitorChanges(r *http.Request, q *req, cur, next monitor.Settings) []MonitorChange {
	l := q.L
	var out []MonitorChange
	add := func(what, from, to string) {
		if from != to {
			out = append(out, MonitorChange{What: what, From: from, To: to})
		}
	}
	onOff := func(b bool) string {
		if b {
			return l.T("field.monitor_on")
		}
		return l.T("field.monitor_off")
	}
	for _, name := range ruleOrder {
		a, b := cur.Rules[name], next.Rules[name]
		rule := l.T("monitor_rule." + name)
		part := func(key string) string { return rule + " — " + l.T(key) }
		add(part("field.monitor_enabled"), onOff(a.Enabled), onOff(b.Enabled))
		add(part("field.monitor_severity"), l.T("severity."+a.Severity), l.T("severity."+b.Severity))
		add(part("field.monitor_threshold"), l.Num(int64(a.Threshold)), l.Num(int64(b.Threshold)))
		add(part("field.monitor_window"), durationText(l, time.Duration(a.Window)), durationText(l, time.Duration(b.Window)))
		add(part("field.monitor_response"), responsesText(l, a.Response), responsesText(l, b.Response))
		add(part("field.monitor_notify_user"), onOff(a.NotifyUser), onOff(b.NotifyUser))
	}
	factor := func(f float64) string { return l.Digits(strconv.FormatFloat(f, 'f', -1, 64)) }
	add(l.T("field.exfiltration.factor"), factor(cur.Exfiltration.Factor), factor(next.Exfiltration.Factor))
	for _, kind := range monitor.AccessKinds {
		add(l.T("field.monitor_floor", l.T("access_kind."+kind)), l.Num(int64(cur.Exfiltration.Floors[kind])),
			l.Num(int64(next.Exfiltration.Floors[kind])))
	}
	ha, hb := cur.BusinessHours, next.BusinessHours
	add(l.T("field.business_hours.enabled"), onOff(ha.Enabled), onOff(hb.Enabled))
	add(l.T("field.business_hours.time_zone"), ha.TimeZone, hb.TimeZone)
	add(l.T("field.business_hours.days"), daysText(l, ha.Days), daysText(l, hb.Days))
	add(l.T("field.business_hours.start"), l.Digits(ha.Start), l.Digits(hb.Start))
	add(l.T("field.business_hours.end"), l.Digits(ha.End), l.Digits(hb.End))
	names := s.names(r, q)
	add(l.T("field.recipients"), recipientsText(l, names, cur.Recipients), recipientsText(l, names, next.Recipients))
	add(l.T("field.email_severity"), l.T("severity."+cur.EmailSeverity), l.T("severity."+next.EmailSeverity))
	none := l.T("field.monitor_none")
	orNone := func(s string) string {
		if s == "" {
			return none
		}
		return s
	}
	add(l.T("field.webhook_url"), orNone(cur.WebhookURL), orNone(next.WebhookURL))
	if next.WebhookSecret != "" && next.WebhookURL != "" {
		from := none
		if cur.WebhookSecretSet {
			from = l.T("field.monitor_secret_kept")
		}
		add(l.T("field.webhook_secret"), from, l.T("field.monitor_secret_new"))
	}
	return out
}

func responsesText(l *Locale, rs []string) string {
	if len(rs) == 0 {
		return l.T("field.monitor_none")
	}
	var out []string
	for _, r := range responseChoices {
		if slices.Contains(rs, r) {
			out = append(out, l.T("response."+r))
		}
	}
	for _, r := range rs {
		if !slices.Contains(responseChoices, r) {
			out = append(out, r)
		}
	}
	return strings.Join(out, listSep(l))
}

func daysText(l *Locale, days []int) string {
	if len(days) == 0 {
		return l.T("field.monitor_none")
	}
	var out []string
	for _, d := range weekdays {
		if slices.Contains(days, d) {
			out = append(out, l.T("weekday."+strconv.Itoa(d)))
		}
	}
	return strings.Join(out, listSep(l))
}

func recipientsText(l *Locale, names map[int64]string, ids []int64) string {
	if len(ids) == 0 {
		return l.T("field.monitor_recipients_admins")
	}
	var out []string
	for _, id := range ids {
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, l.T("who.user", l.Num(id)))
		}
	}
	slices.Sort(out)
	return strings.Join(out, listSep(l))
}

// listSep separates the items of a list in the page's language.
func listSep(l *Locale) string {
	if l.Lang == "fa" {
		return "، "
	}
	return ", "
}
