package api

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/identity"
)

type attachmentView struct {
	ID          int64      `json:"id"`
	TicketID    int64      `json:"ticket_id"`
	MessageID   *int64     `json:"message_id"`
	Name        string     `json:"name"`
	Size        int64      `json:"size"`
	ContentType string     `json:"content_type"`
	Dangerous   bool       `json:"dangerous"`
	Author      authorView `json:"author"`
	CreatedAt   time.Time  `json:"created_at"`
}

func viewAttachment(a attachment.Attachment) attachmentView {
	return attachmentView{ID: a.ID, TicketID: a.TicketNumber, MessageID: optID(a.MessageID), Name: a.Name, Size: a.Size,
		ContentType: a.ContentType, Dangerous: a.Dangerous, Author: authorView{a.AuthorType, a.AuthorID}, CreatedAt: a.CreatedAt}
}

// bodyReader remembers a failure reading the request body, so that a
// client that hangs up mid-upload gets a 400, not a 500.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// uploadAttachment takes the raw file as the body. The name comes from
// ?name= or a Content-Disposition header; the Content-Type is ignored (the
// service types the file by its bytes), except that a multipart form is
// refused rather than stored as one opaque file.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q, err := readQuery(r, "name", "message_id")
	if err != nil {
		return err
	}
	in := attachment.NewAttachment{Name: q.str("name"), MessageID: q.int("message_id"), Size: r.ContentLength}
	if err := q.done(); err != nil {
		return err
	}
	if _, ok := q.vals["name"]; !ok {
		in.Name = dispositionName(r.Header.Get("Content-Disposition"))
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the file's bytes as the body, not a multipart form")
	}
	body := &bodyReader{r: r.Body}
	a, err := s.attachments.Attach(r.Context(), p.Scope, n, in, body)
	var tooLarge *attachment.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		// Do not read (or make the server drain) the rest of the body.
		w.Header().Set("Connection", "close")
		return newError(http.StatusRequestEntityTooLarge, "file_too_large",
			fmt.Sprintf("the file is larger than this workspace accepts (%d bytes)", tooLarge.Max))
	case err != nil && body.err != nil:
		return newError(http.StatusBadRequest, "unreadable_body", "the request body could not be read to the end")
	case err != nil:
		return err
	}
	w.Header().Set("Location", "/api/v1/attachments/"+itoa(a.ID))
	writeJSON(w, http.StatusCreated, viewAttachment(a))
	return nil
}

// dispositionName reads filename (or RFC 5987 filename*) from a
// Content-Disposition header; "" when there is none.
func dispositionName(h string) string {
	if h == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(h)
	if err != nil {
		return ""
	}
	return params["filename"]
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	n, after, limit, err := childPage(r, attachment.MaxPage)
	if err != nil {
		return err
	}
	atts, err := s.attachments.List(r.Context(), p.Scope, n, after, int(limit)+1)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, p.Scope.WorkspaceID, "attachment.list", "ticket_number", n, count(min(len(atts), int(limit)))); err != nil {
		return err
	}
	out := pageOf(atts, int(limit), func(x attachment.Attachment) int64 { return x.ID }, viewAttachment)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// downloadCSP sandboxes the response should a browser render it anyway:
// no script, no same origin, nothing loaded.
const downloadCSP = "sandbox; default-src 'none'"

// downloadAttachment streams a file after the ticket's access check. It is
// always an attachment (never displayed inline), never sniffed, and
// sandboxed; a dangerous file is sent as application/octet-stream.
//
// The first chunk is authenticated before the status line goes out, so a
// file damaged at its start, swapped or missing is a clean 500. A chunk
// that fails later cannot change a status already sent: the handler stops
// writing and returns, the response ends short of its Content-Length, and
// the server closes the connection, which every HTTP client reports as an
// error (unexpected EOF) rather than a complete file.
func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, p identity.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, rc, err := s.attachments.Open(r.Context(), p.Scope, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := s.recordRead(r, p.Scope.WorkspaceID, "attachment.download", "attachment", a.ID, map[string]string{"bytes": strconv.FormatInt(a.Size, 10)}); err != nil {
		return err
	}
	br := bufio.NewReaderSize(rc, 32<<10)
	if _, err := br.Peek(1); err != nil && err != io.EOF {
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
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", downloadCSP)
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, br); err != nil {
		if errors.Is(err, attachment.ErrCorrupt) {
			s.log.Error("attachment download aborted", "request_id", requestID(r.Context()), "attachment", a.ID, "error", err.Error(),
				"hint", "the stored file failed authentication: tampering, truncation or a wrong key")
		}
		// Returning nil: an error here would be written into the body.
		return nil
	}
	return nil
}

// contentDisposition offers name as a download: an ASCII fallback for old
// clients and the exact UTF-8 name in RFC 5987 form.
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar is RFC 5987's attr-char: sent as is in filename*.
func isAttrChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
