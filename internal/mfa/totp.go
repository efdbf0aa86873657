// Package mfa holds the second-factor building blocks as pure logic: TOTP
// (RFC 6238) secrets, codes and enrolment QR codes, single-use recovery
// codes, and WebAuthn ceremonies (security keys and passkeys) wrapped so the
// rest of Hesar never imports the WebAuthn library. Storage and HTTP live
// elsewhere; nothing here touches a database or net/http handlers.
package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// TOTP parameters. They are the ones every authenticator app supports; the
// URI states them anyway so no app has to guess.
const (
	totpDigits     = 6
	totpPeriod     = 30 // seconds
	totpSkew       = 1  // steps accepted either side of now
	totpSecretSize = 20 // bytes: the HMAC-SHA-1 block-friendly size RFC 4226 recommends
)

// The HOTP construction (RFC 4226 §5.3) is written here over crypto/hmac
// rather than taken from pquerna/otp: it is a dozen lines with no primitive
// of our own in it, it works on the raw secret instead of a base32 string,
// and it lets VerifyTOTP compute the code for each step in the window and say
// which step matched, which replay protection needs and pquerna's Validate
// does not expose. The tests check it against the RFC 6238 vectors and
// against pquerna/otp.

// hotp returns the digits-long HOTP value of secret at counter.
func hotp(secret []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// totpStep is the RFC 6238 time step T of t (floor division, so times before
// 1970 give negative steps, which no code is valid for).
func totpStep(t time.Time) int64 {
	s := t.Unix()
	step := s / totpPeriod
	if s%totpPeriod < 0 {
		step--
	}
	return step
}

// NewTOTPSecret returns 20 random bytes from crypto/rand, the shared secret
// of a new TOTP enrolment. Store it sealed; show it once.
func NewTOTPSecret() ([]byte, error) {
	secret := make([]byte, totpSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("mfa: generating TOTP secret: %w", err)
	}
	return secret, nil
}

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// FormatSecret renders secret for typing into an authenticator app by hand:
// base32 without padding, in groups of four ("GEZD GNBV GY3T …").
func FormatSecret(secret []byte) string {
	enc := secretEncoding.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(enc); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(enc[i:min(i+4, len(enc))])
	}
	return b.String()
}

// TOTPURI returns the otpauth:// URI (Google Authenticator key URI format)
// that an authenticator app reads from the enrolment QR code:
//
//	otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded as UTF-8 (Persian names work) with
// spaces as %20, never "+", which several apps would show literally. The
// label's first colon splits issuer from account and apps split on it after
// decoding, so a colon inside either name becomes a space in the label (the
// issuer parameter keeps it).
func TOTPURI(secret []byte, issuer, account string) string {
	label := escapeLabel(issuer) + ":" + escapeLabel(account)
	if issuer == "" {
		label = escapeLabel(account)
	}
	q := "secret=" + secretEncoding.EncodeToString(secret)
	if issuer != "" {
		q += "&issuer=" + escapeQuery(issuer)
	}
	q += fmt.Sprintf("&algorithm=SHA1&digits=%d&period=%d", totpDigits, totpPeriod)
	return "otpauth://totp/" + label + "?" + q
}

// escapeLabel percent-encodes one half of the label, without colons. It
// encodes as much as a query value does: apps decode the label with all
// sorts of routines, and some read a literal '+' as a space.
func escapeLabel(s string) string {
	return escapeQuery(strings.ReplaceAll(s, ":", " "))
}

// escapeQuery percent-encodes a query value with %20 for space. QueryEscape
// already turns a literal '+' into %2B, so every '+' left is a space.
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// QRCodePNG renders uri as a PNG QR code with medium (15%) error recovery,
// close to 256 pixels square. Modules are a whole number of pixels each, so
// the code stays crisp for phone cameras.
func QRCodePNG(uri string) ([]byte, error) {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("mfa: encoding QR code: %w", err)
	}
	modules := len(q.Bitmap()) // including the quiet zone
	perModule := max(256/modules, 1)
	png, err := q.PNG(-perModule) // a negative size means pixels per module
	if err != nil {
		return nil, fmt.Errorf("mfa: rendering QR code: %w", err)
	}
	return png, nil
}

// TOTPCode returns the six-digit code for secret at t, as an authenticator
// app would show it. It returns "" for a time before 1970.
func TOTPCode(secret []byte, t time.Time) string {
	step := totpStep(t)
	if step < 0 {
		return ""
	}
	return hotp(secret, uint64(step), totpDigits)
}

// VerifyTOTP checks code against secret at now. It accepts the code of now's
// step or of one step either side (clock drift), but only a step strictly
// greater than lastStep, so a code once used, or one older than the last
// used, can never be accepted again. On success it returns the step that
// matched: store it as the next lastStep (0 for an account that has never
// used a code). The comparison runs in constant time over every step of the
// window.
//
// The code may contain Persian (۰–۹) or Arabic-Indic (٠–٩) digits, spaces
// and bidirectional marks; anything else, or a count of digits other than
// six, is refused.
func VerifyTOTP(secret []byte, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	digits, valid := normalizeTOTPCode(code)
	if !valid || len(secret) == 0 {
		return 0, false
	}
	current := totpStep(now)
	var matched int64
	found := 0
	// Every step is computed and compared, whatever matched, so the time
	// taken does not say which step (if any) was right. Ascending order with
	// the last match winning means that if two steps ever share a code, the
	// newer one is stored and the older cannot be replayed after it.
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		if s < 0 {
			continue
		}
		want := hotp(secret, uint64(s), totpDigits)
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(digits))
		fresh := 0
		if s > lastStep {
			fresh = 1
		}
		if eq&fresh == 1 {
			matched = s
			found = 1
		}
	}
	if found == 0 {
		return 0, false
	}
	return matched, true
}

// normalizeTOTPCode maps what a user may type or paste to six ASCII digits.
func normalizeTOTPCode(code string) (string, bool) {
	if len(code) > 64 { // generous for six digits with spaces and marks
		return "", false
	}
	out := make([]byte, 0, totpDigits)
	for _, r := range code {
		if d, isDigit := asciiDigit(r); isDigit {
			out = append(out, d)
			continue
		}
		if isIgnorable(r) {
			continue
		}
		return "", false
	}
	if len(out) != totpDigits {
		return "", false
	}
	return string(out), true
}

// asciiDigit maps ASCII, Persian and Arabic-Indic digits to an ASCII digit.
func asciiDigit(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '۰' && r <= '۹': // U+06F0–U+06F9, Persian
		return byte('0' + r - '۰'), true
	case r >= '٠' && r <= '٩': // U+0660–U+0669, Arabic-Indic
		return byte('0' + r - '٠'), true
	}
	return 0, false
}

// isIgnorable reports the invisible characters a user's typing or a paste
// from right-to-left text may carry around a code.
func isIgnorable(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\u00a0', '\u2009', '\u202f', '\u3000',
		'\u200c',                     // zero-width non-joiner, common in Persian text
		'\u200e', '\u200f', '\u061c': // LRM, RLM, Arabic letter mark
		return true
	}
	return false
}
