package web

import (
	"net/http"
	"strconv"

	"github.com/hesar/hesar/internal/identity"
)

// Workspace security settings (user.manage). Every change is shown for
// confirmation first (what changes, from what to what), then saved after
// step-up, as the API's PUT /settings/security demands.

// SettingChange is one setting that the form would change.
type SettingChange struct {
	Key      string // the catalog key naming the setting
	From, To string
}

// SettingsPage is the settings form, or its confirmation.
type SettingsPage struct {
	Page
	S       identity.Security
	Levels  []string
	Confirm bool
	Changes []SettingChange
	Fresh   bool
	Errors  FieldErrors
}

// mfaLevels are the choices of whom the workspace requires a second factor of.
var mfaLevels = []string{identity.MFANone, identity.MFAAdmins, identity.MFAStaff, identity.MFAEveryone}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	cur, err := s.identity.SecuritySettings(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	v := SettingsPage{Page: s.page(r, q, "title.admin_settings"), S: cur, Levels: mfaLevels, Fresh: !stale(q), Errors: FieldErrors{}}
	return s.render(w, r, http.StatusOK, "admin_settings", v)
}

// settingsFromForm reads the form over the current settings.
func settingsFromForm(r *http.Request, cur identity.Security) (identity.Security, FieldErrors, []string) {
	next, bad := cur, []string{}
	next.MFARequired = r.PostFormValue("mfa_required")
	for name, dst := range map[string]*int{
		"staff_idle_minutes": &next.StaffIdleMinutes, "staff_absolute_minutes": &next.StaffAbsoluteMinutes,
		"customer_idle_minutes": &next.CustomerIdleMinutes, "customer_absolute_minutes": &next.CustomerAbsoluteMinutes,
		"password_min_length": &next.PasswordMinLength, "lockout_threshold": &next.LockoutThreshold,
	} {
		n, err := strconv.Atoi(r.PostFormValue(name))
		if err != nil || n <= 0 {
			bad = append(bad, name)
			continue
		}
		*dst = n
	}
	return next, nil, bad
}

func (s *Server) changes(l *Locale, a, b identity.Security) []SettingChange {
	var out []SettingChange
	if a.MFARequired != b.MFARequired {
		out = append(out, SettingChange{"field.mfa_required", l.T("mfa_level." + a.MFARequired), l.T("mfa_level." + b.MFARequired)})
	}
	for _, c := range []struct {
		key  string
		x, y int
	}{
		{"field.staff_idle_minutes", a.StaffIdleMinutes, b.StaffIdleMinutes},
		{"field.staff_absolute_minutes", a.StaffAbsoluteMinutes, b.StaffAbsoluteMinutes},
		{"field.customer_idle_minutes", a.CustomerIdleMinutes, b.CustomerIdleMinutes},
		{"field.customer_absolute_minutes", a.CustomerAbsoluteMinutes, b.CustomerAbsoluteMinutes},
		{"field.password_min_length", a.PasswordMinLength, b.PasswordMinLength},
		{"field.lockout_threshold", a.LockoutThreshold, b.LockoutThreshold},
	} {
		if c.x != c.y {
			out = append(out, SettingChange{c.key, l.Num(int64(c.x)), l.Num(int64(c.y))})
		}
	}
	return out
}

// saveSettings shows the changes for confirmation; with confirm=yes it
// saves them.
func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/settings")
	}
	cur, err := s.identity.SecuritySettings(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return err
	}
	next, _, bad := settingsFromForm(r, cur)
	v := SettingsPage{Page: s.page(r, q, "title.admin_settings"), S: next, Levels: mfaLevels, Fresh: true, Errors: FieldErrors{}}
	for _, f := range bad {
		v.Errors[f] = q.L.T("error.field.number")
	}
	if len(bad) == 0 {
		v.Changes = s.changes(q.L, cur, next)
		if len(v.Changes) == 0 {
			return seeOther(w, r, "/admin/settings?notice=notice.nothing_changed")
		}
		if r.PostFormValue("confirm") != "yes" {
			v.Confirm = true
			return s.render(w, r, http.StatusOK, "admin_settings", v)
		}
		_, err = s.identity.SetSecuritySettings(r.Context(), q.P.Scope, next, s.client(r))
		if err == nil {
			return seeOther(w, r, "/admin/settings?notice=notice.settings_saved")
		}
		fe, ok := fieldErrors(q.L, err)
		if !ok {
			return err
		}
		v.Errors, v.Changes = fe, nil
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "admin_settings", v)
}
