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
	keys = append(keys, "alert.privilege_raised.title_to", "alert.new_signin.title_both", "alert.new_signin.title_country", "alert.exfiltration.title_kind")
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
