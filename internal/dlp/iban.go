package dlp

import "unicode/utf8"

// ibanLengths is the length of an IBAN in each country of the ISO 13616
// registry. A known country's IBAN must have exactly its length; any other
// pair of capital letters is allowed 15 to 34 characters.
var ibanLengths = map[[2]byte]int{
	{'A', 'D'}: 24, {'A', 'E'}: 23, {'A', 'L'}: 28, {'A', 'T'}: 20, {'A', 'Z'}: 28,
	{'B', 'A'}: 20, {'B', 'E'}: 16, {'B', 'G'}: 22, {'B', 'H'}: 22, {'B', 'R'}: 29,
	{'B', 'Y'}: 28, {'C', 'H'}: 21, {'C', 'R'}: 22, {'C', 'Y'}: 28, {'C', 'Z'}: 24,
	{'D', 'E'}: 22, {'D', 'K'}: 18, {'D', 'O'}: 28, {'E', 'E'}: 20, {'E', 'G'}: 29,
	{'E', 'S'}: 24, {'F', 'I'}: 18, {'F', 'O'}: 18, {'F', 'R'}: 27, {'G', 'B'}: 22,
	{'G', 'E'}: 22, {'G', 'I'}: 23, {'G', 'L'}: 18, {'G', 'R'}: 27, {'G', 'T'}: 28,
	{'H', 'R'}: 21, {'H', 'U'}: 28, {'I', 'E'}: 22, {'I', 'L'}: 23, {'I', 'Q'}: 23,
	{'I', 'R'}: 26, {'I', 'S'}: 26, {'I', 'T'}: 27, {'J', 'O'}: 30, {'K', 'W'}: 30,
	{'K', 'Z'}: 20, {'L', 'B'}: 28, {'L', 'C'}: 32, {'L', 'I'}: 21, {'L', 'T'}: 20,
	{'L', 'U'}: 20, {'L', 'V'}: 21, {'L', 'Y'}: 25, {'M', 'C'}: 27, {'M', 'D'}: 24,
	{'M', 'E'}: 22, {'M', 'K'}: 19, {'M', 'R'}: 27, {'M', 'T'}: 31, {'M', 'U'}: 30,
	{'N', 'L'}: 18, {'N', 'O'}: 15, {'P', 'K'}: 24, {'P', 'L'}: 28, {'P', 'S'}: 29,
	{'P', 'T'}: 25, {'Q', 'A'}: 29, {'R', 'O'}: 24, {'R', 'S'}: 22, {'S', 'A'}: 24,
	{'S', 'C'}: 31, {'S', 'D'}: 18, {'S', 'E'}: 24, {'S', 'I'}: 19, {'S', 'K'}: 24,
	{'S', 'M'}: 27, {'S', 'T'}: 25, {'S', 'V'}: 28, {'T', 'L'}: 23, {'T', 'N'}: 24,
	{'T', 'R'}: 26, {'U', 'A'}: 29, {'V', 'A'}: 22, {'V', 'G'}: 24, {'X', 'K'}: 20,
}

// ibanChar is one character of an IBAN after its country code.
type ibanChar struct {
	v   int8 // 0-9 for a digit, 10-35 for a letter
	end int  // byte offset after it
	brk bool // a space follows it: a group ends here
}

// alnumValue is a character's IBAN value: digits (any of the three scripts)
// 0-9, ASCII letters 10-35 either case, otherwise -1.
func alnumValue(r rune) int {
	if v := digitValue(r); v >= 0 {
		return v
	}
	if r < utf8.RuneSelf && r|0x20 >= 'a' && r|0x20 <= 'z' {
		return int(r|0x20-'a') + 10
	}
	return -1
}

// ibans finds IBANs: two letters, two check digits and the account part,
// written whole or in groups split by single spaces, that pass the ISO 7064
// mod-97 check. Lower case is accepted only for "ir", which Iranian users
// type that way; for other countries "no", "it" or "de" followed by digits
// is too often an ordinary word.
func (s *scanner) ibans() {
	text := s.text
	done := 0 // end of the last IBAN found
	for _, t := range s.toks {
		// The check digits start a token, right after the country code
		// or after the country code and one space.
		i := t.start - 2
		if t.start >= 1 && text[t.start-1] == ' ' {
			i = t.start - 3
		}
		if i < 0 || i < done || !isASCIILetter(text[i]) || !isASCIILetter(text[i+1]) {
			continue
		}
		if i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(text[:i]); isGlue(r) || isDigitLike(r) {
				continue
			}
		}
		if end := s.ibanAt(i); end > 0 {
			s.add(KindIBAN, i, end, 2, 4, true)
			done = end
		}
	}
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// ibanText is what follows a country code: up to 35 characters, read
// across single spaces.
type ibanText struct {
	cc     [2]byte // country code, upper case
	c      [35]ibanChar
	n      int
	tailOK bool // what follows the last character ends the number
}

// ibanAt returns the end of the IBAN whose country code is at i, or 0. A
// known country's IBAN must have exactly its length; for another code the
// longest length from 34 down to 15 that passes the check wins.
func (s *scanner) ibanAt(i int) int {
	text := s.text
	lower := text[i] >= 'a' || text[i+1] >= 'a'
	x := ibanText{cc: [2]byte{text[i] &^ 0x20, text[i+1] &^ 0x20}}
	if lower && x.cc != [2]byte{'I', 'R'} {
		return 0
	}
	if !x.read(text, i+2) {
		return 0
	}
	if want, known := ibanLengths[x.cc]; known {
		return x.endAt(want)
	}
	if lower {
		return 0
	}
	for total := min(x.n+2, 34); total >= 15; total-- {
		if end := x.endAt(total); end > 0 {
			return end
		}
	}
	return 0
}

// read collects the characters from pos on, and reports whether they can
// start an IBAN: two check digits and enough characters after them.
func (x *ibanText) read(text string, pos int) bool {
	if text[pos] == ' ' { // "IR 06 0170 ..."
		pos++
	}
	for pos < len(text) && x.n < len(x.c) {
		r, size := utf8.DecodeRuneInString(text[pos:])
		if v := alnumValue(r); v >= 0 {
			x.c[x.n] = ibanChar{v: int8(v), end: pos + size}
			x.n++
			pos += size
			continue
		}
		if r == ' ' && x.n > 0 && pos+1 < len(text) {
			if next, _ := utf8.DecodeRuneInString(text[pos+1:]); alnumValue(next) >= 0 {
				x.c[x.n-1].brk = true
				pos++
				continue
			}
		}
		break
	}
	if x.n < 13 || x.c[0].v > 9 || x.c[1].v > 9 {
		return false
	}
	last := x.c[x.n-1].end
	x.tailOK = x.n < len(x.c) && !glueAfter(text, last) && !digitLikeAt(text, last)
	return true
}

// endAt returns where an IBAN of total characters (country code included)
// ends, if it ends between two groups or at the end of the number and
// passes the mod-97 check; otherwise 0.
func (x *ibanText) endAt(total int) int {
	k := total - 3 // index of the last character
	if k >= x.n || !(x.c[k].brk || k == x.n-1 && x.tailOK) {
		return 0
	}
	if x.cc == [2]byte{'I', 'R'} {
		for _, ch := range x.c[:k+1] {
			if ch.v > 9 { // Sheba numbers are all digits
				return 0
			}
		}
	}
	if mod97(x.c[2:k+1], x.cc, x.c[0].v, x.c[1].v) != 1 {
		return 0
	}
	return x.c[k].end
}

func digitLikeAt(text string, pos int) bool {
	if pos >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[pos:])
	return isDigitLike(r)
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an IBAN: the account
// part, then the country code, then the check digits, letters as 10-35.
func mod97(bban []ibanChar, cc [2]byte, c0, c1 int8) int {
	rem := 0
	step := func(v int) {
		if v < 10 {
			rem = (rem*10 + v) % 97
		} else {
			rem = (rem*100 + v) % 97
		}
	}
	for _, ch := range bban {
		step(int(ch.v))
	}
	step(int(cc[0]-'A') + 10)
	step(int(cc[1]-'A') + 10)
	step(int(c0))
	step(int(c1))
	return rem
}

// shebas finds Iranian Sheba numbers written without "IR": 24 digits, whole
// or in space-separated groups, right after the word شبا (or sheba, iban).
// Without the word, 24 digits are too often a tracking code, so the word is
// required; with it, the number must still pass the mod-97 check as IR.
func (s *scanner) shebas() {
	t := s.toks
	for _, h := range s.hits {
		if h.cat != catSheba {
			continue
		}
		i := s.tokenAfter(h.end)
		if i < 0 || t[i].start != h.end && glueBefore(s.text, t[i].start) {
			continue
		}
		j, total := i, 0
		for ; j < len(t) && t[j].pure; j++ {
			total += t[j].ndig
			if t[j].link != linkSpace {
				break
			}
		}
		if j == len(t) || !t[j].pure || t[j].link != linkNone || total != 24 || glueAfter(s.text, t[j].end) {
			continue
		}
		s.buf = appendDigits(s.buf[:0], s.text[t[i].start:t[j].end])
		var c [24]ibanChar
		for k, v := range s.buf {
			c[k].v = int8(v)
		}
		if mod97(c[2:], [2]byte{'I', 'R'}, c[0].v, c[1].v) == 1 {
			s.add(KindIBAN, t[i].start, t[j].end, 0, 4, false)
		}
	}
}
