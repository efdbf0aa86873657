// Package textnorm normalizes text before it is compared or hashed: email
// addresses for blind indexes, and words (Persian and English) for search.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Email returns the canonical form of an email address for equality: trimmed,
// NFC, lower-cased. It does not validate.
func Email(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

// persianFold maps Arabic letter forms and digits to the Persian forms users
// type, so "علي" and "علی" or "۱۲۳" and "123" compare equal.
var persianFold = map[rune]rune{
	'ي': 'ی', 'ى': 'ی', 'ئ': 'ی',
	'ك': 'ک',
	'ة': 'ه', 'ۀ': 'ه',
	'أ': 'ا', 'إ': 'ا', 'ٱ': 'ا', 'آ': 'ا',
	'ؤ': 'و',
	'۰': '0', '۱': '1', '۲': '2', '۳': '3', '۴': '4', '۵': '5', '۶': '6', '۷': '7', '۸': '8', '۹': '9',
	'٠': '0', '١': '1', '٢': '2', '٣': '3', '٤': '4', '٥': '5', '٦': '6', '٧': '7', '٨': '8', '٩': '9',
}

// isJoinControl reports the invisible characters that Persian text uses
// between parts of one word (ZWNJ, ZWJ) and the Arabic tatweel, plus
// diacritics; they are dropped so "می‌روم" matches "میروم".
func isJoinControl(r rune) bool {
	return r == '\u200c' || r == '\u200d' || r == '\u0640' || r == '\u200f' || r == '\u200e' || unicode.Is(unicode.Mn, r)
}

// Words splits text into normalized search words: NFKC, lower case, Arabic
// forms folded to Persian, digits to ASCII, join controls and diacritics
// removed. Words of one character are dropped, except digits.
func Words(s string) []string {
	s = norm.NFKC.String(s)
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		// Dropping join controls and marks can leave letters that NFKC
		// composes (Hangul jamo): normalize the finished word again so a
		// word's words are the word itself.
		w := norm.NFKC.String(cur.String())
		cur.Reset()
		if len([]rune(w)) < 2 && !(len(w) == 1 && w[0] >= '0' && w[0] <= '9') {
			return
		}
		if len(w) > 64 {
			n := 64
			for n > 0 && !utf8.RuneStart(w[n]) {
				n-- // never cut a letter in half
			}
			w = w[:n]
		}
		words = append(words, w)
	}
	for _, r := range s {
		if isJoinControl(r) {
			continue
		}
		if f, ok := persianFold[r]; ok {
			r = f
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			cur.WriteRune(unicode.ToLower(r))
			continue
		}
		flush()
	}
	flush()
	return words
}

// UniqueWords is Words with duplicates removed, in first-seen order.
func UniqueWords(s string) []string {
	words := Words(s)
	seen := make(map[string]bool, len(words))
	out := words[:0]
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
