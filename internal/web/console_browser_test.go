package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

// shortcut presses one key as a keyboard does: a single key-down that
// carries its text, so a page that handles the key stops the text too
// (chromedp's KeyEvent sends the text as a separate event, which no
// handler can stop). code is the key's place, key what the layout makes
// of it: pressing code KeyJ with key "ت" is j in the Persian layout.
func (b *browser) shortcut(code, key string, vk int64, modifiers ...chromedp.Modifier) {
	b.t.Helper()
	var mods int64
	for _, m := range modifiers {
		mods |= int64(m)
	}
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: typ, Code: code, Key: key, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk, Modifiers: mods}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text, p.UnmodifiedText = key, key
		}
		if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, p); err != nil {
			b.t.Fatal(err)
		}
	}
}

// letter presses a letter key of the English layout.
func (b *browser) letter(c byte) {
	b.t.Helper()
	b.shortcut("Key"+strings.ToUpper(string(c)), string(c), int64(c-'a'+'A'))
}

// activeID is the id of the element that has focus.
func (b *browser) activeID() string {
	b.t.Helper()
	id, _ := b.eval(`document.activeElement ? document.activeElement.id : ""`).(string)
	return id
}

// TestBrowserAgentWorksTheQueueFromTheKeyboard: in the queue j/k move
// between tickets (in the Persian layout too) and Enter opens one; ? shows
// the help, rendered in the page's language; on the ticket r goes to the
// reply, two files go with it and Ctrl+Enter sends it, and both files show
// with their sizes; n picks a note; g q goes back; / goes to the search;
// ordering by the longest waiting turns the list round, and the counts
// stand in the tabs.
func TestBrowserAgentWorksTheQueueFromTheKeyboard(t *testing.T) {
	chrome := chromiumPath(t)
	defer web.SetCountBudget(time.Minute)()
	a := testutil.App(t, "sqlite")
	e := newEnv(t, a)
	shots := screenshotDir(t)
	ctx := context.Background()
	const pw = "a passphrase long enough to pass"
	agent := e.staff("agent", "Leila", pw, e.f.WS.DefaultDepartmentID)
	var made []ticket.Ticket
	for _, subject := range []string{"Printer on fire", "Invoice is wrong", "Cannot sign in"} {
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: subject, Body: "Please help.", CustomerID: e.f.Customer.ID,
			DepartmentID: e.f.WS.DefaultDepartmentID})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, tk)
	}
	dir := t.TempDir()
	logFile, shotFile := filepath.Join(dir, "printer.log"), filepath.Join(dir, "error-screen.txt")
	if err := os.WriteFile(logFile, []byte("paper jam at 10:42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shotFile, []byte(strings.Repeat("E-47 ", 500)), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}

	g := newBrowser(t, browserCtx, e.url, shots)
	g.open("/lang/en?next=/console/signin?workspace="+e.f.WS.Slug, "title.signin_staff")
	g.do(fill("#f-email", agent.Email, "#f-password", pw))
	g.submit(`form[action="/console/signin"] button`, "title.queue")

	// The queue, newest activity first; counts in the tabs.
	g.open("/console/?view=all", "title.queue")
	rows := func() []string {
		var out []string
		for _, v := range g.eval(`Array.from(document.querySelectorAll('table.tickets tbody a')).map(a => a.pathname)`).([]any) {
			out = append(out, strings.TrimPrefix(v.(string), "/console/tickets/"))
		}
		return out
	}
	newest := rows()
	num := func(tk ticket.Ticket) string { return strconv.FormatInt(tk.Number, 10) }
	if len(newest) != 3 || newest[0] != num(made[2]) || newest[2] != num(made[0]) {
		t.Fatalf("queue order %v, want the newest first", newest)
	}
	if got := g.text(`.tabs a[aria-current="page"] .count`); got != "3" {
		t.Errorf("the All tab counts %q", got)
	}
	// The help button appears only with JavaScript on.
	if v := g.eval(`document.querySelector('[data-shortcuts="open"]').hidden`); v != false {
		t.Error("the shortcuts button stays hidden with JavaScript on")
	}

	// j, j, k: the selection moves; Enter opens the selected ticket.
	g.letter('j')
	if got := g.eval(`document.activeElement.pathname`); got != "/console/tickets/"+newest[0] {
		t.Fatalf("after j the focus is on %v", got)
	}
	g.letter('j')
	g.letter('k')
	g.shortcut("KeyJ", "ت", 74) // j in the Persian layout
	if got := g.eval(`document.activeElement.pathname`); got != "/console/tickets/"+newest[1] {
		t.Fatalf("after j j k j(ت) the focus is on %v", got)
	}
	if n := g.eval(`document.querySelectorAll('table.tickets tr.selected').length`); n != float64(1) {
		t.Errorf("%v rows marked selected", n)
	}
	g.shot("console-queue-keyboard")
	g.do(chromedp.KeyEvent("\r"), waitPage("title.ticket"))
	if got := g.eval(`location.pathname`); got != "/console/tickets/"+newest[1] {
		t.Fatalf("Enter opened %v", got)
	}

	// ? shows the help in the page's language.
	g.shortcut("Slash", "?", 191, chromedp.ModifierShift)
	g.do(chromedp.WaitVisible(chromedp.CSS("#shortcuts")))
	if got := g.text("#shortcuts h2"); got != "Keyboard shortcuts" {
		t.Errorf("help title %q", got)
	}
	if got := g.text("#shortcuts"); !strings.Contains(got, "Write an internal note") || !strings.Contains(got, "Back to the queue") {
		t.Errorf("help text %q", got)
	}
	g.shot("console-shortcuts")
	// While it is open, other keys do nothing; Escape closes it.
	g.letter('r')
	if g.activeID() == "f-body" {
		t.Error("r acted behind the open help")
	}
	g.do(chromedp.KeyEvent(kb.Escape))
	if v := g.eval(`document.getElementById('shortcuts').open`); v != false {
		t.Fatal("Escape did not close the help")
	}

	// n picks a note, r a reply; typing r or n in the text is just text.
	g.letter('n')
	if g.activeID() != "f-body" || g.eval(`document.querySelector('input[name=kind][value=note]').checked`) != true {
		t.Fatal("n did not start a note")
	}
	g.do(chromedp.Blur(chromedp.CSS("#f-body")))
	g.letter('r')
	if g.activeID() != "f-body" || g.eval(`document.querySelector('input[name=kind][value=reply]').checked`) != true {
		t.Fatal("r did not start a reply")
	}
	g.do(chromedp.KeyEvent("The log and the screen are attached; run and wait."))
	if got := g.eval(`document.getElementById('f-body').value`); got != "The log and the screen are attached; run and wait." {
		t.Fatalf("typing in the reply gave %q", got)
	}
	if v := g.eval(`document.querySelector('input[name=kind][value=reply]').checked`); v != true {
		t.Fatal("typing n in the text switched the form to a note")
	}
	g.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{logFile, shotFile}), chromedp.Focus(chromedp.CSS("#f-body")))
	// Ctrl+Enter sends the form the focus is in.
	g.do(chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.WaitVisible(chromedp.CSS(".notice")))
	g.safe()
	files := g.text(".entry.mine:not(.note) .files")
	for _, want := range []string{"printer.log", "19 bytes", "error-screen.txt", "2 KB"} {
		if !strings.Contains(files, want) {
			t.Errorf("the reply's files show %q, without %q", files, want)
		}
	}
	g.shot("console-ticket-files")

	// g then q goes back to the queue; / goes to the search.
	g.letter('g')
	g.letter('q')
	g.do(waitPage("title.queue"))
	g.shortcut("Slash", "/", 191)
	if g.activeID() != "f-q" {
		t.Errorf("/ focused %q", g.activeID())
	}

	// The longest waiting first: the answered ticket goes last.
	g.open("/console/?view=all", "title.queue")
	now := rows()
	if now[0] != newest[1] {
		t.Fatalf("after the reply the newest activity is %v, want %s first", now, newest[1])
	}
	g.do(chromedp.SetValue(chromedp.CSS("#f-sort"), "oldest"))
	// (The next page is a queue too: wait for the order it says it has.)
	g.do(chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)), chromedp.WaitReady(chromedp.CSS(`#f-sort option[value="oldest"][selected]`)))
	g.safe()
	oldest := rows()
	if len(oldest) != 3 || oldest[0] != num(made[0]) || oldest[2] != newest[1] {
		t.Fatalf("longest waiting first: %v (before %v)", oldest, now)
	}
	if !strings.Contains(g.eval(`location.search`).(string), "sort=oldest") {
		t.Error("the order is not in the URL")
	}
	// The tabs keep the order.
	g.submitThen(`.tabs a[href*="view=unassigned"]`, `.tabs a[aria-current="page"][href*="view=unassigned"]`)
	if !strings.Contains(g.eval(`location.search`).(string), "sort=oldest") || g.text("#f-sort option:checked") != "Waiting longest first" {
		t.Error("the view tab dropped the order")
	}

	// In Persian: the help and the counts speak Persian, in Persian digits.
	g.open("/lang/fa?next=/console/?view=all", "title.queue")
	if got := g.text(`.tabs a[aria-current="page"] .count`); got != "۳" {
		t.Errorf("Persian count %q", got)
	}
	g.shot("console-queue")
	g.shortcut("Slash", "?", 191, chromedp.ModifierShift)
	g.do(chromedp.WaitVisible(chromedp.CSS("#shortcuts")))
	if got := g.text("#shortcuts h2"); got != "میان‌برهای صفحه‌کلید" {
		t.Errorf("Persian help title %q", got)
	}
	g.shot("console-shortcuts")
}
