package web

import (
	"strconv"
	"strings"
	"time"
)

// JalaliDate is a date of the Solar Hijri (Jalali) calendar, Iran's civil
// calendar.
type JalaliDate struct {
	Year, Month, Day int
}

// ToJalali converts a Gregorian calendar date to the Jalali calendar with
// the 33-year arithmetic rule, which agrees with the astronomical calendar
// Iran uses for every year from 1178 to 1633 (1799–2254 CE).
func ToJalali(gy int, gm time.Month, gd int) JalaliDate {
	cumulative := [12]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}
	gy2 := gy
	if gm > 2 {
		gy2++
	}
	days := 355666 + 365*gy + (gy2+3)/4 - (gy2+99)/100 + (gy2+399)/400 + gd + cumulative[gm-1]
	jy := -1595 + 33*(days/12053)
	days %= 12053
	jy += 4 * (days / 1461)
	days %= 1461
	if days > 365 {
		jy += (days - 1) / 365
		days = (days - 1) % 365
	}
	if days < 186 {
		return JalaliDate{jy, 1 + days/31, 1 + days%31}
	}
	return JalaliDate{jy, 7 + (days-186)/30, 1 + (days-186)%30}
}

// ToGregorian converts the Jalali date to the Gregorian calendar, the
// inverse of ToJalali over the same range of years. The date must be
// valid (Valid); others convert to some nearby day.
func (d JalaliDate) ToGregorian() (int, time.Month, int) {
	jy := d.Year + 1595
	days := -355668 + 365*jy + (jy/33)*8 + ((jy%33)+3)/4 + d.Day
	if d.Month < 7 {
		days += (d.Month - 1) * 31
	} else {
		days += (d.Month-7)*30 + 186
	}
	gy := 400 * (days / 146097)
	days %= 146097
	if days > 36524 {
		days--
		gy += 100 * (days / 36524)
		days %= 36524
		if days >= 365 {
			days++
		}
	}
	gy += 4 * (days / 1461)
	days %= 1461
	if days > 365 {
		gy += (days - 1) / 365
		days = (days - 1) % 365
	}
	gd := days + 1
	feb := 28
	if (gy%4 == 0 && gy%100 != 0) || gy%400 == 0 {
		feb = 29
	}
	months := [12]int{31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	gm := 0
	for gm < 11 && gd > months[gm] {
		gd -= months[gm]
		gm++
	}
	return gy, time.Month(gm + 1), gd
}

// Valid reports whether the date exists: months of 31 days, then 30, and
// an Esfand of 30 days only in leap years. Years outside 1178–1633, where
// the arithmetic rule and Iran's calendar may part, are not valid.
func (d JalaliDate) Valid() bool {
	if d.Year < 1178 || d.Year > 1633 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 {
		return false
	}
	if d.Month > 6 && d.Day > 30 {
		return false
	}
	// Esfand 30 exists only when it is not already Farvardin 1 of the next year.
	return ToJalali(d.ToGregorian()) == d
}

// asciiDigits maps Persian and Arabic-Indic digits to ASCII ones, so
// people may type a date with either keyboard.
var asciiDigits = strings.NewReplacer("۰", "0", "۱", "1", "۲", "2", "۳", "3", "۴", "4", "۵", "5", "۶", "6", "۷", "7", "۸", "8", "۹", "9",
	"٠", "0", "١", "1", "٢", "2", "٣", "3", "٤", "4", "٥", "5", "٦", "6", "٧", "7", "٨", "8", "٩", "9")

// ASCIIDigits rewrites Persian and Arabic-Indic digits of s as ASCII ones.
func ASCIIDigits(s string) string { return asciiDigits.Replace(s) }

// persianDigits maps ASCII digits to Persian (Extended Arabic-Indic) ones.
var persianDigits = strings.NewReplacer("0", "۰", "1", "۱", "2", "۲", "3", "۳", "4", "۴",
	"5", "۵", "6", "۶", "7", "۷", "8", "۸", "9", "۹")

// PersianDigits rewrites the ASCII digits of s as Persian digits.
func PersianDigits(s string) string { return persianDigits.Replace(s) }

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// String formats the date as yyyy/mm/dd with ASCII digits.
func (d JalaliDate) String() string {
	return strconv.Itoa(d.Year) + "/" + pad2(d.Month) + "/" + pad2(d.Day)
}
