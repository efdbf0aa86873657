package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestEveryMessageExistsInBothLanguages(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Languages {
		for _, b := range Languages {
			if missing := missingIn(cats[a], cats[b]); len(missing) > 0 {
				sort.Strings(missing)
				t.Errorf("in messages/%s.json but not messages/%s.json: %v", a, b, missing)
			}
		}
	}
	for lang, c := range cats {
		for k, v := range c {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if lang == "fa" && k != "lang.switch" && !regexp.MustCompile(`\p{Arabic}`).MatchString(v) {
				t.Errorf("fa: %q = %q has no Persian in it", k, v)
			}
		}
	}
}

// keysUsed finds the message keys the templates and Go code name
// literally, plus the families built at run time.
var (
	templateKey = regexp.MustCompile(`\.T "([a-z_.\-]+)"`)
	codeKey     = regexp.MustCompile(`"((?:title|notice|error|queue\.view|status|priority|author|field|hint|size|ticket|event)\.[a-z_.\-]+)"`)
)

func TestEveryMessageKeyUsedExists(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	_ = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = p
		}
		return nil
	})
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range codeKey.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".") {
				used[m[1]] = f
			}
		}
	}
	// Families whose keys are put together at run time.
	for _, st := range statusNames() {
		used["status."+st] = "console.go"
	}
	for _, p := range []string{"low", "normal", "high", "urgent"} {
		used["priority."+p] = "locale"
	}
	for _, k := range []string{"title.reset_password", "title.verify_email", "title.signin_link"} {
		for _, suffix := range []string{".text", ".submit", ".done"} {
			used[k+suffix] = "token.html"
		}
	}
	for k := range cats["en"] {
		if strings.HasPrefix(k, "error.") && cats["en"][k+".text"] != "" {
			used[k+".text"] = "error.html"
		}
	}
	for k, where := range used {
		for _, lang := range Languages {
			if _, ok := cats[lang][k]; !ok {
				t.Errorf("%s uses %q, missing from messages/%s.json", where, k, lang)
			}
		}
	}
}

// Text a person reads must come from the catalogs: no letters between
// tags, and none in the attributes people read (placeholder, title, alt,
// aria-label, label). Template actions are blanked out first, so what is
// left is exactly the markup written by hand.
var (
	actionPattern = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tagPattern    = regexp.MustCompile(`(?s)<[^>]*>`)
	readableAttr  = regexp.MustCompile(`(?i)\b(placeholder|title|alt|aria-label|label)="([^"]*)"`)
	letterPattern = regexp.MustCompile(`\p{L}`)
)

// hardCodedText returns the words and readable attributes in src that do
// not come from a template action.
func hardCodedText(src string) []string {
	var out []string
	blank := actionPattern.ReplaceAllString(src, "\x00")
	for _, tag := range tagPattern.FindAllString(blank, -1) {
		for _, m := range readableAttr.FindAllStringSubmatch(tag, -1) {
			if letterPattern.MatchString(m[2]) {
				out = append(out, m[0])
			}
		}
	}
	for _, word := range strings.Fields(tagPattern.ReplaceAllString(blank, " ")) {
		if letterPattern.MatchString(word) {
			out = append(out, word)
		}
	}
	return out
}

func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	names, _ := fs.Glob(templateFS, "templates/*.html")
	if len(names) < 10 {
		t.Fatalf("only %d templates found", len(names))
	}
	for _, n := range names {
		src, _ := templateFS.ReadFile(n)
		for _, text := range hardCodedText(string(src)) {
			t.Errorf("%s: hard-coded %q; take it from the catalogs", n, text)
		}
	}
}

func TestTheCheckCatchesHardCodedText(t *testing.T) {
	bad := `{{define "content"}}<p>Hello {{.L.T "x"}}</p><input placeholder="Your name"{{if .X}} selected{{end}}><b>{{.Name}}</b> ۱۲۳ سلام{{end}}`
	got := hardCodedText(bad)
	if len(got) != 3 {
		t.Fatalf("found %q, want Hello, the placeholder and سلام", got)
	}
}

// publicPages are the only pages open to anyone: signing in and up, the
// emailed links, assets and the language switch.
var publicPages = map[string]bool{
	"GET /{$}": true, "GET /assets/{name}": true, "GET /lang/{lang}": true,
	"GET /auth/reset-password": true, "POST /auth/reset-password": true,
	"GET /auth/verify-email": true, "POST /auth/verify-email": true,
	"GET /auth/signin-link": true, "POST /auth/signin-link": true,
	"GET /auth/forgot": true, "POST /auth/forgot": true,
	"GET /console/signin": true, "POST /console/signin": true,
	"GET /portal/signin": true, "POST /portal/signin": true, "POST /portal/signin-link": true,
	"GET /portal/signup": true, "POST /portal/signup": true,
	"POST /auth/passkey/signin/options": true, "POST /auth/passkey/signin": true,
}

func TestEveryRouteSaysWhoMayOpenIt(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range routes() {
		if seen[rt.Pattern] {
			t.Errorf("%s twice", rt.Pattern)
		}
		seen[rt.Pattern] = true
		if rt.Need < public || rt.Need > active {
			t.Errorf("%s: unknown need %d", rt.Pattern, rt.Need)
		}
		if strings.Contains(rt.Pattern, "/api/") {
			t.Errorf("%s is the API's", rt.Pattern)
		}
		isPublic := rt.Need == public
		if isPublic != publicPages[rt.Pattern] {
			t.Errorf("%s: public=%v; the list of pages anyone may open says %v", rt.Pattern, isPublic, publicPages[rt.Pattern])
		}
		if strings.Contains(rt.Pattern, " /console/") && !isPublic && rt.Need != staff {
			t.Errorf("%s: console page not for staff only", rt.Pattern)
		}
		if strings.Contains(rt.Pattern, " /admin/") && (rt.Need != staff || rt.Perm == "") {
			t.Errorf("%s: admin page without a permission", rt.Pattern)
		}
		if strings.Contains(rt.Pattern, " /portal/") && !isPublic && rt.Need != customerOnly {
			t.Errorf("%s: portal page not for customers only", rt.Pattern)
		}
	}
}

func TestLanguageFromChoiceThenBrowser(t *testing.T) {
	cases := []struct{ cookie, accept, want string }{
		{"", "", "fa"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fa-IR,fa;q=0.9,en;q=0.5", "fa"},
		{"", "de-DE", "fa"},
		{"fa", "en-US", "fa"},
		{"en", "fa", "en"},
		{"xx", "en", "en"},
	}
	for _, c := range cases {
		r := httptestRequest(c.accept, c.cookie)
		if got := pickLanguage(r); got != c.want {
			t.Errorf("cookie %q, Accept-Language %q: %s, want %s", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestLocalPathKeepsRedirectsOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"/portal/?x=1": "/portal/?x=1", "//evil.example/": "/", "https://evil.example": "/", "/\\evil": "/", "": "/", "portal": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
