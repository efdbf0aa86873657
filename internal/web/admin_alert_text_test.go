package web

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/monitor"
)

// TestEveryDetectorAndPermissionHasItsWordsInBothLanguages: the keys the
// admin pages build at run time (by detector, permission, access kind,
// audit problem) exist in every language, so no alert or row ever shows a
// bare key.
func TestEveryDetectorAndPermissionHasItsWordsInBothLanguages(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	def := monitor.Defaults()
	var keys []string
	for rule, r := range def.Rules {
		if !slices.Contains(ruleOrder, rule) {
			t.Errorf("detector %s is not on the monitoring page", rule)
		}
		keys = append(keys, "alert."+rule+".title", "alert."+rule+".text", "monitor_rule."+rule, "monitor_rule_text."+rule)
		if r.Threshold != 0 {
			keys = append(keys, "monitor_threshold."+rule)
		}
		if r.Window != 0 {
			keys = append(keys, "monitor_window."+rule)
		}
	}
	keys = append(keys, "alert.privilege_raised.title_to", "alert.new_signin.title_both", "alert.new_signin.title_country", "alert.exfiltration.title_kind",
		"alert.policy_weakened.title_data", "alert.policy_weakened.text_data")
	for _, k := range monitor.AccessKinds {
		keys = append(keys, "access_kind."+k)
	}
	for _, r := range responseChoices {
		keys = append(keys, "response."+r)
	}
	for _, u := range windowUnits {
		keys = append(keys, "unit."+u.Name)
	}
	for _, d := range weekdays {
		keys = append(keys, "weekday."+strconv.Itoa(d))
	}
	for kind := range verifyKinds {
		keys = append(keys, "problem."+kind)
	}
	keys = append(keys, "problem.other")
	listed := map[access.Permission]bool{}
	for _, a := range permAreas {
		keys = append(keys, a.Key)
		for _, p := range a.Perms {
			listed[p] = true
		}
	}
	for _, p := range access.AllPermissions {
		keys = append(keys, "perm."+string(p))
		if !listed[p] && p != access.PortalTickets {
			t.Errorf("permission %s is in no area of the roles page", p)
		}
	}
	for _, r := range access.Roles {
		keys = append(keys, "alert.role."+string(r), "role."+string(r))
	}
	for _, k := range keys {
		for _, lang := range Languages {
			if _, ok := cats[lang][k]; !ok {
				t.Errorf("%s: no %q", lang, k)
			}
		}
	}
}

func TestAlertsReadInThePersonsLanguageAndUnknownOnesAsStored(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	fa, en := &Locale{Lang: "fa", msgs: cats["fa"]}, &Locale{Lang: "en", msgs: cats["en"]}
	raised := monitor.Alert{Rule: monitor.RulePrivilege, Title: "Role of user #7 raised to admin",
		Explanation: "The role of user #7 was raised from agent to admin by user #3."}
	title, text, report := alertText(fa, raised, "امید")
	if title != "نقش امید به مدیر ارتقا یافت" || !strings.Contains(text, "امید") || report != raised.Explanation {
		t.Errorf("fa: %q / %q / %q", title, text, report)
	}
	if title, _, _ = alertText(en, raised, "omid"); title != "Role of omid raised to admin" {
		t.Errorf("en: %q", title)
	}
	// Words the detector did not write as expected: the plain title.
	odd := raised
	odd.Title = "Role of user #7 changed"
	if title, _, _ = alertText(fa, odd, "امید"); title != "ارتقای نقش امید" {
		t.Errorf("fa without a role: %q", title)
	}
	// Spraying names no account: no stray verb in its words.
	spray := monitor.Alert{Rule: monitor.RuleSpraying, Title: "Password spraying or credential stuffing from one address"}
	for _, l := range []*Locale{fa, en} {
		title, text, _ := alertText(l, spray, "")
		if strings.Contains(title+text, "%!") || strings.Contains(title+text, "%s") {
			t.Errorf("%s: %q / %q", l.Lang, title, text)
		}
	}
	volume := monitor.Alert{Rule: monitor.RuleExfiltration, Title: "Unusual volume of ticket.view by user #4"}
	if title, _, _ = alertText(fa, volume, "سارا"); title != "حجم غیرعادی مشاهدهٔ تیکت توسط سارا" {
		t.Errorf("fa volume: %q", title)
	}
	// A detector newer than the catalogs: its stored words, as they are.
	unknown := monitor.Alert{Rule: "quantum_tunnelling", Title: "Something new", Explanation: "Explained by the detector."}
	if title, text, report := alertText(fa, unknown, "x"); title != "Something new" || text != "Explained by the detector." || report != "" {
		t.Errorf("unknown rule: %q / %q / %q", title, text, report)
	}
	// Every detector's Persian title and text are Persian, with the account in them.
	for rule := range monitor.Defaults().Rules {
		title, text, _ := alertText(fa, monitor.Alert{Rule: rule}, "حسابِ آزمون")
		if !regexp.MustCompile(`\p{Arabic}`).MatchString(title) || (rule != monitor.RuleSpraying && !strings.Contains(title+text, "حسابِ آزمون")) {
			t.Errorf("%s: %q / %q", rule, title, text)
		}
	}
	if got := responseText(fa, "revoke_sessions, lock (failed)"); got != "بستن نشست‌های حساب، قفل کردن حساب (ناموفق)" {
		t.Errorf("responses: %q", got)
	}
	if got := responseText(fa, "something else"); got != "something else" {
		t.Errorf("unknown response: %q", got)
	}
}

// TestEveryAlertKindReadsFromItsDetailsAndOldOnesFromTheirTitle: each
// detector's alert is written in Persian and English from the details it
// stored, even when its English title says otherwise; an alert stored
// before details were kept reads the same from the title its detector
// wrote then.
func TestEveryAlertKindReadsFromItsDetailsAndOldOnesFromTheirTitle(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	locales := []*Locale{{Lang: "fa", msgs: cats["fa"]}, {Lang: "en", msgs: cats["en"]}}
	type want struct{ title, text string } // keys; title's extra argument below
	cases := []struct {
		rule     string
		details  map[string]string
		oldTitle string // as the detector wrote it before details
		want     want
		extra    string // key of the title's second word, if any
	}{
		{monitor.RuleBruteForce, map[string]string{"attempts": "10"}, "Repeated failed sign-ins for user #4", want{"title", "text"}, ""},
		{monitor.RuleSpraying, map[string]string{"accounts": "10"}, "Password spraying or credential stuffing from one address", want{"title", "text"}, ""},
		{monitor.RuleTravel, map[string]string{"speed_kmh": "2000"}, "Impossible travel for user #4", want{"title", "text"}, ""},
		{monitor.RuleConcurrent, map[string]string{"interval_seconds": "36000"}, "Sessions from two countries for user #4", want{"title", "text"}, ""},
		{monitor.RuleNewSignIn, map[string]string{monitor.DetailNew: monitor.NewDevice}, "Sign-in from a new device for user #4", want{"title", "text"}, ""},
		{monitor.RuleNewSignIn, map[string]string{monitor.DetailNew: monitor.NewCountry}, "Sign-in from a new country for user #4", want{"title_country", "text"}, ""},
		{monitor.RuleNewSignIn, map[string]string{monitor.DetailNew: monitor.NewDeviceCountry}, "Sign-in from a new device in a new country for user #4",
			want{"title_both", "text"}, ""},
		{monitor.RuleExfiltration, map[string]string{monitor.DetailAccessKind: monitor.AccessDownload}, "Unusual volume of attachment.download by user #4",
			want{"title_kind", "text"}, "access_kind." + monitor.AccessDownload},
		{monitor.RuleMFARemoved, map[string]string{"factor": "totp"}, "Second factor removed from user #4", want{"title", "text"}, ""},
		{monitor.RuleRecoveryUsed, map[string]string{}, "Recovery code used by user #4", want{"title", "text"}, ""},
		{monitor.RulePrivilege, map[string]string{"from": "agent", monitor.DetailRoleTo: "supervisor"}, "Role of user #4 raised to supervisor",
			want{"title_to", "text"}, "alert.role.supervisor"},
		{monitor.RuleWideToken, map[string]string{"token_id": "4"}, "API token with wide permissions for user #4", want{"title", "text"}, ""},
		{monitor.RuleOffHours, map[string]string{"local_time": "18:00"}, "Admin sign-in outside business hours: user #4", want{"title", "text"}, ""},
		{monitor.RulePolicyWeakened, map[string]string{monitor.DetailPolicy: monitor.PolicySignIn}, "Sign-in policy weakened by user #4", want{"title", "text"}, ""},
		{monitor.RulePolicyWeakened, map[string]string{monitor.DetailPolicy: monitor.PolicyDataProtection}, "Data protection weakened by user #4",
			want{"title_data", "text_data"}, ""},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.rule] = true
		// The title a detector wrote for another case of the same rule,
		// to show the details, not the title, choose the words.
		misleading := "Role of user #4 raised to admin"
		for _, o := range cases {
			if o.rule == c.rule && o.oldTitle != c.oldTitle {
				misleading = o.oldTitle
			}
		}
		for _, l := range locales {
			account := map[string]string{"fa": "سارا", "en": "Sara"}[l.Lang]
			args := []any{account}
			if c.extra != "" {
				args = append(args, l.T(c.extra))
				if c.rule == monitor.RuleExfiltration {
					args = []any{l.T(c.extra), account}
				}
			}
			key := "alert." + c.rule + "."
			wantTitle, wantText := fill(l, key+c.want.title, args...), fill(l, key+c.want.text, account)
			for _, a := range []monitor.Alert{
				{Rule: c.rule, Details: c.details, Title: misleading, Explanation: "report"},
				{Rule: c.rule, Title: c.oldTitle, Explanation: "report"}, // stored before details
			} {
				title, text, report := alertText(l, a, account)
				if title != wantTitle || text != wantText || report != "report" {
					t.Errorf("%s %s (details %v, title %q): %q / %q, want %q / %q", l.Lang, c.rule, a.Details, a.Title, title, text, wantTitle, wantText)
				}
				if strings.Contains(title+text, "%!") || !strings.Contains(title+text, account) && c.rule != monitor.RuleSpraying {
					t.Errorf("%s %s: %q / %q", l.Lang, c.rule, title, text)
				}
			}
		}
	}
	for rule := range monitor.Defaults().Rules {
		if !covered[rule] {
			t.Errorf("no case for detector %s", rule)
		}
	}
	// The data-protection wording, in words, so a swapped key shows.
	fa, en := locales[0], locales[1]
	dp := monitor.Alert{Rule: monitor.RulePolicyWeakened, Details: map[string]string{monitor.DetailPolicy: monitor.PolicyDataProtection}}
	if title, _, _ := alertText(fa, dp, "سارا"); title != "تضعیف حفاظت از داده‌ها توسط سارا" {
		t.Errorf("fa data protection: %q", title)
	}
	if title, text, _ := alertText(en, dp, "Sara"); title != "Data protection weakened by Sara" || !strings.Contains(text, "upload limit") {
		t.Errorf("en data protection: %q / %q", title, text)
	}
}
