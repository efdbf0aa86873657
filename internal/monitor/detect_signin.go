package monitor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/geoip"
	"github.com/hesar/hesar/internal/keyring"
)

// Mark families. Seen sets (device, country) are kept a year; counting
// windows a day.
const (
	markFailedAccount = "failed_account"
	markFailedAddress = "failed_address"
	markSeenDevice    = "seen_device"
	markSeenCountry   = "seen_country"
	markAccessPrefix  = "access:"
)

func signinField(ws, id int64, column string) keyring.Field {
	return keyring.Field{Workspace: ws, Table: "monitor_signins", Column: column, Row: id}
}

// recordSignIn keeps a sign-in for the dashboard and the travel checks,
// with its address and agent sealed.
func (m *Monitor) recordSignIn(ctx context.Context, tx *db.Tx, o Observation, kind access.ActorKind, id int64, result string) error {
	row, err := m.o.DB.IDs().NextIn(ctx, tx)
	if err != nil {
		return err
	}
	ipEnc, err := m.o.Keys.Seal(ctx, signinField(o.WorkspaceID, row, "ip"), o.IP)
	if err != nil {
		return err
	}
	agentEnc, err := m.o.Keys.Seal(ctx, signinField(o.WorkspaceID, row, "agent"), truncate(o.UserAgent, 512))
	if err != nil {
		return err
	}
	if kind == "" {
		kind = access.ActorUser
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO monitor_signins (id, workspace_id, at, actor_kind, actor_id, result, session_id, ip_enc, agent_enc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, row, o.WorkspaceID, o.At.UnixMicro(), string(kind), id, result, o.SessionID, ipEnc, agentEnc)
	return err
}

// signInFailed counts a failure against the account (brute force) and
// against the address (spraying, stuffing).
func (m *Monitor) signInFailed(ctx context.Context, tx *db.Tx, s Settings, o Observation, f *found) error {
	kind, id := access.ActorKind(o.TargetKind), o.TargetID
	if o.Type == MFAFailed {
		kind, id = o.ActorKind, o.ActorID
	} else if err := m.recordSignIn(ctx, tx, o, kind, id, "failed"); err != nil {
		return err
	}
	ipHash, err := m.hash(ctx, o.WorkspaceID, "ip", o.IP)
	if err != nil {
		return err
	}
	if r := s.Rules[RuleBruteForce]; r.Enabled && id != 0 {
		acct, err := m.accountHash(ctx, o.WorkspaceID, kind, id)
		if err != nil {
			return err
		}
		if err := mark(ctx, tx, o.WorkspaceID, markFailedAccount, acct, ipHash, o.At); err != nil {
			return err
		}
		n, addrs, err := count(ctx, tx, o.WorkspaceID, markFailedAccount, acct, o.At.Add(-time.Duration(r.Window)))
		if err != nil {
			return err
		}
		if n >= r.Threshold {
			f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleBruteForce, subject: acct, kind: kind, id: id, at: o.At,
				title: fmt.Sprintf("Repeated failed sign-ins for %s", who(kind, id)),
				explanation: fmt.Sprintf("%d failed sign-ins or second-factor attempts for %s from %s in %s (threshold %d). "+
					"Hesar throttles these attempts and locks the account after repeated failures. If they were not the account holder, "+
					"reset the password, make sure the account has a second factor, and block the addresses in the alert's evidence at your firewall.",
					n, who(kind, id), plural(addrs, "address", "addresses"), human(time.Duration(r.Window)), r.Threshold),
				details: map[string]string{"attempts": itoa(n), "addresses": itoa(addrs), "window_seconds": seconds(time.Duration(r.Window)),
					"threshold": itoa(r.Threshold)},
				evidence: evidence{Addresses: []string{o.IP}}})
		}
	}
	r := s.Rules[RuleSpraying]
	if !r.Enabled || o.IP == "" || o.Type == MFAFailed {
		return nil
	}
	var object []byte
	switch {
	case id != 0:
		object, err = m.accountHash(ctx, o.WorkspaceID, kind, id)
	case o.Details["account_key"] != "":
		object, err = m.hash(ctx, o.WorkspaceID, "account_key", o.Details["account_key"])
	default:
		object = uniqueObject() // an unknown account, not named: each try counts
	}
	if err != nil {
		return err
	}
	if err := mark(ctx, tx, o.WorkspaceID, markFailedAddress, ipHash, object, o.At); err != nil {
		return err
	}
	n, accounts, err := count(ctx, tx, o.WorkspaceID, markFailedAddress, ipHash, o.At.Add(-time.Duration(r.Window)))
	if err != nil {
		return err
	}
	if accounts >= r.Threshold {
		f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleSpraying, subject: ipHash, at: o.At,
			title: "Password spraying or credential stuffing from one address",
			explanation: fmt.Sprintf("One address failed to sign in to %d different accounts (%d attempts) in %s (threshold %d accounts). "+
				"This is how stolen password lists are tried. Hesar throttles the address; block it at your firewall (it is in the alert's evidence), "+
				"and ask the owners of any account that then signs in from it to change their password.",
				accounts, n, human(time.Duration(r.Window)), r.Threshold),
			details: map[string]string{"accounts": itoa(accounts), "attempts": itoa(n), "window_seconds": seconds(time.Duration(r.Window)),
				"threshold": itoa(r.Threshold)},
			evidence: evidence{Addresses: []string{o.IP}}})
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// priorSignIn is an earlier successful sign-in of the same account.
type priorSignIn struct {
	at    time.Time
	ip    string
	place geoip.Place
	ended bool
}

func (m *Monitor) priorSignIns(ctx context.Context, tx *db.Tx, o Observation, since time.Time) ([]priorSignIn, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, at, ended_at, ip_enc FROM monitor_signins
		WHERE workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND result = 'succeeded' AND at > $4 AND at <= $5
		ORDER BY at DESC LIMIT 20`, o.WorkspaceID, string(o.ActorKind), o.ActorID, since.UnixMicro(), o.At.UnixMicro())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []priorSignIn
	for rows.Next() {
		var id, at int64
		var ended *int64
		var ipEnc []byte
		if err := rows.Scan(&id, &at, &ended, &ipEnc); err != nil {
			return nil, err
		}
		ip, err := m.o.Keys.Open(ctx, signinField(o.WorkspaceID, id, "ip"), ipEnc)
		if err != nil {
			return nil, err
		}
		out = append(out, priorSignIn{at: db.Time(at), ip: ip, place: m.locate(ip), ended: ended != nil})
	}
	return out, rows.Err()
}

// signedIn runs the checks of a successful sign-in: travel, concurrent
// countries, new device or country, and admin sign-ins out of hours.
func (m *Monitor) signedIn(ctx context.Context, tx *db.Tx, s Settings, admins map[int64]bool, o Observation, f *found) error {
	if o.ActorID == 0 {
		return nil
	}
	acct, err := m.accountHash(ctx, o.WorkspaceID, o.ActorKind, o.ActorID)
	if err != nil {
		return err
	}
	here := m.locate(o.IP)
	look := max(time.Duration(s.Rules[RuleTravel].Window), time.Duration(s.Rules[RuleConcurrent].Window))
	prior, err := m.priorSignIns(ctx, tx, o, o.At.Add(-look))
	if err != nil {
		return err
	}
	if err := m.recordSignIn(ctx, tx, o, o.ActorKind, o.ActorID, "succeeded"); err != nil {
		return err
	}
	travelled := m.checkTravel(s, o, acct, here, prior, f)
	if !travelled {
		m.checkConcurrent(s, o, acct, here, prior, f)
	}
	if err := m.checkNewSignIn(ctx, tx, s, o, acct, here, f); err != nil {
		return err
	}
	m.checkHours(s, admins, o, acct, f)
	return nil
}

// checkTravel compares with the latest earlier sign-in that has a place.
// Distances shrink by both places' accuracy radii, so imprecise places
// never make travel look faster than it was.
func (m *Monitor) checkTravel(s Settings, o Observation, acct []byte, here geoip.Place, prior []priorSignIn, f *found) bool {
	r := s.Rules[RuleTravel]
	if !r.Enabled || !here.HasLocation {
		return false
	}
	for _, p := range prior {
		if o.At.Sub(p.at) > time.Duration(r.Window) || !p.place.HasLocation {
			continue
		}
		km := geoip.DistanceKm(p.place, here) - p.place.RadiusKm - here.RadiusKm
		if km <= 0 {
			return false
		}
		hours := max(o.At.Sub(p.at).Hours(), 1.0/3600)
		speed := km / hours
		if speed <= float64(r.Threshold) {
			return false
		}
		f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleTravel, subject: acct, kind: o.ActorKind, id: o.ActorID, at: o.At,
			title: fmt.Sprintf("Impossible travel for %s", who(o.ActorKind, o.ActorID)),
			explanation: fmt.Sprintf("%s signed in from two places at least %s km apart within %s: %s km/h, faster than the %d km/h anyone travels. "+
				"One of the two sign-ins is probably someone else using the password. Ask the account holder; a VPN or a mobile network can "+
				"explain it. If they cannot, end the account's sessions and reset its password.",
				who(o.ActorKind, o.ActorID), thousands(km), human(o.At.Sub(p.at)), thousands(speed), r.Threshold),
			details: map[string]string{"distance_km": itoa(int(math.Round(km))), "speed_kmh": itoa(int(math.Round(speed))),
				"interval_seconds": seconds(o.At.Sub(p.at)), "threshold_kmh": itoa(r.Threshold)},
			evidence: evidence{Addresses: []string{p.ip, o.IP}, Places: []string{p.place.String(), here.String()}}})
		return true
	}
	return false
}

// checkConcurrent looks for a live session of the account begun from
// another country within the window.
func (m *Monitor) checkConcurrent(s Settings, o Observation, acct []byte, here geoip.Place, prior []priorSignIn, f *found) {
	r := s.Rules[RuleConcurrent]
	if !r.Enabled || here.Country == "" {
		return
	}
	for _, p := range prior {
		if p.ended || o.At.Sub(p.at) > time.Duration(r.Window) || p.place.Country == "" || p.place.Country == here.Country {
			continue
		}
		f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleConcurrent, subject: acct, kind: o.ActorKind, id: o.ActorID, at: o.At,
			title: fmt.Sprintf("Sessions from two countries for %s", who(o.ActorKind, o.ActorID)),
			explanation: fmt.Sprintf("%s signed in from a second country %s after a session from another country began, and that session has not ended. "+
				"Unless the account holder uses a VPN or shares the account (which they should not), someone else holds the password: "+
				"end the account's sessions and reset its password.", who(o.ActorKind, o.ActorID), human(o.At.Sub(p.at))),
			details:  map[string]string{"interval_seconds": seconds(o.At.Sub(p.at))},
			evidence: evidence{Addresses: []string{p.ip, o.IP}, Places: []string{p.place.String(), here.String()}}})
		return
	}
}

// checkNewSignIn compares the device and country with those the account
// signed in from within the window. The first sign-in known is never
// "new": there is nothing to compare with.
func (m *Monitor) checkNewSignIn(ctx context.Context, tx *db.Tx, s Settings, o Observation, acct []byte, here geoip.Place, f *found) error {
	r := s.Rules[RuleNewSignIn]
	if !r.Enabled {
		return nil
	}
	since := o.At.Add(-time.Duration(r.Window))
	device := m.o.DescribeDevice(o.UserAgent)
	devHash, err := m.hash(ctx, o.WorkspaceID, "device", device)
	if err != nil {
		return err
	}
	known, _, err := count(ctx, tx, o.WorkspaceID, markSeenDevice, acct, since)
	if err != nil {
		return err
	}
	var newDevice, newCountry bool
	if known > 0 {
		if newDevice, err = unseen(ctx, tx, o.WorkspaceID, markSeenDevice, acct, devHash, since); err != nil {
			return err
		}
	}
	var ctyHash []byte
	if here.Country != "" {
		if ctyHash, err = m.hash(ctx, o.WorkspaceID, "country", here.Country); err != nil {
			return err
		}
		if known > 0 {
			if newCountry, err = unseen(ctx, tx, o.WorkspaceID, markSeenCountry, acct, ctyHash, since); err != nil {
				return err
			}
		}
		if err := touch(ctx, tx, o.WorkspaceID, markSeenCountry, acct, ctyHash, o.At); err != nil {
			return err
		}
	}
	if err := touch(ctx, tx, o.WorkspaceID, markSeenDevice, acct, devHash, o.At); err != nil {
		return err
	}
	if !newDevice && !newCountry {
		return nil
	}
	what, seen := "a new device", NewDevice
	switch {
	case newDevice && newCountry:
		what, seen = "a new device in a new country", NewDeviceCountry
	case newCountry:
		what, seen = "a new country", NewCountry
	}
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleNewSignIn, subject: acct, kind: o.ActorKind, id: o.ActorID, at: o.At,
		title: fmt.Sprintf("Sign-in from %s for %s", what, who(o.ActorKind, o.ActorID)),
		explanation: fmt.Sprintf("%s signed in from %s, not seen for this account in the last %s. The account holder has been told by email "+
			"when enabled. Usually this is a new phone or a trip; if the account holder does not recognise it, end the account's sessions "+
			"and reset its password.", who(o.ActorKind, o.ActorID), what, human(time.Duration(r.Window))),
		details:  map[string]string{DetailNew: seen, "window_seconds": seconds(time.Duration(r.Window))},
		evidence: evidence{Addresses: []string{o.IP}, Places: []string{here.String()}, Devices: []string{device}}})
	if r.NotifyUser {
		f.mails = append(f.mails, userMail{ws: o.WorkspaceID, kind: o.ActorKind, id: o.ActorID, ip: o.IP, device: device, place: here.String(), at: o.At})
	}
	return nil
}

func unseen(ctx context.Context, tx *db.Tx, ws int64, rule string, subject, object []byte, since time.Time) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM monitor_marks WHERE workspace_id = $1 AND rule = $2 AND subject = $3 AND object = $4 AND at > $5`,
		ws, rule, subject, object, since.UnixMicro()).Scan(&n)
	return n == 0, err
}

// checkHours flags an admin signing in outside the workspace's hours.
func (m *Monitor) checkHours(s Settings, admins map[int64]bool, o Observation, acct []byte, f *found) {
	r, h := s.Rules[RuleOffHours], s.BusinessHours
	if !r.Enabled || !h.Enabled || o.ActorKind != access.ActorUser || !admins[o.ActorID] || withinHours(h, o.At) {
		return
	}
	loc, _ := time.LoadLocation(h.TimeZone)
	local := o.At.In(loc)
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleOffHours, subject: acct, kind: o.ActorKind, id: o.ActorID, at: o.At,
		title: fmt.Sprintf("Admin sign-in outside business hours: %s", who(o.ActorKind, o.ActorID)),
		explanation: fmt.Sprintf("Admin %s signed in on %s at %s (%s), outside business hours (%s to %s). Admin accounts are what an attacker "+
			"wants most; confirm with the admin that it was them, and if not, end their sessions and reset their password and second factor.",
			who(o.ActorKind, o.ActorID), local.Weekday(), local.Format("15:04"), h.TimeZone, h.Start, h.End),
		details: map[string]string{"weekday": itoa(int(local.Weekday())), "local_time": local.Format("15:04"), "time_zone": h.TimeZone,
			"start": h.Start, "end": h.End},
		evidence: evidence{Addresses: []string{o.IP}}})
}

func withinHours(h BusinessHours, at time.Time) bool {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return true // validated on save; never alert on a zone we cannot read
	}
	local := at.In(loc)
	start, _ := clock(h.Start)
	end, _ := clock(h.End)
	minute := local.Hour()*60 + local.Minute()
	return slices.Contains(h.Days, int(local.Weekday())) && minute >= start && minute < end
}

// sessionEnded marks sign-ins whose sessions ended, so they no longer
// count as concurrent.
func (m *Monitor) sessionEnded(ctx context.Context, tx *db.Tx, o Observation) error {
	now := o.At.UnixMicro()
	if o.SessionID != 0 {
		_, err := tx.ExecContext(ctx, `UPDATE monitor_signins SET ended_at = $1 WHERE workspace_id = $2 AND session_id = $3 AND ended_at IS NULL`,
			now, o.WorkspaceID, o.SessionID)
		return err
	}
	if o.Details["scope"] == "all" && o.TargetID != 0 {
		_, err := tx.ExecContext(ctx, `UPDATE monitor_signins SET ended_at = $1 WHERE workspace_id = $2 AND actor_kind = $3 AND actor_id = $4 AND ended_at IS NULL`,
			now, o.WorkspaceID, o.TargetKind, o.TargetID)
		return err
	}
	return nil
}

// thousands writes a whole number with thousands separators.
func thousands(x float64) string {
	n := int64(math.Round(x))
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
