package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/attachment"
	"github.com/hesar/hesar/internal/errs"
	"github.com/hesar/hesar/internal/mfa"
	"github.com/hesar/hesar/internal/ticket"
)

// maxForm bounds a form without files.
const maxForm = 64 << 10

// nowFunc is the clock (a variable only so the step-up rule reads plainly).
var nowFunc = time.Now

// parseForm reads a url-encoded form of bounded size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return errBadForm
	}
	return nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func qrDataURL(uri string) (template.URL, error) {
	png, err := mfa.QRCodePNG(uri)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil //nolint:gosec // our own PNG
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// A message's files arrive as a stream: text fields first, then up to
// attachment.MaxFilesPerMessage file parts, each staged (typed, checked
// and sealed into its blob as it is read, so nothing of it touches the
// disk unencrypted) before the next is read. Nothing is recorded until
// every file has passed; then the message and its files are written in
// one transaction (attachment.Commit), so a refused third file leaves
// neither the message nor the first two behind. The form puts the file
// input last, so browsers send it last.
type upload struct {
	fields map[string]string
	files  []*attachment.Staged
}

// maxField bounds one text field of a multipart form (a message body is
// at most ticket.MaxBody characters of up to 4 bytes).
const maxField = 4*ticket.MaxBody + 1024

// multipartSlack is room for the multipart headers of the fields and
// files, beyond their contents.
const multipartSlack = 64 << 10

// fileRefusal is a form-level file error: which file and why, as a
// catalog key ("notice.…"); n fills the key's number when it has one.
type fileRefusal struct {
	name string
	key  string
	n    int64
}

func (e *fileRefusal) Error() string { return "file refused: " + e.key }

// errTotalTooLarge is what the total counter returns once a message's
// files together pass attachment.MessageLimit.
type errTotalTooLarge struct{ max int64 }

func (e *errTotalTooLarge) Error() string { return "the files are too large together" }

// totalReader counts the bytes of all of a message's files against max.
type totalReader struct {
	r    io.Reader
	left *int64
	max  int64
}

func (t totalReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if *t.left -= int64(n); *t.left < 0 {
		return n, &errTotalTooLarge{max: t.max}
	}
	return n, err
}

// readUpload reads a multipart form as a stream into its text fields and
// staged files. On an error the files staged so far are removed; the
// fields read so far come back either way, to fill the form again.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, scope access.Scope) (u *upload, err error) {
	u = &upload{fields: map[string]string{}}
	pol, err := s.attachments.Policy(r.Context(), scope.WorkspaceID)
	if err != nil {
		return u, err
	}
	total := attachment.MessageLimit(pol)
	r.Body = http.MaxBytesReader(w, r.Body, total+2*maxField+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return u, errBadForm
	}
	defer func() {
		if err != nil {
			s.attachments.Discard(r.Context(), u.files)
			u.files = nil
		}
	}()
	left := total
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return u, nil
		}
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return u, &fileRefusal{key: "notice.files_total_too_large", n: total}
		}
		if err != nil {
			return u, errBadForm
		}
		if part.FormName() != "file" {
			if err := readField(u, part); err != nil {
				return u, err
			}
			continue
		}
		if part.FileName() == "" {
			_, _ = io.Copy(io.Discard, io.LimitReader(part, maxField)) // an empty file input
			continue
		}
		if len(u.files) == attachment.MaxFilesPerMessage {
			return u, &fileRefusal{key: "notice.files_too_many", n: attachment.MaxFilesPerMessage}
		}
		name := formFileName(part.FileName())
		f, err := s.attachments.Stage(r.Context(), scope, pol, name, totalReader{r: part, left: &left, max: total})
		if err != nil {
			return u, refusal(err, attachment.SanitizeName(name), pol, total)
		}
		u.files = append(u.files, f)
	}
}

// refusal names what was wrong with a file, or returns err as it is when
// it is not about the file.
func refusal(err error, name string, pol attachment.Policy, total int64) error {
	var tooLarge *attachment.TooLargeError
	var totalErr *errTotalTooLarge
	var maxBytes *http.MaxBytesError
	var staged *attachment.StageError
	var inv *errs.Invalid
	switch {
	case errors.As(err, &totalErr), errors.As(err, &maxBytes):
		return &fileRefusal{name: name, key: "notice.files_total_too_large", n: total}
	case errors.As(err, &tooLarge):
		return &fileRefusal{name: name, key: "notice.file_named_too_large", n: pol.MaxBytes}
	case errors.As(err, &staged) && errors.As(err, &inv):
		if msg, ok := inv.Fields["file"]; ok && strings.HasSuffix(msg, "is empty") {
			return &fileRefusal{name: name, key: "notice.file_named_empty"}
		}
		return &fileRefusal{name: name, key: "notice.file_named_refused"}
	}
	return err
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

// uploadErrors turns a refused file or the service's validation error into
// the form's errors; ok is false for any other error.
func uploadErrors(w http.ResponseWriter, l *Locale, err error) (FieldErrors, bool) {
	var fr *fileRefusal
	if errors.As(err, &fr) {
		// The rest of the body is not read: end the connection rather
		// than drain what may be megabytes more.
		w.Header().Set("Connection", "close")
		var msg string
		switch fr.key {
		case "notice.files_too_many":
			msg = l.T(fr.key, fr.n)
		case "notice.files_total_too_large":
			msg = l.T(fr.key, l.Size(fr.n))
		case "notice.file_named_too_large":
			msg = withName(l.T(fr.key, "\x00", l.Size(fr.n)), fr.name)
		default:
			msg = withName(l.T(fr.key, "\x00"), fr.name)
		}
		return FieldErrors{"file": msg}, true
	}
	return fieldErrors(l, err)
}

// withName puts a file name where the message holds NUL: after the
// catalog's digits are localized, so the name keeps its own digits.
func withName(msg, name string) string { return strings.Replace(msg, "\x00", name, 1) }

// formFileName undoes what browsers do to a file's name in a form
// (the HTML standard's multipart/form-data encoding): they write a
// quotation mark, CR and LF as %22, %0D and %0A, and leave every other
// "%" as it is. Without this, "report "final".pdf" was kept as
// report %22final%22.pdf. The name is sanitized after (a quotation mark
// becomes "_").
func formFileName(name string) string {
	return formNameDecoder.Replace(name)
}

var formNameDecoder = strings.NewReplacer("%22", `"`, "%0D", "\r", "%0A", "\n")
