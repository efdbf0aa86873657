package monitor

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// DataProtectionChanged is the observation of a change to a workspace's
// data-protection settings (attachment.SetDataProtection). Its details
// carry "masking", "max_bytes" and "dangerous" and, under "<name>_from",
// the values they replaced.
const DataProtectionChanged = "data_protection.changed"

// DataProtectionObservation is the observation of a saved change, made
// by scope (from session, when there is one), with the change's details.
// The API and the web pages both hand it to Observe.
func DataProtectionObservation(scope access.Scope, session int64, ip, userAgent string, details map[string]string) Observation {
	o := Observation{Type: DataProtectionChanged, WorkspaceID: scope.WorkspaceID, ActorKind: scope.Kind, ActorID: scope.ActorID,
		SessionID: session, TargetKind: "workspace", TargetID: scope.WorkspaceID, IP: ip, UserAgent: userAgent, Details: details}
	if o.ActorKind == "" {
		o.ActorKind = access.ActorSystem
	}
	return o
}

// dataProtectionChanged alerts, under the policy_weakened rule, when a
// user lets more sensitive data or riskier files in: masked originals kept
// instead of redacted, dangerous files stored instead of refused, a higher
// upload limit. Its alerts are apart from the sign-in policy's (another
// subject), so each says what it is about.
func (m *Monitor) dataProtectionChanged(ctx context.Context, tx *db.Tx, s Settings, o Observation, f *found) error {
	r := s.Rules[RulePolicyWeakened]
	if !r.Enabled || o.ActorKind == access.ActorSystem || o.ActorID == 0 {
		return nil
	}
	weakened := dataProtectionWeakenings(o.Details)
	if len(weakened) == 0 {
		return nil
	}
	by := who(o.ActorKind, o.ActorID)
	subject, err := m.hash(ctx, o.WorkspaceID, "data-protection", accountRef(o.ActorKind, o.ActorID))
	if err != nil {
		return err
	}
	text := fmt.Sprintf("The workspace's data-protection settings were weakened by %s: %s. Someone preparing to steal data, or to "+
		"deliver malware through the help desk, may loosen these first. Confirm with %s that the change was agreed; if not, set the "+
		"settings back on the workspace settings page, end the sessions of %s, and review in the audit log what the account did since.",
		by, weakened.words(), by, by)
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RulePolicyWeakened, subject: subject, kind: o.ActorKind, id: o.ActorID, at: o.At,
		title: "Data protection weakened by " + by, explanation: text, details: weakened.details(PolicyDataProtection, o.Details),
		evidence: evidence{Addresses: []string{o.IP}}})
	return nil
}

// dataProtectionWeakenings lists each value that got weaker. A value
// whose old or new side is missing or unreadable is left out.
func dataProtectionWeakenings(d map[string]string) weakenings {
	var out weakenings
	if d["masking_from"] == "redact" && d["masking"] == "mask" {
		out = append(out, weakening{"masking", "card numbers and other financial data in new messages are now kept, encrypted, for reveals instead of removed for good"})
	}
	if d["dangerous_from"] == "block" && d["dangerous"] == "download-only" {
		out = append(out, weakening{"dangerous", "dangerous files (programs, scripts, HTML, macro documents) are now stored as download-only instead of refused"})
	}
	from, err1 := strconv.ParseInt(d["max_bytes_from"], 10, 64)
	to, err2 := strconv.ParseInt(d["max_bytes"], 10, 64)
	if err1 == nil && err2 == nil && to > from {
		out = append(out, weakening{"max_bytes", fmt.Sprintf("the upload limit was raised from %s to %s", mib(from), mib(to))})
	}
	return out
}

// mib writes a size in MiB, with one decimal when it is not whole.
func mib(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}
