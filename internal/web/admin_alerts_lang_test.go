package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/testutil"
)

var reportEN = regexp.MustCompile(`<p dir="ltr" lang="en">[^<]*</p>`)

func TestAlertsAreShownInTheReadersLanguage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		c := e.signInStaff("en", admin.Email, passphrase)
		path := "/admin/users/" + strconv.FormatInt(agent.ID, 10)
		c.post(path, url.Values{"name": {"omid"}, "role": {"admin"}, "departments": {strconv.FormatInt(e.f.Sales, 10)}, "confirm": {"yes"}}).redirect(t, path)
		if err := a.Monitor.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		fa := e.signInStaff("fa", admin.Email, passphrase)
		for _, page := range []string{"/admin/security", "/admin/security/alerts"} {
			p := fa.get(page).page(t, "fa")
			if !strings.Contains(p.body, "نقش omid به مدیر ارتقا یافت") || !strings.Contains(p.body, "نقش omid ارتقا یافته و این حساب دسترسی‌های بیشتری گرفته است") {
				t.Errorf("%s in Persian: %.4000s", page, p.body)
			}
			// The detector's own report (its exact numbers) is offered folded
			// away and marked as English; nothing else may be English.
			if !reportEN.MatchString(p.body) {
				t.Errorf("%s: the detector's report is not offered", page)
			}
			if body := reportEN.ReplaceAllString(p.body, ""); strings.Contains(body, "raised to admin") || strings.Contains(body, "user #") {
				t.Errorf("%s: the detector's English on a Persian page", page)
			}
			if p = c.get(page).page(t, "en"); !strings.Contains(p.body, "Role of omid raised to admin") {
				t.Errorf("%s in English: %.4000s", page, p.body)
			}
		}
	})
}
