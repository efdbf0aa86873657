package web_test

import (
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/hesar/hesar/internal/app"
)

// auditedEnv serves the whole app the way `hesar serve` does (a.Handler:
// the API's recorder wired into the pages), so what a page records can be
// read back from the audit log.
func auditedEnv(t *testing.T, a *app.App) *env {
	t.Helper()
	e := newEnv(t, a)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

var (
	formRe        = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	inputRe       = regexp.MustCompile(`<input [^>]*>`)
	selectRe      = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>`)
	selectedRe    = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	firstOptionRe = regexp.MustCompile(`<option value="([^"]*)"`)
	attrRe        = regexp.MustCompile(`\b(name|value|type)="([^"]*)"`)
)

// formValues reads the post form with this action from a page as a
// browser would send it untouched: text and hidden inputs, checked boxes,
// selected options.
func formValues(t testing.TB, body, action string) url.Values {
	t.Helper()
	for _, f := range formRe.FindAllStringSubmatch(body, -1) {
		if f[1] != action {
			continue
		}
		out := url.Values{}
		for _, in := range inputRe.FindAllString(f[2], -1) {
			attrs := map[string]string{}
			for _, a := range attrRe.FindAllStringSubmatch(in, -1) {
				attrs[a[1]] = html.UnescapeString(a[2])
			}
			if attrs["name"] == "" {
				continue
			}
			if attrs["type"] == "checkbox" || attrs["type"] == "radio" {
				if regexp.MustCompile(`\schecked\b`).MatchString(in) {
					v := attrs["value"]
					if v == "" {
						v = "on"
					}
					out.Add(attrs["name"], v)
				}
				continue
			}
			out.Add(attrs["name"], attrs["value"])
		}
		for _, s := range selectRe.FindAllStringSubmatch(f[2], -1) {
			if m := selectedRe.FindStringSubmatch(s[2]); m != nil {
				out.Set(s[1], html.UnescapeString(m[1]))
			} else if m := firstOptionRe.FindStringSubmatch(s[2]); m != nil {
				out.Set(s[1], html.UnescapeString(m[1]))
			}
		}
		return out
	}
	t.Fatalf("no form posting to %s in %.2000s", action, body)
	return nil
}
