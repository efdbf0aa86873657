package web

import (
	"html/template"
	"regexp"
	"strings"
)

// maskedRun finds a masked value in text: digits (ASCII, Persian or
// Arabic-Indic), capital letters (an IBAN's country code), the mask dot
// and the spaces or hyphens between groups, with at least one mask dot.
// See internal/dlp: "6037 99•• •••• 7893", "IR•• •••• 1234".
var maskedRun = regexp.MustCompile(`[0-9۰-۹٠-٩A-Z•]+(?:[ \-][0-9۰-۹٠-٩A-Z•]+)*`)

// isolateMasked escapes s for HTML and wraps each masked value in a
// left-to-right isolate. A number is written left to right in Persian too,
// but "۶۰۳۷۹۹••••••۷۸۹۳" inside Persian text has no strong direction of
// its own at the dots, so the bidi algorithm reorders its parts (it read
// "۷۸۹۳••••••۶۰۳۷۹۹"); <bdi dir="ltr"> keeps it whole and in order.
func isolateMasked(s string) template.HTML {
	if !strings.ContainsRune(s, '•') {
		return template.HTML(template.HTMLEscapeString(s)) //nolint:gosec // escaped just here
	}
	var b strings.Builder
	last := 0
	for _, m := range maskedRun.FindAllStringIndex(s, -1) {
		run := s[m[0]:m[1]]
		if !strings.ContainsRune(run, '•') {
			continue
		}
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		b.WriteString(`<bdi dir="ltr">`)
		b.WriteString(template.HTMLEscapeString(run))
		b.WriteString(`</bdi>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String()) //nolint:gosec // every part escaped above
}
