package web

import (
	"testing"
	"time"
)

func TestGregorianToJalaliMatchesKnownDates(t *testing.T) {
	cases := []struct {
		g    string
		want JalaliDate
	}{
		{"1979-02-11", JalaliDate{1357, 11, 22}}, // 22 Bahman 1357
		{"2017-03-21", JalaliDate{1396, 1, 1}},
		{"2020-03-20", JalaliDate{1399, 1, 1}},
		{"2023-03-21", JalaliDate{1402, 1, 1}},
		{"2024-03-20", JalaliDate{1403, 1, 1}},   // Nowruz of a year after a leap year
		{"2025-03-20", JalaliDate{1403, 12, 30}}, // 1403 is leap: Esfand has 30 days
		{"2025-03-21", JalaliDate{1404, 1, 1}},
		{"2026-03-21", JalaliDate{1405, 1, 1}},
		{"2026-09-22", JalaliDate{1405, 6, 31}}, // last day of the 31-day months
		{"2026-09-23", JalaliDate{1405, 7, 1}},
		{"2026-11-25", JalaliDate{1405, 9, 4}},
		{"2000-01-01", JalaliDate{1378, 10, 11}},
	}
	for _, c := range cases {
		g, err := time.Parse("2006-01-02", c.g)
		if err != nil {
			t.Fatal(err)
		}
		if got := ToJalali(g.Year(), g.Month(), g.Day()); got != c.want {
			t.Errorf("%s: got %v, want %v", c.g, got, c.want)
		}
	}
}

func TestJalaliDaysFollowEachOtherWithoutGapsForTwoCenturies(t *testing.T) {
	d := time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)
	prev := ToJalali(d.Year(), d.Month(), d.Day())
	for d.Year() < 2100 {
		d = d.AddDate(0, 0, 1)
		got := ToJalali(d.Year(), d.Month(), d.Day())
		next := JalaliDate{prev.Year, prev.Month, prev.Day + 1}
		monthLen := 31
		if prev.Month > 6 {
			monthLen = 30
		}
		switch {
		case got == next:
		case got == JalaliDate{prev.Year, prev.Month + 1, 1} && prev.Day == monthLen && prev.Month < 12:
		case got == JalaliDate{prev.Year + 1, 1, 1} && prev.Month == 12 && (prev.Day == 29 || prev.Day == 30):
		default:
			t.Fatalf("%s: %v follows %v", d.Format("2006-01-02"), got, prev)
		}
		prev = got
	}
}

func TestPersianDigits(t *testing.T) {
	if got := PersianDigits("1403/12/30 09:05"); got != "۱۴۰۳/۱۲/۳۰ ۰۹:۰۵" {
		t.Fatalf("got %q", got)
	}
}

func TestJalaliToGregorianMatchesKnownDates(t *testing.T) {
	cases := []struct {
		j    JalaliDate
		want string
	}{
		{JalaliDate{1403, 1, 1}, "2024-03-20"},
		{JalaliDate{1403, 12, 30}, "2025-03-20"}, // 1403 is leap
		{JalaliDate{1404, 1, 1}, "2025-03-21"},
		{JalaliDate{1405, 9, 5}, "2026-11-26"},
		{JalaliDate{1405, 6, 31}, "2026-09-22"},
		{JalaliDate{1357, 11, 22}, "1979-02-11"},
		{JalaliDate{1378, 10, 11}, "2000-01-01"},
		{JalaliDate{1399, 12, 30}, "2021-03-20"}, // 1399 is leap
	}
	for _, c := range cases {
		y, m, d := c.j.ToGregorian()
		if got := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format("2006-01-02"); got != c.want {
			t.Errorf("%v: got %s, want %s", c.j, got, c.want)
		}
		if !c.j.Valid() {
			t.Errorf("%v: not valid", c.j)
		}
	}
}

func TestJalaliRoundTripsEveryDayForTwoCenturies(t *testing.T) {
	d := time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)
	for d.Year() < 2100 {
		j := ToJalali(d.Year(), d.Month(), d.Day())
		y, m, dd := j.ToGregorian()
		if y != d.Year() || m != d.Month() || dd != d.Day() {
			t.Fatalf("%s -> %v -> %d-%d-%d", d.Format("2006-01-02"), j, y, m, dd)
		}
		if !j.Valid() {
			t.Fatalf("%v (%s) not valid", j, d.Format("2006-01-02"))
		}
		d = d.AddDate(0, 0, 1)
	}
}

func TestJalaliDatesThatDoNotExistAreInvalid(t *testing.T) {
	for _, j := range []JalaliDate{
		{1404, 12, 30}, // 1404 is not leap
		{1402, 12, 30},
		{1405, 7, 31}, // the second half's months have 30 days
		{1405, 13, 1}, {1405, 0, 1}, {1405, 1, 0}, {1405, 1, 32},
		{1100, 1, 1}, // out of the rule's range
	} {
		if j.Valid() {
			t.Errorf("%v is valid", j)
		}
	}
}

func TestASCIIDigits(t *testing.T) {
	if got := ASCIIDigits("۱۴۰۵/۰۹/۰۵ ١٤:٣٠"); got != "1405/09/05 14:30" {
		t.Fatalf("got %q", got)
	}
}
