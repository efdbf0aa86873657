package mfa

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Recovery codes are 12 symbols from a 31-symbol alphabet, printed as three
// groups of four ("k7q2-9xm4-pt3c"): 12·log2(31) ≈ 59.4 bits each, enough
// that a keyed hash (no password hash) is fine for storing them, and short
// enough to read over the phone. The alphabet leaves out 0/o, 1/l/i, which
// are mistaken for each other when read aloud or from paper.
const (
	recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	recoveryLength   = 12
	recoveryGroup    = 4

	// DefaultRecoveryCodes is how many codes a user is given at once.
	DefaultRecoveryCodes = 10

	maxRecoveryCodes = 100
)

// RecoveryCodeBits is the entropy of one recovery code, rounded down.
const RecoveryCodeBits = 59

// NewRecoveryCodes returns n distinct, single-use recovery codes formatted
// for display ("k7q2-9xm4-pt3c"). Store NormalizeRecoveryCode(code) hashed,
// never the code itself. n must be between 1 and 100.
func NewRecoveryCodes(n int) ([]string, error) {
	if n < 1 || n > maxRecoveryCodes {
		return nil, fmt.Errorf("mfa: recovery code count %d out of range 1..%d", n, maxRecoveryCodes)
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		code, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		if seen[code] { // 2^-59 odds, but a duplicate would be one code, not two
			continue
		}
		seen[code] = true
		codes = append(codes, formatRecoveryCode(code))
	}
	return codes, nil
}

// newRecoveryCode draws recoveryLength symbols uniformly: a random byte is
// used only below the largest multiple of the alphabet size (248 = 8·31),
// so no symbol is likelier than another.
func newRecoveryCode() (string, error) {
	const limit = 256 - 256%len(recoveryAlphabet)
	out := make([]byte, 0, recoveryLength)
	buf := make([]byte, 2*recoveryLength)
	for len(out) < recoveryLength {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("mfa: generating recovery code: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < recoveryLength {
				out = append(out, recoveryAlphabet[int(b)%len(recoveryAlphabet)])
			}
		}
	}
	return string(out), nil
}

// formatRecoveryCode puts dashes between the groups of a compact code.
func formatRecoveryCode(compact string) string {
	var b strings.Builder
	for i := 0; i < len(compact); i += recoveryGroup {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(compact[i:min(i+recoveryGroup, len(compact))])
	}
	return b.String()
}

// NormalizeRecoveryCode returns the compact form of a recovery code as a user
// typed it, the form to hash and compare: lower case, without dashes or
// spaces, with Persian and Arabic-Indic digits made ASCII. It returns "" when
// s cannot be a recovery code (wrong length, a symbol outside the alphabet),
// so callers can refuse it before any lookup.
func NormalizeRecoveryCode(s string) string {
	if len(s) > 128 { // a code with every separator imaginable is far shorter
		return ""
	}
	out := make([]byte, 0, recoveryLength)
	for _, r := range s {
		if d, ok := asciiDigit(r); ok {
			r = rune(d)
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		switch {
		case r < 0x80 && strings.IndexByte(recoveryAlphabet, byte(r)) >= 0:
			if len(out) == recoveryLength {
				return ""
			}
			out = append(out, byte(r))
		case isDash(r) || isIgnorable(r):
		default:
			return ""
		}
	}
	if len(out) != recoveryLength {
		return ""
	}
	return string(out)
}

// isDash reports the separators a code may be typed or pasted with: the
// ASCII hyphen and underscore, and the Unicode hyphens, dashes and minus
// signs that word processors and phones substitute for a hyphen.
func isDash(r rune) bool {
	switch r {
	case '-', '_', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\ufe63', '\uff0d':
		return true
	}
	return false
}
