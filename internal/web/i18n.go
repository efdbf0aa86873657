package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	// The tz database is in the binary: a workspace's zone must load on a
	// machine without zoneinfo (a static binary in an empty container).
	_ "time/tzdata"

	"github.com/hesar/hesar/internal/identity"
	"golang.org/x/text/language"
)

//go:embed messages/*.json
var messageFS embed.FS

// Languages the UI speaks, the default first.
var Languages = []string{"fa", "en"}

// langCookie remembers the language the person chose with the switch.
const langCookie = "hesar_lang"

// Catalog is every message of one language, by key.
type Catalog map[string]string

// loadCatalogs reads the embedded message catalogs: messages/<lang>.json
// and any messages/<area>.<lang>.json beside it, merged. Areas keep each
// part of the UI's text in its own file; a key defined twice is an error,
// so one file can never silently override another.
func loadCatalogs() (map[string]Catalog, error) {
	out := map[string]Catalog{}
	for _, lang := range Languages {
		files, err := fs.Glob(messageFS, "messages/*"+lang+".json")
		if err != nil {
			return nil, err
		}
		c := Catalog{}
		for _, f := range files {
			if name := path.Base(f); name != lang+".json" && !strings.HasSuffix(name, "."+lang+".json") {
				continue // "messages/xen.json" is not English
			}
			raw, err := messageFS.ReadFile(f)
			if err != nil {
				return nil, err
			}
			var part Catalog
			if err := json.Unmarshal(raw, &part); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := c[k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined in another messages file too", f, k)
				}
				c[k] = v
			}
		}
		if len(c) == 0 {
			return nil, fmt.Errorf("no messages for language %q", lang)
		}
		out[lang] = c
	}
	return out, nil
}

// Locale renders text, numbers and dates for one language.
type Locale struct {
	Lang string
	msgs Catalog
	zone *time.Location
}

// Dir is the writing direction of the language.
func (l *Locale) Dir() string {
	if l.Lang == "fa" {
		return "rtl"
	}
	return "ltr"
}

// Other is the language the switch offers.
func (l *Locale) Other() string {
	if l.Lang == "fa" {
		return "en"
	}
	return "fa"
}

// T looks up a message; args fill its %s/%d verbs. A missing key shows
// itself in brackets (and a test makes sure none is missing).
func (l *Locale) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		m = fmt.Sprintf(m, args...)
	}
	return l.Digits(m)
}

// Has reports whether the catalog holds key.
func (l *Locale) Has(key string) bool {
	_, ok := l.msgs[key]
	return ok
}

// Digits writes the ASCII digits of s as the language writes them.
func (l *Locale) Digits(s string) string {
	if l.Lang == "fa" {
		return PersianDigits(s)
	}
	return s
}

// Num formats an integer in the language's digits.
func (l *Locale) Num(n int64) string { return l.Digits(strconv.FormatInt(n, 10)) }

// Date formats a moment as a date and time in the workspace's time zone:
// Jalali with Persian digits in Persian, Gregorian in English with the
// zone's abbreviation or offset ("2026-11-26 04:06 +0330").
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(l.Zone())
	if l.Lang == "fa" {
		j := ToJalali(t.Year(), t.Month(), t.Day())
		return PersianDigits(j.String() + " " + t.Format("15:04"))
	}
	return t.Format("2006-01-02 15:04 MST")
}

// Hour names the hour a moment falls in ("14:00"), in the workspace's
// zone and the language's digits.
func (l *Locale) Hour(t time.Time) string {
	return l.Digits(t.In(l.Zone()).Format("15:04"))
}

// DefaultZone is the time zone of pages outside a workspace (signed out)
// and of workspaces that never chose one.
const DefaultZone = "Asia/Tehran"

// Zone is the time zone the page's dates are said in: the workspace's.
func (l *Locale) Zone() *time.Location {
	if l.zone == nil {
		return time.UTC
	}
	return l.zone
}

// ZoneName names the page's time zone for people: the IANA name with its
// offset now ("Asia/Tehran, UTC+03:30").
func (l *Locale) ZoneName() string {
	_, off := time.Now().In(l.Zone()).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return l.Digits(fmt.Sprintf("%s, UTC%s%02d:%02d", l.Zone().String(), sign, off/3600, off%3600/60))
}

// DateInput writes a moment as a date field of the page takes it back:
// "1405/09/05 14:30" (in Persian digits) in Persian, "2026-11-26 14:30" in
// English, in the workspace's zone.
func (l *Locale) DateInput(t time.Time) string {
	t = t.In(l.Zone())
	if l.Lang == "fa" {
		return PersianDigits(ToJalali(t.Year(), t.Month(), t.Day()).String() + " " + t.Format("15:04"))
	}
	return t.Format("2006-01-02 15:04")
}

// errBadDate is a date that is not in the page's form or does not exist.
var errBadDate = errors.New("not a date in the expected form")

// ParseDate reads a date, with an optional time (HH:MM), typed in the
// page's calendar and read in the workspace's zone: Jalali in Persian
// (1405/09/05 or ۱۴۰۵/۰۹/۰۵, "-" also allowed), Gregorian in English
// (2026-11-26; a "T" before the time too, as the browser's date-time
// fields wrote it). The other calendar is taken as well when its year
// says which it is (a Gregorian year is never below 1700, a Jalali one
// never above), so a link keeps working after the language switch.
// hasTime says whether a time was given.
func (l *Locale) ParseDate(s string) (t time.Time, hasTime bool, err error) {
	s = strings.TrimSpace(ASCIIDigits(s))
	date, clock, _ := strings.Cut(strings.Replace(s, "T", " ", 1), " ")
	clock = strings.TrimSpace(clock)
	parts := strings.FieldsFunc(date, func(r rune) bool { return r == '/' || r == '-' })
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) > 2 || len(parts[2]) > 2 {
		return time.Time{}, false, errBadDate
	}
	var n [3]int
	for i, p := range parts {
		if n[i], err = strconv.Atoi(p); err != nil || n[i] < 0 {
			return time.Time{}, false, errBadDate
		}
	}
	hour, minute := 0, 0
	if clock != "" {
		c, err := time.Parse("15:04", clock)
		if err != nil {
			return time.Time{}, false, errBadDate
		}
		hour, minute, hasTime = c.Hour(), c.Minute(), true
	}
	gy, gm, gd := n[0], time.Month(n[1]), n[2]
	if n[0] < 1700 { // a Jalali year
		j := JalaliDate{n[0], n[1], n[2]}
		if !j.Valid() {
			return time.Time{}, false, errBadDate
		}
		gy, gm, gd = j.ToGregorian()
	} else if strings.Contains(date, "/") || gm < 1 || gm > 12 || gd < 1 || gd > 31 {
		return time.Time{}, false, errBadDate
	}
	t = time.Date(gy, gm, gd, hour, minute, 0, 0, l.Zone())
	if t.Day() != gd || t.Month() != gm { // 2026-02-30 would roll over
		return time.Time{}, false, errBadDate
	}
	return t, hasTime, nil
}

// Stamp is a moment already said in the page's language, for lists long
// enough that formatting each entry from the template would cost: the
// template reads two fields instead of calling two methods per entry.
type Stamp struct {
	ISO  string // for <time datetime>
	Text string // for people
}

// Stamp says t for a <time> element.
func (l *Locale) Stamp(t time.Time) Stamp { return Stamp{ISO: l.ISO(t), Text: l.Date(t)} }

// ISO is the machine-readable form of a moment, for <time datetime>.
func (l *Locale) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Status names a ticket status.
func (l *Locale) Status(s any) string { return l.T("status." + fmt.Sprint(s)) }

// Priority names a ticket priority.
func (l *Locale) Priority(p any) string { return l.T("priority." + fmt.Sprint(p)) }

// Size formats a byte count.
func (l *Locale) Size(n int64) string {
	switch {
	case n >= 1<<20:
		return l.T("size.mb", l.Digits(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64)))
	case n >= 1<<10:
		return l.T("size.kb", l.Digits(strconv.FormatInt((n+512)>>10, 10)))
	}
	return l.T("size.bytes", l.Num(n))
}

// Device says a device in the page's language.
func (l *Locale) Device(d identity.Device) string {
	browser, system := "", ""
	if d.Browser != "" {
		browser = l.T("device.browser." + d.Browser)
	}
	if d.System != "" {
		system = l.T("device.system." + d.System)
	}
	switch {
	case browser != "" && system != "":
		return l.T("device.on", browser, system)
	case browser != "":
		return browser
	case system != "":
		return system
	}
	return l.T("device.unknown")
}

// DeviceLabel says in the page's language a device label identity wrote
// in English (the monitor keeps labels); a label it does not know is
// shown as it is.
func (l *Locale) DeviceLabel(label string) string {
	if d, ok := identity.ParseDeviceLabel(label); ok {
		return l.Device(d)
	}
	return label
}

// HTML marks a catalog message as trusted HTML. Catalogs are part of the
// program, never user input.
func (l *Locale) HTML(key string) template.HTML { return template.HTML(l.T(key)) } //nolint:gosec // catalog text is ours

var matcher = language.NewMatcher([]language.Tag{language.Persian, language.English})

// pickLanguage chooses the language of a response: the explicit choice
// (the switch's cookie), then the browser's Accept-Language, then Persian.
func pickLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && validLang(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No {
				return Languages[i]
			}
		}
	}
	return Languages[0]
}

func validLang(s string) bool { return s == "fa" || s == "en" }

// catalogKeys lists the keys of c.
func catalogKeys(c Catalog) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

// sameKeys reports the keys present in a but not in b.
func missingIn(a, b Catalog) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

var _ = strings.TrimSpace
