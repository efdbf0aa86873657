package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
)

// The audit log and security monitoring over HTTP.

var auditParams = []string{"actor_kind", "actor_id", "action", "target_kind", "target_id", "since", "until", "cursor", "limit", "format"}

// auditFilter reads the audit filters from the query. Supervisors (who
// do not see every department) see what their departments' members did.
func (s *Server) auditFilter(r *http.Request, p identity.Principal) (audit.Filter, string, error) {
	q, err := readQuery(r, auditParams...)
	if err != nil {
		return audit.Filter{}, "", err
	}
	f := audit.Filter{ActorKind: q.str("actor_kind"), ActorID: q.int("actor_id"), Action: q.str("action"),
		TargetKind: q.str("target_kind"), TargetID: q.int("target_id"), Before: q.int("cursor"), Limit: int(q.int("limit"))}
	for name, t := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.str(name); v != "" {
			parsed, err := time.Parse(time.RFC3339, v)
			if err != nil {
				q.fail(name, "must be a time like 2026-11-25T10:00:00Z")
			}
			*t = parsed
		}
	}
	format := q.str("format")
	if err := q.done(); err != nil {
		return audit.Filter{}, "", err
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return audit.Filter{}, "", fieldError(http.StatusUnprocessableEntity, "validation_failed", "limit", "must be between 1 and 1000")
	}
	if !p.Scope.AllDepartments() {
		members, err := s.departments.MembersOf(r.Context(), p.Scope)
		if err != nil {
			return audit.Filter{}, "", err
		}
		f.ActorIDs = members
	}
	return f, format, nil
}

type auditRecordView struct {
	Seq        int64             `json:"seq"`
	At         time.Time         `json:"at"`
	ActorKind  string            `json:"actor_kind"`
	ActorID    int64             `json:"actor_id"`
	TokenID    int64             `json:"token_id,omitempty"`
	SessionID  int64             `json:"session_id,omitempty"`
	Action     string            `json:"action"`
	TargetKind string            `json:"target_kind,omitempty"`
	TargetID   int64             `json:"target_id,omitempty"`
	Result     string            `json:"result"`
	IP         string            `json:"ip"`
	UserAgent  string            `json:"user_agent"`
	RequestID  string            `json:"request_id,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

func viewAuditRecord(x audit.Record) auditRecordView {
	return auditRecordView{Seq: x.Seq, At: x.At, ActorKind: x.ActorKind, ActorID: x.ActorID, TokenID: x.TokenID, SessionID: x.SessionID,
		Action: x.Action, TargetKind: x.TargetKind, TargetID: x.TargetID, Result: x.Result, IP: x.IP, UserAgent: x.UserAgent,
		RequestID: x.RequestID, Details: x.Details}
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	f, format, err := s.auditFilter(r, p)
	if err != nil {
		return err
	}
	if format != "" {
		return fieldError(http.StatusUnprocessableEntity, "validation_failed", "format", "is for /api/v1/audit/export")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	// Reads recorded on this instance in the last moments are committed
	// first, so an admin sees the log up to now.
	if err := s.audit.FlushReads(r.Context()); err != nil {
		return err
	}
	want := f.Limit
	f.Limit++
	recs, err := s.audit.List(r.Context(), p.Scope.WorkspaceID, f)
	if err != nil {
		return err
	}
	out := list[auditRecordView]{Data: []auditRecordView{}}
	for i, x := range recs {
		if i == want {
			c := itoa(recs[i-1].Seq)
			out.NextCursor = &c
			break
		}
		out.Data = append(out.Data, viewAuditRecord(x))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportAudit streams the matching records as JSON lines or CSV (step-up;
// the export is itself recorded first).
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	f, format, err := s.auditFilter(r, p)
	if err != nil {
		return err
	}
	if format == "" {
		format = "jsonl"
	}
	if format != "jsonl" && format != "csv" {
		return fieldError(http.StatusUnprocessableEntity, "validation_failed", "format", "must be jsonl or csv")
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, audit.ActionAuditExport, "", 0, map[string]string{"format": format}); err != nil {
		return err
	}
	ct := "application/x-ndjson"
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="audit.`+format+`"`)
	if err := s.audit.Export(r.Context(), p.Scope.WorkspaceID, f, format, w); err != nil {
		s.log.Error("audit export failed midway", "request_id", requestID(r.Context()), "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	if err := s.audit.FlushReads(r.Context()); err != nil {
		return err
	}
	rep, err := s.audit.Verify(r.Context(), p.Scope.WorkspaceID, nil)
	if err != nil {
		return err
	}
	out := map[string]any{"ok": rep.OK, "checked": rep.Checked, "first_seq": rep.FirstSeq, "last_seq": rep.LastSeq,
		"checkpoints": rep.Checkpoints, "pending": rep.Pending}
	if pr := rep.Problem; pr != nil {
		out["problem"] = map[string]any{"kind": pr.Kind, "seq": pr.Seq, "id": pr.ID, "reason": pr.Reason}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type alertView struct {
	ID          int64            `json:"id"`
	Rule        string           `json:"rule"`
	Severity    string           `json:"severity"`
	State       string           `json:"state"`
	AccountKind string           `json:"account_kind,omitempty"`
	AccountID   int64            `json:"account_id,omitempty"`
	Title       string           `json:"title"`
	Explanation string           `json:"explanation"`
	Evidence    monitor.Evidence `json:"evidence"`
	Response    string           `json:"response,omitempty"`
	Count       int64            `json:"count"`
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
	StateAt     *time.Time       `json:"state_at"`
	StateBy     int64            `json:"state_by,omitempty"`
	StateNote   string           `json:"state_note,omitempty"`
}

func viewAlert(a monitor.Alert) alertView {
	return alertView{ID: a.ID, Rule: a.Rule, Severity: a.Severity, State: a.State, AccountKind: string(a.AccountKind), AccountID: a.AccountID,
		Title: a.Title, Explanation: a.Explanation, Evidence: a.Evidence, Response: a.Response, Count: a.Count, FirstSeen: a.FirstSeen,
		LastSeen: a.LastSeen, StateAt: optTime(a.StateAt), StateBy: a.StateBy, StateNote: a.StateNote}
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	q, err := readQuery(r, "state", "severity", "rule", "cursor", "limit")
	if err != nil {
		return err
	}
	f := monitor.Filter{State: q.str("state"), Severity: q.str("severity"), Rule: q.str("rule"), Before: q.int("cursor"), Limit: int(q.int("limit"))}
	if err := q.done(); err != nil {
		return err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	want := f.Limit
	f.Limit++
	as, err := s.monitor.Alerts(r.Context(), p.Scope.WorkspaceID, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(as, want, func(a monitor.Alert) int64 { return a.ID }, viewAlert))
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.monitor.Alert(r.Context(), p.Scope.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewAlert(a))
	return nil
}

type alertStateRequest struct {
	State string `json:"state"`
	Note  string `json:"note"`
}

func (s *Server) setAlertState(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req alertStateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.monitor.SetAlertState(r.Context(), p.Scope.WorkspaceID, id, req.State, p.Scope.ActorID, req.Note); err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, audit.ActionAlertPrefix+req.State, "alert", id, nil); err != nil {
		return err
	}
	a, err := s.monitor.Alert(r.Context(), p.Scope.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewAlert(a))
	return nil
}

type dashboardView struct {
	OpenBySeverity map[string]int  `json:"open_by_severity"`
	Open           []alertView     `json:"open"`
	SignIns        []signInRowView `json:"sign_ins"`
	FailedPerHour  []hourView      `json:"failed_per_hour"`
	TopAccessors   []accessorView  `json:"top_accessors"`
}

type signInRowView struct {
	At          time.Time `json:"at"`
	AccountKind string    `json:"account_kind,omitempty"`
	AccountID   int64     `json:"account_id,omitempty"`
	Result      string    `json:"result"`
	IP          string    `json:"ip"`
	Place       string    `json:"place"`
	Device      string    `json:"device"`
}

type hourView struct {
	Hour  time.Time `json:"hour"`
	Count int       `json:"count"`
}

type accessorView struct {
	AccountKind string           `json:"account_kind"`
	AccountID   int64            `json:"account_id"`
	Total       int64            `json:"total"`
	ByKind      map[string]int64 `json:"by_kind"`
}

func (s *Server) securityDashboard(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	d, err := s.monitor.Dashboard(r.Context(), p.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	out := dashboardView{OpenBySeverity: d.OpenBySeverity, Open: []alertView{}, SignIns: []signInRowView{}, FailedPerHour: []hourView{}, TopAccessors: []accessorView{}}
	for _, a := range d.Open {
		out.Open = append(out.Open, viewAlert(a))
	}
	for _, x := range d.SignIns {
		out.SignIns = append(out.SignIns, signInRowView{At: x.At, AccountKind: string(x.AccountKind), AccountID: x.AccountID, Result: x.Result, IP: x.IP, Place: x.Place, Device: x.Device})
	}
	for _, h := range d.FailedPerHour {
		out.FailedPerHour = append(out.FailedPerHour, hourView{Hour: h.Hour, Count: h.Count})
	}
	for _, a := range d.TopAccessors {
		out.TopAccessors = append(out.TopAccessors, accessorView{AccountKind: string(a.AccountKind), AccountID: a.AccountID, Total: a.Total, ByKind: a.ByKind})
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, audit.ActionDashboardView, "", 0, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// monitoringView is the monitoring settings as the API shows them: the
// webhook secret is write-only.
type monitoringView struct {
	monitor.Settings
	WebhookURL       string `json:"webhook_url"`
	WebhookSecret    string `json:"webhook_secret,omitempty"`
	WebhookSecretSet bool   `json:"webhook_secret_set"`
}

func (s *Server) getMonitoring(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	st, err := s.monitor.Settings(r.Context(), p.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, monitoringView{Settings: st, WebhookURL: st.WebhookURL, WebhookSecretSet: st.WebhookSecretSet})
	return nil
}

// putMonitoring changes the fields the body names and keeps the others.
func (s *Server) putMonitoring(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	st, err := s.monitor.Settings(r.Context(), p.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	req := monitoringView{Settings: st, WebhookURL: st.WebhookURL}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	next := req.Settings
	next.WebhookURL, next.WebhookSecret = strings.TrimSpace(req.WebhookURL), req.WebhookSecret
	if err := s.monitor.SetSettings(r.Context(), p.Scope.WorkspaceID, next); err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "security.monitoring.changed", "workspace", p.Scope.WorkspaceID, nil); err != nil {
		return err
	}
	return s.getMonitoring(w, r, p)
}
