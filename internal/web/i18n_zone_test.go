package web

import (
	"testing"
	"time"

	"github.com/hesar/hesar/internal/identity"
)

func zoneLocale(t *testing.T, lang, zone string) *Locale {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return &Locale{Lang: lang, zone: loc}
}

func TestDatesAreSaidInTheWorkspaceZoneInBothLanguages(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 36, 0, 0, time.UTC)
	cases := []struct{ lang, zone, want string }{
		{"en", "UTC", "2026-11-26 00:36 UTC"},
		{"en", "Asia/Tehran", "2026-11-26 04:06 +0330"},
		{"en", "Europe/Berlin", "2026-11-26 01:36 CET"},
		{"en", "America/New_York", "2026-11-25 19:36 EST"},
		{"fa", "Asia/Tehran", "۱۴۰۵/۰۹/۰۵ ۰۴:۰۶"},
		{"fa", "UTC", "۱۴۰۵/۰۹/۰۵ ۰۰:۳۶"},
		{"fa", "America/New_York", "۱۴۰۵/۰۹/۰۴ ۱۹:۳۶"},
	}
	for _, c := range cases {
		if got := zoneLocale(t, c.lang, c.zone).Date(at); got != c.want {
			t.Errorf("%s %s: got %q, want %q", c.lang, c.zone, got, c.want)
		}
	}
}

func TestDateFieldsReadThePagesCalendarInTheWorkspaceZone(t *testing.T) {
	tehran := func(y int, m time.Month, d, h, min int) time.Time {
		loc, _ := time.LoadLocation("Asia/Tehran")
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	fa, en := zoneLocale(t, "fa", "Asia/Tehran"), zoneLocale(t, "en", "Asia/Tehran")
	good := []struct {
		l       *Locale
		in      string
		want    time.Time
		hasTime bool
	}{
		{fa, "1405/09/05", tehran(2026, 11, 26, 0, 0), false},
		{fa, "۱۴۰۵/۰۹/۰۵", tehran(2026, 11, 26, 0, 0), false},
		{fa, " ۱۴۰۵/۹/۵ ۱۴:۳۰ ", tehran(2026, 11, 26, 14, 30), true},
		{fa, "1403-12-30 23:59", tehran(2025, 3, 20, 23, 59), true},
		{fa, "2026-11-26", tehran(2026, 11, 26, 0, 0), false}, // a Gregorian year says which calendar
		{en, "2026-11-26", tehran(2026, 11, 26, 0, 0), false},
		{en, "2026-11-26 14:30", tehran(2026, 11, 26, 14, 30), true},
		{en, "2026-11-26T14:30", tehran(2026, 11, 26, 14, 30), true}, // old datetime-local links
		{en, "1405/09/05", tehran(2026, 11, 26, 0, 0), false},
	}
	for _, c := range good {
		got, hasTime, err := c.l.ParseDate(c.in)
		if err != nil || !got.Equal(c.want) || hasTime != c.hasTime {
			t.Errorf("%s %q: got %v %v %v, want %v %v", c.l.Lang, c.in, got, hasTime, err, c.want, c.hasTime)
		}
	}
	for _, c := range []struct {
		l  *Locale
		in string
	}{
		{fa, "1404/12/30"}, {fa, "1405/07/31"}, {fa, "1405/13/01"}, {fa, "۱۴۰۵/۰۹"}, {fa, "دیروز"}, {fa, "1405/09/05 25:00"},
		{en, "2026-02-30"}, {en, "2026/11/26"}, {en, "26-11-2026"}, {en, "2026-11-26 7pm"}, {en, "2026-13-01"}, {en, ""},
	} {
		if got, _, err := c.l.ParseDate(c.in); err == nil {
			t.Errorf("%s %q: read as %v", c.l.Lang, c.in, got)
		}
	}
}

func TestDateInputRoundTrips(t *testing.T) {
	at := time.Date(2026, 11, 26, 0, 36, 0, 0, time.UTC)
	for _, l := range []*Locale{zoneLocale(t, "fa", "Asia/Tehran"), zoneLocale(t, "en", "Europe/London"), zoneLocale(t, "en", "Asia/Tehran")} {
		s := l.DateInput(at)
		got, _, err := l.ParseDate(s)
		if err != nil || !got.Equal(at) {
			t.Errorf("%s %s: %q read back as %v %v", l.Lang, l.Zone(), s, got, err)
		}
	}
	if got := zoneLocale(t, "fa", "Asia/Tehran").DateInput(at); got != "۱۴۰۵/۰۹/۰۵ ۰۴:۰۶" {
		t.Errorf("got %q", got)
	}
}

func TestDevicesAreNamedInThePagesLanguage(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	fa, en := &Locale{Lang: "fa", msgs: cats["fa"]}, &Locale{Lang: "en", msgs: cats["en"]}
	for _, c := range []struct{ label, fa, en string }{
		{"Chrome on Linux", "کروم روی لینوکس", "Chrome on Linux"},
		{"Unknown device", "دستگاه ناشناس", "Unknown device"},
		{"Firefox", "فایرفاکس", "Firefox"},
		{"iPhone", "آیفون", "iPhone"},
		{"Netscape on BeOS", "Netscape on BeOS", "Netscape on BeOS"}, // not ours: shown as stored
	} {
		if got := fa.DeviceLabel(c.label); got != c.fa {
			t.Errorf("fa %q: %q, want %q", c.label, got, c.fa)
		}
		if got := en.DeviceLabel(c.label); got != c.en {
			t.Errorf("en %q: %q, want %q", c.label, got, c.en)
		}
	}
	for _, l := range []*Locale{fa, en} {
		for _, b := range identity.DeviceBrowsers() {
			if !l.Has("device.browser." + b) {
				t.Errorf("%s: no device.browser.%s", l.Lang, b)
			}
		}
		for _, s := range identity.DeviceSystems() {
			if !l.Has("device.system." + s) {
				t.Errorf("%s: no device.system.%s", l.Lang, s)
			}
		}
	}
}
