package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/identity"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// TestBrowserEveryMainPageMeetsWCAGContrastLabelsAndFocus measures every
// main page in both languages, signed out, as a customer and as an admin
// (who sees the console and the admin pages), including forms sent with
// mistakes; each at the desktop width and again 320 CSS px wide (reflow).
// Failures name the page, language, width, the element and what was
// measured. The measurements are also written to a11y-report.txt beside
// the screenshots, and a few pages are saved at 320px.
func TestBrowserEveryMainPageMeetsWCAGContrastLabelsAndFocus(t *testing.T) {
	browserCtx := sharedChromium(t)
	shots := screenshotDir(t)
	a := testutil.App(t, "sqlite")
	e := newEnv(t, a)
	ctx := context.Background()
	ws := e.f.WS.Slug
	e.setMFA("none")
	const pw = "a passphrase long enough to pass"

	// A request with a reply, a note and masked data; an alert from a
	// raised role and a failed sign-in, so every part of the pages shows.
	shopper, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "nasrin-" + ws + "@example.com", Name: "نسرین"})
	if err != nil {
		t.Fatal(err)
	}
	e.customerPassword(shopper.ID, pw)
	tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "چاپگر کار نمی‌کند", Body: "شماره کارت من 4111 1111 1111 1111 است و چاپگر روشن نمی‌شود.",
		CustomerID: shopper.ID, DepartmentID: e.f.Sales})
	if err != nil {
		t.Fatal(err)
	}
	agentScope := e.f.Scope(t, "sales_agent")
	// What is widest in a conversation: an unbroken link in plain text, and
	// formatted mail with a long line of code, a wide table and inline code.
	wideHTML := `<p>لاگ چاپگر:</p><pre>` + strings.Repeat("ERROR spooler: job 42 failed; ", 8) + `</pre>` +
		`<table><tr><th>مدل</th><th>سریال</th><th>وضعیت</th><th>آخرین خطا</th><th>نسخهٔ میان‌افزار</th></tr>` +
		`<tr><td>LaserJet-Pro-M404dn</td><td>PHBQK12345678</td><td>offline</td><td>paper-jam-tray-2</td><td>20231005.1234.5678</td></tr></table>` +
		`<p>کد: <code>` + strings.Repeat("printer.config.", 6) + `</code></p>`
	for _, m := range []ticket.NewMessage{{Kind: ticket.KindNote, Body: "یادداشت درونی: مدل قدیمی است."}, {Kind: ticket.KindReply, Body: "لطفاً اول آن را از برق بکشید."},
		{Kind: ticket.KindReply, Body: "راهنما: https://support.example.com/printers/laserjet-pro-m404dn/troubleshooting/paper-jam-tray-2-and-offline-status"},
		{Kind: ticket.KindReply, HTML: wideHTML}} {
		if _, err := a.Tickets.AddMessage(ctx, agentScope, tk.Number, m); err != nil {
			t.Fatal(err)
		}
	}
	number := strconv.FormatInt(tk.Number, 10)
	// One admin per language: each sign-in spends the next code.
	admins := map[string]identity.User{}
	secrets := map[string]string{}
	admins["fa"], secrets["fa"] = e.staffWithTOTP("admin", "Roya", pw)
	admins["en"], secrets["en"] = e.staffWithTOTP("admin", "Sima", pw)
	agent := e.staff("agent", "Omid", pw, e.f.Sales)
	other := e.staff("admin", "Dara", pw)
	e.client("en").post("/console/signin", url.Values{"workspace": {ws}, "email": {agent.Email}, "password": {"wrong"}})
	e.signInStaff("en", other.Email, pw).post("/admin/users/"+strconv.FormatInt(agent.ID, 10),
		url.Values{"name": {"Omid"}, "role": {"supervisor"}, "departments": {strconv.FormatInt(e.f.Sales, 10)}, "confirm": {"yes"}}).must(t, 303)
	if err := a.Monitor.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Audit.SealPending(ctx); err != nil {
		t.Fatal(err)
	}

	anon := []a11yPage{
		{"home", "/", "title.home", nil},
		{"console-signin", "/console/signin?workspace=" + ws, "title.signin_staff", nil},
		{"console-signin-error", "/console/signin?workspace=" + ws, "title.signin_staff", func(b *browser) {
			b.do(fill("#f-email", agent.Email, "#f-password", "not the password"))
			b.submitThen(`form[action="/console/signin"] button`, `[role="alert"]`)
		}},
		{"portal-signin", "/portal/signin?workspace=" + ws, "title.signin_customer", nil},
		{"signup", "/portal/signup?workspace=" + ws, "title.signup", nil},
		{"signup-error", "/portal/signup?workspace=" + ws, "title.signup", func(b *browser) {
			b.do(fill("#f-email", "not an address", "#f-password", "1234"))
			b.submitThen(`form[action="/portal/signup"] button`, `[aria-invalid="true"]`)
		}},
		{"forgot", "/auth/forgot?account=customer", "title.forgot", nil},
		{"verify-email", "/auth/verify-email?token=hsl_example", "title.verify_email", nil},
		{"invitation", "/auth/reset-password?token=hsl_example", "title.reset_password", nil},
		{"signin-link", "/auth/signin-link?token=hsl_example", "title.signin_link", nil},
		{"not-found", "/no/such/page", "title.error", nil},
	}
	customerPages := []a11yPage{
		{"portal-list", "/portal/", "title.my_requests", nil},
		{"portal-new", "/portal/requests/new", "title.new_request", nil},
		{"portal-new-error", "/portal/requests/new", "title.new_request", func(b *browser) {
			b.submitThen(`form[action="/portal/requests"] button`, `[aria-invalid="true"]`)
		}},
		{"portal-ticket", "/portal/requests/" + number, "title.request", nil},
		{"customer-security", "/account/security", "title.security", nil},
		{"customer-sessions", "/account/sessions", "title.sessions", nil},
	}
	staffPages := []a11yPage{
		{"console-queue", "/console/?view=all", "title.queue", nil},
		{"console-search", "/console/search?q=" + url.QueryEscape("چاپگر"), "title.search", nil},
		{"console-ticket", "/console/tickets/" + number, "title.ticket", nil},
		{"console-not-found", "/console/tickets/999999", "title.error", nil},
		{"account-security", "/account/security", "title.security", nil},
		{"sessions", "/account/sessions", "title.sessions", nil},
		{"enroll", "/auth/enroll", "title.enroll", nil},
		{"step-up", "/auth/step-up?next=/admin/", "title.step_up", nil},
		{"admin", "/admin/", "title.admin", nil},
		{"admin-users", "/admin/users", "title.admin_users", nil},
		{"admin-user-new", "/admin/users/new", "title.admin_new_user", nil},
		{"admin-user", "/admin/users/" + strconv.FormatInt(agent.ID, 10), "title.admin_user", nil},
		{"admin-departments", "/admin/departments", "title.admin_departments", nil},
		{"admin-settings", "/admin/settings", "title.admin_settings", nil},
		{"admin-settings-confirm", "/admin/settings", "title.admin_settings", func(b *browser) {
			b.do(chromedp.Click(chromedp.CSS(`input[name="mfa_required"][value="admins"]`)))
			b.submitThen(`form[action="/admin/settings"] button[type="submit"]`, ".confirm")
		}},
		{"admin-security", "/admin/security", "title.admin_security", nil},
		{"admin-alerts", "/admin/security/alerts", "title.admin_alerts", nil},
		{"admin-audit", "/admin/audit", "title.admin_audit", nil},
		{"admin-audit-verify", "/admin/audit/verify", "title.admin_audit_verify", nil},
		{"admin-roles", "/admin/roles", "title.admin_roles", nil},
		{"admin-monitoring", "/admin/security/monitoring", "title.admin_monitoring", nil},
	}

	// Each view is measured at the desktop width and at 320px (reflow);
	// these are also saved at 320px for people to look at.
	narrowShots := map[string]bool{"console-queue": true, "console-ticket": true, "portal-ticket": true, "admin-users": true}
	var fails, report []string
	both := func(b *browser, name, lang string) {
		f, s := b.audit(name, lang)
		fails, report = append(fails, f...), append(report, s)
		f, s = b.auditNarrow(name, lang)
		fails, report = append(fails, f...), append(report, s)
		if narrowShots[name] {
			b.shotNarrow(shots, name)
		}
	}
	run := func(b *browser, lang string, pages []a11yPage) {
		for _, p := range pages {
			b.open(p.path, p.key)
			if p.before != nil {
				p.before(b)
			}
			both(b, p.name, lang)
		}
	}
	for _, lang := range []string{"fa", "en"} {
		anyone := newBrowser(t, browserCtx, e.url, "")
		anyone.open("/lang/"+lang+"?next=/", "title.home")
		run(anyone, lang, anon)

		c := newBrowser(t, browserCtx, e.url, "")
		c.open("/lang/"+lang+"?next=/portal/signin?workspace="+ws, "title.signin_customer")
		c.do(fill("#f-email", shopper.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		run(c, lang, customerPages)

		s := newBrowser(t, browserCtx, e.url, "")
		s.open("/lang/"+lang+"?next=/console/signin?workspace="+ws, "title.signin_staff")
		s.do(fill("#f-email", admins[lang].Email, "#f-password", pw))
		s.submit(`form[action="/console/signin"] button`, "title.mfa")
		both(s, "mfa", lang)
		s.do(fill("#f-code", totpCode(t, secrets[lang], time.Now().Add(30*time.Second))))
		s.submit(`form[action="/auth/mfa"] button[type=submit]`, "title.queue")
		run(s, lang, staffPages)
		s.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
	}

	// The skip link is the first stop and moves focus to the main part.
	b := newBrowser(t, browserCtx, e.url, "")
	b.open("/", "title.home")
	b.do(chromedp.KeyEvent(kb.Tab))
	if got := b.eval(`document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab stop is %v, not the skip link", got)
	}
	b.do(chromedp.KeyEvent(kb.Enter))
	if got := b.eval(`document.activeElement.id`); got != "main" {
		t.Errorf("the skip link moves focus to %v, not the main part", got)
	}

	sort.Strings(report)
	text := "Accessibility measured by TestBrowserEveryMainPageMeetsWCAGContrastLabelsAndFocus\n\n" + strings.Join(report, "\n") + "\n"
	if len(fails) > 0 {
		text += "\nFailures:\n" + strings.Join(fails, "\n") + "\n"
	}
	if err := os.WriteFile(filepath.Join(shots, "a11y-report.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pages measured in both languages at two widths; report in %s", len(report)/4, filepath.Join(shots, "a11y-report.txt"))
	for _, f := range groupFailures(fails) {
		t.Error(f)
	}
}

// groupFailures folds the same failure on several pages (the header is on
// all of them) into one line that names the pages.
func groupFailures(fails []string) []string {
	var order []string
	pages := map[string][]string{}
	for _, f := range fails {
		page, what, _ := strings.Cut(f, ": ")
		if _, ok := pages[what]; !ok {
			order = append(order, what)
		}
		if ps := pages[what]; len(ps) == 0 || ps[len(ps)-1] != page {
			pages[what] = append(ps, page)
		}
	}
	out := make([]string, 0, len(order))
	for _, what := range order {
		ps := pages[what]
		list := strings.Join(ps, ", ")
		if len(ps) > 8 {
			list = strings.Join(ps[:8], ", ") + fmt.Sprintf(" and %d more (a11y-report.txt lists them)", len(ps)-8)
		}
		out = append(out, what+" — on "+list)
	}
	return out
}

// shotNarrow saves the page as it looks 320 CSS px wide, as
// name-320px-lang.png in dir: the window grows to the page's height for
// the picture, then gets its desktop size back.
func (b *browser) shotNarrow(dir, name string) {
	b.t.Helper()
	lang, _ := b.eval(`document.documentElement.lang`).(string)
	b.do(chromedp.EmulateViewport(narrowWidth, 900))
	defer b.do(chromedp.EmulateViewport(1280, 900))
	height, _ := b.eval(`Math.max(900, document.documentElement.scrollHeight)`).(float64)
	b.do(chromedp.EmulateViewport(narrowWidth, int64(height)))
	shot, err := chromedp.Call(b.ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	if err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join(dir, fmt.Sprintf("%s-%dpx-%s.png", name, narrowWidth, lang))
	if err := os.WriteFile(file, shot.Data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
