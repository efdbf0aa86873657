package richtext

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// hostile is markup that has run script, loaded remote content or dressed
// up as someone else's page somewhere.
var hostile = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<svg onload=alert(1)><circle r=1></svg>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="JaVaScRiPt:alert(1)">x</a>`,
	`<a href="  javascript:alert(1)">x</a>`,
	`<a href="data:text/html,<script>alert(1)</script>">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<iframe src="https://evil.example/"></iframe>`,
	`<object data="x.swf"></object><embed src="x.swf">`,
	`<form action="https://evil.example/"><input name=p><button>go</button></form>`,
	`<style>body{display:none}</style>`,
	`<div style="background:url(https://evil.example/t.gif)">x</div>`,
	`<link rel=stylesheet href=https://evil.example/x.css>`,
	`<meta http-equiv="refresh" content="0;url=https://evil.example/">`,
	`<base href="https://evil.example/">`,
	`<math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
	`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
	`<p onclick="alert(1)" class="verified-badge" id="signout">x</p>`,
	`<<script>script>alert(1)<</script>/script>`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<template><script>alert(1)</script></template>`,
	"<a href=\"java\x00script:alert(1)\">x</a>",
	`<a href="&#106;avascript:alert(1)">x</a>`,
}

func TestHostileMarkupLeavesNothingThatRuns(t *testing.T) {
	for _, in := range hostile {
		out := Sanitize(in).HTML
		low := strings.ToLower(out)
		for _, bad := range []string{"<script", "onerror", "onload", "onclick", "javascript:", "vbscript:", "<iframe", "<object",
			"<embed", "<form", "<input", "<style", "style=", "<link", "<meta", "<base", "evil.example", "class=", "id=", "data:text", "svg+xml", "<svg"} {
			if strings.Contains(low, bad) {
				t.Errorf("Sanitize(%q) = %q, still has %q", in, out, bad)
			}
		}
		if again := Sanitize(out).HTML; again != out {
			t.Errorf("not stable: Sanitize(%q) = %q, then %q", in, out, again)
		}
	}
}

func TestRemoteImagesAreCountedAndRemovedEmbeddedOnesKept(t *testing.T) {
	const png = "data:image/png;base64,iVBORw0KGgo="
	c := Sanitize(`<p>Hi <img src="https://tracker.example/open.gif?u=42" alt="">there</p>` +
		`<img src="http://x.example/a.png"><picture><source srcset="https://x.example/b.webp"><img src="` + png + `" alt="logo"></picture>` +
		`<img src="` + png + `" srcset="https://x.example/c.png 2x">`)
	if c.BlockedImages != 4 {
		t.Errorf("blocked %d images, want 4 (two img, one source, one img with a remote srcset): %q", c.BlockedImages, c.HTML)
	}
	if strings.Contains(c.HTML, "example") {
		t.Errorf("a remote address survived: %q", c.HTML)
	}
	if !strings.Contains(c.HTML, `src="`+png+`"`) || !strings.Contains(c.HTML, `alt="logo"`) {
		t.Errorf("the embedded image was lost: %q", c.HTML)
	}
}

func TestLinksOpenApartWithoutReferrer(t *testing.T) {
	out := Sanitize(`<a href="https://shop.example/order/7">your order</a> <a href="mailto:help@shop.example">mail</a>`).HTML
	for _, want := range []string{`href="https://shop.example/order/7"`, `target="_blank"`, `noreferrer`, `nofollow`, `href="mailto:help@shop.example"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%q lacks %s", out, want)
		}
	}
}

func TestTextKeepsLinesAndPersian(t *testing.T) {
	c := Sanitize("<div dir=\"rtl\"><p>سلام،   خانم\nمحمدی</p><p>شماره کارت: <b>6037</b> 9911 2222 3333</p><ul><li>یک</li><li>دو</li></ul>می‌خواهم<br>پیگیری کنم</div>")
	want := "سلام، خانم محمدی\nشماره کارت: 6037 9911 2222 3333\nیک\nدو\nمی‌خواهم\nپیگیری کنم"
	if c.Text != want {
		t.Errorf("Text =\n%q\nwant\n%q", c.Text, want)
	}
	if !strings.Contains(c.HTML, `dir="rtl"`) {
		t.Errorf("dir lost: %q", c.HTML)
	}
}

// TestTextKeepsTheLineBreaksAReaderSees: what the browser shows on
// separate lines stays on separate lines in the text that is searched,
// masked and shown where markup cannot be: the lines of a <pre> (a log,
// an error, an address pasted as is), each <br> (two make an empty line,
// as Gmail writes one), and a block inside a line of text.
func TestTextKeepsTheLineBreaksAReaderSees(t *testing.T) {
	for in, want := range map[string]string{
		"<pre>line 1\nline 2\n\n\n    indented</pre>":                      "line 1\nline 2\n\nindented",
		"<p>Before:</p><pre><code>a = 1\r\nb = 2</code></pre><p>After</p>": "Before:\na = 1\nb = 2\nAfter",
		"<pre>\nfirst</pre>":                      "first",
		"see<pre>x\ny</pre>then":                  "see\nx\ny\nthen",
		"<p>one\ntwo</p>":                         "one two",
		"a<br><br>b":                              "a\n\nb",
		"<div>a</div><div><br></div><div>b</div>": "a\n\nb",
		"<div>Hello<div>world</div></div>":        "Hello\nworld",
		"<div dir=\"rtl\">سلام<br>خط دوم<pre>۱۲۳\n۴۵۶</pre></div>":                  "سلام\nخط دوم\n۱۲۳\n۴۵۶",
		"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>": "a b\nc d",
	} {
		if got := Sanitize(in).Text; got != want {
			t.Errorf("Text of %q =\n%q\nwant\n%q", in, got, want)
		}
	}
}

func TestBrokenInputStillGivesItsText(t *testing.T) {
	for in, want := range map[string]string{
		"<p>unclosed <b>bold":           "unclosed bold",
		"plain text, no tags":           "plain text, no tags",
		"bad \xff utf8":                 "bad \uFFFD utf8",
		"nul\x00byte":                   "nulbyte",
		"<table><tr><td>a<td>b</table>": "a b",
	} {
		if got := Sanitize(in).Text; got != want {
			t.Errorf("Text of %q = %q, want %q", in, got, want)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("<p>سلام <a href='https://x.example'>x</a></p>")
	f.Fuzz(func(t *testing.T, in string) {
		c := Sanitize(in)
		if err := onlyAllowed(c.HTML); err != "" {
			t.Fatalf("Sanitize(%q) = %q: %s", in, c.HTML, err)
		}
		// The text is folded: no space at either end, at most one empty
		// line in a row, and the same from the stored markup.
		if c.Text != strings.TrimSpace(c.Text) || strings.Contains(c.Text, "\n\n\n") || strings.Contains(c.Text, " \n") {
			t.Fatalf("Text of %q = %q: not folded", in, c.Text)
		}
		if again := Text(c.HTML); again != c.Text {
			t.Fatalf("Text(Sanitize(%q).HTML) = %q, Sanitize gave %q", in, again, c.Text)
		}
		// Sanitizing again (as display does) may tidy stray markup further
		// (a lone <th> goes), but must stay within the allowlist too.
		if err := onlyAllowed(Display(c.HTML)); err != "" {
			t.Fatalf("Display(Sanitize(%q)): %s", in, err)
		}
	})
}

// allowedTags and allowedAttrs mirror the policy, checked on the parsed
// output: text may say "javascript:" all it likes, markup may not act.
var allowedTags = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`p br b strong i em u s strike del ins sub sup small mark blockquote q cite pre code hr
		h1 h2 h3 h4 h5 h6 span div abbr ul ol li dl dt dd table thead tbody tfoot tr td th caption a img`) {
		allowedTags[t] = true
	}
}

func onlyAllowed(out string) string {
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return err.Error()
	}
	var bad string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if !allowedTags[n.Data] {
				bad = "element " + n.Data
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch a.Key {
				case "dir", "lang", "title", "alt", "width", "height", "colspan", "rowspan", "start", "rel", "target":
				case "href":
					if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
						bad = "href " + a.Val
					}
				case "src":
					if !embeddedImage.MatchString(a.Val) {
						bad = "src " + a.Val
					}
				default:
					bad = "attribute " + a.Key
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return bad
}
