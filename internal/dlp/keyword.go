package dlp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// category is what a keyword announces.
type category uint8

const (
	catCVV category = iota + 1
	catPIN
	catNationalID
	catSheba
)

// A hit is one keyword found in the text.
type hit struct {
	start, end int
	cat        category
}

// keyword is a phrase that announces a value. Its pattern is folded (see
// fold); a space in it matches zero to two separators, so "کد ملی" also
// matches "کدملی", "کد‌ملی" (ZWNJ) and "کد-ملی".
type keyword struct {
	pattern []rune
	cat     category
	latin   bool // ends in a Latin letter: must not run on into a word
	opt2    bool // may be followed by "2" ("cvv2", "cvv ۲", "pin2")
	// notAfter is a word that, right before the keyword, means something
	// else: "Bank Melli" is a bank, not a national ID.
	notAfter string
}

func kw(pattern string, cat category, opt2 bool) keyword {
	p := []rune(pattern)
	last := p[len(p)-1]
	return keyword{pattern: p, cat: cat, opt2: opt2, latin: last < utf8.RuneSelf && unicode.IsLetter(last)}
}

// keywords are the phrases customers use before these values, in Persian,
// English and Finglish. The list is short on purpose: every keyword widens
// what a bare number next to it may be taken for.
var keywords = []keyword{
	kw("cvv", catCVV, true),
	kw("cvc", catCVV, true),
	kw("cid", catCVV, false),
	kw("security code", catCVV, false),
	kw("card verification", catCVV, false),
	kw("کد امنیتی", catCVV, false),
	kw("سی وی وی", catCVV, true),

	kw("pin", catPIN, true),
	kw("پین", catPIN, true),
	kw("رمز دوم", catPIN, false),
	kw("رمز 2", catPIN, false),
	kw("رمز اول", catPIN, false),
	kw("رمز کارت", catPIN, false),
	kw("رمز اینترنتی", catPIN, false),
	kw("رمز پویا", catPIN, false),
	kw("رمز عابر", catPIN, false),

	kw("کد ملی", catNationalID, false),
	kw("شماره ملی", catNationalID, false),
	kw("کارت ملی", catNationalID, false),
	kw("national id", catNationalID, false),
	kw("national code", catNationalID, false),
	kw("national number", catNationalID, false),
	kw("code melli", catNationalID, false),
	kw("code meli", catNationalID, false),
	kw("kode melli", catNationalID, false),
	{pattern: []rune("melli"), cat: catNationalID, latin: true, notAfter: "bank"},
	{pattern: []rune("meli"), cat: catNationalID, latin: true, notAfter: "bank"},

	kw("شبا", catSheba, false),
	kw("sheba", catSheba, false),
	kw("shaba", catSheba, false),
	kw("iban", catSheba, false),
}

// firstRune groups the keywords that start with one rune.
type firstRune struct {
	r  rune
	ks []*keyword
}

// byFirstRune indexes keywords by their first rune, so a word is compared
// only with the keywords that can start it.
var byFirstRune = func() []firstRune {
	var idx []firstRune
next:
	for i := range keywords {
		k := &keywords[i]
		for j := range idx {
			if idx[j].r == k.pattern[0] {
				idx[j].ks = append(idx[j].ks, k)
				continue next
			}
		}
		idx = append(idx, firstRune{r: k.pattern[0], ks: []*keyword{k}})
	}
	return idx
}()

// keywordStart tells, for each byte, whether a keyword can start there:
// for ASCII, the keyword's first letter in either case; for a two-byte
// Persian letter, a bit per possible second byte (0x80-0xBF) under the lead
// byte, set for the keyword's first letter and the Arabic letters that fold
// to it. Most bytes of a text fail this test, which is all the keyword
// search costs them.
var keywordStart = func() (t [256]uint64) {
	set := func(r rune) {
		var b [utf8.UTFMax]byte
		if n := utf8.EncodeRune(b[:], r); n == 1 {
			t[b[0]] = 1
			t[b[0]&^0x20] = 1
		} else {
			t[b[0]] |= 1 << (b[1] - 0x80)
		}
	}
	for _, f := range byFirstRune {
		set(f.r)
	}
	for _, r := range "يىك" {
		set(r)
	}
	return t
}()

// mayStartKeyword applies keywordStart to the character at i.
func mayStartKeyword(text string, i int) bool {
	c := text[i]
	if c < utf8.RuneSelf {
		return keywordStart[c] != 0
	}
	return keywordStart[c] != 0 && i+1 < len(text) && text[i+1] >= 0x80 && keywordStart[c]&(1<<(text[i+1]-0x80)) != 0
}

func keywordsStartingWith(r rune) []*keyword {
	for _, f := range byFirstRune {
		if f.r == r {
			return f.ks
		}
	}
	return nil
}

// fold maps the variants a keyword may be typed with to one form: ASCII
// upper case to lower, Arabic ي/ى/ك to Persian ی/ک, digits to ASCII.
func fold(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	switch r {
	case 'ي', 'ى':
		return 'ی'
	case 'ك':
		return 'ک'
	}
	if v := digitValue(r); v >= 0 {
		return '0' + rune(v)
	}
	return r
}

// isKeywordSep reports what may stand between the words of a keyword.
func isKeywordSep(r rune) bool {
	return r == ' ' || r == '\u200c' || r == '\u00a0' || r == '-' || r == '_'
}

// persianSuffixes are the endings that may follow a Persian keyword in the
// same word ("کد ملیم", "رمز دومش"): possessives and the spoken "is".
// Anything else means another word: "شبانه" (nightly) is not "شبا".
var persianSuffixes = []string{"م", "ت", "ش", "ی", "ه", "ام", "ات", "اش", "مان", "تان", "شان"}

// afterLetter reports whether the character before i is a letter: then i
// is inside a word, where no keyword starts.
func afterLetter(text string, i int) bool {
	if c := text[i-1]; c < utf8.RuneSelf {
		return isLetter(rune(c))
	}
	last, _ := utf8.DecodeLastRuneInString(text[:i])
	return isLetter(last)
}

// findKeywords appends every keyword hit in text to dst, in order. A
// keyword starts a word; at one position the longest keyword wins.
func findKeywords(text string, dst []hit) []hit {
	for i := 0; i < len(text); i++ {
		if !mayStartKeyword(text, i) {
			if c := text[i]; c >= 0xc0 && c < 0xe0 && i+1 < len(text) && text[i+1]&0xc0 == 0x80 {
				i++ // skip the second byte of a Persian letter too
			}
			continue
		}
		if i > 0 && afterLetter(text, i) {
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		ks := keywordsStartingWith(fold(r))
		if ks == nil {
			continue
		}
		// Most words fail on their second letter: read it once.
		var second rune
		if i+size < len(text) {
			r, _ := utf8.DecodeRuneInString(text[i+size:])
			second = fold(r)
		}
		best := -1
		var cat category
		for _, k := range ks {
			if len(k.pattern) > 1 && k.pattern[1] != ' ' && k.pattern[1] != second {
				continue
			}
			if end, ok := k.match(text, i); ok && end > best {
				best, cat = end, k.cat
			}
		}
		if best > 0 {
			dst = append(dst, hit{start: i, end: best, cat: cat})
			i = best - 1
		}
	}
	return dst
}

// match reports whether k starts at pos, and where it ends.
func (k *keyword) match(text string, pos int) (int, bool) {
	i := pos
	for _, p := range k.pattern {
		if p == ' ' {
			i = skipSeps(text, i, 2)
			continue
		}
		if i >= len(text) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if fold(r) != p {
			return 0, false
		}
		i += size
	}
	if k.opt2 {
		i = skipTwo(text, i)
	}
	if k.notAfter != "" && precededBy(text, pos, k.notAfter) {
		return 0, false
	}
	if !k.endsWord(text, i) {
		return 0, false
	}
	return i, true
}

// skipSeps skips at most max keyword separators from i.
func skipSeps(text string, i, max int) int {
	for n := 0; n < max && i < len(text); n++ {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isKeywordSep(r) {
			break
		}
		i += size
	}
	return i
}

// skipTwo skips a "2" after a keyword ("cvv2", "cvv ۲", "cvv-2"), unless it
// starts a longer number ("cvv 215" is the code 215).
func skipTwo(text string, i int) int {
	j := skipSeps(text, i, 1)
	if j >= len(text) {
		return i
	}
	r, size := utf8.DecodeRuneInString(text[j:])
	if digitValue(r) != 2 {
		return i
	}
	if next, _ := utf8.DecodeRuneInString(text[j+size:]); j+size < len(text) && isDigitLike(next) {
		return i
	}
	return j + size
}

// precededBy reports whether word (ASCII), followed by at most one
// separator, ends right before pos.
func precededBy(text string, pos int, word string) bool {
	j := pos
	if j > 0 && isKeywordSep(rune(text[j-1])) {
		j--
	}
	return j >= len(word) && strings.EqualFold(text[j-len(word):j], word)
}

// endsWord reports whether a keyword ending at i is a whole word: not the
// start of a longer Latin word ("pinned", "cider"), nor of a longer Persian
// one, bar a possessive suffix. A keyword ending in a digit must not run on
// into a number.
func (k *keyword) endsWord(text string, i int) bool {
	if i >= len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	if last, _ := utf8.DecodeLastRuneInString(text[:i]); digitValue(last) >= 0 && isDigitLike(r) {
		return false
	}
	if !unicode.IsLetter(r) {
		return true
	}
	if k.latin {
		return !isGlue(r)
	}
	if !unicode.Is(unicode.Arabic, r) {
		return true // a Latin word after a Persian one: "شباIR06..."
	}
	j := i
	for n := 0; j < len(text) && n < 4; n++ {
		r, size := utf8.DecodeRuneInString(text[j:])
		if !unicode.IsLetter(r) {
			break
		}
		j += size
	}
	suffix := text[i:j]
	for _, s := range persianSuffixes {
		if suffix == s {
			return true
		}
	}
	return false
}
