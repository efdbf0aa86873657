package web_test

import (
	"bytes"
	"context"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
	"github.com/hesar/hesar/internal/web"
)

// upFile is one file of a multipart form.
type upFile struct{ name, body string }

// postFiles sends a multipart form as a browser does: the text fields
// first, then every file under the one input name "file".
func (c *client) postFiles(path string, fields url.Values, files ...upFile) response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			c.t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.body))
	}
	_ = mw.Close()
	req, err := http.NewRequest("POST", c.base+path, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Forwarded-For", c.ip)
	req.Header.Set("Accept-Language", c.lang)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b.String(), location: res.Header.Get("Location")}
}

// stored counts what the workspace holds: messages, attachment rows, and
// sealed blobs on disk (a refused upload must leave none of any).
type stored struct{ messages, attachments, blobs, tickets int }

func (e *env) stored() stored {
	e.t.Helper()
	ctx := context.Background()
	var s stored
	for q, dst := range map[string]*int{
		`SELECT COUNT(*) FROM messages WHERE workspace_id = $1`:    &s.messages,
		`SELECT COUNT(*) FROM attachments WHERE workspace_id = $1`: &s.attachments,
		`SELECT COUNT(*) FROM tickets WHERE workspace_id = $1`:     &s.tickets,
	} {
		if err := e.a.DB.Read().QueryRowContext(ctx, q, e.f.WS.ID).Scan(dst); err != nil {
			e.t.Fatal(err)
		}
	}
	lb, ok := e.a.Attachments.Blobs().(attachment.LocalBlobs)
	if !ok {
		e.t.Fatalf("blobs are kept in %T, not on the local disk", e.a.Attachments.Blobs())
	}
	dir := filepath.Join(lb.Dir, strconv.FormatInt(e.f.WS.ID, 10))
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			s.blobs++
		}
		return nil
	})
	return s
}

func setAttachmentPolicy(t *testing.T, a *app.App, ws int64, settings string) {
	t.Helper()
	ctx := context.Background()
	if err := a.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, settings, ws)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

const exe = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 this program cannot be run in DOS mode"

// TestSeveralFilesGoWithOneMessageOrNothingDoes: an agent's reply and a
// customer's new request carry several files, each shown with its size;
// when any file is refused (too large, blocked type, empty, too many, too
// much together) the form comes back naming it, and neither the message
// nor the files before it remain, in the database or on disk.
func TestSeveralFilesGoWithOneMessageOrNothingDoes(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		agent := e.staff("agent", "Nasrin", pw, e.f.Sales)
		tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "printer", Body: "it smokes", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
		if err != nil {
			t.Fatal(err)
		}
		page := "/console/tickets/" + strconv.FormatInt(tk.Number, 10)
		g := e.signInStaff("en", agent.Email, pw)

		res := g.postFiles(page+"/messages", url.Values{"kind": {"reply"}, "body": {"Two logs attached."}},
			upFile{"first.log", "one\n"}, upFile{"second.log", strings.Repeat("two\n", 600)}).redirect(t, page+"?notice=notice.message_sent")
		_ = res
		before := e.stored()
		if before.attachments != 2 || before.blobs != 2 {
			t.Fatalf("after a reply with two files: %+v", before)
		}
		body := g.get(page).must(t, http.StatusOK).body
		for _, want := range []string{"first.log", "4 bytes", "second.log", "2 KB"} {
			if !strings.Contains(body, want) {
				t.Errorf("ticket page lacks %q", want)
			}
		}
		files, err := a.Attachments.List(ctx, e.f.System(), tk.Number, 0, attachment.MaxPage)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || files[0].MessageID == 0 || files[0].MessageID != files[1].MessageID {
			t.Fatalf("files not both on the reply: %+v", files)
		}

		setAttachmentPolicy(t, a, e.f.WS.ID, `{"attachments":{"max_bytes":1000}}`)
		many := make([]upFile, 11)
		for i := range many {
			many[i] = upFile{"f" + strconv.Itoa(i) + ".txt", "x"}
		}
		cases := []struct {
			name  string
			files []upFile
			body  string
			want  string
		}{
			{"blocked third file", []upFile{{"a.txt", "a"}, {"b.txt", "b"}, {"setup.pdf", exe}}, "see files", "“setup.pdf” is a kind of file this organization does not accept"},
			{"third file too large", []upFile{{"a.txt", "a"}, {"b.txt", "b"}, {"big.txt", strings.Repeat("z", 1001)}}, "see files", "“big.txt” is larger than this organization accepts (1000 bytes per file)"},
			{"empty file", []upFile{{"a.txt", "a"}, {"empty.txt", ""}}, "see files", "“empty.txt” is empty"},
			{"eleven files", many, "see files", "At most 10 files can go with one message"},
			{"too much together", []upFile{{"1.txt", strings.Repeat("1", 900)}, {"2.txt", strings.Repeat("2", 900)}, {"3.txt", strings.Repeat("3", 900)},
				{"4.txt", strings.Repeat("4", 900)}, {"5.txt", strings.Repeat("5", 900)}}, "see files", "Together the files are larger than 4 KB"},
			{"no body", []upFile{{"a.txt", "a"}, {"b.txt", "b"}}, "", "error"},
		}
		for _, c := range cases {
			res := g.postFiles(page+"/messages", url.Values{"kind": {"reply"}, "body": {c.body}}, c.files...).must(t, http.StatusUnprocessableEntity)
			if !strings.Contains(res.body, c.want) || !strings.Contains(res.body, `id="f-file"`) {
				t.Errorf("%s: the form does not say %q", c.name, c.want)
			}
			if c.body != "" && !strings.Contains(res.body, c.body+"</textarea>") {
				t.Errorf("%s: the message typed is not kept in the form", c.name)
			}
			if got := e.stored(); got != before {
				t.Errorf("%s: left something behind: %+v, was %+v", c.name, got, before)
			}
		}
		// In Persian the file is named too, with its own digits.
		res = g.do("GET", "/lang/fa?next=/", nil, nil)
		fa := g.postFiles(page+"/messages", url.Values{"kind": {"reply"}, "body": {"x"}}, upFile{"a.txt", "a"}, upFile{"report2.pdf", exe}).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(fa.body, "«report2.pdf» از گونه‌ای است") {
			t.Errorf("Persian file error: %.3000s", fa.body)
		}

		// The portal: a new request with a refused file is not created; with
		// good files it is, the files on its first message.
		e.customerPassword(e.f.Customer.ID, pw)
		c := e.client("en")
		c.post("/portal/signin", url.Values{"workspace": {e.f.WS.Slug}, "email": {e.f.Customer.Email}, "password": {pw}}).redirect(t, "/portal/")
		res = c.postFiles("/portal/requests", url.Values{"subject": {"Refund"}, "body": {"see files"}},
			upFile{"a.txt", "a"}, upFile{"b.txt", "b"}, upFile{"tool.pdf", exe}).must(t, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "“tool.pdf”") || !strings.Contains(res.body, `value="Refund"`) {
			t.Errorf("new request form: %.2000s", res.body)
		}
		if got := e.stored(); got != before {
			t.Errorf("a refused new request left something behind: %+v, was %+v", got, before)
		}
		res = c.postFiles("/portal/requests", url.Values{"subject": {"Refund"}, "body": {"see files"}},
			upFile{"invoice.txt", "invoice"}, upFile{"receipt.txt", "receipt"}).redirect(t, "/portal/requests/")
		body = c.get(strings.SplitN(res.location, "?", 2)[0]).must(t, http.StatusOK).body
		if !strings.Contains(body, "invoice.txt") || !strings.Contains(body, "receipt.txt") || strings.Count(body, `<li id="m`) != 1 {
			t.Errorf("new request page: %.2000s", body)
		}
		if got := e.stored(); got.tickets != before.tickets+1 || got.attachments != before.attachments+2 || got.blobs != before.blobs+2 {
			t.Errorf("after a new request with two files: %+v, was %+v", got, before)
		}
		// A customer's reply takes several files too.
		number := strings.TrimPrefix(strings.SplitN(res.location, "?", 2)[0], "/portal/requests/")
		c.postFiles("/portal/requests/"+number+"/messages", url.Values{"body": {"and two more"}},
			upFile{"c.txt", "c"}, upFile{"d.txt", "d"}).redirect(t, "/portal/requests/"+number+"?notice=notice.message_sent")
		if got := e.stored(); got.attachments != before.attachments+4 {
			t.Errorf("after the customer's reply with two files: %+v", got)
		}
	})
}

// TestQueueSortsCountsAndKeepsItsFiltersInEveryLink: the queue lists by
// last update either way, shows counts per view and status in its tabs,
// and every tab, the filter form and the next page keep the filters.
func TestQueueSortsCountsAndKeepsItsFiltersInEveryLink(t *testing.T) {
	defer web.SetCountBudget(time.Minute)()
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newEnv(t, a)
		ctx := context.Background()
		const pw = "a long enough passphrase here"
		agent := e.staff("agent", "Babak", pw, e.f.Sales)
		var first, last ticket.Ticket
		for i := range ticket.DefaultPageSize + 2 {
			tk, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "case " + strconv.Itoa(i), Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Sales})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = tk
			}
			last = tk
		}
		if _, err := a.Tickets.Create(ctx, e.f.System(), ticket.NewTicket{Subject: "elsewhere", Body: "b", CustomerID: e.f.Customer.ID, DepartmentID: e.f.Finance}); err != nil {
			t.Fatal(err)
		}
		g := e.signInStaff("en", agent.Email, pw)
		rowOrder := func(body string) []string {
			var out []string
			for _, part := range strings.Split(body, `<a href="/console/tickets/`)[1:] {
				out = append(out, part[:strings.IndexByte(part, '"')])
			}
			return out
		}
		newest := g.get("/console/?view=all&status=active").must(t, http.StatusOK).body
		oldest := g.get("/console/?view=all&status=active&sort=oldest").must(t, http.StatusOK).body
		if r := rowOrder(newest); len(r) != ticket.DefaultPageSize || r[0] != strconv.FormatInt(last.Number, 10) {
			t.Errorf("newest first: %v", r)
		}
		if r := rowOrder(oldest); len(r) != ticket.DefaultPageSize || r[0] != strconv.FormatInt(first.Number, 10) {
			t.Errorf("oldest first: %v", r)
		}
		// Counts: the agent's department only (Finance's ticket not counted).
		for _, want := range []string{
			`aria-current="page">All <span class="count">27</span>`,
			`>Mine <span class="count">0</span>`,
			`>Unassigned <span class="count">27</span>`,
			`>New <span class="count">27</span>`,
			`>Solved <span class="count">0</span>`,
			`<option value="oldest" selected>`,
			`<input type="hidden" name="status" value="active">`,
		} {
			if !strings.Contains(oldest, want) {
				t.Errorf("queue lacks %s", want)
			}
		}
		// Every link keeps the order and filters; the next page too.
		for _, want := range []string{
			`href="/console/?sort=oldest&amp;status=active&amp;view=mine"`,
			`href="/console/?sort=oldest&amp;status=solved&amp;view=all"`,
		} {
			if !strings.Contains(oldest, want) {
				t.Errorf("queue lacks the link %s", want)
			}
		}
		i := strings.Index(oldest, `rel="next"`)
		j := strings.LastIndex(oldest[:max(i, 0)], `href="`)
		if i < 0 || j < 0 {
			t.Fatal("no next page")
		}
		next := strings.ReplaceAll(oldest[j+6:i-2], "&amp;", "&")
		if !strings.Contains(next, "sort=oldest") || !strings.Contains(next, "cursor=") {
			t.Fatalf("next page link %q drops the order", next)
		}
		if r := rowOrder(g.get(next).must(t, http.StatusOK).body); len(r) != 2 || r[1] != strconv.FormatInt(last.Number, 10) {
			t.Errorf("second page, oldest first: %v", r)
		}
		// Nonsense in the URL falls back to the defaults, never a 500.
		g.get("/console/?view=x&status=y&priority=z&department=-1&sort=priority").must(t, http.StatusOK)

		// Counts that cannot be had in time are left out; the list is not.
		restore := web.SetCountBudget(time.Nanosecond)
		page := g.get("/console/?view=all&status=active&sort=oldest").must(t, http.StatusOK).body
		restore()
		if strings.Contains(page, `class="count"`) || len(rowOrder(page)) != ticket.DefaultPageSize {
			t.Errorf("past the budget: badges %v, %d rows", strings.Contains(page, `class="count"`), len(rowOrder(page)))
		}
	})
}
