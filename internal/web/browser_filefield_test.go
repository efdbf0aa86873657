package web_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/customer"
)

// TestBrowserFileFieldSpeaksThePageLanguage: the three file fields (a new
// request, a customer's reply, an agent's reply) show their button and
// "no file chosen" in the page's language, not the browser's; after two
// files are chosen the line names them, with the count written as the
// language writes it; sending delivers both. The field is reached with
// the Tab key and its focus shows on the button. With JavaScript off the
// button still opens the picker and the files still go.
func TestBrowserFileFieldSpeaksThePageLanguage(t *testing.T) {
	browserEachDB(t, func(t *testing.T, a *app.App, browserCtx context.Context, shots string) {
		e := newEnv(t, a)
		ctx := context.Background()
		ws := e.f.WS.Slug
		const pw = "a passphrase long enough to pass"
		shopper, err := a.Customers.Create(ctx, e.f.System(), customer.NewCustomer{Email: "files-" + ws + "@example.com", Name: "Parisa"})
		if err != nil {
			t.Fatal(err)
		}
		e.customerPassword(shopper.ID, pw)
		agent := e.staff("agent", "Sara", pw, e.f.WS.DefaultDepartmentID)
		dir := t.TempDir()
		file := func(name string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte("contents of "+name+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}

		for _, lang := range []string{"fa", "en"} {
			c := newBrowser(t, browserCtx, e.url, shots)
			c.open("/lang/"+lang+"?next=/portal/signin?workspace="+ws, "title.signin_customer")
			c.do(fill("#f-email", shopper.Email, "#f-password", pw))
			c.submit(`form[action="/portal/signin"] button`, "title.my_requests")

			// A new request.
			c.open("/portal/requests/new", "title.new_request")
			c.checkFileField(lang)
			c.keyboardReachesFileField("#f-body")
			c.chooseOne(lang, file("one-"+lang+".txt"))
			first := []string{file("رسید خرید " + lang + ".txt"), file("printer-" + lang + ".log.txt")}
			c.chooseFiles(lang, first)
			c.shot("portal-new-files")
			c.do(fill("#f-subject", "Printer "+lang, "#f-body", "It will not print."))
			c.submit(`form[action="/portal/requests"] button`, "title.request")
			c.seeFiles(first)
			number := strings.TrimPrefix(c.eval(`location.pathname`).(string), "/portal/requests/")

			// The customer's reply.
			c.checkFileField(lang)
			c.keyboardReachesFileField("#f-body")
			second := []string{file("photo-" + lang + ".txt"), file("عکس دوم " + lang + ".txt")}
			c.chooseFiles(lang, second)
			c.do(fill("#f-body", "Two more."))
			c.sendFiles(`form.reply button[type=submit]`, 4)
			c.seeFiles(second)

			// The agent's reply in the console.
			g := newBrowser(t, browserCtx, e.url, shots)
			g.open("/lang/"+lang+"?next=/console/signin?workspace="+ws, "title.signin_staff")
			g.do(fill("#f-email", agent.Email, "#f-password", pw))
			g.submit(`form[action="/console/signin"] button`, "title.queue")
			g.open("/console/tickets/"+number, "title.ticket")
			g.checkFileField(lang)
			g.keyboardReachesFileField("#f-body")
			third := []string{file("manual-" + lang + ".txt"), file("راهنما " + lang + ".txt")}
			g.chooseFiles(lang, third)
			g.do(fill("#f-body", "Here is the manual."))
			g.sendFiles(`form.reply button[type=submit]`, 6)
			g.seeFiles(third)

			// Stored as sent: six files on the request, by the right people.
			files, err := a.Attachments.List(ctx, e.f.System(), mustAtoi(t, number), 0, 20)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, f.AuthorType+":"+f.Name)
			}
			var want []string
			for _, p := range append(append([]string{}, first...), second...) {
				want = append(want, "customer:"+filepath.Base(p))
			}
			for _, p := range third {
				want = append(want, "user:"+filepath.Base(p))
			}
			if !slices.Equal(names, want) {
				t.Errorf("%s: stored files %q, want %q", lang, names, want)
			}
		}

		// Without JavaScript: the line stays hidden, the hint says what the
		// button does, the button opens the picker and the files go.
		c := newBrowser(t, browserCtx, e.url, "")
		c.open("/lang/en?next=/portal/signin?workspace="+ws, "title.signin_customer")
		c.do(fill("#f-email", shopper.Email, "#f-password", pw))
		c.submit(`form[action="/portal/signin"] button`, "title.my_requests")
		if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		c.open("/portal/requests/new", "title.new_request")
		if got := c.eval(`[document.getElementById('f-file-chosen').hidden, document.querySelector('.pick').textContent, document.getElementById('f-file-hint').textContent]`).([]any); got[0] != true ||
			got[1] != msg(t, "en", "files.choose") || got[2] != msg(t, "en", "files.hint") {
			t.Errorf("without JavaScript the field shows hidden line %v, button %q, hint %q", got[0], got[1], got[2])
		}
		c.labelOpensPicker()
		plain := []string{file("no-script-1.txt"), file("no-script-2.txt")}
		c.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), plain))
		c.do(fill("#f-subject", "Without script", "#f-body", "Sent with scripts off."))
		c.submit(`form[action="/portal/requests"] button`, "title.request")
		c.seeFiles(plain)
		number := strings.TrimPrefix(c.eval(`location.pathname`).(string), "/portal/requests/")
		files, err := a.Attachments.List(ctx, e.f.System(), mustAtoi(t, number), 0, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || files[0].Name != "no-script-1.txt" || files[1].Name != "no-script-2.txt" {
			t.Errorf("without JavaScript the request stored %+v", files)
		}

		if err := a.Audit.FlushReads(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Audit.SealPending(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// checkFileField fails unless the file field's button, hint and
// empty-state line are the catalog's, in lang, and the line is shown.
func (b *browser) checkFileField(lang string) {
	b.t.Helper()
	// A page reached by a form's redirect may show before its deferred
	// script has run.
	b.waitFor(`!document.getElementById('f-file-chosen').hidden`)
	got := b.eval(`(() => { const o = document.getElementById('f-file-chosen');
	  return [document.querySelector('label.pick[for="f-file"]').textContent, o.textContent, o.hidden, document.getElementById('f-file-hint').textContent,
	    getComputedStyle(document.getElementById('f-file')).clipPath]; })()`).([]any)
	want := []any{msg(b.t, lang, "files.choose"), msg(b.t, lang, "files.none"), false, msg(b.t, lang, "files.hint"), "inset(50%)"}
	if !slices.Equal(got, want) {
		b.t.Errorf("%s: the file field shows button, line, line hidden, hint, input clip %v, want %v", lang, got, want)
	}
	b.labelOpensPicker()
}

// labelOpensPicker presses the button (the input's label) and waits for
// the browser to open its file picker, which the test intercepts.
func (b *browser) labelOpensPicker() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: true}); err != nil {
		b.t.Fatal(err)
	}
	defer func() {
		_, _ = chromedp.Call(b.ctx, page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: false})
	}()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	opened := chromedp.Events(ctx, page.FileChooserOpened)
	b.do(chromedp.Click(chromedp.CSS(`label.pick[for="f-file"]`)))
	for ev, err := range opened {
		if err != nil {
			b.t.Fatalf("pressing the file button opened no picker: %v", err)
		}
		if ev.Mode != page.FileChooserOpenedModeSelectMultiple {
			b.t.Errorf("the picker opened for %s, want several files", ev.Mode)
		}
		return
	}
	b.t.Fatal("pressing the file button opened no picker")
}

// keyboardReachesFileField tabs from the field before the file field and
// fails unless focus lands on the file input and shows on its button as
// the accessibility tour measures it (a change, an outline of 3:1).
func (b *browser) keyboardReachesFileField(before string) {
	b.t.Helper()
	b.eval(`window.__focus = []; document.querySelector(` + "`" + before + "`" + `).focus(); true`)
	b.do(chromedp.KeyEvent(kb.Tab))
	if id := b.eval(`document.activeElement.id`); id != "f-file" {
		b.t.Fatalf("Tab from %s goes to %v, not the file field", before, id)
	}
	b.eval(focusRecord)
	focus, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]focusResult](focusCompare))
	if err != nil {
		b.t.Fatal(err)
	}
	if len(focus) != 1 || !focus[0].Shows || !focus[0].Concealed || !focus[0].Outline || focus[0].OutlineRatio < 3 {
		b.t.Errorf("focus on the file field: %+v, want shown on its button with an outline of 3:1 or more", focus)
	}
}

// chooseFiles picks files in the field and checks the line names them
// after the count, as lang writes it.
func (b *browser) chooseFiles(lang string, paths []string) {
	b.t.Helper()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), paths))
	b.waitFor(`document.querySelectorAll('#f-file-chosen bdi').length > 0`)
	count := map[string]string{"fa": "۲", "en": "2"}[lang]
	prefix, _, _ := strings.Cut(strings.Replace(msg(b.t, lang, "files.many"), "%s", count, 1), "%s")
	line := b.text("#f-file-chosen")
	if !strings.HasPrefix(line, prefix) {
		b.t.Errorf("%s: after choosing two files the line reads %q, want it to start %q", lang, line, prefix)
	}
	for _, p := range paths {
		if !strings.Contains(line, filepath.Base(p)) {
			b.t.Errorf("%s: the line %q does not name %q", lang, line, filepath.Base(p))
		}
	}
	if n := b.eval(`document.querySelectorAll('#f-file-chosen bdi').length`); n != float64(len(paths)) {
		b.t.Errorf("%s: %v names isolated in the line, want %d", lang, n, len(paths))
	}
}

// chooseOne chooses one file and checks the line reads exactly the
// catalog's one-file sentence (html/template once quoted that pattern as
// JavaScript, because its attribute was named data-one: "on…").
func (b *browser) chooseOne(lang, path string) {
	b.t.Helper()
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{path}))
	b.waitFor(`document.querySelectorAll('#f-file-chosen bdi').length === 1`)
	want := strings.Replace(msg(b.t, lang, "files.one"), "%s", filepath.Base(path), 1)
	if line := b.text("#f-file-chosen"); line != want {
		b.t.Errorf("%s: after choosing one file the line reads %q, want %q", lang, line, want)
	}
}

// sendFiles presses the button and waits until the page lists total files.
func (b *browser) sendFiles(button string, total int) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(button)))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.conversation .files a').length`)); err == nil && n >= total {
			b.safe()
			return
		}
	}
	b.t.Fatalf("after pressing %s the page does not list %d files", button, total)
}

// seeFiles fails unless the page links each file by its name.
func (b *browser) seeFiles(paths []string) {
	b.t.Helper()
	got := b.eval(`Array.from(document.querySelectorAll('.files a')).map(a => a.textContent.trim()).join('\n')`).(string)
	for _, p := range paths {
		if !slices.Contains(strings.Split(got, "\n"), filepath.Base(p)) {
			b.t.Errorf("the page lists files %q, not %q", got, filepath.Base(p))
		}
	}
}

// waitFor waits up to five seconds for the expression to be true; the
// checks after it then say what is wrong.
func (b *browser) waitFor(js string) {
	b.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
	}
}
