package mfa

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerifyTOTP feeds arbitrary input as the code: it must never panic, and
// must accept only a code that normalises to the right six digits of a step
// in the window and after lastStep.
func FuzzVerifyTOTP(f *testing.F) {
	now := time.Unix(1_111_111_111, 0)
	for _, s := range []string{"050471", "۰۵۰ ۴۷۱", "٠٥٠٤٧١", "", "0", "\xff\xfe", "05047١", strings.Repeat("۰", 40), "050471\u200f", "-50471"} {
		f.Add(s, int64(0))
		f.Add(s, totpStep(now))
	}
	f.Fuzz(func(t *testing.T, code string, lastStep int64) {
		step, ok := VerifyTOTP(rfcSecret, code, now, lastStep)
		if !ok {
			return
		}
		digits, valid := normalizeTOTPCode(code)
		current := totpStep(now)
		if !valid || step <= lastStep || step < current-1 || step > current+1 {
			t.Fatalf("accepted %q as step %d (now %d, last %d)", code, step, current, lastStep)
		}
		if hotp(rfcSecret, uint64(step), 6) != digits {
			t.Fatalf("accepted %q for step %d whose code differs", code, step)
		}
	})
}

// FuzzNormalizeRecoveryCode checks the normal form: "" or 12 symbols of the
// alphabet, stable under a second pass and under display formatting.
func FuzzNormalizeRecoveryCode(f *testing.F) {
	for _, s := range []string{"k7q2-9xm4-pt3c", "K7Q2 9XM4 PT3C", "k۷q۲-۹xm۴-pt۳c", "", "o0l1i", "\xff", strings.Repeat("a", 13), "k7q2—9xm4—pt3c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeRecoveryCode(s)
		if n == "" {
			return
		}
		if len(n) != recoveryLength || strings.Trim(n, recoveryAlphabet) != "" {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q: not a compact code", s, n)
		}
		if NormalizeRecoveryCode(n) != n || NormalizeRecoveryCode(formatRecoveryCode(n)) != n {
			t.Fatalf("normal form of %q is not stable: %q", s, n)
		}
	})
}
