package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/monitor"
	"github.com/hesar/hesar/internal/ticket"
)

// Workspace settings (user.manage): the sign-in policy and the data
// protection (masking and attachment policies), each its own form. Every
// change is shown for confirmation first (what changes, from what to
// what), then saved after step-up, as the API's PUT /settings/security
// and PUT /settings/data-protection demand.

// SettingChange is one setting that the form would change.
type SettingChange struct {
	Key      string // the catalog key naming the setting
	From, To string
	// Note says what the new value means, when that is worth reading
	// again before saving (what "remove for good" loses).
	Note string
}

// DataProtectionForm is the data-protection form's values.
type DataProtectionForm struct {
	Masking   string
	MaxMiB    int64 // the upload limit as the form shows it
	MaxBytes  int64 // the limit itself
	Dangerous string
}

// SettingsPage is the settings forms, or the confirmation of one of them.
type SettingsPage struct {
	Page
	S         identity.Security
	Levels    []string
	D         DataProtectionForm
	Maskings  []string
	Dangerous []string
	// Confirm shows the Changes of Section ("security" or "data") for
	// confirmation instead of the forms.
	Confirm bool
	Section string
	Changes []SettingChange
	Fresh   bool
	Errors  FieldErrors
	// Zone is the workspace's time zone (or the one typed), Zones the
	// ones offered.
	Zone  string
	Zones []string
}

// mfaLevels are the choices of whom the workspace requires a second factor of.
var mfaLevels = []string{identity.MFANone, identity.MFAAdmins, identity.MFAStaff, identity.MFAEveryone}

var (
	maskingChoices   = []string{ticket.PolicyMask, ticket.PolicyRedact}
	dangerousChoices = []string{string(attachment.Block), string(attachment.DownloadOnly)}
)

func dataForm(d attachment.DataProtection) DataProtectionForm {
	return DataProtectionForm{Masking: d.Masking, MaxMiB: d.Attachments.MaxBytes >> 20, MaxBytes: d.Attachments.MaxBytes,
		Dangerous: string(d.Attachments.Dangerous)}
}

// settingsView is the page with both forms filled from sec and d.
func (s *Server) settingsView(r *http.Request, q *req, sec identity.Security, d DataProtectionForm) SettingsPage {
	return SettingsPage{Page: s.page(r, q, "title.admin_settings"), S: sec, Levels: mfaLevels, D: d, Maskings: maskingChoices,
		Dangerous: dangerousChoices, Fresh: !stale(q), Errors: FieldErrors{}, Zone: q.L.Zone().String(), Zones: identity.TimeZones}
}

// current reads both settings.
func (s *Server) currentSettings(r *http.Request, q *req) (identity.Security, attachment.DataProtection, error) {
	sec, err := s.identity.SecuritySettings(r.Context(), q.P.Scope.WorkspaceID)
	if err != nil {
		return identity.Security{}, attachment.DataProtection{}, err
	}
	d, err := s.attachments.DataProtection(r.Context(), q.P.Scope)
	return sec, d, err
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	sec, d, err := s.currentSettings(r, q)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_settings", s.settingsView(r, q, sec, dataForm(d)))
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
		out = append(out, SettingChange{Key: "field.mfa_required", From: l.T("mfa_level." + a.MFARequired), To: l.T("mfa_level." + b.MFARequired)})
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
			out = append(out, SettingChange{Key: c.key, From: l.Num(int64(c.x)), To: l.Num(int64(c.y))})
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
	if r.PostFormValue("section") == "time_zone" {
		return s.saveTimeZone(w, r, q)
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/settings")
	}
	cur, d, err := s.currentSettings(r, q)
	if err != nil {
		return err
	}
	next, _, bad := settingsFromForm(r, cur)
	v := s.settingsView(r, q, next, dataForm(d))
	v.Section = "security"
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

// dataFields names the form's field for each field the attachment
// service validates.
var dataFields = map[string]string{"masking": "masking", "attachments.max_bytes": "max_mib", "attachments.dangerous": "dangerous"}

// dataFromForm reads the data-protection form over the current settings.
// The limit is entered in MiB; a limit that is no whole number of MiB
// (set through the API) is kept while the form shows it rounded down.
func dataFromForm(r *http.Request, cur attachment.DataProtection) (attachment.DataProtection, DataProtectionForm, FieldErrors) {
	next := cur
	next.Masking = r.PostFormValue("masking")
	next.Attachments.Dangerous = attachment.DangerousAction(r.PostFormValue("dangerous"))
	f := DataProtectionForm{Masking: next.Masking, Dangerous: string(next.Attachments.Dangerous), MaxMiB: cur.Attachments.MaxBytes >> 20}
	bad := FieldErrors{}
	switch n, err := strconv.ParseInt(r.PostFormValue("max_mib"), 10, 64); {
	case err != nil:
		bad["max_mib"] = "error.field.number"
	case n < attachment.MinMaxBytes>>20 || n > attachment.CeilingMaxBytes>>20:
		f.MaxMiB = n
		bad["max_mib"] = "error.field.max_mib"
	case n != cur.Attachments.MaxBytes>>20:
		f.MaxMiB, next.Attachments.MaxBytes = n, n<<20
	}
	f.MaxBytes = next.Attachments.MaxBytes
	return next, f, bad
}

func sizeMiB(l *Locale, n int64) string {
	if n%(1<<20) == 0 {
		return l.T("size.mb", l.Num(n>>20))
	}
	return l.Size(n)
}

func dataChanges(l *Locale, a, b attachment.DataProtection) []SettingChange {
	var out []SettingChange
	if a.Masking != b.Masking {
		out = append(out, SettingChange{Key: "field.masking", From: l.T("masking." + a.Masking), To: l.T("masking." + b.Masking),
			Note: l.T("masking." + b.Masking + "_hint")})
	}
	if x, y := a.Attachments.MaxBytes, b.Attachments.MaxBytes; x != y {
		out = append(out, SettingChange{Key: "field.max_mib", From: sizeMiB(l, x), To: sizeMiB(l, y)})
	}
	if x, y := string(a.Attachments.Dangerous), string(b.Attachments.Dangerous); x != y {
		out = append(out, SettingChange{Key: "field.dangerous", From: l.T("dangerous." + x), To: l.T("dangerous." + y),
			Note: l.T("dangerous." + y + "_hint")})
	}
	return out
}

// saveDataProtection shows the data-protection changes for confirmation;
// with confirm=yes it saves them, in one write audited by the attachment
// service, and tells the monitor.
func (s *Server) saveDataProtection(w http.ResponseWriter, r *http.Request, q *req) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if stale(q) {
		return stepUpFirst(w, r, "/admin/settings")
	}
	sec, cur, err := s.currentSettings(r, q)
	if err != nil {
		return err
	}
	next, form, bad := dataFromForm(r, cur)
	v := s.settingsView(r, q, sec, form)
	v.Section = "data"
	err = next.Validate()
	if len(bad) == 0 && err == nil {
		v.Changes = dataChanges(q.L, cur, next)
		if len(v.Changes) == 0 {
			return seeOther(w, r, "/admin/settings?notice=notice.nothing_changed")
		}
		if r.PostFormValue("confirm") != "yes" {
			v.Confirm = true
			return s.render(w, r, http.StatusOK, "admin_settings", v)
		}
		var c attachment.DataProtectionChange
		if c, err = s.attachments.SetDataProtection(r.Context(), q.P.Scope, next); err == nil {
			s.observeDataProtection(r, q, c)
			return seeOther(w, r, "/admin/settings?notice=notice.data_protection_saved")
		}
		v.Changes = nil
	}
	var inv *errs.Invalid
	if errors.As(err, &inv) {
		for f := range inv.Fields {
			if name, ok := dataFields[f]; !ok {
				bad["form"] = "error.field.invalid"
			} else if bad[name] == "" {
				bad[name] = "error.field." + name
			}
		}
	} else if err != nil {
		return err
	}
	for f, key := range bad {
		v.Errors[f] = q.L.T(key)
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "admin_settings", v)
}

// observeDataProtection hands a saved change to the monitor, whose
// policy_weakened rule judges it (as the API does).
func (s *Server) observeDataProtection(r *http.Request, q *req, c attachment.DataProtectionChange) {
	if s.monitor == nil || !c.Changed() {
		return
	}
	cl := s.client(r)
	var session int64
	if q.P.Session != nil {
		session = q.P.Session.ID
	}
	s.monitor.Observe(r.Context(), monitor.DataProtectionObservation(q.P.Scope, session, cl.IP, cl.UserAgent, c.Details()))
}

// saveTimeZone shows the change of the workspace's time zone for
// confirmation; with confirm=yes it saves it, audited by identity. The
// form posts to /admin/settings with section=time_zone.
func (s *Server) saveTimeZone(w http.ResponseWriter, r *http.Request, q *req) error {
	if stale(q) {
		return stepUpFirst(w, r, "/admin/settings")
	}
	sec, d, err := s.currentSettings(r, q)
	if err != nil {
		return err
	}
	v := s.settingsView(r, q, sec, dataForm(d))
	v.Section = "time_zone"
	cur, name := q.L.Zone(), strings.TrimSpace(r.PostFormValue("time_zone"))
	v.Zone = name
	loc, err := identity.ValidTimeZone(name)
	if err == nil {
		if loc.String() == cur.String() {
			return seeOther(w, r, "/admin/settings?notice=notice.nothing_changed")
		}
		now := time.Now()
		next := &Locale{Lang: q.L.Lang, msgs: q.L.msgs, zone: loc}
		v.Changes = []SettingChange{{Key: "field.time_zone", From: q.L.ZoneName(), To: next.ZoneName(),
			Note: q.L.T("settings.time_zone_note", q.L.Date(now), next.Date(now))}}
		if r.PostFormValue("confirm") != "yes" {
			v.Confirm = true
			return s.render(w, r, http.StatusOK, "admin_settings", v)
		}
		if _, err = s.identity.SetTimeZone(r.Context(), q.P.Scope, name, s.client(r)); err == nil {
			return seeOther(w, r, "/admin/settings?notice=notice.time_zone_saved")
		}
		v.Changes = nil
	}
	var inv *errs.Invalid
	if !errors.As(err, &inv) {
		return err
	}
	v.Errors["time_zone"] = q.L.T("error.field.time_zone")
	return s.render(w, r, http.StatusUnprocessableEntity, "admin_settings", v)
}
