package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// commonGz is zxcvbn's list of the most common passwords, most common
// first, one a line; data/SOURCE.md says where it comes from and how
// gen_common.go rebuilds it.
//
//go:embed data/common.txt.gz
var commonGz []byte

// persianTxt adds common Persian passwords, which the English-language
// list lacks.
//
//go:embed data/persian.txt
var persianTxt string

type source uint8

const (
	fromList source = 1 + iota
	fromPersian
)

type wordlist struct {
	words    map[string]source
	listSize int // entries from the zxcvbn list
	maxLen   int // longest entry, in bytes
}

// blocklist loads the lists once, on first use. The data is compiled in,
// so failing to read it is a build defect, not a runtime condition.
var blocklist = sync.OnceValue(func() *wordlist {
	wl := &wordlist{words: make(map[string]source, 50000)}
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("password: embedded common-password list: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		wl.add(sc.Text(), fromList)
	}
	if err := sc.Err(); err != nil {
		panic("password: embedded common-password list: " + err.Error())
	}
	for _, line := range strings.Split(persianTxt, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			wl.add(line, fromPersian)
		}
	}
	return wl
})

func (wl *wordlist) add(w string, src source) {
	w = fold(w)
	if w == "" || wl.words[w] != 0 {
		return
	}
	wl.words[w] = src
	if src == fromList {
		wl.listSize++
	}
	wl.maxLen = max(wl.maxLen, len(w))
}

// ListSize is the number of entries in the common-password list (not
// counting the Persian additions).
func ListSize() int { return blocklist().listSize }

// IsCommon reports whether pw is a common password: on the list, or a
// listed password with digits or symbols added, letters swapped for
// look-alikes (p@ssw0rd), written backwards, or typed with the Persian
// keyboard layout active. Case and Unicode forms do not matter.
// Repetitive passwords ("aaaaaaaaaaaa") are Policy.Check's other test.
func IsCommon(pw string) bool {
	return commonReason(forms(pw)) != ""
}

// form is one reading of a password that the blocklist is tried on.
type form struct {
	s     string
	typed bool // mapped from the Persian keyboard layout
}

// forms returns the readings of pw to test: folded, without separators,
// and as typed on a US layout when it has Persian letters.
func forms(pw string) []form {
	base := fold(pw)
	out := []form{{s: base}}
	if d := dropSeparators(base); d != base && d != "" {
		out = append(out, form{s: d})
	}
	if l, ok := latinLayout(pw); ok {
		lf := fold(l)
		out = append(out, form{s: lf, typed: true})
		if d := dropSeparators(lf); d != lf && d != "" {
			out = append(out, form{s: d, typed: true})
		}
	}
	return out
}

// commonReason returns why one of the forms is a common password, or "".
func commonReason(fs []form) string {
	if why := listedReason(fs); why != "" {
		return why
	}
	return variantReason(fs)
}

// listedReason returns why one of the forms is on a list as it stands.
func listedReason(fs []form) string {
	wl := blocklist()
	for _, f := range fs {
		why := ""
		switch wl.words[f.s] {
		case fromList:
			why = fmt.Sprintf("is one of the %s most common passwords", thousands(wl.listSize))
		case fromPersian:
			why = "is a common Persian password"
		}
		if why != "" {
			return typedNote(why, f)
		}
	}
	return ""
}

// variantReason returns why one of the forms is a listed password altered
// the way cracking rules alter them.
func variantReason(fs []form) string {
	wl := blocklist()
	for _, f := range fs {
		if why := wl.variant(f.s); why != "" {
			return typedNote(why, f)
		}
	}
	return ""
}

func typedNote(why string, f form) string {
	if f.typed {
		return why + " (typed with the Persian keyboard layout)"
	}
	return why
}

func (wl *wordlist) variant(s string) string {
	if r := reverse(s); utf8.RuneCountInString(r) >= 4 && wl.words[r] != 0 {
		return "is a common password written backwards"
	}
	switch wl.affixed(s) {
	case affixed:
		return "is a common password with a few characters added"
	case leet:
		return "is a common password with letters swapped for look-alike digits or symbols"
	}
	return ""
}

type affixKind int

const (
	noAffix affixKind = iota
	affixed
	leet
)

// affixed looks for a listed password M inside s = P+M+S. It counts when
// P and S are trivial (empty, a digit or two, a run like "123" or "!!!",
// a year, a listed number), or when M has at least four letters and P and
// S hold no letters at all: "password8361" is still "password" plus
// digits, the first rule an attacker's cracking rules try.
func (wl *wordlist) affixed(s string) affixKind {
	hasLetters := strings.IndexFunc(s, unicode.IsLetter) >= 0
	firstLetter := strings.IndexFunc(s, unicode.IsLetter)
	lastLetter := strings.LastIndexFunc(s, unicode.IsLetter)
	if hasLetters {
		_, n := utf8.DecodeRuneInString(s[lastLetter:])
		lastLetter += n
	}
	for i := 0; i < len(s); {
		for j := i + 1; j <= len(s) && j-i <= wl.maxLen; j++ {
			if !utf8.RuneStart(byteAt(s, j)) {
				continue
			}
			kind := noAffix
			m := s[i:j]
			if wl.words[m] != 0 {
				kind = affixed
			} else if hasLetters && wl.leetListed(m) {
				kind = leet
			}
			if kind == noAffix || (i == 0 && j == len(s) && kind == affixed) {
				continue
			}
			p, x := s[:i], s[j:]
			lettersOnlyInM := hasLetters && i <= firstLetter && j >= lastLetter
			if (lettersOnlyInM && letterCount(m) >= 4) || (wl.trivialAffix(p) && wl.trivialAffix(x)) {
				return kind
			}
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return noAffix
}

// byteAt is s[i], or a rune start at the end of s.
func byteAt(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

func letterCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// leetSubs are the look-alike swaps cracking rules undo; '1' and '!' can
// stand for i or l, so both readings are tried, and symbols alone for
// passwords that have digits of their own ("@bc123").
var leetSubs = [3]map[rune]rune{
	{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i', '|': 'l', '+': 't'},
	{'0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'l', '|': 'i', '+': 't'},
	{'@': 'a', '$': 's', '!': 'i', '|': 'l', '+': 't'},
}

// leetListed reports whether m, with look-alikes read as letters, is
// listed. m must have a letter of its own, so that "1234" is not "iiea".
func (wl *wordlist) leetListed(m string) bool {
	if strings.IndexFunc(m, unicode.IsLetter) < 0 || !strings.ContainsAny(m, "013457@$!|+") {
		return false
	}
	for _, subs := range leetSubs {
		if wl.words[strings.Map(func(r rune) rune {
			if l, ok := subs[r]; ok {
				return l
			}
			return r
		}, m)] != 0 {
			return true
		}
	}
	return false
}

// trivialAffix reports whether x adds next to nothing to a password: empty,
// a digit or symbol or two, a run, a repeat, a year, or a listed string of
// digits and symbols ("123", "!!!", "2024", "1987", "!@#$").
func (wl *wordlist) trivialAffix(x string) bool {
	n := utf8.RuneCountInString(x)
	if n <= 1 {
		return true
	}
	if strings.IndexFunc(x, unicode.IsLetter) >= 0 {
		// Letters only as a longer pattern ("qwerty", "aaaa"): three
		// letters are too often a word ("aim", "def").
		return n >= 4 && simple([]rune(x))
	}
	// Digits and symbols: look at the digits, allowing two symbols ("123!").
	var digits []rune
	syms := 0
	for _, r := range x {
		if unicode.IsDigit(r) {
			digits = append(digits, r)
		} else {
			syms++
		}
	}
	if syms > 2 {
		return simple([]rune(x)) || wl.words[x] != 0
	}
	d := string(digits)
	return len(digits) <= 2 || isYear(d) || wl.words[d] != 0 || simple(digits)
}

func isYear(d string) bool {
	return len(d) == 4 && (strings.HasPrefix(d, "19") || strings.HasPrefix(d, "20"))
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
