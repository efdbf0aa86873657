package dlp

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// A token is a maximal run of digit-like characters, with the joiners that
// sit between two of them ("1402/05/12", "12:30", "3.14" are one token each).
// Keeping dates, times, decimals and IP addresses whole is what stops their
// parts from being read as a card group or a CVV.
type token struct {
	start, end int  // byte offsets
	ndig       int  // digits of the three scripts
	nrunes     int  // characters, joiners and mask runes included
	pure       bool // digits of the three scripts only
	link       link // how this token is joined to the next one
}

// link is the single character between two tokens, if that is all there is
// between them: "6037 9912" and "001-234567-8" are chains of linked tokens.
type link uint8

const (
	linkNone link = iota
	linkSpace
	linkDash
)

// digitValue is the value of a decimal digit in the scripts Iranian users
// type (Latin, Persian, Arabic-Indic), or -1 for anything else.
func digitValue(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '۰' && r <= '۹':
		return int(r - '۰')
	case r >= '٠' && r <= '٩':
		return int(r - '٠')
	}
	return -1
}

// isDigitLike reports the characters a number is made of: a digit in any
// script (digits of other scripts make a token impure, so they are never
// read as a value but still keep their neighbours apart), and the mask rune,
// so that masked text never yields a new, shorter value.
func isDigitLike(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return isWideDigitLike(r)
}

func isWideDigitLike(r rune) bool {
	if r >= 0x0600 && r <= 0x06ff { // the Arabic block, most of a Persian text
		return r >= '٠' && r <= '٩' || r >= '۰' && r <= '۹'
	}
	return r == maskRune || unicode.IsDigit(r)
}

// arabicBlockDigit reports whether the UTF-8 pair c0 c1 of the Arabic block
// (U+0600-U+06FF, lead bytes 0xD8-0xDB) is an Arabic-Indic or Persian digit.
func arabicBlockDigit(c0, c1 byte) bool {
	return c0 == 0xd9 && c1 >= 0xa0 && c1 <= 0xa9 || c0 == 0xdb && c1 >= 0xb0 && c1 <= 0xb9
}

// isLetter is unicode.IsLetter with the ASCII and Arabic-block answers
// computed directly: it runs on every character of a text.
func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return r|0x20 >= 'a' && r|0x20 <= 'z'
	}
	return isWideLetter(r)
}

func isWideLetter(r rune) bool {
	switch {
	case r >= 0x0620 && r <= 0x064a, r >= 0x0671 && r <= 0x06d3, r >= 0x06fa && r <= 0x06fc,
		r == 0x066e, r == 0x066f, r == 0x06d5, r == 0x06e5, r == 0x06e6, r == 0x06ee, r == 0x06ef, r == 0x06ff:
		return true
	case r >= 0x0600 && r <= 0x06ff:
		return false
	}
	return unicode.IsLetter(r)
}

// isJoiner reports the characters that make one number of the digits on
// both sides: date and time separators, decimal points (Latin and Persian
// "٫"). The comma is not one: "card1,card2" is a list more often than a
// decimal.
func isJoiner(r rune) bool {
	return r == '/' || r == '.' || r == ':' || r == '٫'
}

// linkOf classifies a separator that may stand between two groups of one
// number.
func linkOf(r rune) link {
	switch r {
	case ' ', '\u00a0', '\u202f':
		return linkSpace
	case '-':
		return linkDash
	}
	return linkNone
}

// isGlue reports characters that make a number part of a word: Latin (and
// other non-Arabic-script) letters and the underscore, as in "TRK6037..." or
// "id_0012345678". Persian and Arabic letters do not glue: Persian text
// often runs a word into a number typed in another script ("کارتم6037..."),
// and a missed card costs more than a masked code.
func isGlue(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	if r >= 0x0600 && r <= 0x06ff {
		return false
	}
	return unicode.IsLetter(r) && !unicode.Is(unicode.Arabic, r)
}

// glueBefore reports whether the character before pos glues a number there
// to a word.
func glueBefore(text string, pos int) bool {
	if pos == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(text[:pos])
	return isGlue(r)
}

// glueAfter reports whether the character at pos glues the number ending
// there to a word.
func glueAfter(text string, pos int) bool {
	if pos >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[pos:])
	return isGlue(r)
}

// tokenize appends the tokens of text to dst, linking neighbours that are
// separated by exactly one separator.
func tokenize(text string, dst []token) []token {
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf && (c < '0' || c > '9') {
			i++
			continue
		} else if c >= 0xd8 && c <= 0xdb && i+1 < len(text) && text[i+1]&0xc0 == 0x80 && !arabicBlockDigit(c, text[i+1]) {
			i += 2 // a Persian or Arabic letter
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isDigitLike(r) {
			i += size
			continue
		}
		t := token{start: i, pure: true}
		for i < len(text) {
			if c := text[i]; c >= '0' && c <= '9' {
				t.ndig++
				t.nrunes++
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if isDigitLike(r) {
				if digitValue(r) < 0 {
					t.pure = false
				} else {
					t.ndig++
				}
				t.nrunes++
				i += size
				continue
			}
			if isJoiner(r) && i+size < len(text) {
				if next, _ := utf8.DecodeRuneInString(text[i+size:]); isDigitLike(next) {
					t.pure = false
					t.nrunes++
					i += size
					continue
				}
			}
			break
		}
		t.end = i
		if n := len(dst); n > 0 {
			prev := &dst[n-1]
			if r, size := utf8.DecodeRuneInString(text[prev.end:]); prev.end+size == t.start {
				prev.link = linkOf(r)
			}
		}
		dst = append(dst, t)
	}
	return dst
}

// appendDigits appends the values (0-9) of the digits in s to dst, skipping
// separators.
func appendDigits(dst []byte, s string) []byte {
	for _, r := range s {
		if v := digitValue(r); v >= 0 {
			dst = append(dst, byte(v))
		}
	}
	return dst
}

// allSame reports whether every digit is the same: "0000000000000000" passes
// the Luhn check and "1111111111" the national ID checksum, and neither is
// ever a real value, but both are common placeholders.
func allSame(d []byte) bool {
	for _, v := range d {
		if v != d[0] {
			return false
		}
	}
	return true
}

// withinRunes reports whether text[a:b] is at most n characters long.
func withinRunes(text string, a, b, n int) bool {
	if b < a {
		return false
	}
	if b-a <= n {
		return true
	}
	if b-a > utf8.UTFMax*n {
		return false
	}
	return utf8.RuneCountInString(text[a:b]) <= n
}

// tokenAt returns the index of the token that starts at byte pos, or -1.
func (s *scanner) tokenAt(pos int) int {
	k := sort.Search(len(s.toks), func(i int) bool { return s.toks[i].start >= pos })
	if k < len(s.toks) && s.toks[k].start == pos {
		return k
	}
	return -1
}

// maskUnits replaces the value characters of s (digits, and ASCII letters
// too when alnum is set) with the mask rune, except the first head and the
// last tail of them; separators stay.
func maskUnits(s string, head, tail int, alnum bool) string {
	n := 0
	for _, r := range s {
		if isUnit(r, alnum) {
			n++
		}
	}
	b := make([]byte, 0, len(s)+2*n)
	k := 0
	for _, r := range s {
		if isUnit(r, alnum) {
			if k >= head && k < n-tail {
				r = maskRune
			}
			k++
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

func isUnit(r rune, alnum bool) bool {
	if digitValue(r) >= 0 {
		return true
	}
	return alnum && r < utf8.RuneSelf && r|0x20 >= 'a' && r|0x20 <= 'z'
}
