package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/access"
	"github.com/hesar/hesar/internal/errs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/*
var assetFS embed.FS

// pageTemplate is one page parsed with the shared layout and partials.
type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"field": newField,
	// optional marks a field as not required.
	"optional": func(f Field) Field { f.Required = false; return f },
	// number marks a field as a number (its digits stay left-to-right).
	"number":    func(f Field) Field { f.Type = "number"; return f },
	"int64":     func(n int) int64 { return int64(n) },
	"list":      func(xs ...string) []string { return xs },
	"alertList": func(l *Locale, as []AlertRow, back string) AlertList { return AlertList{L: l, Alerts: as, Back: back} },
	// masked shows text with each masked value kept whole and in order
	// (isolateMasked).
	"masked": isolateMasked,
}

// AlertList is what the "alerts" partial shows: the alerts, and the page
// their forms come back to.
type AlertList struct {
	L      *Locale
	Alerts []AlertRow
	Back   string
}

// parsePages parses every page template with the layout and partials
// (partials.html, and partial_*.html: pieces some pages share).
func parsePages() (map[string]*pageTemplate, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" || strings.HasPrefix(base, "partial_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/partial_*.html", n)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(base, ".html")] = &pageTemplate{t: t}
	}
	return out, nil
}

// Page is what every page's view model starts with: the language, the
// title, the signed-in person and the paths the layout links to.
type Page struct {
	L        *Locale
	TitleKey string
	// TitleNote goes before the title, to tell browser tabs apart
	// ("#12 · Ticket"): never a subject or a name, which would stay in the
	// browser's history.
	TitleNote string
	// Path is where the language switch comes back to: the page's own
	// path and query, or for a page answering a form, the page above it
	// (pageIndex.returnPath).
	Path     string
	Signed   bool
	Staff    bool
	Customer bool
	// Admin shows the way to the admin pages.
	Admin bool
	// Assets are the URLs of the stylesheet and script.
	CSS, JS string
	// FileJS is the URL of the script that writes a file field's chosen
	// files in the page's language (the "filefield" partial loads it).
	FileJS string
	// Passkeys loads the passkey script on this page.
	Passkeys bool
	// ConsoleJS is the URL of the console's keyboard shortcuts script,
	// loaded on staff pages ("" elsewhere).
	ConsoleJS string
	// DraftJS is the URL of the script that keeps unsent text in the tab
	// (drafts.js); DraftScope names whose drafts this page may show ("":
	// nobody signed in), DraftClear is "all" on the page after signing out.
	DraftJS, DraftScope, DraftClear string
	// Notice is a message for the top of the page (a catalog key).
	Notice string
}

// page fills the common part of a view model.
func (s *Server) page(r *http.Request, q *req, titleKey string) Page {
	p := Page{L: q.L, TitleKey: titleKey, Path: s.openable.returnPath(r), Signed: q.signed && q.state() == "active",
		Staff: q.isStaff(), Customer: q.isCustomer(), CSS: s.assets.url("app.css"), JS: s.assets.url("passkey.js"),
		FileJS: s.assets.url("filefield.js")}
	if p.Signed && p.Staff {
		p.ConsoleJS = s.assets.url("console.js")
		sc := q.P.Scope
		p.Admin = sc.Can(access.UserManage) || sc.Can(access.DepartmentManage) || sc.Can(access.SecurityManage) || sc.Can(access.AuditRead)
	}
	if n := r.URL.Query().Get("notice"); n != "" && strings.HasPrefix(n, "notice.") && q.L.Has(n) {
		p.Notice = n
	}
	p.DraftJS, p.DraftScope = s.assets.url("drafts.js"), draftScope(q, p.Signed)
	if p.Notice == "notice.signed_out" {
		p.DraftClear = "all"
	}
	return p
}

// render writes a page. The template runs into a buffer first, so a
// failure is a clean error page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, view any) error {
	pt, ok := s.pages[name]
	if !ok {
		return errors.New("web: no template " + name)
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout", view); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// FieldErrors are the form's errors by field name, already in the page's
// language.
type FieldErrors map[string]string

// Get is the error of one field ("" when it is fine).
func (f FieldErrors) Get(name string) string { return f[name] }

// Any reports whether there is an error at all.
func (f FieldErrors) Any() bool { return len(f) > 0 }

// Field is one labelled form control, for the "input" partial.
type Field struct {
	Name, Type, Value, Autocomplete string
	Label, Error, Hint              string
	Required                        bool
}

// newField builds a Field: the label is the catalog's field.<name>.
func newField(l *Locale, name, typ, value string, fe FieldErrors, autocomplete string) Field {
	f := Field{Name: name, Type: typ, Value: value, Autocomplete: autocomplete, Label: l.T("field." + name),
		Error: fe.Get(name), Required: true}
	if l.Has("hint." + name) {
		f.Hint = l.T("hint." + name)
	}
	return f
}

// fieldErrors turns a service's validation error into messages in the
// page's language: the catalog's wording for the field where there is
// one, the service's own (English) explanation in English.
func fieldErrors(l *Locale, err error) (FieldErrors, bool) {
	var inv *errs.Invalid
	var conflict *errs.Conflict
	switch {
	case errors.As(err, &inv):
		out := FieldErrors{}
		for f, msg := range inv.Fields {
			out[f] = localizeFieldError(l, f, msg)
		}
		return out, true
	case errors.As(err, &conflict):
		f := conflict.Field
		if f == "" {
			f = "form"
		}
		return FieldErrors{f: localizeFieldError(l, f, conflict.Message)}, true
	}
	return nil, false
}

func localizeFieldError(l *Locale, field, msg string) string {
	if l.Lang == "en" && msg != "" {
		r, n := utf8.DecodeRuneInString(msg)
		return string(unicode.ToUpper(r)) + msg[n:] + "."
	}
	if l.Has("error.field." + field) {
		return l.T("error.field." + field)
	}
	return l.T("error.field.invalid")
}

// assetSet is the embedded static files with a content hash each, so
// their URLs change when they do and browsers may cache them for good.
type assetSet map[string]asset

type asset struct {
	body        []byte
	hash        string
	contentType string
}

func loadAssets() (assetSet, error) {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	out := assetSet{}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ct := "application/octet-stream"
		switch path.Ext(e.Name()) {
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		out[e.Name()] = asset{body: b, hash: hex.EncodeToString(sum[:6]), contentType: ct}
	}
	return out, nil
}

func (a assetSet) url(name string) string { return "/assets/" + name + "?v=" + a[name].hash }

func (s *Server) asset(w http.ResponseWriter, r *http.Request, _ *req) error {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		return errNotFoundPage
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(a.body)
	return nil
}
