package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Alert states.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
)

// Alert is one detection, repeated Count times while it was not resolved.
type Alert struct {
	ID       int64
	Rule     string
	Severity string
	State    string
	// Account is who the alert is about (kind "" and id 0 for address
	// rules such as password spraying).
	AccountKind access.ActorKind
	AccountID   int64
	Title       string
	Explanation string
	// Details are the values of the latest detection that its words are
	// made of, by name, so a page can write the alert in its reader's
	// language without parsing the English (the names each rule fills are
	// listed beside DetailAccessKind). Nil for alerts raised before
	// details were kept.
	Details  map[string]string
	Evidence Evidence
	// Response lists the automatic responses taken, and any that failed.
	Response  string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
	StateAt   time.Time
	StateBy   int64 // the user who last changed the state
	StateNote string
}

// Evidence is what an alert keeps about where it came from: sealed in the
// database, opened only for the admins who list alerts.
type Evidence struct {
	Addresses []string `json:"addresses,omitempty"`
	Places    []string `json:"places,omitempty"`
	Devices   []string `json:"devices,omitempty"`
}

type evidence = Evidence

// sealedEvidence is what the sealed evidence column holds: the evidence
// and, beside it, the alert's details. Details ride in that column
// rather than one of their own so that alerts need no new schema and old
// rows (without "details") still read; they are sealed like the evidence
// although they hold nothing personal (account and token ids, roles,
// counts, durations, setting values).
type sealedEvidence struct {
	Evidence
	Details map[string]string `json:"details,omitempty"`
}

// maxEvidence caps each list: the latest few are what an admin needs.
const maxEvidence = 10

func (e *Evidence) merge(more Evidence) {
	add := func(list []string, vals []string) []string {
		for _, v := range vals {
			if v == "" || slices.Contains(list, v) {
				continue
			}
			list = append(list, v)
			if len(list) > maxEvidence {
				list = list[1:]
			}
		}
		return list
	}
	e.Addresses, e.Places, e.Devices = add(e.Addresses, more.Addresses), add(e.Places, more.Places), add(e.Devices, more.Devices)
}

// raise is a detector's finding, before dedup.
type raise struct {
	ws                 int64
	rule               string
	subject            []byte
	kind               access.ActorKind
	id                 int64
	title, explanation string
	details            map[string]string
	evidence           Evidence
	at                 time.Time
}

type openedAlert struct {
	Alert
	ws     int64
	opened bool
}

func alertField(ws, id int64, column string) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "monitor_alerts", Column: column, Row: id}
}

// raiseAlert opens an alert, or counts a repeat on the one already open or
// acknowledged for the same rule and subject. The partial unique index
// makes this right across instances too.
func (m *Monitor) raiseAlert(ctx context.Context, tx *db.Tx, s Settings, r raise) (openedAlert, error) {
	newID, err := m.o.DB.IDs().NextIn(ctx, tx)
	if err != nil {
		return openedAlert{}, err
	}
	at := r.at.UnixMicro()
	sev := s.Rules[r.rule].Severity
	var id, n int64
	var evEnc []byte
	err = tx.QueryRowContext(ctx, `INSERT INTO monitor_alerts (id, workspace_id, rule, subject, severity, state, actor_kind, actor_id, title, explanation,
			count, first_seen_at, last_seen_at, state_changed_at)
		VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, 1, $10, $10, $10)
		ON CONFLICT (workspace_id, rule, subject) WHERE state <> 'resolved'
		DO UPDATE SET count = monitor_alerts.count + 1, last_seen_at = excluded.last_seen_at, explanation = excluded.explanation
		RETURNING id, count, evidence_enc`, newID, r.ws, r.rule, r.subject, sev, string(r.kind), r.id, r.title, r.explanation, at).Scan(&id, &n, &evEnc)
	if err != nil {
		return openedAlert{}, fmt.Errorf("raise alert: %w", err)
	}
	var sealed sealedEvidence
	if evEnc != nil {
		plain, err := m.o.Keys.Open(ctx, alertField(r.ws, id, "evidence"), evEnc)
		if err != nil {
			return openedAlert{}, err
		}
		if err := json.Unmarshal([]byte(plain), &sealed); err != nil {
			return openedAlert{}, err
		}
	}
	sealed.merge(r.evidence)
	// The details follow the latest detection, as the explanation does.
	sealed.Details = r.details
	ev := sealed.Evidence
	raw, _ := json.Marshal(sealed)
	if evEnc, err = m.o.Keys.Seal(ctx, alertField(r.ws, id, "evidence"), string(raw)); err != nil {
		return openedAlert{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE monitor_alerts SET evidence_enc = $1 WHERE id = $2`, evEnc, id); err != nil {
		return openedAlert{}, err
	}
	a := openedAlert{ws: r.ws, opened: id == newID, Alert: Alert{ID: id, Rule: r.rule, Severity: sev, State: StateOpen, AccountKind: r.kind,
		AccountID: r.id, Title: r.title, Explanation: r.explanation, Details: r.details, Evidence: ev, Count: n, FirstSeen: r.at, LastSeen: r.at}}
	if a.opened && s.WebhookURL != "" {
		if err := m.queueWebhook(ctx, tx, r.ws, a.Alert); err != nil {
			return openedAlert{}, err
		}
	}
	return a, nil
}

// Filter selects alerts. Zero fields select everything; Limit defaults to
// 50 (at most 500). Before pages: alerts with smaller ids.
type Filter struct {
	State    string
	Severity string
	Rule     string
	Before   int64
	Limit    int
}

const alertColumns = `id, rule, severity, state, actor_kind, actor_id, title, explanation, evidence_enc, response, count,
	first_seen_at, last_seen_at, state_changed_at, state_by, note_enc`

// Alerts lists a workspace's alerts, newest first, with evidence opened.
func (m *Monitor) Alerts(ctx context.Context, ws int64, f Filter) ([]Alert, error) {
	var v errs.Validator
	if f.State != "" && f.State != StateOpen && f.State != StateAcknowledged && f.State != StateResolved {
		v.Add("state", "must be open, acknowledged or resolved")
	}
	if f.Severity != "" && severityRank(f.Severity) < 0 {
		v.Add("severity", "must be one of %s", strings.Join(severities, ", "))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = min(max(f.Limit, 50), 500)
	}
	q := `SELECT ` + alertColumns + ` FROM monitor_alerts WHERE workspace_id = $1`
	args := []any{ws}
	add := func(cond string, val any) {
		args = append(args, val)
		q += fmt.Sprintf(" AND %s $%d", cond, len(args))
	}
	if f.State != "" {
		add("state =", f.State)
	}
	if f.Severity != "" {
		add("severity =", f.Severity)
	}
	if f.Rule != "" {
		add("rule =", f.Rule)
	}
	if f.Before > 0 {
		add("id <", f.Before)
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", f.Limit)
	rows, err := m.o.DB.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := m.scanAlert(ctx, ws, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Alert returns one alert.
func (m *Monitor) Alert(ctx context.Context, ws, id int64) (Alert, error) {
	row := m.o.DB.Read().QueryRowContext(ctx, `SELECT `+alertColumns+` FROM monitor_alerts WHERE workspace_id = $1 AND id = $2`, ws, id)
	a, err := m.scanAlert(ctx, ws, row)
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, errs.ErrNotFound
	}
	return a, err
}

func (m *Monitor) scanAlert(ctx context.Context, ws int64, row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var kind string
	var evEnc, noteEnc []byte
	var first, last, changed int64
	if err := row.Scan(&a.ID, &a.Rule, &a.Severity, &a.State, &kind, &a.AccountID, &a.Title, &a.Explanation, &evEnc, &a.Response, &a.Count,
		&first, &last, &changed, &a.StateBy, &noteEnc); err != nil {
		return Alert{}, err
	}
	a.AccountKind = access.ActorKind(kind)
	a.FirstSeen, a.LastSeen, a.StateAt = db.Time(first), db.Time(last), db.Time(changed)
	if evEnc != nil {
		plain, err := m.o.Keys.Open(ctx, alertField(ws, a.ID, "evidence"), evEnc)
		if err != nil {
			return Alert{}, err
		}
		var sealed sealedEvidence
		if err := json.Unmarshal([]byte(plain), &sealed); err != nil {
			return Alert{}, err
		}
		a.Evidence, a.Details = sealed.Evidence, sealed.Details
	}
	if noteEnc != nil {
		var err error
		if a.StateNote, err = m.o.Keys.Open(ctx, alertField(ws, a.ID, "note"), noteEnc); err != nil {
			return Alert{}, err
		}
	}
	return a, nil
}

// SetAlertState acknowledges, reopens or resolves an alert, recording who
// did it and their note (sealed: notes name people). A resolved alert
// stays resolved; a repeat of what it saw opens a new one.
func (m *Monitor) SetAlertState(ctx context.Context, ws, id int64, state string, byUserID int64, note string) error {
	var v errs.Validator
	if state != StateOpen && state != StateAcknowledged && state != StateResolved {
		v.Add("state", "must be open, acknowledged or resolved")
	}
	v.Text("note", note, false, 2000)
	if err := v.Err(); err != nil {
		return err
	}
	var noteEnc []byte
	if note != "" {
		var err error
		if noteEnc, err = m.o.Keys.Seal(ctx, alertField(ws, id, "note"), note); err != nil {
			return err
		}
	}
	return m.o.DB.Write(ctx, func(tx *db.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT state FROM monitor_alerts WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur == StateResolved {
			return &errs.Conflict{Message: "the alert is resolved; a repeat opens a new alert"}
		}
		_, err = tx.ExecContext(ctx, `UPDATE monitor_alerts SET state = $1, state_changed_at = $2, state_by = $3, note_enc = $4
			WHERE workspace_id = $5 AND id = $6`, state, m.o.Now().UnixMicro(), byUserID, noteEnc, ws, id)
		return err
	})
}
