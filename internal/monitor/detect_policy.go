package monitor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/db"
)

// mfaRank orders who a workspace requires a second factor of (identity's
// MFA* values): a lower rank is a weaker policy.
var mfaRank = map[string]int{"none": 0, "admins": 1, "staff": 2, "everyone": 3}

var mfaWho = map[string]string{"none": "no one", "admins": "admins only", "staff": "all staff", "everyone": "everyone"}

// policyChanged reads a security_settings.changed event, which carries each
// value of the sign-in policy and, under "<name>_from", the one it replaced,
// and alerts when any of them makes signing in easier for an attacker.
func (m *Monitor) policyChanged(ctx context.Context, tx *db.Tx, s Settings, o Observation, f *found) error {
	r := s.Rules[RulePolicyWeakened]
	// A change by Hesar itself (setup, operator tooling: the system actor)
	// is no one's account to question; every change made in the product is
	// made by a user or that user's token.
	if !r.Enabled || o.ActorKind == access.ActorSystem || o.ActorID == 0 {
		return nil
	}
	weakened := policyWeakenings(o.Details)
	if len(weakened) == 0 {
		return nil
	}
	by := who(o.ActorKind, o.ActorID)
	acct, err := m.accountHash(ctx, o.WorkspaceID, o.ActorKind, o.ActorID)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("The workspace's sign-in policy was weakened by %s: %s. A weaker policy makes stolen and guessed passwords "+
		"easier to use, and an attacker holding an admin's session often prepares the ground this way. Confirm with %s that the change "+
		"was agreed; if not, set the policy back in the security settings, end the sessions of %s, reset its password and second factor, "+
		"and review in the audit log what the account did since.", by, weakened.words(), by, by)
	f.raises = append(f.raises, raise{ws: o.WorkspaceID, rule: RulePolicyWeakened, subject: acct, kind: o.ActorKind, id: o.ActorID, at: o.At,
		title: "Sign-in policy weakened by " + by, explanation: text, details: weakened.details(PolicySignIn, o.Details),
		evidence: evidence{Addresses: []string{o.IP}}})
	return nil
}

// weakening is one setting made weaker: its name in the change's details
// and what that means, in words.
type weakening struct{ name, words string }

type weakenings []weakening

func (ws weakenings) words() string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.words
	}
	return strings.Join(out, "; ")
}

// details are an alert's details: which policy, the names of the
// settings weakened, and their new and old values out of the change's
// details d (settings only, nothing personal).
func (ws weakenings) details(policy string, d map[string]string) map[string]string {
	out := map[string]string{DetailPolicy: policy}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.name
		out[w.name], out[w.name+"_from"] = d[w.name], d[w.name+"_from"]
	}
	out["weakened"] = strings.Join(names, " ")
	return out
}

// policyWeakenings lists each value of the policy that got weaker. A
// value whose old or new side is missing or unreadable (an event from
// before the "_from" keys) is left out rather than guessed.
func policyWeakenings(d map[string]string) weakenings {
	var out weakenings
	if from, to := d["mfa_required_from"], d["mfa_required"]; from != "" && to != "" {
		rf, okf := mfaRank[from]
		rt, okt := mfaRank[to]
		if okf && okt && rt < rf {
			out = append(out, weakening{"mfa_required", fmt.Sprintf("a second factor is now required of %s instead of %s", mfaWho[to], mfaWho[from])})
		}
	}
	ints := func(key string) (from, to int, ok bool) {
		f, err1 := strconv.Atoi(d[key+"_from"])
		t, err2 := strconv.Atoi(d[key])
		return f, t, err1 == nil && err2 == nil
	}
	if from, to, ok := ints("password_min_length"); ok && to < from {
		out = append(out, weakening{"password_min_length", fmt.Sprintf("the minimum password length was lowered from %d to %d characters", from, to)})
	}
	if from, to, ok := ints("lockout_threshold"); ok && to > from {
		out = append(out, weakening{"lockout_threshold", fmt.Sprintf("accounts now lock after %d failed sign-ins instead of %d", to, from)})
	}
	if from, to, ok := ints("staff_idle_minutes"); ok && to > from {
		out = append(out, weakening{"staff_idle_minutes", fmt.Sprintf("idle staff sessions now end after %s instead of %s",
			human(time.Duration(to)*time.Minute), human(time.Duration(from)*time.Minute))})
	}
	return out
}
