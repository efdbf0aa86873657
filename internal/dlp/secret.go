package dlp

import "unicode/utf8"

const (
	// keywordGap is how far, in characters, a value may follow its keyword:
	// room for "cvv2 of my card is 123" or "کد امنیتی کارتم: ۱۲۳".
	keywordGap = 20
	// expiryGap is how far, in characters, an expiry date and a CVV may be
	// from the card and from each other: "6037... exp 05/27 cvv 123".
	expiryGap = 30
)

// secrets finds card security codes and PINs. PCI DSS forbids storing a
// CVV at all, so the rules lean to masking:
//
//   - after a CVV keyword (cvv, cvv2, cvc, cid, security code, کد امنیتی,
//     سی وی وی ۲), a number of 3 or 4 digits is a CVV, with or without a card
//     in the text: a customer often sends the card in one message and the
//     code in the next.
//   - after a PIN keyword (pin, رمز دوم, رمز اینترنتی, رمز کارت, ...), a
//     number of 4 to 12 digits is a PIN: 4 for the ATM PIN, 5 to 12 for the
//     second PIN, which works like a password.
//   - with no keyword, a number of 3 or 4 digits is a CVV when it comes
//     right after a card together with an expiry date, in either order:
//     "6037 9912 3456 7893 05/27 123".
//
// The value must stand alone: a number that continues in another group
// ("cvv 0912 123 4567") is not a code, except when that group is an expiry
// date.
func (s *scanner) secrets() {
	for _, h := range s.hits {
		kind, lo, hi := KindCVV, 3, 4
		switch h.cat {
		case catCVV:
		case catPIN:
			kind, lo, hi = KindPIN, 4, 12
		default:
			continue
		}
		if i := s.tokenAfter(h.end); i >= 0 && s.secretShape(i, lo, hi, h.end) {
			s.addSecret(kind, i)
		}
	}
	for _, j := range s.cardLast {
		s.cvvNearExpiry(j)
	}
}

func (s *scanner) addSecret(k Kind, i int) {
	t := s.toks[i]
	s.add(k, t.start, t.end, 0, 0, false)
}

// tokenAfter returns the first token after a keyword that ends at pos, if
// only a few characters of filler stand between them, none of them the end
// of a sentence or clause; otherwise -1.
func (s *scanner) tokenAfter(pos int) int {
	for n, i := 0, pos; i < len(s.text) && n <= keywordGap; n++ {
		r, size := utf8.DecodeRuneInString(s.text[i:])
		if isDigitLike(r) {
			return s.tokenAt(i)
		}
		switch r {
		case '.', '!', '?', '؟', ';', '؛', '،', ',':
			return -1
		}
		i += size
	}
	return -1
}

// secretShape reports whether token i can be a CVV or PIN of lo to hi
// digits. Its value starts after byte from (the keyword, the card or the
// expiry date before it): a group linked to it from there on means a longer
// number, and so does a group after it, unless that is an expiry date.
func (s *scanner) secretShape(i, lo, hi, from int) bool {
	t := s.toks
	if !t[i].pure || t[i].ndig < lo || t[i].ndig > hi {
		return false
	}
	if t[i].start != from && glueBefore(s.text, t[i].start) || glueAfter(s.text, t[i].end) {
		return false
	}
	if i > 0 && t[i-1].link != linkNone && t[i-1].end > from && !s.isExpiry(i-1) {
		return false
	}
	if t[i].link != linkNone && (i+1 == len(t) || !s.isExpiry(i+1)) {
		return false
	}
	return true
}

// cvvNearExpiry applies the keyword-less rule to the two tokens after the
// card that ends with token j.
func (s *scanner) cvvNearExpiry(j int) {
	t := s.toks
	if j+2 >= len(t) {
		return
	}
	if !withinRunes(s.text, t[j].end, t[j+1].start, expiryGap) ||
		!withinRunes(s.text, t[j+1].end, t[j+2].start, expiryGap) {
		return
	}
	switch {
	case s.isExpiry(j+1) && s.secretShape(j+2, 3, 4, t[j+1].end):
		s.addSecret(KindCVV, j+2)
	case s.isExpiry(j+2) && s.secretShape(j+1, 3, 4, t[j].end):
		s.addSecret(KindCVV, j+1)
	}
}

// isExpiry reports whether token i is a card expiry date: MM/YY, MM/YYYY,
// YY/MM or YYYY/MM (Iranian cards print the Solar Hijri year first:
// 1405/03). A full date such as 1402/05/12 is not one.
func (s *scanner) isExpiry(i int) bool {
	t := s.toks[i]
	if t.pure || t.nrunes > 7 {
		return false
	}
	var n, v [2]int
	p := 0
	for _, r := range s.text[t.start:t.end] {
		if r == '/' {
			if p++; p > 1 {
				return false
			}
			continue
		}
		d := digitValue(r)
		if d < 0 {
			return false
		}
		n[p]++
		v[p] = v[p]*10 + d
	}
	if p != 1 {
		return false
	}
	month := func(m int) bool { return m >= 1 && m <= 12 }
	switch {
	case n[0] <= 2 && n[1] == 2:
		return month(v[0]) || n[0] == 2 && month(v[1])
	case n[0] <= 2 && n[1] == 4:
		return month(v[0])
	case n[0] == 4 && n[1] <= 2:
		return month(v[1])
	}
	return false
}
