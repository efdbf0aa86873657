package web

import (
	"context"
	"errors"
	"github.com/hesar/hesar/internal/audit"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/ticket"
)

// maxMessages is how much of a conversation one page shows.
const maxMessages = 200

// TicketRow is one line of a ticket list.
type TicketRow struct {
	Number     int64
	Subject    string
	Status     ticket.Status
	Priority   ticket.Priority
	Department string
	Assignee   string
	UpdatedAt  time.Time
	URL        string
}

// FileLink is an attachment as a download link.
type FileLink struct {
	Name      string
	Size      int64
	Dangerous bool
	URL       string
}

// Entry is one message of a conversation.
type Entry struct {
	ID     int64
	Note   bool
	Mine   bool
	Author string
	Body   string
	Masked bool
	// Original is the unmasked text, once revealed on this page.
	Original  string
	CreatedAt time.Time
	Files     []FileLink
}

// conversation reads a ticket's messages and files through the scope
// (customers get neither notes nor their files: the services see to it)
// and puts each file under its message.
func (s *Server) conversation(ctx context.Context, scope access.Scope, number int64, fileBase string, author func(ticket.Message) (string, bool)) ([]Entry, []FileLink, error) {
	msgs, err := s.tickets.Messages(ctx, scope, number, 0, maxMessages)
	if err != nil {
		return nil, nil, err
	}
	files, err := s.attachments.List(ctx, scope, number, 0, attachment.MaxPage)
	if err != nil {
		return nil, nil, err
	}
	byMsg := map[int64][]FileLink{}
	var loose []FileLink
	for _, a := range files {
		l := FileLink{Name: a.Name, Size: a.Size, Dangerous: a.Dangerous, URL: fileBase + strconv.FormatInt(a.ID, 10)}
		if a.MessageID == 0 {
			loose = append(loose, l)
		} else {
			byMsg[a.MessageID] = append(byMsg[a.MessageID], l)
		}
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		name, mine := author(m)
		out = append(out, Entry{ID: m.ID, Note: m.Kind == ticket.KindNote, Mine: mine, Author: name, Body: m.Body,
			Masked: len(m.Masked) > 0, CreatedAt: m.CreatedAt, Files: byMsg[m.ID]})
	}
	return out, loose, nil
}

// ticketNumber reads the {number} path value.
func ticketNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFoundPage
	}
	return n, nil
}

// upload is a multipart form read as a stream: text fields first, then at
// most one file, handed to attach as it arrives so nothing of it touches
// the disk unencrypted. The form puts the file input last, so browsers
// send it last.
type upload struct {
	fields map[string]string
	// fileSeen: a non-empty file part came, and attach ran on it.
	fileSeen bool
}

// maxField bounds one text field of a multipart form (a message body is
// at most ticket.MaxBody characters of up to 4 bytes).
const maxField = 4*ticket.MaxBody + 1024

// readUpload reads the form's fields; when the file part arrives it calls
// before (which may create the ticket or message the file belongs to),
// then attach with the file's name and contents.
func readUpload(w http.ResponseWriter, r *http.Request, limit int64, before func(fields map[string]string) error,
	attach func(name string, body io.Reader) error) (*upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errBadForm
	}
	u := &upload{fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return u, nil
		}
		if err != nil {
			return u, errBadForm
		}
		if part.FileName() == "" && part.FormName() != "file" {
			if err := readField(u, part); err != nil {
				return u, err
			}
			continue
		}
		if part.FormName() != "file" || part.FileName() == "" || u.fileSeen {
			_, _ = io.Copy(io.Discard, part) // an empty file input, or a second file
			continue
		}
		if err := before(u.fields); err != nil {
			return u, err
		}
		u.fileSeen = true
		if err := attach(part.FileName(), part); err != nil {
			return u, err
		}
	}
}

func readField(u *upload, part *multipart.Part) error {
	b, err := io.ReadAll(io.LimitReader(part, maxField+1))
	if err != nil {
		return errBadForm
	}
	if len(b) > maxField {
		return errs.Field(part.FormName(), "is too long")
	}
	u.fields[part.FormName()] = strings.ReplaceAll(string(b), "\r\n", "\n")
	return nil
}

// uploadLimit is the largest form the workspace's attachment policy
// allows, plus room for the text.
func (s *Server) uploadLimit(ctx context.Context, ws int64) (int64, error) {
	p, err := s.attachments.Policy(ctx, ws)
	if err != nil {
		return 0, err
	}
	return p.MaxBytes + 2*maxField, nil
}

// fileError is the notice for a refused attachment; "" if err is not one.
func fileError(w http.ResponseWriter, err error) string {
	var tooLarge *attachment.TooLargeError
	var inv *errs.Invalid
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &maxBytes):
		w.Header().Set("Connection", "close")
		return "notice.file_too_large"
	case errors.As(err, &inv):
		if _, ok := inv.Fields["file"]; ok {
			return "notice.file_refused"
		}
	}
	return ""
}

// download streams an attachment after the same checks as the API's:
// always a download, never sniffed, sandboxed, and opaque when dangerous.
func (s *Server) download(w http.ResponseWriter, r *http.Request, q *req) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFoundPage
	}
	a, rc, err := s.attachments.Open(r.Context(), q.P.Scope, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := s.recordRead(r, q.P.Scope.WorkspaceID, audit.ActionAttachmentDownload, "attachment", a.ID, map[string]string{"bytes": strconv.FormatInt(a.Size, 10)}); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	n, err := io.ReadFull(rc, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	ct := a.ContentType
	if a.Dangerous || ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	h.Set("Content-Disposition", contentDisposition(a.Name))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(buf[:n]); err != nil {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		// A status is out: cut the connection so the client sees a
		// short, failed download rather than a complete-looking file.
		s.log.Error("attachment download aborted", "request_id", requestID(r.Context()), "attachment", a.ID, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	return nil
}

// contentDisposition offers name as a download: an ASCII fallback and the
// exact UTF-8 name in RFC 5987 form.
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	const attr = "!#$&+-.^_`|~"
	for _, b := range []byte(name) {
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte(attr, b) >= 0 {
			ext.WriteByte(b)
		} else {
			ext.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(b)|0x100, 16)[1:]))
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}
