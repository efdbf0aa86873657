package mfa

import (
	"math"
	"regexp"
	"strings"
	"testing"
)

var recoveryFormat = regexp.MustCompile(`^[23456789abcdefghjkmnpqrstuvwxyz]{4}-[23456789abcdefghjkmnpqrstuvwxyz]{4}-[23456789abcdefghjkmnpqrstuvwxyz]{4}$`)

func TestRecoveryCodesAreDistinctReadableAndStrong(t *testing.T) {
	codes, err := NewRecoveryCodes(DefaultRecoveryCodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("got %d codes, want 10", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryFormat.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx from the unambiguous alphabet", c)
		}
		if seen[c] {
			t.Errorf("code %q given twice", c)
		}
		seen[c] = true
		if strings.ContainsAny(c, "01ilo") {
			t.Errorf("code %q has an ambiguous symbol", c)
		}
	}
	bits := float64(recoveryLength) * math.Log2(float64(len(recoveryAlphabet)))
	if bits < 50 || int(bits) != RecoveryCodeBits {
		t.Fatalf("a code carries %.1f bits, RecoveryCodeBits says %d; want ≥ 50", bits, RecoveryCodeBits)
	}
}

func TestRecoveryCodeSymbolsAreUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 100
	for range 10 {
		codes, err := NewRecoveryCodes(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			for i := range len(c) {
				if c[i] != '-' {
					counts[c[i]]++
				}
			}
		}
	}
	// 12,000 symbols over 31: about 387 each. A modulo bias or a missing
	// symbol shows far outside these loose bounds; chance alone does not.
	for i := range len(recoveryAlphabet) {
		if got := counts[recoveryAlphabet[i]]; got < 250 || got > 550 {
			t.Errorf("symbol %q drawn %d times out of 12000", recoveryAlphabet[i], got)
		}
	}
}

func TestNewRecoveryCodesRefusesSillyCounts(t *testing.T) {
	for _, n := range []int{-1, 0, 101} {
		if _, err := NewRecoveryCodes(n); err == nil {
			t.Errorf("NewRecoveryCodes(%d) succeeded", n)
		}
	}
}

func TestNormalizeRecoveryCodeForgivesTheWayPeopleTypeIt(t *testing.T) {
	const want = "k7q29xm4pt3c"
	for _, in := range []string{
		"k7q2-9xm4-pt3c", "K7Q2-9XM4-PT3C", "k7q29xm4pt3c", " k7q2 9xm4 pt3c ",
		"k7q2–9xm4—pt3c", "k۷q۲-۹xm۴-pt۳c", "k٧q٢-٩xm٤-pt٣c", "\u200fk7q2-9xm4-pt3c", "k7q2_9xm4_pt3c",
	} {
		if got := NormalizeRecoveryCode(in); got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{
		"", "k7q2-9xm4-pt3", "k7q2-9xm4-pt3cc", "k7q2-9xm4-pt3o", "k7q2-9xm4-pt31", "k7q2/9xm4/pt3c",
		"ｋ7q2-9xm4-pt3c", "k7q2-9xm4-pt3c\x00", strings.Repeat("-", 200) + "k7q29xm4pt3c",
	} {
		if got := NormalizeRecoveryCode(in); got != "" {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want \"\"", in, got)
		}
	}
}

func TestEveryNewRecoveryCodeNormalizesToItsCompactForm(t *testing.T) {
	codes, err := NewRecoveryCodes(50)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if got := NormalizeRecoveryCode(c); got != strings.ReplaceAll(c, "-", "") {
			t.Errorf("NormalizeRecoveryCode(%q) = %q", c, got)
		}
	}
}
