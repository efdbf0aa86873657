// Package dlp ("data loss prevention") finds payment-card numbers, card
// security codes and PINs, IBANs and Iranian national IDs in free text such
// as ticket subjects and messages, and masks or redacts them.
//
// It exists for PCI DSS requirement 3: a card number may be shown with at
// most its first 6 and last 4 digits, and a card security code (CVV2) must
// never be stored at all. Customers paste these values into tickets whatever
// the form tells them, in Latin, Persian (۰-۹) or Arabic-Indic (٠-٩) digits,
// so every rule here accepts all three scripts, and masking keeps the digits
// it shows in the script they were typed in.
//
// Detection is rule based and runs in one pass over the text plus a bounded
// amount of work per number, so its cost grows linearly with the text. The
// rules, and why each look-alike (phone numbers, order numbers, dates,
// amounts) is left alone, are in README.md beside this file.
package dlp

import (
	"slices"
	"sort"
	"strings"
)

// Kind names the type of a sensitive value. Its string form is stable: it is
// meant to be stored (in audit entries, in redaction placeholders).
type Kind string

// The kinds of value Scan finds.
const (
	// KindCard is a payment-card number (PAN).
	KindCard Kind = "card"
	// KindCVV is a card security code (CVV2, CVC2, CID); PCI DSS forbids
	// storing it after authorization, so it is always masked entirely.
	KindCVV Kind = "cvv"
	// KindPIN is a card PIN: the ATM PIN or the Iranian "second PIN" (رمز
	// دوم) used for online payments, which works like a password.
	KindPIN Kind = "pin"
	// KindIBAN is an IBAN, including an Iranian Sheba number written
	// without its "IR" prefix.
	KindIBAN Kind = "iban"
	// KindNationalID is an Iranian national ID (کد ملی).
	KindNationalID Kind = "national_id"
)

// maskRune replaces each hidden digit. It is not a digit in any script, so
// masked text never yields a number again, and the scanner treats it as
// part of a number so a masked value is never re-read as a shorter one.
const maskRune = '•'

// Finding is one sensitive value in a text.
type Finding struct {
	// Kind is what the value is.
	Kind Kind
	// Start and End are byte offsets into the scanned text: text[Start:End]
	// is the value as written, separators included.
	Start, End int
	// Masked is what replaces the value: its masked form from Scan and
	// Mask, a placeholder from Redact.
	Masked string
}

// Scan finds every sensitive value in text, ordered by Start and never
// overlapping. Each Finding's Masked is the masked form Mask would use.
func Scan(text string) []Finding {
	s := newScanner(text)
	s.cards()
	s.ibans()
	s.shebas()
	s.secrets()
	s.nationalIDs()
	kept := resolve(s.found)
	if len(kept) == 0 {
		return nil
	}
	found := make([]Finding, len(kept))
	for i, c := range kept {
		found[i] = c.Finding
		found[i].Masked = maskUnits(text[c.Start:c.End], c.head, c.tail, c.alnum)
	}
	return found
}

// Mask returns text with every finding replaced by its masked form, and the
// findings:
//
//   - card: the first 6 and last 4 digits stay (the first 4 of a card
//     shorter than 16 digits, where 6+4 would hide as few as 3), every other
//     digit becomes '•', separators stay where they were: "6037 99•• ••••
//     1234". Digits stay in the script they were written in.
//   - cvv and pin: every digit becomes '•'; nothing of a secret is kept.
//   - iban: the country code and the last 4 characters stay: "IR•• ••••
//     ... 1234".
//   - national_id: the last 3 digits stay, enough for an agent to tell two
//     customers' IDs apart but not to rebuild one.
//
// Each value keeps its length in characters, so masked text lines up with
// the original and masking it again changes nothing: Mask(Mask(x)) equals
// Mask(x).
func Mask(text string) (masked string, findings []Finding) {
	findings = Scan(text)
	return replace(text, findings), findings
}

// Redact is Mask for permanent redaction: each finding becomes a neutral,
// language-independent placeholder such as "[REDACTED:card]" that keeps
// nothing of the value, and the returned findings carry that placeholder as
// their Masked.
func Redact(text string) (string, []Finding) {
	findings := Scan(text)
	for i := range findings {
		findings[i].Masked = Placeholder(findings[i].Kind)
	}
	return replace(text, findings), findings
}

// Placeholder is the text Redact puts in place of a value of kind k.
func Placeholder(k Kind) string {
	return "[REDACTED:" + string(k) + "]"
}

// replace copies text with each finding's span replaced by its Masked.
func replace(text string, findings []Finding) string {
	if len(findings) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 16*len(findings))
	last := 0
	for _, f := range findings {
		b.WriteString(text[last:f.Start])
		b.WriteString(f.Masked)
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// priority orders kinds when two rules claim overlapping text: the rule
// with the stronger evidence (a checksum over more digits) wins.
func priority(k Kind) int {
	switch k {
	case KindCard:
		return 0
	case KindIBAN:
		return 1
	case KindCVV:
		return 2
	case KindPIN:
		return 3
	default:
		return 4
	}
}

// resolve drops candidates that overlap a candidate of higher priority (or
// an earlier one of the same priority) and returns the rest ordered by
// Start. It is O(n log n) so a text full of numbers stays cheap.
func resolve(cands []candidate) []candidate {
	if len(cands) < 2 {
		return cands
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if pa, pb := priority(a.Kind), priority(b.Kind); pa != pb {
			return pa - pb
		}
		return a.Start - b.Start
	})
	kept := make([]candidate, 0, len(cands))
	for _, c := range cands {
		// kept is sorted and non-overlapping, so only the last finding
		// that starts before c ends can overlap it.
		k := sort.Search(len(kept), func(i int) bool { return kept[i].Start >= c.End })
		if k > 0 && kept[k-1].End > c.Start {
			continue
		}
		kept = append(kept, candidate{})
		copy(kept[k+1:], kept[k:])
		kept[k] = c
	}
	return kept
}
