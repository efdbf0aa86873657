package web

import (
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/monitor"
)

// Monitoring settings (security.manage): each detector's switch, severity,
// threshold, window and automatic response, the mass-access ceilings,
// business hours, who is mailed and the webhook. The same monitor calls,
// audit record and step-up as the API's PUT /api/v1/security/monitoring;
// like the workspace settings, a change is shown from → to and saved only
// when confirmed.

// actionMonitoringChanged is the audit action of a change, the API's.
const actionMonitoringChanged = "security.monitoring.changed"

// ruleOrder is the order the detectors are shown in: sign-ins first, then
// account changes, then data access.
var ruleOrder = []string{monitor.RuleBruteForce, monitor.RuleSpraying, monitor.RuleTravel, monitor.RuleConcurrent, monitor.RuleNewSignIn,
	monitor.RuleOffHours, monitor.RuleMFARemoved, monitor.RuleRecoveryUsed, monitor.RulePrivilege, monitor.RuleWideToken,
	monitor.RulePolicyWeakened, monitor.RuleExfiltration}

var (
	severityChoices = []string{monitor.Low, monitor.Medium, monitor.High, monitor.Critical}
	responseChoices = []string{monitor.RespondRevokeSessions, monitor.RespondLock, monitor.RespondRequireMFA}
	// windowUnits are the units a window is typed in.
	windowUnits = []windowUnit{{"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	// weekdays in the order a Persian week runs (Saturday first); the
	// values are Go's (0 Sunday … 6 Saturday).
	weekdays = []int{6, 0, 1, 2, 3, 4, 5}
)

type windowUnit struct {
	Name string
	D    time.Duration
}

// RuleForm is one detector in the form.
type RuleForm struct {
	Name     string
	Enabled  bool
	Severity string
	// HasThreshold and HasWindow say which numbers the rule reads.
	HasThreshold, HasWindow bool
	Threshold               string
	Window                  string
	WindowUnit              string
	// CanRespond is false for rules about an address, not an account.
	CanRespond bool
	Response   []string
	// CanNotify: only new_signin mails the account holder.
	CanNotify, NotifyUser bool
}

// Responds reports whether the rule takes response r.
func (f RuleForm) Responds(r string) bool { return slices.Contains(f.Response, r) }

// FloorForm is the mass-access ceiling of one kind of access.
type FloorForm struct{ Kind, Value string }

// Person is a staff member who may be mailed about alerts.
type Person struct {
	ID      int64
	Name    string
	Role    string
	Checked bool
}

// MonitorChange is one setting the form would change, already in words.
type MonitorChange struct{ What, From, To string }

// MonitoringPage is the monitoring form, or its confirmation.
type MonitoringPage struct {
	Page
	Rules  []RuleForm
	Factor string
	Floors []FloorForm
	// Business hours.
	HoursEnabled          bool
	TimeZone, Start, End  string
	Days                  []int
	Weekdays              []int
	Recipients            []Person
	EmailSeverity         string
	WebhookURL            string
	WebhookSecretSet      bool
	Severities, Responses []string
	Units                 []string
	Confirm               bool
	Changes               []MonitorChange
	// Hidden is the form sent again on confirmation.
	Hidden []KindValue
	Fresh  bool
	Errors FieldErrors
}

// HasDay reports whether business hours include weekday d.
func (p MonitoringPage) HasDay(d int) bool { return slices.Contains(p.Days, d) }

func (s *Server) monitoringPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.monitor == nil {
		return errNoMonitor
	}
	cur, err := s.monitor.Settings(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	v, err := s.monitoringView(r, q, cur)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_monitoring", v)
}

// monitoringView fills the form from settings.
func (s *Server) monitoringView(r *http.Request, q *req, st monitor.Settings) (MonitoringPage, error) {
	v := MonitoringPage{Page: s.page(r, q, "title.admin_monitoring"), Factor: strconv.FormatFloat(st.Exfiltration.Factor, 'f', -1, 64),
		HoursEnabled: st.BusinessHours.Enabled, TimeZone: st.BusinessHours.TimeZone, Start: st.BusinessHours.Start, End: st.BusinessHours.End,
		Days: st.BusinessHours.Days, Weekdays: weekdays, EmailSeverity: st.EmailSeverity, WebhookURL: st.WebhookURL,
		WebhookSecretSet: st.WebhookSecretSet, Severities: severityChoices, Responses: responseChoices, Fresh: !stale(q), Errors: FieldErrors{}}
	for _, u := range windowUnits {
		v.Units = append(v.Units, u.Name)
	}
	def := monitor.Defaults()
	for _, name := range ruleOrder {
		rl, d := st.Rules[name], def.Rules[name]
		f := RuleForm{Name: name, Enabled: rl.Enabled, Severity: rl.Severity, HasThreshold: d.Threshold != 0, HasWindow: d.Window != 0,
			CanRespond: name != monitor.RuleSpraying, Response: rl.Response, CanNotify: name == monitor.RuleNewSignIn, NotifyUser: rl.NotifyUser}
		if f.HasThreshold {
			f.Threshold = strconv.Itoa(rl.Threshold)
		}
		if f.HasWindow {
			n, unit := splitWindow(time.Duration(rl.Window))
			f.Window, f.WindowUnit = strconv.FormatInt(n, 10), unit
		}
		v.Rules = append(v.Rules, f)
	}
	for _, kind := range monitor.AccessKinds {
		v.Floors = append(v.Floors, FloorForm{Kind: kind, Value: strconv.Itoa(st.Exfiltration.Floors[kind])})
	}
	people, err := s.staffPeople(r, q, st.Recipients)
	if err != nil {
		return v, err
	}
	v.Recipients = people
	return v, nil
}

// splitWindow writes a window in the largest unit that divides it.
func splitWindow(d time.Duration) (int64, string) {
	for i := len(windowUnits) - 1; i >= 0; i-- {
		u := windowUnits[i]
		if d >= u.D && d%u.D == 0 {
			return int64(d / u.D), u.Name
		}
	}
	return int64(d / time.Minute), "m"
}

// staffPeople lists the active staff who may be mailed, admins first.
func (s *Server) staffPeople(r *http.Request, q *req, checked []int64) ([]Person, error) {
	var out []Person
	var after int64
	for {
		us, err := s.identity.ListUsers(r.Context(), q.P.Scope, after, rolesPageSize)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if !u.Disabled {
				out = append(out, Person{ID: u.ID, Name: u.Name, Role: string(u.Role), Checked: slices.Contains(checked, u.ID)})
			}
		}
		if len(us) < rolesPageSize {
			break
		}
		after = us[len(us)-1].ID
	}
	rank := func(role string) int { return slices.Index(access.Roles, access.Role(role)) }
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Role) < rank(out[j].Role) })
	return out, nil
}

// monitoringFromForm reads the form over the current settings. Fields
// that are not numbers (or times) are errors here; the monitor's own
// validation checks ranges and the rest.
func monitoringFromForm(r *http.Request, l *Locale, cur monitor.Settings) (monitor.Settings, FieldErrors) {
	f := monitorForm{r: r, l: l, fe: FieldErrors{}}
	next := cloneSettings(cur)
	for _, name := range ruleOrder {
		next.Rules[name] = f.rule(name, next.Rules[name])
	}
	if x, err := strconv.ParseFloat(value(r, "exfiltration.factor"), 64); err == nil {
		next.Exfiltration.Factor = x
	} else {
		f.fe["exfiltration.factor"] = l.T("error.field.monitor_decimal")
	}
	for _, kind := range monitor.AccessKinds {
		if n, ok := f.int("exfiltration.floors." + kind); ok {
			next.Exfiltration.Floors[kind] = n
		}
	}
	h := &next.BusinessHours
	h.Enabled = r.PostFormValue("business_hours.enabled") != ""
	h.TimeZone = strings.TrimSpace(r.PostFormValue("business_hours.time_zone"))
	h.Start, h.End = value(r, "business_hours.start"), value(r, "business_hours.end")
	h.Days = nil
	for _, d := range f.ids("business_hours.days", "error.field.monitor_days") {
		h.Days = append(h.Days, int(d))
	}
	next.Recipients = f.ids("recipients", "error.field.monitor_recipients")
	next.EmailSeverity = r.PostFormValue("email_severity")
	next.WebhookURL = strings.TrimSpace(r.PostFormValue("webhook_url"))
	next.WebhookSecret = r.PostFormValue("webhook_secret")
	return next, f.fe
}

// monitorForm reads the monitoring form, gathering the errors of fields
// that are not numbers at all.
type monitorForm struct {
	r  *http.Request
	l  *Locale
	fe FieldErrors
}

func (f monitorForm) int(name string) (int, bool) {
	n, err := strconv.Atoi(value(f.r, name))
	if err != nil {
		f.fe[name] = f.l.T("error.field.number")
		return 0, false
	}
	return n, true
}

// ids reads a set of checked numbers (days, user ids), sorted, each once.
func (f monitorForm) ids(name, errKey string) []int64 {
	var out []int64
	for _, x := range f.r.PostForm[name] {
		n, err := strconv.ParseInt(latinDigits.Replace(x), 10, 64)
		if err != nil {
			f.fe[name] = f.l.T(errKey)
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rule reads one detector's fields over its current settings: only those
// the rule has (a threshold, a window, responses, mailing the holder).
func (f monitorForm) rule(name string, rl monitor.Rule) monitor.Rule {
	d, p := monitor.Defaults().Rules[name], "rules."+name+"."
	rl.Enabled = f.r.PostFormValue(p+"enabled") != ""
	rl.Severity = f.r.PostFormValue(p + "severity")
	if d.Threshold != 0 {
		if n, ok := f.int(p + "threshold"); ok {
			rl.Threshold = n
		}
	}
	if d.Window != 0 {
		n, ok := f.int(p + "window")
		unit := slices.IndexFunc(windowUnits, func(u windowUnit) bool { return u.Name == f.r.PostFormValue(p+"window_unit") })
		switch {
		case ok && unit < 0:
			f.fe[p+"window"] = f.l.T("error.field.invalid")
		case ok && (n < 0 || n > 100_000):
			// The monitor names the range; a huge number must not
			// overflow into it first.
			rl.Window = monitor.Duration(-1)
		case ok:
			rl.Window = monitor.Duration(time.Duration(n) * windowUnits[unit].D)
		}
	}
	if name != monitor.RuleSpraying {
		rl.Response = slices.Compact(slices.Sorted(slices.Values(f.r.PostForm[p+"response"])))
	}
	if name == monitor.RuleNewSignIn {
		rl.NotifyUser = f.r.PostFormValue(p+"notify_user") != ""
	}
	return rl
}

// latinDigits reads Persian and Arabic-Indic digits (and the Persian
// decimal separator) as ASCII: people type numbers with the keyboard
// they write with.
var latinDigits = strings.NewReplacer("۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9",
	"٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9", "٫", ".")

// value is a number or time typed in the form, trimmed, in ASCII digits.
func value(r *http.Request, name string) string {
	return latinDigits.Replace(strings.TrimSpace(r.PostFormValue(name)))
}

// saveMonitoring shows the changes for confirmation; with confirm=yes it
// saves them (after step-up, as the API's PUT demands) and records it.
func (s *Server) saveMonitoring(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.monitor == nil {
		return errNoMonitor
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/security/monitoring")
	}
	ws := q.P.Scope.WorkspaceID
	cur, err := s.monitor.Settings(r.Context(), ws)
	if err != nil {
		return err
	}
	next, fe := monitoringFromForm(r, q.L, cur)
	if !fe.Any() {
		// The monitor's own rules, before anything is shown as a change.
		checked := cloneSettings(next)
		if err := checked.Validate(); err != nil {
			if fe, err = s.monitorErrors(q.L, err); err != nil {
				return err
			}
		} else if next.WebhookURL != "" && next.WebhookSecret == "" && !cur.WebhookSecretSet {
			fe["webhook_secret"] = q.L.T("error.field.monitor_secret_required")
		}
	}
	v, err := s.monitoringView(r, q, next)
	if err != nil {
		return err
	}
	v.WebhookSecretSet, v.Fresh, v.Errors = cur.WebhookSecretSet, true, fe
	if fe.Any() {
		keepTyped(&v, r)
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_monitoring", v)
	}
	v.Changes = s.monitorChanges(r, q, cur, next)
	if len(v.Changes) == 0 {
		return seeOther(w, r, "/admin/security/monitoring?notice=notice.nothing_changed")
	}
	if r.PostFormValue("confirm") != "yes" {
		v.Confirm = true
		for _, k := range sortedKeys(r.PostForm) {
			if k == "confirm" {
				continue
			}
			for _, x := range r.PostForm[k] {
				v.Hidden = append(v.Hidden, KindValue{k, x})
			}
		}
		return s.render(w, r, http.StatusOK, "admin_monitoring", v)
	}
	if err := s.monitor.SetSettings(r.Context(), ws, next); err != nil {
		if v.Errors, err = s.monitorErrors(q.L, err); err != nil {
			return err
		}
		v.Changes = nil
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_monitoring", v)
	}
	if err := s.recordRead(r, ws, actionMonitoringChanged, "workspace", ws, nil); err != nil {
		return err
	}
	return seeOther(w, r, "/admin/security/monitoring?notice=notice.monitoring_saved")
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// monitorErrors turns the monitor's validation error into field errors in
// the page's language (Persian keeps the numbers of a range); any other
// error is returned as it is.
func (s *Server) monitorErrors(l *Locale, err error) (FieldErrors, error) {
	var inv *errs.Invalid
	if !errors.As(err, &inv) {
		return nil, err
	}
	out := FieldErrors{}
	for field, msg := range inv.Fields {
		if l.Lang == "en" {
			out[field] = localizeFieldError(l, field, msg)
		} else {
			out[field] = monitorFieldError(l, field, msg)
		}
	}
	return out, nil
}

var (
	numberRange   = regexp.MustCompile(`from ([0-9.]+) to ([0-9.]+)`)
	durationRange = regexp.MustCompile(`from ([0-9hms.]+) to ([0-9hms.]+)`)
)

// monitorFieldError words one of the monitor's field errors in Persian,
// keeping the numbers of a range.
func monitorFieldError(l *Locale, field, msg string) string {
	last := field[strings.LastIndex(field, ".")+1:]
	switch {
	case last == "window":
		if m := durationRange.FindStringSubmatch(msg); m != nil {
			a, err1 := time.ParseDuration(m[1])
			b, err2 := time.ParseDuration(m[2])
			if err1 == nil && err2 == nil {
				return l.T("error.field.monitor_range", durationText(l, a), durationText(l, b))
			}
		}
	case last == "threshold" || field == "exfiltration.factor" || strings.HasPrefix(field, "exfiltration.floors."):
		if m := numberRange.FindStringSubmatch(msg); m != nil {
			return l.T("error.field.monitor_range", l.Digits(m[1]), l.Digits(m[2]))
		}
	case last == "severity":
		return l.T("error.field.monitor_severity")
	case last == "response":
		return l.T("error.field.monitor_response")
	case field == "business_hours.time_zone":
		return l.T("error.field.monitor_time_zone")
	case field == "business_hours.days":
		return l.T("error.field.monitor_days")
	case field == "business_hours.end" && strings.Contains(msg, "after"):
		return l.T("error.field.monitor_end_after_start")
	case field == "business_hours.start" || field == "business_hours.end":
		return l.T("error.field.monitor_time")
	case field == "recipients":
		return l.T("error.field.monitor_recipients")
	case field == "webhook_url":
		return l.T("error.field.monitor_webhook_url")
	case field == "webhook_secret" && strings.Contains(msg, "16 to 256"):
		return l.T("error.field.monitor_secret_length")
	case field == "webhook_secret":
		return l.T("error.field.monitor_secret_required")
	}
	return l.T("error.field.invalid")
}

// durationText writes a duration in whole days, hours or minutes.
func durationText(l *Locale, d time.Duration) string {
	n, unit := splitWindow(d)
	switch unit {
	case "d":
		return l.T("field.duration_days", l.Num(n))
	case "h":
		return l.T("field.duration_hours", l.Num(n))
	}
	return l.T("field.duration_minutes", l.Num(n))
}

// cloneSettings copies st deeply, so the form's reading never changes the
// settings it started from.
func cloneSettings(st monitor.Settings) monitor.Settings {
	c := st
	c.Rules = make(map[string]monitor.Rule, len(st.Rules))
	for k, r := range st.Rules {
		r.Response = slices.Clone(r.Response)
		c.Rules[k] = r
	}
	c.Exfiltration.Floors = maps.Clone(st.Exfiltration.Floors)
	if c.Exfiltration.Floors == nil {
		c.Exfiltration.Floors = map[string]int{}
	}
	c.BusinessHours.Days = slices.Clone(st.BusinessHours.Days)
	c.Recipients = slices.Clone(st.Recipients)
	return c
}

// keepTyped shows the text fields as they were typed, so a field with an
// error holds what the person wrote rather than the value before.
func keepTyped(v *MonitoringPage, r *http.Request) {
	for i := range v.Rules {
		f, p := &v.Rules[i], "rules."+v.Rules[i].Name+"."
		if f.HasThreshold {
			f.Threshold = r.PostFormValue(p + "threshold")
		}
		if f.HasWindow {
			f.Window, f.WindowUnit = r.PostFormValue(p+"window"), r.PostFormValue(p+"window_unit")
		}
	}
	v.Factor = r.PostFormValue("exfiltration.factor")
	for i := range v.Floors {
		v.Floors[i].Value = r.PostFormValue("exfiltration.floors." + v.Floors[i].Kind)
	}
	v.TimeZone, v.Start, v.End = r.PostFormValue("business_hours.time_zone"), r.PostFormValue("business_hours.start"), r.PostFormValue("business_hours.end")
	v.WebhookURL = r.PostFormValue("webhook_url")
}
