package web

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/audit"
	"github.com/hesar/hesar/internal/richtext"
	"github.com/hesar/hesar/internal/ticket"
)

// maxMessages is how much of a conversation one page shows: the last
// ones, with a link to the ones before.
var maxMessages = 200

// TicketRow is one line of a ticket list.
type TicketRow struct {
	Number     int64
	Subject    string
	Status     ticket.Status
	Priority   ticket.Priority
	Department string
	Assignee   string
	UpdatedAt  time.Time
	CreatedAt  time.Time
	URL        string
}

// FileLink is an attachment as a download link.
type FileLink struct {
	Name string
	Size int64
	// SizeText is Size for people, in the page's language.
	SizeText  string
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
	// HTML is a message that came formatted, sanitized again just now
	// (richtext.Display); empty for plain text.
	HTML   template.HTML
	Masked bool
	// Original is the unmasked text, once revealed on this page.
	Original string
	At       Stamp
	Files    []FileLink
}

// Thread is the part of a conversation one page shows.
type Thread struct {
	Entries []Entry
	// Files are the ticket's files that belong to no message.
	Files []FileLink
	// EarlierURL shows the messages before these (empty: these are the
	// first); LatestURL, on a page of earlier messages, goes back to the
	// end of the conversation.
	EarlierURL, LatestURL string
}

// conversation reads the last maxMessages messages of a ticket before
// message id before (0: the newest) and its files through the scope
// (customers get neither notes nor their files: the services see to it),
// and puts each file under its message. page is the ticket page's path.
func (s *Server) conversation(ctx context.Context, l *Locale, h ticket.Held, page, fileBase string, before int64, author func(ticket.Message) (string, bool)) (Thread, error) {
	msgs, earlier, err := s.tickets.LastMessagesOf(ctx, h, before, maxMessages)
	if err != nil {
		return Thread{}, err
	}
	files, err := s.attachments.ListOf(ctx, h, 0, attachment.MaxPage)
	if err != nil {
		return Thread{}, err
	}
	var th Thread
	if earlier && len(msgs) > 0 {
		th.EarlierURL = page + "?before=" + strconv.FormatInt(msgs[0].ID, 10) + "#conversation"
	}
	if before > 0 {
		th.LatestURL = page + "#conversation"
	}
	byMsg := map[int64][]FileLink{}
	var loose []FileLink
	for _, a := range files {
		f := FileLink{Name: a.Name, Size: a.Size, SizeText: l.Size(a.Size), Dangerous: a.Dangerous, URL: fileBase + strconv.FormatInt(a.ID, 10)}
		if a.MessageID == 0 {
			loose = append(loose, f)
		} else {
			byMsg[a.MessageID] = append(byMsg[a.MessageID], f)
		}
	}
	th.Files = loose
	th.Entries = make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		name, mine := author(m)
		e := Entry{ID: m.ID, Note: m.Kind == ticket.KindNote, Mine: mine, Author: name, Body: m.Body,
			Masked: len(m.Masked) > 0, At: l.Stamp(m.CreatedAt), Files: byMsg[m.ID]}
		if m.HTML != "" {
			// Sanitized when stored and again here, under today's rules.
			e.HTML = template.HTML(richtext.Display(m.HTML)) //nolint:gosec // allowlist-sanitized just above
		}
		th.Entries = append(th.Entries, e)
	}
	return th, nil
}

// beforeParam reads ?before=, the message id a page of earlier messages
// ends before (0 when absent or not a number: the newest).
func beforeParam(r *http.Request) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// ticketNumber reads the {number} path value.
func ticketNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFoundPage
	}
	return n, nil
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
