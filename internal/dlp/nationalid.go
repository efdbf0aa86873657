package dlp

import "sort"

// idKeywordWindow is how far, in characters, a national ID may be from its
// keyword: "کد ملی اینجانب علی رضایی: ۰۰۱۲۳۴۵۶۷۹" still counts.
const idKeywordWindow = 30

// nationalIDs finds Iranian national IDs: 10 digits that pass the official
// checksum, and either
//
//   - are written as on the ID card, ddd-dddddd-d, or
//   - stand within idKeywordWindow characters of a national ID keyword (کد
//     ملی, شماره ملی, national id, code melli, ...), with no other kind of
//     keyword nearer to them.
//
// A bare 10-digit number is not enough: the checksum passes one number in
// about eleven, and 10-digit phone numbers without the leading 0, order
// numbers and account numbers are everywhere in support tickets.
func (s *scanner) nationalIDs() {
	t := s.toks
	for i := range t {
		if t[i].pure && t[i].ndig == 10 && s.idByKeyword(i) {
			s.addID(i, i)
		} else if s.idFormatted(i) {
			s.addID(i, i+2)
		}
	}
}

func (s *scanner) addID(i, j int) {
	s.add(KindNationalID, s.toks[i].start, s.toks[j].end, 0, 3, false)
}

// idByKeyword applies the keyword rule to the 10-digit token i.
func (s *scanner) idByKeyword(i int) bool {
	t := s.toks
	if i > 0 && t[i-1].link == linkDash || t[i].link == linkDash {
		return false
	}
	if glueBefore(s.text, t[i].start) || glueAfter(s.text, t[i].end) {
		return false
	}
	s.buf = appendDigits(s.buf[:0], s.text[t[i].start:t[i].end])
	return validNationalID(s.buf) && s.nearIDKeyword(t[i].start, t[i].end)
}

// idFormatted reports whether tokens i..i+2 are a whole chain ddd-dddddd-d
// holding a valid national ID.
func (s *scanner) idFormatted(i int) bool {
	t := s.toks
	if i+2 >= len(t) || i > 0 && t[i-1].link != linkNone {
		return false
	}
	a, b, c := t[i], t[i+1], t[i+2]
	if !a.pure || !b.pure || !c.pure || a.ndig != 3 || b.ndig != 6 || c.ndig != 1 {
		return false
	}
	if a.link != linkDash || b.link != linkDash || c.link != linkNone {
		return false
	}
	if glueBefore(s.text, a.start) || glueAfter(s.text, c.end) {
		return false
	}
	s.buf = appendDigits(s.buf[:0], s.text[a.start:c.end])
	return validNationalID(s.buf)
}

// nearIDKeyword reports whether the keyword nearest to text[start:end],
// before or after it, is a national ID keyword within idKeywordWindow.
// Taking the nearest keyword of any kind keeps "کد ملی ... رمز دوم
// ۱۲۳۴۵۶۷۸۹۰" a PIN.
func (s *scanner) nearIDKeyword(start, end int) bool {
	h := s.hits
	k := sort.Search(len(h), func(i int) bool { return h[i].start >= end })
	if k > 0 && h[k-1].end <= start && h[k-1].cat == catNationalID &&
		withinRunes(s.text, h[k-1].end, start, idKeywordWindow) {
		return true
	}
	return k < len(h) && h[k].cat == catNationalID && withinRunes(s.text, end, h[k].start, idKeywordWindow)
}

// validNationalID checks the national ID checksum: with r the sum of
// digit[i]*(10-i) over the first nine digits, mod 11, the last digit is r
// when r < 2 and 11-r otherwise. Numbers of one repeated digit pass it and
// are rejected: they are placeholders, never issued.
func validNationalID(d []byte) bool {
	if len(d) != 10 || allSame(d) {
		return false
	}
	sum := 0
	for i, v := range d[:9] {
		sum += int(v) * (10 - i)
	}
	r, check := sum%11, int(d[9])
	if r < 2 {
		return check == r
	}
	return check == 11-r
}
