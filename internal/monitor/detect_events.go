package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// widePermissions are those that make a token worth stealing: whole-
// workspace reach, user management, unmasking, erasure.
var widePermissions = []string{
	string(access.UserManage), string(access.SensitiveReveal), string(access.CustomerPrivacy),
	string(access.TicketAllDepartments), string(access.DepartmentManage),
}

var roleRank = map[string]int{string(access.RoleAgent): 1, string(access.RoleSupervisor): 2, string(access.RoleAdmin): 3}

// accountChange handles the events that weaken or widen an account.
func (m *Monitor) accountChange(ctx context.Context, tx *db.Tx, s Settings, admins map[int64]bool, o Observation, f *found) error {
	kind, id := o.ActorKind, o.ActorID
	if o.TargetID != 0 {
		kind, id = access.ActorKind(o.TargetKind), o.TargetID
	}
	if id == 0 {
		return nil
	}
	by := ""
	details := map[string]string{}
	if o.ActorID != 0 && (o.ActorID != id || o.ActorKind != kind) {
		by = " by " + who(o.ActorKind, o.ActorID)
		details["by"] = accountRef(o.ActorKind, o.ActorID)
	}
	var rule, title, text string
	switch o.Type {
	case MFARemoved, MFAReset:
		rule, title = RuleMFARemoved, fmt.Sprintf("Second factor removed from %s", who(kind, id))
		factor := ""
		if f := o.Details["factor"]; f != "" {
			factor = " (" + f + ")"
			details["factor"] = f
		}
		text = fmt.Sprintf("The second factor%s of %s was removed%s. Without it a stolen password is enough to sign in. "+
			"Confirm with the account holder that they meant it; if not, reset the password and have them enroll a second factor again.",
			factor, who(kind, id), by)
	case RecoveryUsed:
		rule, title = RuleRecoveryUsed, fmt.Sprintf("Recovery code used by %s", who(kind, id))
		text = fmt.Sprintf("%s signed in with a recovery code instead of their second factor. People do this when they lose a phone; "+
			"attackers do it when they have stolen the codes. Confirm with the account holder, and have them renew their recovery codes "+
			"and set up their second factor again.", who(kind, id))
	case RoleChanged:
		from, to := o.Details["from"], o.Details["to"]
		if roleRank[to] <= roleRank[from] {
			return nil
		}
		rule, title = RulePrivilege, fmt.Sprintf("Role of %s raised to %s", who(kind, id), to)
		details["from"], details[DetailRoleTo] = from, to
		text = fmt.Sprintf("The role of %s was raised from %s to %s%s. Check that this change was approved; if not, set the role back, "+
			"and review what the account did since in the audit log.", who(kind, id), from, to, by)
	case TokenCreated:
		perms := o.Details["permissions"]
		wide := wideIn(perms)
		if perms == "owner's" || perms == "" {
			wide = nil
			if kind == access.ActorUser && admins[id] {
				wide = []string{"every permission of an admin"}
			}
		}
		if len(wide) == 0 {
			return nil
		}
		rule, title = RuleWideToken, fmt.Sprintf("API token with wide permissions for %s", who(kind, id))
		details["token_id"], details["permissions"] = o.Details["token_id"], strings.Join(wide, " ")
		if perms == "owner's" || perms == "" {
			details["permissions"] = string(access.RoleAdmin) // all of an admin owner's
		}
		text = fmt.Sprintf("An API token (#%s) was created for %s%s with %s. A token works without a second factor from anywhere; "+
			"check that it is needed, limit it to the permissions its script uses, and revoke it if no one can say what it is for.",
			o.Details["token_id"], who(kind, id), by, strings.Join(wide, ", "))
	default:
		return nil
	}
	r := s.Rules[rule]
	if !r.Enabled {
		return nil
	}
	acct, err := m.accountHash(ctx, o.WorkspaceID, kind, id)
	if err != nil {
		return err
	}
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: rule, subject: acct, kind: kind, id: id, at: o.At,
		title: title, explanation: text, details: details, evidence: evidence{Addresses: []string{o.IP}}})
	return nil
}

func wideIn(perms string) []string {
	var out []string
	for _, p := range strings.Fields(perms) {
		for _, w := range widePermissions {
			if p == w {
				out = append(out, p)
			}
		}
	}
	return out
}

// accessed counts one access to data against its account: distinct
// objects within the window, compared with the account's own baseline and
// the kind's floor.
func (m *Monitor) accessed(ctx context.Context, tx *db.Tx, s Settings, o Observation, f *found) error {
	if o.ActorID == 0 {
		return nil
	}
	hour := o.At.Truncate(time.Hour).Unix()
	n := int64(1)
	if c, err := strconv.ParseInt(o.Details["count"], 10, 64); err == nil && c > 1 {
		n = c // an export of many records counts as many
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_hourly (workspace_id, actor_kind, actor_id, kind, hour, n) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (workspace_id, actor_kind, actor_id, kind, hour) DO UPDATE SET n = monitor_hourly.n + excluded.n`,
		o.WorkspaceID, string(o.ActorKind), o.ActorID, o.Type, hour, n); err != nil {
		return err
	}
	r := s.Rules[RuleExfiltration]
	if !r.Enabled {
		return nil
	}
	subject, err := m.hash(ctx, o.WorkspaceID, "access", accountRef(o.ActorKind, o.ActorID)+"/"+o.Type)
	if err != nil {
		return err
	}
	object := uniqueObject()
	if o.TargetID != 0 {
		if object, err = m.hash(ctx, o.WorkspaceID, "object", o.TargetKind+":"+strconv.FormatInt(o.TargetID, 10)); err != nil {
			return err
		}
	}
	for i := int64(0); i < n && i < 10000; i++ {
		if i > 0 {
			object = uniqueObject()
		}
		if err := mark(ctx, tx, o.WorkspaceID, markAccessPrefix+o.Type, subject, object, o.At); err != nil {
			return err
		}
	}
	window := time.Duration(r.Window)
	floor := s.Exfiltration.Floors[o.Type]
	// The hourly counts bound the distinct count from above and cost a
	// couple of index rows; the exact count reads every mark in the
	// window, so it is only taken when the bound reaches the floor.
	var upper int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM monitor_hourly
		WHERE workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND kind = $4 AND hour >= $5`,
		o.WorkspaceID, string(o.ActorKind), o.ActorID, o.Type, o.At.Add(-window).Truncate(time.Hour).Unix()).Scan(&upper); err != nil {
		return err
	}
	if floor <= 0 || upper < int64(floor) {
		return nil
	}
	_, distinct, err := count(ctx, tx, o.WorkspaceID, markAccessPrefix+o.Type, subject, o.At.Add(-window))
	if err != nil {
		return err
	}
	if distinct < floor {
		return nil // below the floor nothing alerts: the baseline is not even read
	}
	base, err := baseline(ctx, tx, o, o.At.Add(-window).Truncate(time.Hour).Unix())
	if err != nil {
		return err
	}
	limit := max(float64(floor), s.Exfiltration.Factor*base*window.Hours())
	if float64(distinct) < limit {
		return nil
	}
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RuleExfiltration, subject: subject, kind: o.ActorKind, id: o.ActorID, at: o.At,
		title: fmt.Sprintf("Unusual volume of %s by %s", o.Type, who(o.ActorKind, o.ActorID)),
		explanation: fmt.Sprintf("%s made %d distinct %s in %s; the alert threshold is %s (the larger of the fixed ceiling %d and %.1f × their "+
			"usual %.1f an hour over the last 7 days). This is what copying data out looks like. Ask the person and their supervisor what "+
			"the work was; if it cannot be explained, end their sessions, lock the account and review what they read in the audit log.",
			who(o.ActorKind, o.ActorID), distinct, o.Type, human(window), thousands(math.Ceil(limit)), floor, s.Exfiltration.Factor, base),
		details: map[string]string{DetailAccessKind: o.Type, "count": itoa(distinct), "threshold": strconv.FormatFloat(math.Ceil(limit), 'f', 0, 64),
			"window_seconds": seconds(window), "ceiling": itoa(floor), "factor": strconv.FormatFloat(s.Exfiltration.Factor, 'f', -1, 64),
			"baseline_per_hour": strconv.FormatFloat(base, 'f', 1, 64)},
		evidence: evidence{Addresses: []string{o.IP}}})
	return nil
}

// baseline is the account's average count of kind per hour, over the
// hours of the 7 days before until it was active in (the hours of the
// current window left out, so a burst does not raise its own bar).
func baseline(ctx context.Context, tx *db.Tx, o Observation, until int64) (float64, error) {
	var avg *float64
	err := tx.QueryRowContext(ctx, `SELECT AVG(CAST(n AS DOUBLE PRECISION)) FROM monitor_hourly
		WHERE workspace_id = $1 AND actor_kind = $2 AND actor_id = $3 AND kind = $4 AND hour >= $5 AND hour < $6`,
		o.WorkspaceID, string(o.ActorKind), o.ActorID, o.Type, until-7*24*3600, until).Scan(&avg)
	if err != nil || avg == nil {
		return 0, err
	}
	return *avg, nil
}
