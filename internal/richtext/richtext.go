// Package richtext makes HTML that arrives from outside — mail, or an
// integration posting a formatted message — safe to keep and to show.
//
// Safety is by allowlist (bluemonday's user-content policy, narrowed):
// no script, no style, no event handlers, no forms or frames, links only
// to http, https and mailto (opened in a new tab, without referrer or
// opener), images only when embedded in the message itself (data: URLs of
// ordinary image types). Remote images are removed before anything is
// stored: a remote image is a tracking beacon that tells its sender when,
// where and by whom a message was read, and our pages' Content-Security-
// Policy would refuse to load one anyway.
//
// The package also gives the message's plain text, which is what Hesar
// searches, masks and shows wherever HTML cannot be shown.
package richtext

import (
	"bytes"
	"regexp"
	"strings"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Clean is HTML after Sanitize.
type Clean struct {
	// HTML is the safe markup ("" when nothing was left).
	HTML string
	// Text is the plain text of HTML: paragraphs and line breaks kept,
	// runs of spaces folded.
	Text string
	// BlockedImages counts the remote images removed.
	BlockedImages int
}

// embeddedImage is a data: URL of an image type browsers show as a
// picture (never SVG: it can carry script).
var embeddedImage = regexp.MustCompile(`^data:image/(?:png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$`)

var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "sub", "sup", "small", "mark",
		"blockquote", "q", "cite", "pre", "code", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "span", "div", "abbr",
		"ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt", "width", "height").OnElements("img")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	// Only these three are global. Classes and ids from outside would let
	// a message dress up as our own interface (a fake "verified" badge, a
	// fake button) or hijack our pages' anchors.
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)).Globally()
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.RequireParseableURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	// A relative link would point into Hesar itself: a message must not
	// carry links that look like our own actions.
	p.AllowRelativeURLs(false)
	p.AllowDataURIImages()
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Sanitize cleans untrusted HTML. It never fails: what cannot be parsed
// or is not allowed is dropped, and text is kept.
func Sanitize(in string) Clean {
	out, blocked := clean(in)
	return Clean{HTML: out, Text: Text(out), BlockedImages: blocked}
}

// clean is Sanitize without the text: the markup and the remote images
// removed.
func clean(in string) (string, int) {
	in = strings.ToValidUTF8(strings.ReplaceAll(in, "\x00", ""), "\uFFFD")
	nodes, err := html.ParseFragment(strings.NewReader(in), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil { // x/net/html only fails on reader errors; a string reader has none
		return "", 0
	}
	blocked := 0
	var buf bytes.Buffer
	for _, n := range nodes {
		if remoteImage(n) {
			blocked++
			continue
		}
		blocked += dropRemoteImages(n)
		_ = html.Render(&buf, n) // writes to memory
	}
	// The policy removes elements it does not allow and keeps their text;
	// a second pass must find nothing more (a test holds it to that).
	return strings.TrimSpace(policy.Sanitize(buf.String())), blocked
}

// Display sanitizes stored HTML again just before it is shown, so a
// message kept under an older, looser rule (or a flaw since fixed) is held
// to today's.
func Display(stored string) string {
	out, _ := clean(stored)
	return out
}

// dropRemoteImages removes every img (and picture source) not embedded
// as a data: image, and reports how many.
func dropRemoteImages(n *html.Node) int {
	count := 0
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if remoteImage(c) {
			n.RemoveChild(c)
			count++
		} else {
			count += dropRemoteImages(c)
		}
		c = next
	}
	return count
}

// remoteImage reports an image element that is not embedded in the
// message as a data: image.
func remoteImage(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.Img, atom.Image, atom.Source:
		return !embedded(n)
	}
	return false
}

func embedded(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "srcset" {
			return false
		}
	}
	for _, a := range n.Attr {
		if a.Key == "src" {
			return embeddedImage.MatchString(a.Val)
		}
	}
	return false
}

// blocks are the elements that stand on lines of their own in the text:
// a new line before and after them.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Li: true, atom.Tr: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Blockquote: true, atom.Pre: true,
	atom.Ul: true, atom.Ol: true, atom.Table: true, atom.Hr: true, atom.Dd: true, atom.Dt: true,
}

// Text is the plain text of sanitized HTML: each block on lines of its
// own, every <br> a line break (two make an empty line), and inside <pre>
// the line breaks as written. Elsewhere a line break in the source is a
// space, as a browser shows it. Runs of spaces are folded everywhere,
// indentation in <pre> too, and empty lines to one.
func Text(safe string) string {
	nodes, err := html.ParseFragment(strings.NewReader(safe), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return foldSpace(safe)
	}
	var b strings.Builder
	newLine := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
	}
	var walk func(n *html.Node, pre bool)
	walk = func(n *html.Node, pre bool) {
		switch {
		case n.Type == html.TextNode && pre:
			b.WriteString(n.Data)
		case n.Type == html.TextNode:
			b.WriteString(strings.ReplaceAll(n.Data, "\n", " ")) // in HTML a line break in text is a space
		case n.Type != html.ElementNode:
		case n.DataAtom == atom.Br:
			b.WriteString("\n") // always: <br><br> is an empty line
		case n.DataAtom == atom.Td || n.DataAtom == atom.Th:
			b.WriteString(" ")
		case blocks[n.DataAtom]:
			newLine() // "text<div>more</div>" is two lines
			pre = pre || n.DataAtom == atom.Pre
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, pre)
		}
		if n.Type == html.ElementNode && blocks[n.DataAtom] {
			newLine()
		}
	}
	for _, n := range nodes {
		walk(n, false)
	}
	return foldSpace(b.String())
}

// foldSpace folds runs of spaces within lines, and of empty lines.
func foldSpace(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.Join(strings.FieldsFunc(l, unicode.IsSpace), " ")
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
