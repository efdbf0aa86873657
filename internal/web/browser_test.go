package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

// The browser tests drive Debian's Chromium. In CI (CI=true) a missing
// browser fails the test; on a developer's machine it skips, saying so.

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH: CI must install it (apt-get install -y chromium); browser tests never skip in CI")
	}
	t.Skip("no Chromium on PATH: install it (apt-get install -y chromium) to run the browser tests; CI never skips them")
	return ""
}

// One Chromium serves every browser test of the package: starting it takes
// a second or more on a small machine. Each person in a test gets a browser
// context of their own in it (newBrowser), which shares no cookies or
// storage with the others. TestMain stops it.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// sharedChromium returns the package's Chromium, starting it on first use.
func sharedChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	chrome.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 900))
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox)
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
		chrome.ctx, chrome.cancel = browserCtx, func() { cancelBrowser(); cancelAlloc() }
		chrome.err = chromedp.Do(browserCtx)
	})
	if chrome.err != nil {
		t.Fatalf("start %s: %v", path, chrome.err)
	}
	return chrome.ctx
}

// stopChromium ends the shared Chromium, if a test started it.
func stopChromium() {
	if chrome.cancel != nil {
		chrome.cancel()
	}
}

// browserEachDB runs a browser scenario as a sqlite and a postgres
// subtest in the shared Chromium. The pages are the same on both, so only
// the SQLite run saves screenshots (shots is "" on PostgreSQL; shot then
// still checks the layout).
func browserEachDB(t *testing.T, fn func(t *testing.T, a *app.App, chrome context.Context, shots string)) {
	t.Helper()
	browserCtx := sharedChromium(t)
	dir := screenshotDir(t)
	for _, kind := range testutil.Kinds {
		t.Run(kind, func(t *testing.T) {
			shots := dir
			if kind != "sqlite" {
				shots = ""
			}
			fn(t, testutil.App(t, kind), browserCtx, shots)
		})
	}
}

// screenshotDir is where the main pages are saved in both languages for
// people to look at: $HESAR_SCREENSHOTS, or hesar-screenshots in the
// temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("HESAR_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hesar-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of the main pages: %s", dir)
	fmt.Printf("browser test screenshots: %s\n", dir)
	return dir
}

// xssTrap runs before any page script: any alert, confirm or prompt, or a
// planted script that runs, raises window.__xss.
const xssTrap = `(() => {
  const hit = () => { window.__xss = (window.__xss || 0) + 1; };
  window.alert = hit; window.confirm = hit; window.prompt = hit;
})();`

// browser is one person's browser window with its own cookies.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	shots  string
	dialog *atomic.Int32
}

func newBrowser(t *testing.T, parent context.Context, base, shots string) *browser {
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, base: base, shots: shots, dialog: &atomic.Int32{}}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: xssTrap}); err != nil {
		t.Fatal(err)
	}
	// A real dialog, should one open in spite of the trap, is counted and
	// dismissed so the page does not hang.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			b.dialog.Add(1)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		b.t.Fatalf("at %s: %v\npage text: %.1500s", url, err, html)
	}
}

func (b *browser) eval(js string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// open loads a path and waits for the page with this title key.
func (b *browser) open(path, pageKey string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), waitPage(pageKey))
	b.safe()
}

func waitPage(key string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`body[data-page="` + key + `"]`))
}

// fill sets form fields by id.
func fill(fields ...string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(fields[i]), fields[i+1]))
	}
	return chromedp.Steps(steps...)
}

// submit presses a button and waits for the page that follows.
func (b *browser) submit(button, pageKey string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(button)), waitPage(pageKey))
	b.safe()
}

// submitThen presses a button and waits for an element of the page that
// follows (for forms that come back to a page of the same kind).
func (b *browser) submitThen(button, css string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(css)))
	b.safe()
}

// safe fails the test if anything planted ran on this page, or a planted
// element was built from user input.
func (b *browser) safe() {
	b.t.Helper()
	v := b.eval(`(window.__xss || 0) + document.querySelectorAll('img[src="x"], svg, iframe, script:not([src]), [onerror], [onload], [onmouseover]').length`)
	if n, _ := v.(float64); n != 0 || b.dialog.Load() != 0 {
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("planted script ran or markup was built at %s (%v, %d dialogs)", url, v, b.dialog.Load())
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// shot saves the current page as name-lang.png (when the browser has a
// screenshot folder).
func (b *browser) shot(name string) {
	b.t.Helper()
	lang, _ := b.eval(`document.documentElement.lang`).(string)
	// Nothing may stick out sideways (in Persian it would push the page
	// off to the left).
	if over := b.eval(`[document.documentElement.scrollWidth, window.innerWidth, window.scrollX]`); over.([]any)[0].(float64) > over.([]any)[1].(float64) || over.([]any)[2].(float64) != 0 {
		b.t.Errorf("%s-%s: page wider than the window or scrolled sideways: %v", name, lang, over)
	}
	if b.shots == "" {
		return
	}
	// Grow the window to the page's height and take a plain screenshot:
	// capturing beyond the viewport misplaces right-to-left pages.
	height, _ := b.eval(`Math.max(900, document.documentElement.scrollHeight)`).(float64)
	b.do(chromedp.EmulateViewport(1280, int64(height)))
	shot, err := chromedp.Call(b.ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	b.do(chromedp.EmulateViewport(1280, 900))
	if err != nil {
		b.t.Fatal(err)
	}
	png := shot.Data
	if err := os.WriteFile(filepath.Join(b.shots, name+"-"+lang+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// switchLanguage follows the switch on the page, as a person would.
func (b *browser) switchLanguage(pageKey string) {
	b.t.Helper()
	b.submit("#lang-switch", pageKey)
}

const (
	xssSubject = `<script>alert("subject")</script> printer on fire`
	xssBody    = `"><img src=x onerror=alert("body")> it smokes <svg onload=alert(1)>`
	xssName    = `Mallory <b onmouseover=alert("name")>x</b><script>alert(2)</script>`
	xssFile    = `<img src=x onerror=alert('file')>.txt`
	agentReply = "Unplug it first, please."
)

var jalaliDate = regexp.MustCompile(`^[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}$`)

// TestBrowserCustomerAndAgentConverseSafelyInBothLanguages: a customer
// submits a request with a file in the Persian portal; an agent enrolls an
// authenticator app, signs in with a code, finds the request in the queue
// and replies in English; the customer sees the reply. Everything the
// customer typed (subject, body, name, file name) is hostile and must
// show as text. An agent of another department cannot open the ticket.
func TestBrowserCustomerAndAgentConverseSafelyInBothLanguages(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		ctx := context.Background()
		ws := e.f.WS.Slug

		const pw = "a passphrase long enough to pass"
		mallory, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "mallory-" + ws + "@example.com", Name: xssName})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(mallory.ID, pw)
		agent := e.staff("agent", "Sara", pw, e.f.WS.DefaultDepartmentID)
		other := e.staff("agent", "Farid", pw, e.f.Finance)
		dir := t.TempDir()
		file := filepath.Join(dir, xssFile)
		if err := os.WriteFile(file, []byte("the printer log\n"), 0o600); err != nil {
			t.Fatal(err)
		}

		// The customer, in Persian.
		c := newBrowser(t, browserCtx, e.url, shots)
		c.open("/lang/fa?next=/", "title.home")
		// The trap works: a script that calls alert is caught (the page is
		// then reloaded to clear it).
		if v := c.eval(`alert("test"); window.__xss`); v != float64(1) {
			t.Fatalf("the alert trap does not work: %v", v)
		}
		c.open("/", "title.home")
		c.shot("home")
		c.open("/portal/signin?workspace="+ws, "title.signin_customer")
		c.shot("portal-signin")
		c.do(fill("#f-email", mallory.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		c.open("/portal/requests/new", "title.new_request")
		c.do(fill("#f-subject", xssSubject, "#f-body", xssBody), chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{file}))
		c.shot("portal-new")
		c.submit(`form[action="/portal/requests"] button`, "title.request")
		if got := c.text("h1"); got != xssSubject {
			t.Fatalf("subject shown as %q", got)
		}
		if got := c.text(".entry .body"); got != xssBody {
			t.Fatalf("body shown as %q", got)
		}
		if got := c.text(".files a"); !strings.Contains(got, "img src=x") {
			t.Fatalf("file name shown as %q", got)
		}
		c.open("/portal/", "title.my_requests")
		if d := c.eval(`getComputedStyle(document.documentElement).direction`); d != "rtl" {
			t.Fatalf("Persian page direction %v", d)
		}
		if right := c.eval(`document.querySelector('.brand').getBoundingClientRect().left > window.innerWidth / 2`); right != true {
			t.Fatal("the brand is not on the right in Persian")
		}
		if date := c.text("td time"); !jalaliDate.MatchString(date) || !strings.HasPrefix(date, "۱۴") {
			t.Fatalf("date %q is not a Jalali date in Persian digits", date)
		}
		c.shot("portal-list")

		// The agent, in English: sets up an authenticator app, signs in with it.
		g := newBrowser(t, browserCtx, e.url, shots)
		g.open("/lang/en?next=/console/signin?workspace="+ws, "title.signin_staff")
		g.shot("console-signin")
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.queue")
		g.open("/auth/enroll", "title.enroll")
		g.submitThen(`form[action="/auth/enroll/totp"] button`, "#totp-secret")
		g.shot("enroll")
		secret := g.text("#totp-secret")
		g.do(fill("#f-code", totpCode(t, secret, time.Now())))
		g.submitThen(`form[action="/auth/enroll/confirm"] button`, ".codes")
		if n := g.eval(`document.querySelectorAll('.codes code').length`); n != float64(10) {
			t.Fatalf("%v recovery codes shown", n)
		}
		g.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.mfa")
		g.shot("mfa")
		g.do(fill("#f-code", totpCode(t, secret, time.Now().Add(30*time.Second))))
		g.submit(`form[action="/auth/mfa"] button[type=submit]`, "title.queue")
		g.open("/account/sessions", "title.sessions")
		g.shot("sessions")

		// Portal requests land unassigned in the default department, Sara's.
		g.open("/console/?view=unassigned", "title.queue")
		g.shot("console-queue")
		g.submit(`table.tickets a`, "title.ticket")
		if got := g.text("h1"); got != xssSubject {
			t.Fatalf("agent sees subject %q", got)
		}
		if got := g.text(".meta span[dir=auto]"); got != xssName {
			t.Fatalf("customer name shown as %q", got)
		}
		number := strings.TrimPrefix(g.eval(`location.pathname`).(string), "/console/tickets/")
		g.do(fill("#f-body", "Internal: the customer's printer is an old model."), chromedp.Click(chromedp.CSS(`input[name=kind][value=note]`)))
		g.submitThen(`form.reply button[type=submit]`, ".entry.note")
		g.do(fill("#f-body", agentReply))
		g.submitThen(`form.reply button[type=submit]`, ".entry.mine:not(.note)")
		if n := g.eval(`document.querySelectorAll('.entry.note').length`); n != float64(1) {
			t.Fatalf("%v notes marked as notes", n)
		}
		g.shot("console-ticket")

		// The customer sees the reply and never the note.
		c.open("/portal/requests/"+number, "title.request")
		if got := c.eval(`document.querySelector('.conversation').innerText`).(string); !strings.Contains(got, agentReply) || strings.Contains(got, "Internal") {
			t.Fatalf("customer's conversation: %q", got)
		}
		c.shot("portal-ticket")

		// An agent of another department gets "not found" for the same URL.
		f := newBrowser(t, browserCtx, e.url, shots)
		f.open("/lang/en?next=/console/signin?workspace="+ws, "title.signin_staff")
		f.do(fill("#f-email", other.Email, "#f-password", pw))
		f.submit(`form[action="/console/signin"] button`, "title.queue")
		f.open("/console/tickets/"+number, "title.error")
		if got := f.text("h1"); got != "Not found" {
			t.Fatalf("the Finance agent sees %q", got)
		}
		if n := f.eval(`document.body.innerText.includes("printer")`); n != false {
			t.Fatal("the Finance agent's page mentions the ticket's content")
		}

		// The same pages in the other language.
		c.switchLanguage("title.request")
		c.shot("portal-ticket")
		c.open("/portal/", "title.my_requests")
		if d := c.eval(`getComputedStyle(document.documentElement).direction`); d != "ltr" {
			t.Fatalf("English page direction %v", d)
		}
		c.shot("portal-list")
		c.open("/portal/requests/new", "title.new_request")
		c.shot("portal-new")
		c.open("/", "title.home")
		c.shot("home")
		c.open("/portal/signin", "title.signin_customer")
		c.shot("portal-signin")
		g.open("/console/tickets/"+number, "title.ticket")
		g.switchLanguage("title.ticket")
		g.shot("console-ticket")
		g.open("/console/?view=all", "title.queue")
		if date := g.text("td time"); !jalaliDate.MatchString(date) {
			t.Fatalf("queue date %q is not Jalali in Persian", date)
		}
		g.shot("console-queue")
		g.open("/account/sessions", "title.sessions")
		g.shot("sessions")
		g.open("/auth/enroll", "title.enroll")
		g.shot("enroll")
		g.submit(`header form[action="/auth/signout"] button`, "title.signin_staff")
		g.shot("console-signin")
		g.do(fill("#f-email", agent.Email, "#f-password", pw))
		g.submit(`form[action="/console/signin"] button`, "title.mfa")
		g.shot("mfa")

		// The ticket's history in the store agrees with what the pages showed.
		msgs, err := a.Tickets.Messages(ctx, e.f.System(), mustAtoi(t, number), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 3 || msgs[0].Body != xssBody || msgs[1].Kind != ticket.KindNote || msgs[2].Body != agentReply {
			t.Fatalf("stored conversation: %+v", msgs)
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			t.Fatal("cancelled")
		}
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserAdminChangesMFARequirementAndSeesAnAlert: an admin changes
// the workspace's second-factor requirement (shown for confirmation
// first), raises an agent's role, and finds the alert on the security
// page; the admin and security pages are saved in both languages.
func TestBrowserAdminChangesMFARequirementAndSeesAnAlert(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		ctx := context.Background()
		e.setMFA("none")
		const pw = "a passphrase long enough to pass"
		admin := e.staff("admin", "Roya", pw)
		agent := e.staff("agent", "Omid", pw, e.f.Sales)
		// A failed sign-in, for the dashboard's chart.
		e.client("en").post("/console/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {agent.Email}, "password": {"wrong"}})

		b := newBrowser(t, browserCtx, e.url, shots)
		b.open("/lang/en?next=/console/signin", "title.signin_staff")
		b.do(fill("#f-workspace", e.f.WS.Slug, "#f-email", admin.Email, "#f-password", pw))
		b.submit(`form[action="/console/signin"] button`, "title.queue")

		// The requirement: chosen, shown for confirmation, saved.
		b.open("/admin/settings", "title.admin_settings")
		b.do(chromedp.Click(chromedp.CSS(`input[name="mfa_required"][value="admins"]`)))
		b.submitThen(`form[action="/admin/settings"] button[type="submit"]`, ".confirm")
		if got := b.text(".confirm tbody"); !strings.Contains(got, "No one") || !strings.Contains(got, "Admins") {
			t.Fatalf("confirmation shows %q", got)
		}
		b.shot("admin-settings-confirm")
		b.submitThen(`.confirm button[type="submit"]`, ".notice")
		if st, _ := a.Identity.SecuritySettings(ctx, e.f.WS.ID); st.MFARequired != "admins" {
			t.Fatalf("requirement is %q", st.MFARequired)
		}

		// Raising the agent's role raises an alert.
		user := fmt.Sprintf("/admin/users/%d", agent.ID)
		b.open(user, "title.admin_user")
		b.do(chromedp.SetValue(chromedp.CSS("#f-role"), "supervisor"))
		b.submitThen(`form[action="`+user+`"] button[type="submit"]`, ".confirm")
		b.submitThen(`.confirm button[type="submit"]`, ".notice")
		if err := a.Monitor.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
		b.open("/admin/security", "title.admin_security")
		if got := b.text(".alerts"); !strings.Contains(got, "raised to supervisor") {
			t.Fatalf("no alert on the security page: %q", got)
		}
		pages := []struct{ path, key, name string }{
			{"/admin/security", "title.admin_security", "admin-security"},
			{"/admin/security/alerts", "title.admin_alerts", "admin-alerts"},
			{"/admin/audit", "title.admin_audit", "admin-audit"},
			{"/admin/users", "title.admin_users", "admin-users"},
			{user, "title.admin_user", "admin-user"},
			{"/admin/departments", "title.admin_departments", "admin-departments"},
			{"/admin/settings", "title.admin_settings", "admin-settings"},
			{"/account/security", "title.security", "account-security"},
		}
		for _, lang := range []string{"en", "fa"} {
			b.open("/lang/"+lang+"?next=/admin/", "title.admin")
			b.shot("admin")
			for _, p := range pages {
				b.open(p.path, p.key)
				b.shot(p.name)
			}
		}
		// In Persian the alert can be acknowledged with a note.
		b.open("/admin/security", "title.admin_security")
		b.do(fill(".alert-actions input[name=note]", "تأیید مدیرعامل"))
		b.submitThen(`.alert-actions button[value="acknowledged"]`, ".notice")
		if got := b.text(".alerts"); !strings.Contains(got, "تأیید مدیرعامل") {
			t.Fatalf("note not shown: %q", got)
		}
	})
}
