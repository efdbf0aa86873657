package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hesar/hesar/internal/app"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/db"
	"github.com/hesar/hesar/internal/testutil"
	"github.com/hesar/hesar/internal/ticket"
)

type attachmentJSON struct {
	ID          int64  `json:"id"`
	TicketID    int64  `json:"ticket_id"`
	MessageID   *int64 `json:"message_id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Dangerous   bool   `json:"dangerous"`
	Author      struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
	} `json:"author"`
}

// attachEnv is a fixture with a Finance ticket of the fixture's customer
// and the directory its workspace's blobs land in (removed at the end).
type attachEnv struct {
	a      *app.App
	f      *testutil.Fixture
	url    string
	ticket int64
	wsDir  string
}

func newAttachEnv(t *testing.T, a *app.App) *attachEnv {
	t.Helper()
	f := testutil.NewFixture(t, a)
	tk, err := a.Tickets.Create(context.Background(), f.System(), ticket.NewTicket{Subject: "files", Body: "b", DepartmentID: f.Finance, CustomerID: f.Customer.ID})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(a.Attachments.Blobs().(attachment.LocalBlobs).Dir, fmt.Sprint(f.WS.ID))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return &attachEnv{a: a, f: f, url: testutil.Server(t, a).URL, ticket: tk.Number, wsDir: dir}
}

func (e *attachEnv) as(t *testing.T, role string) client { return client{t, e.url, e.f.Tokens[role]} }

func (e *attachEnv) files() string { return fmt.Sprintf("/api/v1/tickets/%d/attachments", e.ticket) }

// upload posts body as a file without buffering it (an io.Reader that is
// not a bytes.Reader goes out chunked, with no declared length).
func (c client) upload(path, name string, body io.Reader, header ...string) response {
	c.t.Helper()
	if name != "\x00none" { // "\x00none": send no ?name=
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + url.Values{"name": {name}}.Encode()
	}
	req, err := http.NewRequest("POST", c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/pdf") // ignored by the server
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (c client) mustUpload(path, name string, body io.Reader) attachmentJSON {
	c.t.Helper()
	r := c.upload(path, name, body)
	if r.Status != 201 {
		c.t.Fatalf("upload %q: status %d: %s", name, r.Status, r.Body)
	}
	var a attachmentJSON
	r.decode(c.t, &a)
	return a
}

// download streams an attachment into a digest: the status, headers, and
// the body's digest, or the error reading it broke with.
func (c client) download(id int64) (*http.Response, []byte, error) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/attachments/%d", c.base, id), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	h := sha256.New()
	_, err = io.Copy(h, res.Body)
	return res, h.Sum(nil), err
}

func random(seed byte, n int64) io.Reader { return io.LimitReader(mrand.NewChaCha8([32]byte{seed}), n) }

func setPolicy(t *testing.T, a *app.App, ws int64, settings string) {
	t.Helper()
	ctx := context.Background()
	if err := a.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, settings, ws)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// blobPath is where the sealed content of attachment id lies.
func (e *attachEnv) blobPath(t *testing.T, id int64) string {
	t.Helper()
	var key string
	if err := e.a.DB.Read().QueryRowContext(context.Background(), `SELECT storage_key FROM attachments WHERE id = $1`, id).Scan(&key); err != nil {
		t.Fatal(err)
	}
	p, err := e.a.Attachments.Blobs().(attachment.LocalBlobs).Path(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// blobFiles lists every file in the workspace's blob directory, temporary
// files included.
func (e *attachEnv) blobFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(e.wsDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestTwentyMegabyteAttachmentRoundTrips(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		const size = 20 << 20
		sent := sha256.New()
		att := e.as(t, "finance_agent").mustUpload(e.files(), "backup.bin", io.TeeReader(random(1, size), sent))
		if att.Size != size || att.ContentType != "application/octet-stream" || att.Dangerous || att.Name != "backup.bin" {
			t.Fatalf("stored %+v", att)
		}
		res, got, err := e.as(t, "customer").download(att.ID)
		if err != nil || res.StatusCode != 200 || !bytes.Equal(got, sent.Sum(nil)) {
			t.Fatalf("download: status %d, err %v, digest match %v", res.StatusCode, err, bytes.Equal(got, sent.Sum(nil)))
		}
		for k, want := range map[string]string{
			"Content-Length":          fmt.Sprint(size),
			"Content-Type":            "application/octet-stream",
			"Content-Disposition":     `attachment; filename="backup.bin"; filename*=UTF-8''backup.bin`,
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "sandbox; default-src 'none'",
		} {
			if res.Header.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, res.Header.Get(k), want)
			}
		}
	})
}

func TestAttachmentsAreCiphertextOnDisk(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		const marker = "QUILLFEATHER-PASSPORT-K7744"
		body := strings.Repeat("my passport is "+marker+"\n", 20_000)
		att := e.as(t, "customer").mustUpload(e.files(), marker+".txt", strings.NewReader(body))
		if att.ContentType != "text/plain; charset=utf-8" || att.Name != marker+".txt" {
			t.Fatalf("stored %+v", att)
		}
		files := e.blobFiles(t)
		if len(files) != 1 {
			t.Fatalf("blob files: %v", files)
		}
		for _, p := range files {
			raw, _ := os.ReadFile(p)
			if bytes.Contains(raw, []byte(marker)) || bytes.Contains(raw, []byte("passport")) {
				t.Errorf("%s holds plaintext", p)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v", p, fi.Mode())
			}
		}
		var nameEnc []byte
		_ = a.DB.Read().QueryRowContext(context.Background(), `SELECT name_enc FROM attachments WHERE id = $1`, att.ID).Scan(&nameEnc)
		if len(nameEnc) == 0 || bytes.Contains(nameEnc, []byte(marker)) {
			t.Error("file name stored in plaintext")
		}
	})
}

// TestDamagedAttachmentIsNeverServed: a blob damaged at its first chunk,
// or swapped with another file's, is a 500 before any byte is sent; one
// damaged later is cut off mid-transfer (the client sees the connection
// close short of Content-Length), never delivered as wrong bytes.
func TestDamagedAttachmentIsNeverServed(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		agent := e.as(t, "finance_agent")
		upload := func(seed byte, n int64) attachmentJSON { return agent.mustUpload(e.files(), "f.bin", random(seed, n)) }
		const big = 300 << 10 // five chunks
		damage := func(id int64, fn func(b []byte) []byte) (restore func()) {
			p := e.blobPath(t, id)
			orig, _ := os.ReadFile(p)
			if err := os.WriteFile(p, fn(bytes.Clone(orig)), 0o600); err != nil {
				t.Fatal(err)
			}
			return func() { _ = os.WriteFile(p, orig, 0o600) }
		}
		flip := func(off int) func([]byte) []byte { return func(b []byte) []byte { b[off] ^= 0x40; return b } }
		chunk := 64<<10 + 16

		f1, f2, small := upload(1, big), upload(2, big), upload(3, 1000)
		for name, tc := range map[string]struct {
			id     int64
			fn     func([]byte) []byte
			broken bool // 200 then a cut-off body, rather than a 500
		}{
			"byte flipped in the first chunk":  {f1.ID, flip(17 + 100), false},
			"byte flipped in the third chunk":  {f1.ID, flip(17 + 2*chunk + 5), true},
			"header changed":                   {f1.ID, flip(5), false},
			"last bytes cut off":               {f1.ID, func(b []byte) []byte { return b[:len(b)-10] }, true},
			"cut at a chunk boundary":          {f1.ID, func(b []byte) []byte { return b[:17+2*chunk] }, true},
			"bytes appended":                   {f1.ID, func(b []byte) []byte { return append(b, "tail"...) }, true},
			"one-chunk file cut":               {small.ID, func(b []byte) []byte { return b[:len(b)-1] }, false},
			"replaced by another file's bytes": {f1.ID, func([]byte) []byte { b, _ := os.ReadFile(e.blobPath(t, f2.ID)); return b }, false},
		} {
			restore := damage(tc.id, tc.fn)
			res, _, err := agent.download(tc.id)
			switch {
			case tc.broken && (res.StatusCode != 200 || err == nil):
				t.Errorf("%s: status %d, body error %v; want 200 with a broken body", name, res.StatusCode, err)
			case !tc.broken && res.StatusCode != 500:
				t.Errorf("%s: status %d; want 500", name, res.StatusCode)
			}
			restore()
		}
		if res, _, err := agent.download(f1.ID); res.StatusCode != 200 || err != nil {
			t.Fatalf("restored file: %d %v", res.StatusCode, err)
		}
	})
}

func docm(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"} {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDangerousFilesAreBlockedByDefault(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		c := e.as(t, "customer")
		for name, body := range map[string][]byte{
			"invoice.pdf": append([]byte("MZ\x90\x00\x03"), make([]byte, 2000)...),
			"page.txt":    []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
			"logo.png":    []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
			"report.docx": docm(t),
			"notes.ps1":   []byte("Write-Host hi\n"),
		} {
			r := c.upload(e.files(), name, bytes.NewReader(body))
			if r.Status != 422 || r.err(t).Error.Fields["file"] == "" {
				t.Errorf("%s: status %d: %s; want 422 with a file field error", name, r.Status, r.Body)
			}
		}
		var list struct{ Data []attachmentJSON }
		c.must(200, "GET", e.files(), nil, &list)
		if len(list.Data) != 0 || len(e.blobFiles(t)) != 0 {
			t.Errorf("blocked files left %d rows and blobs %v", len(list.Data), e.blobFiles(t))
		}
	})
}

func TestDownloadOnlyPolicyServesDangerousFilesOpaquely(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		setPolicy(t, a, e.f.WS.ID, `{"attachments":{"dangerous":"download-only"}}`)
		c := e.as(t, "customer")
		exe := c.mustUpload(e.files(), "invoice.pdf", bytes.NewReader(append([]byte("MZ"), make([]byte, 600)...)))
		html := c.mustUpload(e.files(), "page.txt", strings.NewReader("<html><script>alert(1)</script>"))
		for _, att := range []attachmentJSON{exe, html} {
			if !att.Dangerous {
				t.Errorf("%+v not marked dangerous", att)
			}
			res, _, err := c.download(att.ID)
			if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/octet-stream" ||
				!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
				t.Errorf("%s served as %d %q %q", att.ContentType, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
			}
		}
		if exe.ContentType != "application/x-msdownload" || html.ContentType != "text/html" {
			t.Errorf("types %q, %q", exe.ContentType, html.ContentType)
		}
	})
}

func TestUploadSizeLimit(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		setPolicy(t, a, e.f.WS.ID, `{"attachments":{"max_bytes":1000}}`)
		c := e.as(t, "customer")
		if r := c.upload(e.files(), "declared.bin", bytes.NewReader(make([]byte, 1001))); r.Status != 413 {
			t.Errorf("declared 1001 bytes: status %d: %s", r.Status, r.Body)
		}
		// No declared length: the limit holds on the bytes as they stream.
		if r := c.upload(e.files(), "streamed.bin", io.MultiReader(random(4, 5000))); r.Status != 413 {
			t.Errorf("streamed 5000 bytes: status %d: %s", r.Status, r.Body)
		}
		c.mustUpload(e.files(), "exact.bin", io.MultiReader(random(5, 1000)))
		if r := c.upload(e.files(), "empty.txt", strings.NewReader("")); r.Status != 422 {
			t.Errorf("empty file: status %d", r.Status)
		}
		var list struct{ Data []attachmentJSON }
		c.must(200, "GET", e.files(), nil, &list)
		if len(list.Data) != 1 || list.Data[0].Name != "exact.bin" || len(e.blobFiles(t)) != 1 {
			t.Errorf("after the refused uploads: %+v, blobs %v", list.Data, e.blobFiles(t))
		}
	})
}

func TestOddFileNamesAreSanitized(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		c := e.as(t, "customer")
		long := strings.Repeat("n", 300) + ".txt"
		for in, want := range map[string]string{
			"../../etc/passwd": "passwd",
			`a\b\c.txt`:        "c.txt",
			"\u202Eexe.pdf":    "exe.pdf",
			"":                 "attachment",
			long:               strings.Repeat("n", 196) + ".txt",
		} {
			if got := c.mustUpload(e.files(), in, strings.NewReader("text\n")); got.Name != want {
				t.Errorf("name %q stored as %q, want %q", in, got.Name, want)
			}
		}
		// A name from Content-Disposition, in RFC 5987 form, and back out.
		r := c.upload(e.files(), "\x00none", strings.NewReader("text\n"),
			"Content-Disposition", `attachment; filename*=UTF-8''%D9%81%D8%A7%DA%A9%D8%AA%D9%88%D8%B1%20%221%22.txt`)
		var att attachmentJSON
		r.decode(t, &att)
		if att.Name != `فاکتور _1_.txt` {
			t.Fatalf("Content-Disposition name stored as %q (%d: %s)", att.Name, r.Status, r.Body)
		}
		res, _, _ := c.download(att.ID)
		want := `attachment; filename="______ _1_.txt"; filename*=UTF-8''%D9%81%D8%A7%DA%A9%D8%AA%D9%88%D8%B1%20_1_.txt`
		if got := res.Header.Get("Content-Disposition"); got != want {
			t.Errorf("Content-Disposition = %q, want %q", got, want)
		}
	})
}

// TestAttachmentsFollowTicketAccess: a file is exactly as visible as its
// ticket (and, for customers, its message).
func TestAttachmentsFollowTicketAccess(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		fin := e.as(t, "finance_agent")
		shared := fin.mustUpload(e.files(), "statement.pdf", strings.NewReader("%PDF-1.4\n"))
		var note struct{ ID int64 }
		fin.must(201, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", e.ticket), map[string]any{"kind": "note", "body": "fraud check"}, &note)
		internal := fin.mustUpload(e.files()+fmt.Sprintf("?message_id=%d", note.ID), "check.txt", strings.NewReader("internal\n"))
		if internal.MessageID == nil || *internal.MessageID != note.ID {
			t.Fatalf("note file %+v", internal)
		}

		// Outside their scope: 404. Supervisors never read files at all
		// (no ticket.content): 403 whatever the ticket.
		for role, want := range map[string]int{"sales_agent": 404, "colleague": 404, "supervisor": 403} {
			c := e.as(t, role)
			if r := c.do("GET", e.files(), nil); r.Status != want {
				t.Errorf("%s lists a Finance ticket's files: %d, want %d", role, r.Status, want)
			}
			for _, id := range []int64{shared.ID, internal.ID} {
				if res, _, _ := c.download(id); res.StatusCode != want {
					t.Errorf("%s downloads attachment %d: %d, want %d", role, id, res.StatusCode, want)
				}
			}
			if r := c.upload(e.files(), "x.txt", strings.NewReader("x")); r.Status != want {
				t.Errorf("%s uploads to a Finance ticket: %d, want %d", role, r.Status, want)
			}
		}

		cust := e.as(t, "customer")
		var list struct{ Data []attachmentJSON }
		cust.must(200, "GET", e.files(), nil, &list)
		if len(list.Data) != 1 || list.Data[0].ID != shared.ID {
			t.Errorf("customer sees %+v; want only the shared file", list.Data)
		}
		if res, _, err := cust.download(shared.ID); res.StatusCode != 200 || err != nil {
			t.Errorf("customer download of own ticket's file: %d %v", res.StatusCode, err)
		}
		if res, _, _ := cust.download(internal.ID); res.StatusCode != 404 {
			t.Errorf("customer downloads a note's file: %d", res.StatusCode)
		}
		if r := cust.upload(e.files()+fmt.Sprintf("?message_id=%d", note.ID), "x.txt", strings.NewReader("x")); r.Status != 422 {
			t.Errorf("customer attaches to a note: %d", r.Status)
		}
		fin.must(200, "GET", e.files(), nil, &list)
		if len(list.Data) != 2 {
			t.Errorf("finance agent sees %d files, want 2", len(list.Data))
		}

		// Another workspace's admin cannot reach the file by id.
		other := newAttachEnv(t, a)
		if res, _, _ := other.as(t, "admin").download(shared.ID); res.StatusCode != 404 {
			t.Errorf("other workspace's admin: %d", res.StatusCode)
		}
	})
}

// TestFilesTheCustomerSeesNeedTheRightToReply: a supervisor (notes only)
// may attach to their own note, not to the ticket the customer sees.
func TestFilesTheCustomerSeesNeedTheRightToReply(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, a *app.App) {
		e := newAttachEnv(t, a)
		tk, err := a.Tickets.Create(context.Background(), e.f.System(), ticket.NewTicket{Subject: "s", Body: "b", DepartmentID: e.f.Sales, CustomerID: e.f.Customer.ID})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/api/v1/tickets/%d", tk.Number)
		sup := e.as(t, "supervisor")
		if r := sup.upload(path+"/attachments", "x.txt", strings.NewReader("x")); r.Status != 403 {
			t.Errorf("supervisor ticket-level upload: %d", r.Status)
		}
		var note struct{ ID int64 }
		agent := e.as(t, "sales_agent")
		agent.must(201, "POST", path+"/messages", map[string]any{"kind": "note", "body": "n"}, &note)
		agent.mustUpload(fmt.Sprintf("%s/attachments?message_id=%d", path, note.ID), "x.txt", strings.NewReader("x"))
		if r := e.as(t, "admin").upload(fmt.Sprintf("%s/attachments?message_id=%d", path, note.ID), "x.txt", strings.NewReader("x")); r.Status != 403 {
			t.Errorf("attaching to someone else's note: %d", r.Status)
		}
	})
}
