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
