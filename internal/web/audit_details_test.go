package web

import (
	"strings"
	"testing"
)

// The details the program records read in words in both languages: a
// role change's two ends, a token's permissions, departments.
func TestAuditDetailsReadInWords(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang    string
		details map[string]string
		want    []string
	}{
		{"en", map[string]string{"from": "agent", "to": "supervisor"}, []string{"From=Agent", "To=Supervisor"}},
		{"fa", map[string]string{"from": "agent", "to": "supervisor"}, []string{"از=کارشناس", "به=سرپرست"}},
		{"en", map[string]string{"permissions": "owner's", "token_id": "3137"}, []string{"Permissions=all of the owner's", "Token (id)=3137"}},
		{"fa", map[string]string{"departments": "3115"}, []string{"دپارتمان‌ها (شناسه)=۳۱۱۵"}},
		{"fa", map[string]string{"masking_from": "mask", "masking": "redact"}, nil},
	} {
		l := &Locale{Lang: c.lang, msgs: cats[c.lang]}
		var got []string
		for _, d := range auditDetails(l, c.details) {
			if d.Raw {
				t.Errorf("%s %v: %q shown raw", c.lang, c.details, d.Label)
			}
			if strings.Contains(d.Label, "%") {
				t.Errorf("%s %v: label %q holds a pattern", c.lang, c.details, d.Label)
			}
			got = append(got, d.Label+"="+d.Value)
		}
		for _, w := range c.want {
			if !strings.Contains(strings.Join(got, "|"), w) {
				t.Errorf("%s %v: details %q lack %q", c.lang, c.details, got, w)
			}
		}
	}
}
