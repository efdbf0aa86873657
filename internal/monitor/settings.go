package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // business hours name zones; hosts without tzdata must still know them

	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/keyring"
)

// Rule names.
const (
	RuleBruteForce   = "brute_force"
	RuleSpraying     = "password_spraying"
	RuleTravel       = "impossible_travel"
	RuleConcurrent   = "concurrent_countries"
	RuleNewSignIn    = "new_signin"
	RuleExfiltration = "exfiltration"
	RuleMFARemoved   = "mfa_removed"
	RuleRecoveryUsed = "recovery_code_used"
	RulePrivilege    = "privilege_raised"
	RuleWideToken    = "wide_token"
	RuleOffHours     = "admin_off_hours"
	// RulePolicyWeakened: the workspace's sign-in policy made weaker.
	RulePolicyWeakened = "policy_weakened"
)

// Severities, lowest first.
const (
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	Critical = "critical"
)

var severities = []string{Low, Medium, High, Critical}

func severityRank(s string) int { return slices.Index(severities, s) }

// Automatic responses a rule may take on the account it is about.
const (
	RespondRevokeSessions = "revoke_sessions"
	RespondLock           = "lock"
	RespondRequireMFA     = "require_mfa"
)

// Duration is a time.Duration written as "15m0s" in JSON.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string ("15m", "2h").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Rule is one detector's settings. Threshold and Window mean, per rule:
// brute_force: failures per account within Window; password_spraying:
// distinct accounts failed from one address within Window;
// impossible_travel: km/h, comparing sign-ins up to Window apart;
// concurrent_countries: sign-ins up to Window apart whose sessions have
// not ended; new_signin: how far back devices and countries count as
// known; exfiltration: the counting window. Others use neither.
type Rule struct {
	Enabled   bool     `json:"enabled"`
	Severity  string   `json:"severity"`
	Threshold int      `json:"threshold,omitempty"`
	Window    Duration `json:"window,omitempty"`
	// Response is done once, when the alert opens, on the account the
	// alert is about.
	Response []string `json:"response,omitempty"`
	// NotifyUser mails the account holder (new_signin).
	NotifyUser bool `json:"notify_user,omitempty"`
}

// Exfiltration tunes the mass-access detector: an account alerts when its
// count of distinct objects of one kind within the window exceeds
// max(Floors[kind], Factor × its average count in its active hours of the
// last 7 days).
type Exfiltration struct {
	Factor float64        `json:"factor"`
	Floors map[string]int `json:"floors"`
}

// BusinessHours are when admins are expected to sign in.
type BusinessHours struct {
	Enabled  bool   `json:"enabled"`
	TimeZone string `json:"time_zone"` // IANA, e.g. "Asia/Tehran"
	Days     []int  `json:"days"`      // 0 Sunday … 6 Saturday
	Start    string `json:"start"`     // "08:00"
	End      string `json:"end"`       // "18:00", after Start
}

// Settings are a workspace's monitoring settings.
type Settings struct {
	Rules         map[string]Rule `json:"rules"`
	Exfiltration  Exfiltration    `json:"exfiltration"`
	BusinessHours BusinessHours   `json:"business_hours"`
	// Recipients are staff user ids mailed about alerts; empty: the
	// workspace's admins.
	Recipients []int64 `json:"recipients"`
	// EmailSeverity is the lowest severity mailed.
	EmailSeverity string `json:"email_severity"`
	// WebhookURL receives each new alert (http or https; empty: off).
	WebhookURL string `json:"-"`
	// WebhookSecret signs webhook bodies. Write only: Settings returns it
	// empty with WebhookSecretSet true. Leave it empty in SetSettings to
	// keep the current one.
	WebhookSecret    string `json:"-"`
	WebhookSecretSet bool   `json:"-"`
}

// Defaults are the settings of a workspace that changed nothing.
func Defaults() Settings {
	r := func(sev string, threshold int, window time.Duration) Rule {
		return Rule{Enabled: true, Severity: sev, Threshold: threshold, Window: Duration(window)}
	}
	newSignIn := r(Low, 0, 90*24*time.Hour)
	newSignIn.NotifyUser = true
	return Settings{
		Rules: map[string]Rule{
			RuleBruteForce:     r(High, 10, 15*time.Minute),
			RuleSpraying:       r(High, 10, time.Hour),
			RuleTravel:         r(High, 1000, 24*time.Hour),
			RuleConcurrent:     r(Medium, 0, 12*time.Hour),
			RuleNewSignIn:      newSignIn,
			RuleExfiltration:   r(High, 0, time.Hour),
			RuleMFARemoved:     r(Medium, 0, 0),
			RuleRecoveryUsed:   r(Medium, 0, 0),
			RulePrivilege:      r(High, 0, 0),
			RuleWideToken:      r(Medium, 0, 0),
			RuleOffHours:       r(Medium, 0, 0),
			RulePolicyWeakened: r(High, 0, 0),
		},
		Exfiltration: Exfiltration{Factor: 5, Floors: map[string]int{
			AccessView: 300, AccessSearch: 150, AccessDownload: 100, AccessExport: 5, AccessCustomer: 200}},
		BusinessHours: BusinessHours{TimeZone: "Asia/Tehran", Days: []int{6, 0, 1, 2, 3}, Start: "08:00", End: "18:00"},
		EmailSeverity: Medium,
	}
}

// thresholdRange and windowRange bound what each rule accepts.
var thresholdRange = map[string][2]int{RuleBruteForce: {3, 10000}, RuleSpraying: {2, 10000}, RuleTravel: {100, 20000}}

var windowRange = map[string][2]time.Duration{
	RuleBruteForce: {time.Minute, 24 * time.Hour}, RuleSpraying: {time.Minute, 24 * time.Hour},
	RuleTravel: {time.Hour, 7 * 24 * time.Hour}, RuleConcurrent: {time.Hour, 7 * 24 * time.Hour},
	RuleNewSignIn: {24 * time.Hour, 365 * 24 * time.Hour}, RuleExfiltration: {5 * time.Minute, 24 * time.Hour},
}

// addressRules watch an address, not an account: no response applies.
var addressRules = map[string]bool{RuleSpraying: true}

// Validate checks s and fills in rules left out with their defaults.
func (s *Settings) Validate() error {
	var v errs.Validator
	def := Defaults()
	if s.Rules == nil {
		s.Rules = map[string]Rule{}
	}
	for name := range s.Rules {
		if _, ok := def.Rules[name]; !ok {
			v.Add("rules."+name, "is not a rule (known: %s)", strings.Join(ruleNames(), ", "))
		}
	}
	for name, d := range def.Rules {
		r, ok := s.Rules[name]
		if !ok {
			s.Rules[name] = d
			continue
		}
		f := "rules." + name
		if severityRank(r.Severity) < 0 {
			v.Add(f+".severity", "must be one of %s", strings.Join(severities, ", "))
		}
		if tr, ok := thresholdRange[name]; ok && (r.Threshold < tr[0] || r.Threshold > tr[1]) {
			v.Add(f+".threshold", "must be from %d to %d", tr[0], tr[1])
		}
		if wr, ok := windowRange[name]; ok && (time.Duration(r.Window) < wr[0] || time.Duration(r.Window) > wr[1]) {
			v.Add(f+".window", "must be from %s to %s", wr[0], wr[1])
		}
		for _, resp := range r.Response {
			if resp != RespondRevokeSessions && resp != RespondLock && resp != RespondRequireMFA {
				v.Add(f+".response", "may hold %s, %s and %s", RespondRevokeSessions, RespondLock, RespondRequireMFA)
			} else if addressRules[name] {
				v.Add(f+".response", "is not possible: this rule watches an address, not an account")
			}
		}
		if r.NotifyUser && name != RuleNewSignIn {
			v.Add(f+".notify_user", "applies to %s only", RuleNewSignIn)
		}
	}
	s.validateExfiltration(&v)
	s.validateHours(&v)
	if len(s.Recipients) > 50 {
		v.Add("recipients", "may hold at most 50 users")
	}
	for _, id := range s.Recipients {
		if id <= 0 {
			v.Add("recipients", "must be user ids")
		}
	}
	if severityRank(s.EmailSeverity) < 0 {
		v.Add("email_severity", "must be one of %s", strings.Join(severities, ", "))
	}
	if s.WebhookURL != "" {
		if err := checkWebhookURL(s.WebhookURL); err != nil {
			v.Add("webhook_url", "%s", err.Error())
		}
		if s.WebhookSecret != "" && (len(s.WebhookSecret) < 16 || len(s.WebhookSecret) > 256) {
			v.Add("webhook_secret", "must be 16 to 256 characters")
		}
	} else if s.WebhookSecret != "" {
		v.Add("webhook_secret", "needs a webhook_url")
	}
	return v.Err()
}

func (s *Settings) validateExfiltration(v *errs.Validator) {
	def := Defaults().Exfiltration
	if s.Exfiltration.Factor == 0 {
		s.Exfiltration.Factor = def.Factor
	}
	if s.Exfiltration.Factor < 1.5 || s.Exfiltration.Factor > 100 {
		v.Add("exfiltration.factor", "must be from 1.5 to 100")
	}
	if s.Exfiltration.Floors == nil {
		s.Exfiltration.Floors = map[string]int{}
	}
	for kind, n := range s.Exfiltration.Floors {
		if !slices.Contains(AccessKinds, kind) {
			v.Add("exfiltration.floors."+kind, "is not an access kind (known: %s)", strings.Join(AccessKinds, ", "))
		} else if n < 1 || n > 1_000_000 {
			v.Add("exfiltration.floors."+kind, "must be from 1 to 1000000")
		}
	}
	for kind, n := range def.Floors {
		if _, ok := s.Exfiltration.Floors[kind]; !ok {
			s.Exfiltration.Floors[kind] = n
		}
	}
}

func (s *Settings) validateHours(v *errs.Validator) {
	h := &s.BusinessHours
	if h.TimeZone == "" && !h.Enabled {
		*h = Defaults().BusinessHours
		return
	}
	if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "" || h.TimeZone == "Local" {
		v.Add("business_hours.time_zone", "must be an IANA time zone such as Asia/Tehran")
	}
	for _, d := range h.Days {
		if d < 0 || d > 6 {
			v.Add("business_hours.days", "must be 0 (Sunday) to 6 (Saturday)")
		}
	}
	start, err1 := clock(h.Start)
	end, err2 := clock(h.End)
	switch {
	case err1 != nil:
		v.Add("business_hours.start", "must be a time like 08:00")
	case err2 != nil:
		v.Add("business_hours.end", "must be a time like 18:00")
	case end <= start:
		v.Add("business_hours.end", "must be after the start")
	}
	if h.Enabled && len(h.Days) == 0 {
		v.Add("business_hours.days", "must name at least one day")
	}
}

// clock parses "HH:MM" to minutes after midnight (24:00 allowed as end).
func clock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("bad time")
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, errors.New("bad time")
	}
	return h*60 + m, nil
}

func ruleNames() []string {
	var out []string
	for name := range Defaults().Rules {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func checkWebhookURL(raw string) error {
	if len(raw) > 2000 {
		return errors.New("must be at most 2000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("must be an http or https URL without credentials")
	}
	return nil
}

type cachedSettings struct {
	s  Settings
	at time.Time
}

const settingsTTL = 10 * time.Second

func settingsField(ws, id int64, column string) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "monitor_settings", Column: column, Row: id}
}

// Settings returns the workspace's settings (the defaults until changed),
// with the webhook secret left out.
func (m *Monitor) Settings(ctx context.Context, ws int64) (Settings, error) {
	s, err := m.settingsWithSecret(ctx, ws)
	s.WebhookSecretSet, s.WebhookSecret = s.WebhookSecret != "", ""
	return s, err
}

// settingsWithSecret reads settings through a short cache: other
// instances' changes arrive within settingsTTL.
func (m *Monitor) settingsWithSecret(ctx context.Context, ws int64) (Settings, error) {
	m.settingsMu.Lock()
	c, ok := m.settings[ws]
	m.settingsMu.Unlock()
	if ok && time.Since(c.at) < settingsTTL {
		return c.s.clone(), nil
	}
	s, _, err := m.loadSettings(ctx, ws)
	if err != nil {
		return Settings{}, err
	}
	m.settingsMu.Lock()
	m.settings[ws] = cachedSettings{s: s.clone(), at: time.Now()}
	m.settingsMu.Unlock()
	return s, nil
}

// clone copies s deeply, so a caller changing what it was given never
// changes the cache.
func (s Settings) clone() Settings {
	c := s
	c.Rules = make(map[string]Rule, len(s.Rules))
	for k, r := range s.Rules {
		r.Response = slices.Clone(r.Response)
		c.Rules[k] = r
	}
	c.Exfiltration.Floors = maps.Clone(s.Exfiltration.Floors)
	c.BusinessHours.Days = slices.Clone(s.BusinessHours.Days)
	c.Recipients = slices.Clone(s.Recipients)
	return c
}

func (m *Monitor) loadSettings(ctx context.Context, ws int64) (Settings, int64, error) {
	var id int64
	var raw string
	var urlEnc, secretEnc []byte
	err := m.o.DB.Read().QueryRowContext(ctx, `SELECT id, settings, webhook_url_enc, webhook_secret_enc FROM monitor_settings WHERE workspace_id = $1`, ws).
		Scan(&id, &raw, &urlEnc, &secretEnc)
	if errors.Is(err, sql.ErrNoRows) {
		return Defaults(), 0, nil
	}
	if err != nil {
		return Settings{}, 0, fmt.Errorf("monitor settings: %w", err)
	}
	var s Settings
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Settings{}, 0, fmt.Errorf("monitor settings: %w", err)
	}
	_ = s.Validate() // fills in rules added since they were saved
	if urlEnc != nil {
		if s.WebhookURL, err = m.o.Keys.Open(ctx, settingsField(ws, id, "webhook_url"), urlEnc); err != nil {
			return Settings{}, 0, err
		}
	}
	if secretEnc != nil {
		if s.WebhookSecret, err = m.o.Keys.Open(ctx, settingsField(ws, id, "webhook_secret"), secretEnc); err != nil {
			return Settings{}, 0, err
		}
	}
	return s, id, nil
}

// SetSettings validates and stores s (rules left out keep their defaults).
// It fails with *errs.Invalid naming each bad field.
func (m *Monitor) SetSettings(ctx context.Context, ws int64, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	cur, id, err := m.loadSettings(ctx, ws)
	if err != nil {
		return err
	}
	if s.WebhookURL != "" && s.WebhookSecret == "" {
		if cur.WebhookSecret == "" {
			return errs.Field("webhook_secret", "is required with a webhook_url")
		}
		s.WebhookSecret = cur.WebhookSecret
	}
	if id == 0 {
		if id, err = m.o.DB.IDs().Next(ctx); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var urlEnc, secretEnc []byte
	if s.WebhookURL != "" {
		if urlEnc, err = m.o.Keys.Seal(ctx, settingsField(ws, id, "webhook_url"), s.WebhookURL); err != nil {
			return err
		}
		if secretEnc, err = m.o.Keys.Seal(ctx, settingsField(ws, id, "webhook_secret"), s.WebhookSecret); err != nil {
			return err
		}
	}
	err = m.o.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO monitor_settings (id, workspace_id, settings, webhook_url_enc, webhook_secret_enc, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, webhook_url_enc = excluded.webhook_url_enc,
				webhook_secret_enc = excluded.webhook_secret_enc, updated_at = excluded.updated_at
			WHERE monitor_settings.id = excluded.id`, id, ws, string(raw), urlEnc, secretEnc, db.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("monitor settings: %w", err)
	}
	m.settingsMu.Lock()
	delete(m.settings, ws)
	m.settingsMu.Unlock()
	return nil
}
