package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/monitor"
)

// Security monitoring (security.manage) and the audit log (audit.read):
// the same monitor and audit calls, records and step-up as the API's
// /api/v1/security/… and /api/v1/audit routes.

// Audit actions of these pages: the API's, from internal/audit.
const (
	actionDashboardView = audit.ActionDashboardView
	actionAuditExport   = audit.ActionAuditExport
	actionAlertPrefix   = audit.ActionAlertPrefix
)

// errNoMonitor says the page's service is not wired into this server.
// It shows as Not found, like a page this server does not have.
var errNoMonitor = fmt.Errorf("monitor or audit log not configured: %w", errNotFoundPage)

// AlertRow is one alert.
type AlertRow struct {
	ID                    int64
	Rule, Severity, State string
	Account               string
	Title, Explanation    string
	// Report is the detector's own (English) explanation, with its exact
	// numbers, when Title and Explanation come from the catalogs.
	Report              string
	Evidence            monitor.Evidence
	Response            string
	Count               int64
	FirstSeen, LastSeen time.Time
	StateAt             time.Time
	StateBy, StateNote  string
}

// SignInLine is one sign-in on the dashboard.
type SignInLine struct {
	At                time.Time
	Account, Result   string
	IP, Place, Device string
	Failed            bool
}

// HourBar is one hour of failed sign-ins; Pct sizes its bar.
type HourBar struct {
	Hour  time.Time
	Count int
	Pct   int
}

// Reader is one of the accounts that read the most.
type Reader struct {
	Account string
	Total   int64
	ByKind  []KindCount
}

// KindCount is a count of one kind of access.
type KindCount struct {
	Kind string
	N    int64
}

// DashboardPage is /admin/security.
type DashboardPage struct {
	Page
	OpenBySeverity []KindCount
	Open           []AlertRow
	SignIns        []SignInLine
	Failed         []HourBar
	FailedTotal    int
	Readers        []Reader
}

// names finds display names of staff for the audit and alert pages.
func (s *Server) names(r *http.Request, q *req) map[int64]string {
	out := map[int64]string{}
	if !q.P.Scope.Can(access.UserRead) {
		return out
	}
	us, err := s.identity.ListUsers(r.Context(), q.P.Scope, 0, 1000)
	if err != nil {
		return out
	}
	for _, u := range us {
		out[u.ID] = u.Name
	}
	return out
}

// who names an account: a staff member's name, else kind and number.
func who(l *Locale, names map[int64]string, kind string, id int64) string {
	if id == 0 {
		if kind == "" {
			return "—"
		}
		return l.T("who.unknown")
	}
	if kind == string(access.ActorUser) {
		if n, ok := names[id]; ok {
			return n
		}
		return l.T("who.user", l.Num(id))
	}
	if kind == string(access.ActorCustomer) {
		return l.T("who.customer", l.Num(id))
	}
	return l.T("who.system")
}

func alertRow(l *Locale, names map[int64]string, a monitor.Alert) AlertRow {
	row := AlertRow{ID: a.ID, Rule: a.Rule, Severity: a.Severity, State: a.State, Account: who(l, names, string(a.AccountKind), a.AccountID),
		Title: a.Title, Explanation: a.Explanation, Evidence: a.Evidence, Response: a.Response, Count: a.Count,
		FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, StateAt: a.StateAt, StateNote: a.StateNote}
	row.Title, row.Explanation, row.Report = alertText(l, a, row.Account)
	row.Response = responseText(l, a.Response)
	if a.StateBy != 0 {
		row.StateBy = who(l, names, string(access.ActorUser), a.StateBy)
	}
	return row
}

func (s *Server) securityDashboard(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.monitor == nil {
		return errNoMonitor
	}
	ws := q.P.Scope.WorkspaceID
	d, err := s.monitor.Dashboard(r.Context(), ws)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, ws, actionDashboardView, "", 0, nil); err != nil {
		return err
	}
	names := s.names(r, q)
	v := DashboardPage{Page: s.page(r, q, "title.admin_security")}
	for _, sev := range []string{monitor.Critical, monitor.High, monitor.Medium, monitor.Low} {
		v.OpenBySeverity = append(v.OpenBySeverity, KindCount{Kind: sev, N: int64(d.OpenBySeverity[sev])})
	}
	for _, a := range d.Open {
		v.Open = append(v.Open, alertRow(q.L, names, a))
	}
	for _, x := range d.SignIns {
		v.SignIns = append(v.SignIns, SignInLine{At: x.At, Account: who(q.L, names, string(x.AccountKind), x.AccountID), Result: x.Result,
			IP: x.IP, Place: x.Place, Device: q.L.DeviceLabel(x.Device), Failed: x.Result != "succeeded"})
	}
	most := 0
	for _, h := range d.FailedPerHour {
		most = max(most, h.Count)
		v.FailedTotal += h.Count
	}
	for _, h := range d.FailedPerHour {
		b := HourBar{Hour: h.Hour, Count: h.Count}
		if most > 0 {
			// In steps of 5 (the stylesheet's widths: no inline style under the CSP).
			b.Pct = (h.Count*20 + most - 1) / most * 5
		}
		v.Failed = append(v.Failed, b)
	}
	for _, a := range d.TopAccessors {
		rd := Reader{Account: who(q.L, names, string(a.AccountKind), a.AccountID), Total: a.Total}
		for k, n := range a.ByKind {
			rd.ByKind = append(rd.ByKind, KindCount{Kind: k, N: n})
		}
		sort.Slice(rd.ByKind, func(i, j int) bool { return rd.ByKind[i].N > rd.ByKind[j].N })
		v.Readers = append(v.Readers, rd)
	}
	return s.render(w, r, http.StatusOK, "admin_security", v)
}

// AlertsPage lists alerts by state.
type AlertsPage struct {
	Page
	State  string
	States []string
	Alerts []AlertRow
	Next   int64
	Errors FieldErrors
}

// alertNotices say what became of an alert, by its new state.
var alertNotices = map[string]string{monitor.StateOpen: "notice.alert_reopened", monitor.StateAcknowledged: "notice.alert_acknowledged",
	monitor.StateResolved: "notice.alert_resolved"}

var alertStates = []string{monitor.StateOpen, monitor.StateAcknowledged, monitor.StateResolved}

func (s *Server) alertsView(r *http.Request, q *req, state string, before int64) (AlertsPage, error) {
	v := AlertsPage{Page: s.page(r, q, "title.admin_alerts"), State: state, States: alertStates, Errors: FieldErrors{}}
	if state != "" && state != monitor.StateOpen && state != monitor.StateAcknowledged && state != monitor.StateResolved {
		v.State = ""
	}
	const pageSize = 50
	as, err := s.monitor.Alerts(r.Context(), q.P.Scope.WorkspaceID, monitor.Filter{State: v.State, Before: before, Limit: pageSize + 1})
	if err != nil {
		return v, err
	}
	names := s.names(r, q)
	for i, a := range as {
		if i == pageSize {
			v.Next = as[i-1].ID
			break
		}
		v.Alerts = append(v.Alerts, alertRow(q.L, names, a))
	}
	return v, nil
}

func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.monitor == nil {
		return errNoMonitor
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	v, err := s.alertsView(r, q, r.URL.Query().Get("state"), before)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_alerts", v)
}

// setAlertState acknowledges, resolves or reopens an alert, with a note,
// and records it as the API does ("alert.<state>").
func (s *Server) setAlertState(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.monitor == nil {
		return errNoMonitor
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ws, state := q.P.Scope.WorkspaceID, r.PostFormValue("state")
	if err := s.monitor.SetAlertState(r.Context(), ws, id, state, q.P.Scope.ActorID, strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		if _, ok := fieldErrors(q.L, err); !ok {
			return err
		}
		return errBadForm
	}
	if err := s.recordRead(r, ws, actionAlertPrefix+state, "alert", id, nil); err != nil {
		return err
	}
	back, err := url.Parse(localPath(r.PostFormValue("back")))
	if err != nil || !strings.HasPrefix(back.Path, "/admin/security") {
		back = &url.URL{Path: "/admin/security/alerts"}
	}
	qs := back.Query()
	qs.Set("notice", alertNotices[state])
	back.RawQuery = qs.Encode()
	return seeOther(w, r, back.Path+"?"+back.RawQuery)
}

// AuditRow is one audit record, in the page's words.
type AuditRow struct {
	Seq                   int64
	At                    time.Time
	Actor, Action, Target string
	// RawAction marks an action the catalog has no words for, shown as
	// recorded.
	RawAction             bool
	Result, IP, RequestID string
	Details               []AuditDetail
}

// KindValue is one detail of a record.
type KindValue struct{ K, V string }

// AuditPage is the audit viewer with its filters.
type AuditPage struct {
	Page
	// The filters as typed, to fill the form again.
	ActorKind, ActorID, Action, TargetKind, TargetID, Since, Until string
	// Actions are the choices of the action filter; SinceField and
	// UntilField the date filters, in the page's calendar.
	Actions                []ActionChoice
	SinceField, UntilField Field
	Records                []AuditRow
	Next                   string
	// ExportCSV and ExportJSONL download the filtered records.
	ExportCSV, ExportJSONL string
	Errors                 FieldErrors
	// Security shows the security pages' tabs and the way to verify the
	// log (security.manage; supervisors read the log without it).
	Security bool
}

// auditFilter reads the viewer's filters, and keeps supervisors to what
// their departments' members did (as the API does).
func (s *Server) auditFilter(r *http.Request, q *req, v *AuditPage) (audit.Filter, error) {
	qs := r.URL.Query()
	v.ActorKind, v.ActorID, v.Action = qs.Get("actor_kind"), qs.Get("actor_id"), strings.TrimSpace(qs.Get("action"))
	v.TargetKind, v.TargetID, v.Since, v.Until = strings.TrimSpace(qs.Get("target_kind")), qs.Get("target_id"), qs.Get("since"), qs.Get("until")
	f := audit.Filter{ActorKind: v.ActorKind, Action: v.Action, TargetKind: v.TargetKind}
	for name, dst := range map[string]*int64{"actor_id": &f.ActorID, "target_id": &f.TargetID, "cursor": &f.Before} {
		if x := qs.Get(name); x != "" {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil || n < 0 {
				v.Errors[name] = q.L.T("error.field.number")
			}
			*dst = n
		}
	}
	// Dates are typed in the page's calendar and read in the workspace's
	// zone; a date read is written back in the page's calendar.
	for name, typed := range map[string]*string{"since": &v.Since, "until": &v.Until} {
		if *typed == "" {
			continue
		}
		t, shown, ok := auditDate(q.L, name, *typed)
		*typed = shown
		if !ok {
			v.Errors[name] = q.L.T(auditDateError[q.L.Lang])
			continue
		}
		if name == "since" {
			f.Since = t
		} else {
			f.Until = t
		}
	}
	v.Actions = actionChoices(q.L, v.Action)
	v.SinceField, v.UntilField = auditDateField(q.L, "since", v.Since, v.Errors), auditDateField(q.L, "until", v.Until, v.Errors)
	keep := url.Values{}
	for _, k := range []string{"actor_kind", "actor_id", "action", "target_kind", "target_id", "since", "until"} {
		if x := qs.Get(k); x != "" {
			keep.Set(k, x)
		}
	}
	for format, dst := range map[string]*string{"csv": &v.ExportCSV, "jsonl": &v.ExportJSONL} {
		keep.Set("format", format)
		*dst = "/admin/audit/export?" + keep.Encode()
	}
	if !q.P.Scope.AllDepartments() {
		members, err := s.departments.MembersOf(r.Context(), q.P.Scope)
		if err != nil {
			return f, err
		}
		f.ActorIDs = members
	}
	return f, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.audit == nil {
		return errNoMonitor
	}
	v := AuditPage{Page: s.page(r, q, "title.admin_audit"), Errors: FieldErrors{}, Security: q.P.Scope.Can(access.SecurityManage)}
	f, err := s.auditFilter(r, q, &v)
	if err != nil {
		return err
	}
	if v.Errors.Any() {
		return s.render(w, r, http.StatusUnprocessableEntity, "admin_audit", v)
	}
	// Reads recorded on this instance a moment ago are committed first.
	if err := s.audit.FlushReads(r.Context()); err != nil {
		return err
	}
	const pageSize = 100
	f.Limit = pageSize + 1
	recs, err := s.audit.List(r.Context(), q.P.Scope.WorkspaceID, f)
	if err != nil {
		var inv *errs.Invalid
		if errors.As(err, &inv) {
			v.Errors, _ = fieldErrors(q.L, err)
			return s.render(w, r, http.StatusUnprocessableEntity, "admin_audit", v)
		}
		return err
	}
	names := s.names(r, q)
	for i, x := range recs {
		if i == pageSize {
			next := r.URL.Query()
			next.Set("cursor", strconv.FormatInt(recs[i-1].Seq, 10))
			v.Next = "/admin/audit?" + next.Encode()
			break
		}
		row := AuditRow{Seq: x.Seq, At: x.At, Actor: who(q.L, names, x.ActorKind, x.ActorID), Result: auditResult(q.L, x.Result),
			IP: x.IP, RequestID: x.RequestID, Target: auditTarget(q.L, x.TargetKind, x.TargetID, x.Details), Details: auditDetails(q.L, x.Details)}
		row.Action, row.RawAction = auditAction(q.L, x.Action)
		v.Records = append(v.Records, row)
	}
	return s.render(w, r, http.StatusOK, "admin_audit", v)
}

// exportAudit downloads the filtered log as CSV or JSON lines, after
// step-up; the export is recorded before any of it is sent.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, q *req) error {
	if s.audit == nil {
		return errNoMonitor
	}
	if stale(q) {
		return stepUpFirst(w, r, r.URL.RequestURI())
	}
	v := AuditPage{Errors: FieldErrors{}}
	f, err := s.auditFilter(r, q, &v)
	if err != nil {
		return err
	}
	if v.Errors.Any() {
		return errBadForm
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "jsonl" {
		return errBadForm
	}
	if err := s.audit.FlushReads(r.Context()); err != nil {
		return err
	}
	if err := s.recordRead(r, q.P.Scope.WorkspaceID, actionAuditExport, "", 0, map[string]string{"format": format}); err != nil {
		return err
	}
	ct := "application/x-ndjson"
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", `attachment; filename="audit.`+format+`"`)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if err := s.audit.Export(r.Context(), q.P.Scope.WorkspaceID, f, format, w); err != nil {
		s.log.Error("audit export failed midway", "request_id", requestID(r.Context()), "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}
