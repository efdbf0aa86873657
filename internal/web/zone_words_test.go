package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

const chromeOnLinux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// signInWith signs a staff member in from a browser that says who it is.
func (e *env) signInWith(lang, email, agent string) *client {
	e.t.Helper()
	c := e.client(lang)
	c.do("POST", "/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {email}, "password": {passphrase}},
		map[string]string{"User-Agent": agent}).redirect(e.t, "/console/")
	return c
}

var firstTime = regexp.MustCompile(`<time datetime="([^"]+)">([^<]+)</time>`)

// shownTime finds the first moment a page shows: when, and as what text.
func shownTime(t *testing.T, body string) (time.Time, string) {
	t.Helper()
	m := firstTime.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <time> on the page: %.3000s", body)
	}
	at, err := time.Parse(time.RFC3339, m[1])
	if err != nil {
		t.Fatal(err)
	}
	return at, html.UnescapeString(m[2])
}

func jalaliText(at time.Time, loc *time.Location) string {
	at = at.In(loc)
	return web.PersianDigits(web.ToJalali(at.Year(), at.Month(), at.Day()).String() + " " + at.Format("15:04"))
}

// TestWorkspaceTimeZoneIsUsedByBothLanguagesAndChangedByAdminsAudited:
// a workspace has one time zone (Tehran until an admin chooses another),
// in which English pages say Gregorian dates and Persian pages Jalali
// ones; the admin changes it on the settings page, confirming first,
// after step-up, audited; a bad name is a 422 next to the field.
func TestWorkspaceTimeZoneIsUsedByBothLanguagesAndChangedByAdminsAudited(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		agent := e.staff("agent", "omid", passphrase, e.f.Sales)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "printer", Body: "it smokes", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		tehran, _ := time.LoadLocation("Asia/Tehran")
		path := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		en := e.signInStaff("en", admin.Email, passphrase)
		fa := e.signInStaff("fa", admin.Email, passphrase)

		at, text := shownTime(t, en.get(path).page(t, "en").body)
		if want := at.In(tehran).Format("2006-01-02 15:04") + " +0330"; text != want {
			t.Errorf("English page before: %q, want %q", text, want)
		}
		if _, text = shownTime(t, fa.get(path).page(t, "fa").body); text != jalaliText(at, tehran) {
			t.Errorf("Persian page before: %q, want %q", text, jalaliText(at, tehran))
		}

		p := en.get("/admin/settings").page(t, "en")
		for _, want := range []string{`name="time_zone" type="text" value="Asia/Tehran"`, `<option value="Europe/Berlin">`, "Time zone"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("settings page lacks %q", want)
			}
		}
		zone := func() string {
			loc, err := a.Identity.TimeZone(ctx, e.f.WS.ID)
			if err != nil {
				t.Fatal(err)
			}
			return loc.String()
		}
		form := url.Values{"section": {"time_zone"}, "time_zone": {"Mars/Olympus_Mons"}}
		p = en.post("/admin/settings", form).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(p.body, `<p class="error" id="f-time_zone-error">Enter an IANA time zone name, such as Asia/Tehran or UTC.</p>`) ||
			!strings.Contains(p.body, `aria-invalid="true"`) {
			t.Errorf("no error at the field: %.3000s", p.body)
		}
		for _, bad := range []string{"", "Local", "../../etc/passwd"} {
			form.Set("time_zone", bad)
			form.Set("confirm", "yes")
			en.post("/admin/settings", form).must(t, http.StatusUnprocessableEntity)
		}
		form.Del("confirm")
		if got := zone(); got != identity.DefaultTimeZone {
			t.Fatalf("saved a bad zone: %s", got)
		}

		// Agents cannot; a change is confirmed first.
		e.signInStaff("en", agent.Email, passphrase).post("/admin/settings", url.Values{"section": {"time_zone"}, "time_zone": {"UTC"}}).
			must(t, http.StatusForbidden)
		form.Set("time_zone", "UTC")
		p = fa.post("/admin/settings", form).page(t, "fa")
		for _, want := range []string{"Asia/Tehran, UTC&#43;۰۳:۳۰", "<strong>UTC, UTC&#43;۰۰:۰۰</strong>", `name="time_zone" value="UTC"`, `name="confirm" value="yes"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the confirmation lacks %q: %.4000s", want, p.body)
			}
		}
		if got := zone(); got != identity.DefaultTimeZone {
			t.Fatalf("saved before confirmation: %s", got)
		}
		form.Set("confirm", "yes")
		en.post("/admin/settings", form).redirect(t, "/admin/settings?notice=notice.time_zone_saved")
		if got := zone(); got != "UTC" {
			t.Fatalf("zone %s, want UTC", got)
		}
		en.post("/admin/settings", form).redirect(t, "/admin/settings?notice=notice.nothing_changed")

		// Both languages follow the new zone.
		if _, text = shownTime(t, en.get(path).page(t, "en").body); text != at.UTC().Format("2006-01-02 15:04")+" UTC" {
			t.Errorf("English page after: %q", text)
		}
		if _, text = shownTime(t, fa.get(path).page(t, "fa").body); text != jalaliText(at, time.UTC) {
			t.Errorf("Persian page after: %q, want %q", text, jalaliText(at, time.UTC))
		}

		// Audited, from → to, by the admin.
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		rs, err := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: identity.EventTimeZoneChanged})
		if err != nil || len(rs) != 1 {
			t.Fatalf("records: %v %+v", err, rs)
		}
		if r := rs[0]; r.ActorID != admin.ID || r.Details["time_zone"] != "UTC" || r.Details["time_zone_from"] != "Asia/Tehran" {
			t.Errorf("record: %+v", r)
		}
		p = fa.get("/admin/audit?action="+identity.EventTimeZoneChanged).page(t, "fa")
		for _, want := range []string{"تغییر منطقهٔ زمانی", "منطقهٔ زمانی (پیش از این)", "Asia/Tehran"} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the audit page lacks %q", want)
			}
		}

		// An hour later a change needs a fresh proof.
		e.age(admin.ID)
		form.Set("time_zone", "Asia/Dubai")
		en.post("/admin/settings", form).redirect(t, "/auth/step-up?next=")
		if got := zone(); got != "UTC" {
			t.Fatalf("saved without step-up: %s", got)
		}
	})
}

// TestAuditPageSaysWhatHappenedInWordsAndFiltersByThePagesCalendar: the
// audit log shows actions, results and details in words of the page's
// language (digits Persian on Persian pages), never the recorded codes;
// its date filter takes a Jalali date in Persian and a Gregorian one in
// English, read in the workspace's zone, and refuses a bad one with 422.
func TestAuditPageSaysWhatHappenedInWordsAndFiltersByThePagesCalendar(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "printer", Body: "it smokes", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		en := e.signInStaff("en", admin.Email, passphrase)
		fa := e.signInStaff("fa", admin.Email, passphrase)
		en.get("/console/tickets/"+strconv.FormatInt(tk.Number, 10)).must(t, http.StatusOK)
		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		views, err := a.Audit.List(ctx, e.f.WS.ID, audit.Filter{Action: audit.ActionTicketView})
		if err != nil || len(views) != 1 {
			t.Fatalf("ticket views: %v %+v", err, views)
		}
		number := strconv.FormatInt(tk.Number, 10)

		p := en.get("/admin/audit?action=ticket.view").page(t, "en")
		for _, want := range []string{"<td>Viewed a ticket</td>", "<td>Done</td>", "<dt>Ticket number</dt> <dd dir=\"auto\">" + number + "</dd>",
			"<dt>Through</dt> <dd dir=\"auto\">agent console</dd>", "Ticket #" + number} {
			if !strings.Contains(p.body, want) {
				t.Errorf("English audit page lacks %q: %.6000s", want, p.body)
			}
		}
		p = fa.get("/admin/audit?action=ticket.view").page(t, "fa")
		for _, want := range []string{"<td>دیدن تیکت</td>", "<td>انجام شد</td>", "<dt>شمارهٔ تیکت</dt> <dd dir=\"auto\">" + web.PersianDigits(number) + "</dd>",
			"میز کار کارشناس", "تیکت #" + web.PersianDigits(number)} {
			if !strings.Contains(p.body, want) {
				t.Errorf("Persian audit page lacks %q", want)
			}
		}
		for _, lang := range []string{"en", "fa"} {
			c := map[string]*client{"en": en, "fa": fa}[lang]
			body := c.get("/admin/audit").page(t, lang).body
			table := body[strings.Index(body, "<tbody>"):]
			for _, code := range []string{">ticket.view<", ">signin.succeeded<", ">ok<", "number=", ">via<", ">number<",
				`dir="auto">password<`, `dir="auto">active<`, ">method<", ">state<"} {
				if strings.Contains(table, code) {
					t.Errorf("%s: the records show the code %q", lang, code)
				}
			}
			if !strings.Contains(table, map[string]string{"en": "Signed in", "fa": "ورود به حساب"}[lang]) {
				t.Errorf("%s: sign-ins are not in words", lang)
			}
		}

		// The date filter, in the page's calendar and the workspace's zone.
		tehran, _ := time.LoadLocation("Asia/Tehran")
		at := views[0].At.In(tehran)
		day := web.ToJalali(at.Year(), at.Month(), at.Day())
		next := at.AddDate(0, 0, 1)
		nextDay := web.ToJalali(next.Year(), next.Month(), next.Day())
		rows := func(c *client, lang, query string) int {
			t.Helper()
			body := c.get("/admin/audit?action=ticket.view&"+query).page(t, lang).body
			return strings.Count(body, map[string]string{"en": "<td>Viewed a ticket</td>", "fa": "<td>دیدن تیکت</td>"}[lang])
		}
		q := func(k, v string) string { return url.Values{k: {v}}.Encode() }
		for _, c := range []struct {
			lang, query string
			want        int
		}{
			{"fa", q("since", day.String()), 1},
			{"fa", q("since", web.PersianDigits(day.String())), 1},
			{"fa", q("until", day.String()), 1}, // until a date without a time: to the end of that day
			{"fa", q("since", nextDay.String()), 0},
			{"fa", q("since", day.String()+" "+at.Add(-time.Minute).Format("15:04")), 1},
			{"fa", q("since", day.String()+" "+at.Add(2*time.Minute).Format("15:04")), 0},
			{"en", q("since", at.Format("2006-01-02")), 1},
			{"en", q("until", at.Format("2006-01-02")), 1},
			{"en", q("until", at.AddDate(0, 0, -1).Format("2006-01-02")), 0},
			{"en", q("since", next.Format("2006-01-02")), 0},
		} {
			cl := map[string]*client{"en": en, "fa": fa}[c.lang]
			if got := rows(cl, c.lang, c.query); got != c.want {
				t.Errorf("%s %s: %d records, want %d", c.lang, c.query, got, c.want)
			}
		}
		// The date typed is written back in the page's calendar.
		if body := fa.get("/admin/audit?"+q("since", day.String())).page(t, "fa").body; !strings.Contains(body, `value="`+web.PersianDigits(day.String())+`"`) {
			t.Error("the Persian filter does not show the date in Persian digits")
		}
		for _, c := range []struct{ lang, query, says string }{
			{"fa", q("since", "1404/12/30"), "تاریخ خورشیدی را به شکل ۱۴۰۵/۰۹/۰۵ یا همراه ساعت به شکل ۱۴۰۵/۰۹/۰۵ ۱۴:۳۰ بنویسید."},
			{"fa", q("until", "دیروز"), "تاریخ خورشیدی را به شکل"},
			{"en", q("since", "2026-02-30"), "Write the date as 2026-11-26, or with a time as 2026-11-26 14:30."},
			{"en", q("until", "26/11/2026"), "Write the date as 2026-11-26"},
		} {
			cl := map[string]*client{"en": en, "fa": fa}[c.lang]
			p := cl.get("/admin/audit?"+c.query).must(t, http.StatusUnprocessableEntity)
			if !strings.Contains(p.body, c.says) || !strings.Contains(p.body, `aria-invalid="true"`) {
				t.Errorf("%s %s: no error %q at the field", c.lang, c.query, c.says)
			}
		}
	})
}

// TestSessionsAndSignInsNameDevicesInThePagesLanguage: My sessions and the
// security overview say "Chrome on Linux" in Persian as Persian.
func TestSessionsAndSignInsNameDevicesInThePagesLanguage(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		e.setMFA("none")
		admin := e.staff("admin", "roya", passphrase)
		fa := e.signInWith("fa", admin.Email, chromeOnLinux)
		en := e.signInWith("en", admin.Email, chromeOnLinux)
		p := fa.get("/account/sessions").page(t, "fa")
		if !strings.Contains(p.body, "کروم روی لینوکس") || strings.Contains(p.body, "Chrome on Linux") {
			t.Errorf("Persian sessions page: %.4000s", p.body)
		}
		if p = en.get("/account/sessions").page(t, "en"); !strings.Contains(p.body, "Chrome on Linux") {
			t.Errorf("English sessions page: %.4000s", p.body)
		}
		e.signInStaff("fa", admin.Email, passphrase) // Go's own client: no system, a program
		if p = fa.get("/account/sessions").page(t, "fa"); !strings.Contains(p.body, "برنامهٔ Go") {
			t.Errorf("Persian sessions page lacks the Go client")
		}
		if err := a.Monitor.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if p = fa.get("/admin/security").page(t, "fa"); !strings.Contains(p.body, "کروم روی لینوکس") || strings.Contains(p.body, "Chrome on Linux") {
			t.Errorf("Persian security overview: %.6000s", p.body)
		}
	})
}
