package password

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold puts a password or a context word in the form they are compared in:
// NFKC, lower case, Arabic letter forms folded to the Persian ones, Persian
// and Arabic-Indic digits to ASCII, join controls and diacritics removed.
// It is textnorm.Words without the splitting into words and the length cap
// (a password is compared whole); TestFoldAgreesWithTextnorm keeps the two
// in step.
func fold(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if isJoinControl(r) {
			continue
		}
		if f, ok := persianFold[r]; ok {
			r = f
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// Dropping marks can leave letters that NFKC composes.
	return norm.NFKC.String(b.String())
}

// persianFold is textnorm's map: Arabic letter forms and digits to the
// Persian forms and ASCII digits users type.
var persianFold = map[rune]rune{
	'ي': 'ی', 'ى': 'ی', 'ئ': 'ی',
	'ك': 'ک',
	'ة': 'ه', 'ۀ': 'ه',
	'أ': 'ا', 'إ': 'ا', 'ٱ': 'ا', 'آ': 'ا',
	'ؤ': 'و',
	'۰': '0', '۱': '1', '۲': '2', '۳': '3', '۴': '4', '۵': '5', '۶': '6', '۷': '7', '۸': '8', '۹': '9',
	'٠': '0', '١': '1', '٢': '2', '٣': '3', '٤': '4', '٥': '5', '٦': '6', '٧': '7', '٨': '8', '٩': '9',
}

// isJoinControl reports ZWNJ, ZWJ, tatweel, direction marks and
// diacritics (as textnorm does): "می‌روم" and "میروم" are one word.
func isJoinControl(r rune) bool {
	return r == '\u200c' || r == '\u200d' || r == '\u0640' || r == '\u200f' || r == '\u200e' || unicode.Is(unicode.Mn, r)
}

// alnum keeps only the letters and digits of a folded string: context
// matching ignores spaces and punctuation on both sides, so "ali.rezaei"
// is found in "AliRezaei-2024".
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if isAlnum(r) {
			return r
		}
		return -1
	}, s)
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// dropSeparators removes spaces and the separators people put between
// words ("pass word", "i-love-you"), keeping symbols that may be affixes or
// look-alike letters.
func dropSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// persianLayout maps each key of the standard Persian keyboard (ISIRI
// 9147, and the legacy Windows layout where they differ) to the Latin
// letter on the same key of a US keyboard: "password" typed with the
// Persian layout active is "حشسسصخقی".
var persianLayout = map[rune]rune{
	'ض': 'q', 'ص': 'w', 'ث': 'e', 'ق': 'r', 'ف': 't', 'غ': 'y', 'ع': 'u', 'ه': 'i', 'خ': 'o', 'ح': 'p', 'ج': '[', 'چ': ']',
	'ش': 'a', 'س': 's', 'ی': 'd', 'ي': 'd', 'ب': 'f', 'ل': 'g', 'ا': 'h', 'آ': 'h', 'ت': 'j', 'ن': 'k', 'م': 'l', 'ک': ';', 'ك': ';', 'گ': '\'',
	'ظ': 'z', 'ط': 'x', 'ز': 'c', 'ر': 'v', 'ذ': 'b', 'د': 'n', 'پ': 'm', 'ئ': 'm', 'و': ',',
}

// latinLayout returns s as it would read had it been typed with a US
// layout instead of the Persian one, and whether any key was mapped.
func latinLayout(s string) (string, bool) {
	s = norm.NFKC.String(s)
	mapped := false
	out := strings.Map(func(r rune) rune {
		if l, ok := persianLayout[r]; ok {
			mapped = true
			return l
		}
		if f, ok := persianFold[r]; ok && f >= '0' && f <= '9' {
			return f
		}
		return r
	}, s)
	return out, mapped
}
