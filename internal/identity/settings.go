package identity

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/errs"
)

// Who a workspace requires a second factor of.
const (
	MFANone     = "none"
	MFAAdmins   = "admins"
	MFAStaff    = "staff"
	MFAEveryone = "everyone"
)

// Security is a workspace's sign-in policy, kept under "security" in the
// workspace's settings. Zero fields take the defaults.
type Security struct {
	MFARequired string `json:"mfa_required"`
	// Idle and absolute session lifetimes, in minutes.
	StaffIdleMinutes        int `json:"staff_idle_minutes"`
	StaffAbsoluteMinutes    int `json:"staff_absolute_minutes"`
	CustomerIdleMinutes     int `json:"customer_idle_minutes"`
	CustomerAbsoluteMinutes int `json:"customer_absolute_minutes"`
	PasswordMinLength       int `json:"password_min_length"`
	// LockoutThreshold is how many consecutive failures lock an account
	// (NIST SP 800-63B allows at most 100).
	LockoutThreshold int `json:"lockout_threshold"`
}

// DefaultSecurity is the policy of a new workspace.
var DefaultSecurity = Security{
	MFARequired:             MFAAdmins,
	StaffIdleMinutes:        30,
	StaffAbsoluteMinutes:    12 * 60,
	CustomerIdleMinutes:     2 * 60,
	CustomerAbsoluteMinutes: 7 * 24 * 60,
	PasswordMinLength:       12,
	LockoutThreshold:        100,
}

func (p Security) withDefaults() Security {
	d := DefaultSecurity
	if p.MFARequired == "" {
		p.MFARequired = d.MFARequired
	}
	for _, f := range []struct {
		v *int
		d int
	}{
		{&p.StaffIdleMinutes, d.StaffIdleMinutes}, {&p.StaffAbsoluteMinutes, d.StaffAbsoluteMinutes},
		{&p.CustomerIdleMinutes, d.CustomerIdleMinutes}, {&p.CustomerAbsoluteMinutes, d.CustomerAbsoluteMinutes},
		{&p.PasswordMinLength, d.PasswordMinLength}, {&p.LockoutThreshold, d.LockoutThreshold},
	} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
	return p
}

func (p Security) validate() error {
	var v errs.Validator
	switch p.MFARequired {
	case MFANone, MFAAdmins, MFAStaff, MFAEveryone:
	default:
		v.Add("mfa_required", "must be one of none, admins, staff, everyone")
	}
	minutes := func(field string, n, lo, hi int) {
		if n < lo || n > hi {
			v.Add(field, "must be between %d and %d minutes", lo, hi)
		}
	}
	minutes("staff_idle_minutes", p.StaffIdleMinutes, 5, 24*60)
	minutes("staff_absolute_minutes", p.StaffAbsoluteMinutes, 30, 7*24*60)
	minutes("customer_idle_minutes", p.CustomerIdleMinutes, 5, 30*24*60)
	minutes("customer_absolute_minutes", p.CustomerAbsoluteMinutes, 30, 90*24*60)
	if p.StaffIdleMinutes > p.StaffAbsoluteMinutes {
		v.Add("staff_idle_minutes", "must not be longer than staff_absolute_minutes")
	}
	if p.CustomerIdleMinutes > p.CustomerAbsoluteMinutes {
		v.Add("customer_idle_minutes", "must not be longer than customer_absolute_minutes")
	}
	if p.PasswordMinLength < 12 || p.PasswordMinLength > 64 {
		v.Add("password_min_length", "must be between 12 and 64")
	}
	if p.LockoutThreshold < 5 || p.LockoutThreshold > 100 {
		v.Add("lockout_threshold", "must be between 5 and 100 (NIST SP 800-63B allows at most 100)")
	}
	return v.Err()
}

// requiresMFA reports whether the policy demands a second factor of kind
// with role (staff only).
func (p Security) requiresMFA(kind AccountKind, role access.Role) bool {
	switch p.MFARequired {
	case MFAEveryone:
		return true
	case MFAStaff:
		return kind == Staff
	case MFAAdmins:
		return kind == Staff && role == access.RoleAdmin
	}
	return false
}

func (p Security) lifetimes(kind AccountKind) (idle, absolute time.Duration) {
	if kind == Customer {
		return time.Duration(p.CustomerIdleMinutes) * time.Minute, time.Duration(p.CustomerAbsoluteMinutes) * time.Minute
	}
	return time.Duration(p.StaffIdleMinutes) * time.Minute, time.Duration(p.StaffAbsoluteMinutes) * time.Minute
}

// settingsCache keeps each workspace's policy for a moment: it is read on
// every session-authenticated request.
type settingsCache struct {
	mu sync.Mutex
	m  map[int64]cachedSecurity
}

type cachedSecurity struct {
	p  Security
	at time.Time
}

const settingsCacheTTL = 2 * time.Second

// SecuritySettings returns a workspace's sign-in policy.
func (s *Service) SecuritySettings(ctx context.Context, ws int64) (Security, error) {
	s.settings.mu.Lock()
	c, ok := s.settings.m[ws]
	s.settings.mu.Unlock()
	if ok && time.Since(c.at) < settingsCacheTTL {
		return c.p, nil
	}
	var raw string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, ws).Scan(&raw); err != nil {
		return Security{}, err
	}
	p := policyOf(raw)
	s.settings.mu.Lock()
	if s.settings.m == nil || len(s.settings.m) > 10000 {
		s.settings.m = map[int64]cachedSecurity{}
	}
	s.settings.m[ws] = cachedSecurity{p: p, at: time.Now()}
	s.settings.mu.Unlock()
	return p, nil
}

// policyOf reads the policy out of a workspace's settings column, as it is
// enforced: damaged or out-of-range settings fall back to the defaults.
func policyOf(raw string) Security {
	var all struct {
		Security Security `json:"security"`
	}
	_ = json.Unmarshal([]byte(raw), &all)
	p := all.Security.withDefaults()
	if p.validate() != nil {
		return DefaultSecurity
	}
	return p
}

// SetSecuritySettings replaces a workspace's sign-in policy (admins).
func (s *Service) SetSecuritySettings(ctx context.Context, scope access.Scope, p Security, c Client) (Security, error) {
	if !scope.Can(access.UserManage) {
		return Security{}, errs.ErrForbidden
	}
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return Security{}, err
	}
	ev := Event{Type: EventSettingsChanged, WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID,
		IP: c.IP, UserAgent: c.UserAgent}
	err := s.db.Write(ctx, func(tx *db.Tx) error {
		var raw string
		if err := tx.QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = $1`, scope.WorkspaceID).Scan(&raw); err != nil {
			return err
		}
		// The policy replaced is read here, in the write, rather than from
		// the cache: the event must say what was really in force, even when
		// another instance changed it a moment ago.
		ev.Details = policyChange(policyOf(raw), p)
		if err := setSetting(ctx, tx, scope.WorkspaceID, raw, "security", p); err != nil {
			return err
		}
		return s.inTx(ctx, tx, &ev)
	})
	if err != nil {
		return Security{}, err
	}
	s.settings.mu.Lock()
	delete(s.settings.m, scope.WorkspaceID)
	s.settings.mu.Unlock()
	s.emit(ctx, ev)
	return p, nil
}

// policyChange is the details of a security_settings.changed event: the
// new values under their own names and, under "<name>_from", the values
// they replaced, so readers (the monitor) can tell a weaker policy from a
// stronger one.
func policyChange(old, p Security) map[string]string {
	return map[string]string{
		"mfa_required": p.MFARequired, "mfa_required_from": old.MFARequired,
		"staff_idle_minutes": strconv.Itoa(p.StaffIdleMinutes), "staff_idle_minutes_from": strconv.Itoa(old.StaffIdleMinutes),
		"password_min_length": strconv.Itoa(p.PasswordMinLength), "password_min_length_from": strconv.Itoa(old.PasswordMinLength),
		"lockout_threshold": strconv.Itoa(p.LockoutThreshold), "lockout_threshold_from": strconv.Itoa(old.LockoutThreshold),
	}
}

// setSetting writes key of the workspace's settings document (raw, as read
// in the same transaction), keeping every other key as it was.
func setSetting(ctx context.Context, tx *db.Tx, ws int64, raw, key string, value any) error {
	all := map[string]any{}
	_ = json.Unmarshal([]byte(raw), &all) // a damaged document is replaced by what is written now
	all[key] = value
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, string(b), ws)
	return err
}
