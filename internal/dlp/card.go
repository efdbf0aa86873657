package dlp

import "sort"

// scanner holds one text's tokens and keyword hits while the rules run.
type scanner struct {
	text     string
	toks     []token
	hits     []hit
	cardLast []int // the last token of each card found, for the expiry rule
	found    []candidate
	buf      []byte // digit values of the candidate being checked
}

func newScanner(text string) *scanner {
	s := &scanner{text: text}
	s.toks = tokenize(text, make([]token, 0, 8+len(text)/16))
	s.hits = findKeywords(text, nil)
	return s
}

// candidate is a finding before overlaps are resolved. Its masked form is
// built only once it is kept: it keeps head value characters at the start
// and tail at the end.
type candidate struct {
	Finding
	head, tail int
	alnum      bool // ASCII letters are value characters too (IBAN)
}

func (s *scanner) add(k Kind, start, end, head, tail int, alnum bool) {
	s.found = append(s.found, candidate{Finding{Kind: k, Start: start, End: end}, head, tail, alnum})
}

// cards finds card numbers. A card is 13 to 19 digits in one token or in a
// chain of tokens grouped the way cards are printed, and passes the Luhn
// check; a 16-digit number needs nothing more, other lengths must also
// start like a card brand of that length.
func (s *scanner) cards() {
	for a := 0; a < len(s.toks); {
		b := a
		for b+1 < len(s.toks) && s.toks[b].link != linkNone {
			b++
		}
		for i := a; i <= b; {
			if j := s.cardFrom(i, a, b); j >= i {
				i = j + 1
			} else {
				i++
			}
		}
		a = b + 1
	}
	s.cardCopies()
}

// cardCopies masks every other copy of a card number found in the text,
// whatever stands around it: once "4111111111111111" is known to be a card,
// "ref4111111111111111" or "411111111111111 1" gives it away too. A copy is
// a token, or tokens linked by single separators, with the same digits.
func (s *scanner) cardCopies() {
	cards := s.found // only cards so far, in order
	if len(cards) == 0 {
		return
	}
	known := make(map[string]bool, len(cards))
	var lengths uint32 // bit n set: a card of n digits was found
	for _, f := range cards {
		d := appendDigits(nil, s.text[f.Start:f.End])
		known[string(d)] = true
		lengths |= 1 << len(d)
	}
	t := s.toks
	for i := range t {
		total := 0
		for j := i; j < len(t) && t[j].pure; j++ {
			if total += t[j].ndig; total > 19 {
				break
			}
			if lengths&(1<<total) != 0 && !overlaps(cards, t[i].start, t[j].end) {
				s.buf = appendDigits(s.buf[:0], s.text[t[i].start:t[j].end])
				if known[string(s.buf)] {
					s.add(KindCard, t[i].start, t[j].end, cardHead(total), 4, false)
				}
			}
			if t[j].link == linkNone {
				break
			}
		}
	}
}

// overlaps reports whether [start, end) overlaps one of the findings,
// which are sorted and do not overlap each other.
func overlaps(found []candidate, start, end int) bool {
	k := sort.Search(len(found), func(i int) bool { return found[i].Start >= end })
	return k > 0 && found[k-1].End > start
}

// cardFrom tries the longest card that starts at token i of the chain a..b
// and returns its last token, or -1.
func (s *scanner) cardFrom(i, a, b int) int {
	var ends [19]int
	n, total := 0, 0
	for j := i; j <= b && s.toks[j].pure; j++ {
		total += s.toks[j].ndig
		if total > 19 {
			break
		}
		if total >= 13 {
			ends[n] = j
			n++
		}
	}
	for k := n - 1; k >= 0; k-- {
		if j := ends[k]; s.isCard(i, j, a, b) {
			t := s.toks
			s.add(KindCard, t[i].start, t[j].end, cardHead(len(s.buf)), 4, false)
			s.cardLast = append(s.cardLast, j)
			return j
		}
	}
	return -1
}

// isCard reports whether tokens i..j of the chain a..b are a card number.
// Only part of a chain may be a card when the rest is set apart by a space
// and cannot be another group of the same card: "2 6037991234567893" holds a
// card, "1234 5678 9012 3456 7890" (a 20-digit code) does not.
func (s *scanner) isCard(i, j, a, b int) bool {
	t := s.toks
	grouped := j > i
	if grouped && !cardGroups(t[i:j+1]) {
		return false
	}
	if i > a {
		if t[i-1].link != linkSpace || grouped && t[i-1].nrunes == 4 {
			return false
		}
	} else if glueBefore(s.text, t[i].start) {
		return false
	}
	if j < b {
		if t[j].link != linkSpace || grouped && t[j+1].nrunes == 4 {
			return false
		}
	} else if glueAfter(s.text, t[j].end) {
		return false
	}
	s.buf = appendDigits(s.buf[:0], s.text[t[i].start:t[j].end])
	return !allSame(s.buf) && plausibleIIN(s.buf) && luhn(s.buf)
}

// cardGroups reports whether the groups look like a printed card number:
// one separator throughout, and groups of 4 (the last one shorter for 13-,
// 14-, 15- and 19-digit cards), or 4-6-5 and 4-6-4 (American Express,
// Diners Club). Phone numbers (4-3-4, 3-3-4) and dates fail here.
func cardGroups(g []token) bool {
	last := len(g) - 1
	for _, t := range g[:last] {
		if t.link != g[0].link {
			return false
		}
	}
	fours := true
	for _, t := range g[:last] {
		if t.ndig != 4 {
			fours = false
		}
	}
	if fours && g[last].ndig <= 4 {
		return true
	}
	return len(g) == 3 && g[0].ndig == 4 && g[1].ndig == 6 && (g[2].ndig == 5 || g[2].ndig == 4)
}

// plausibleIIN reports whether a number of this length can be a card from
// its first digits. Every 16-digit number can: all Iranian cards (Shetab)
// have 16 digits and new IINs keep appearing. Other lengths are rare and
// share their length with bill IDs, timestamps and order numbers, so they
// must match a brand that issues that length.
func plausibleIIN(d []byte) bool {
	switch len(d) {
	case 16:
		return true
	case 13: // old Visa
		return d[0] == 4
	case 14: // Diners Club
		return d[0] == 3 && (d[1] == 6 || d[1] == 8 || d[1] == 0 && d[2] <= 5)
	case 15: // American Express
		return d[0] == 3 && (d[1] == 4 || d[1] == 7)
	default: // 17-19: Visa, Maestro, UnionPay, Discover, JCB, Mir
		return d[0] == 4 || d[0] == 5 || d[0] == 6 || d[0] == 3 && d[1] == 5 || d[0] == 2 && d[1] == 2 && d[2] == 0
	}
}

// luhn reports whether digit values pass the Luhn (mod 10) check.
func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// cardHead is how many leading digits of an n-digit card stay visible:
// the first 6, as PCI DSS allows at most, but only 4 for a card shorter
// than 16 digits, where 6+4 of a 13-digit card would leave 3 digits hidden
// and one of them fixed by the Luhn check. The last 4 always stay.
func cardHead(n int) int {
	if n < 16 {
		return 4
	}
	return 6
}
