package web

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/hesar/hesar/internal/mfa"
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
