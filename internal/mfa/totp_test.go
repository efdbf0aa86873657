package mfa

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	pqhotp "github.com/pquerna/otp/hotp"
	qrcode "github.com/skip2/go-qrcode"
)

// rfcSecret is the SHA-1 seed of RFC 6238 Appendix B.
var rfcSecret = []byte("12345678901234567890")

func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	vectors := []struct {
		unix int64
		want string // 8 digits, as printed in the RFC
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, v := range vectors {
		at := time.Unix(v.unix, 0).UTC()
		if got := hotp(rfcSecret, uint64(totpStep(at)), 8); got != v.want {
			t.Errorf("8-digit code at %d = %s, want %s", v.unix, got, v.want)
		}
		// Truncation is "mod 10^digits", so the 6-digit code is the last six.
		if got, want := TOTPCode(rfcSecret, at), v.want[2:]; got != want {
			t.Errorf("TOTPCode at %d = %s, want %s", v.unix, got, want)
		}
	}
}

func TestTOTPAgreesWithPquernaOTP(t *testing.T) {
	for i := range 50 {
		secret, err := NewTOTPSecret()
		if err != nil {
			t.Fatal(err)
		}
		counter := uint64(i) * 7919 * 104729
		want, err := pqhotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), counter,
			pqhotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		if got := hotp(secret, counter, 6); got != want {
			t.Fatalf("counter %d: hotp = %s, pquerna/otp = %s", counter, got, want)
		}
	}
}

func TestNewTOTPSecretIsTwentyRandomBytes(t *testing.T) {
	a, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewTOTPSecret()
	if len(a) != 20 || bytes.Equal(a, b) {
		t.Fatalf("secrets %x and %x: want 20 distinct random bytes", a, b)
	}
}

func TestTOTPWindowIsOneStepEitherSide(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	step := totpStep(now)
	for _, c := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		code := TOTPCode(rfcSecret, now.Add(time.Duration(c.offset)*totpPeriod*time.Second))
		got, ok := VerifyTOTP(rfcSecret, code, now, 0)
		if ok != c.ok {
			t.Errorf("code of step %+d: ok = %v, want %v", c.offset, ok, c.ok)
		}
		if ok && got != step+c.offset {
			t.Errorf("code of step %+d: matched step %d, want %d", c.offset, got, step+c.offset)
		}
	}
}

func TestUsedTOTPCodeCannotBeReplayed(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	code := TOTPCode(rfcSecret, now)
	last, ok := VerifyTOTP(rfcSecret, code, now, 0)
	if !ok {
		t.Fatal("fresh code refused")
	}
	if _, ok := VerifyTOTP(rfcSecret, code, now.Add(10*time.Second), last); ok {
		t.Fatal("the same code was accepted twice")
	}
}

func TestOlderTOTPCodeRefusedAfterNewerOne(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	newer := TOTPCode(rfcSecret, now.Add(30*time.Second))
	older := TOTPCode(rfcSecret, now)
	last, ok := VerifyTOTP(rfcSecret, newer, now, 0)
	if !ok {
		t.Fatal("code of the next step refused")
	}
	if _, ok := VerifyTOTP(rfcSecret, older, now, last); ok {
		t.Fatal("an older code was accepted after a newer one")
	}
	// The step after the newer one is still fine.
	if _, ok := VerifyTOTP(rfcSecret, TOTPCode(rfcSecret, now.Add(60*time.Second)), now.Add(60*time.Second), last); !ok {
		t.Fatal("a later code was refused")
	}
}

func TestTOTPAcceptsPersianDigitsAndSpaces(t *testing.T) {
	now := time.Unix(1_111_111_111, 0) // code 050471
	for _, in := range []string{
		"050471", "050 471", " 050471\n", "۰۵۰۴۷۱", "۰۵۰ ۴۷۱", "٠٥٠٤٧١", "\u200f۰۵۰۴۷۱\u200e", "05\u00a00471",
	} {
		if _, ok := VerifyTOTP(rfcSecret, in, now, 0); !ok {
			t.Errorf("VerifyTOTP(%q) refused", in)
		}
	}
	for _, in := range []string{
		"", "05047", "0504711", "050-471", "o50471", "05047l", "０５０４７１", "050471\x00", "+50471", "50471 ",
	} {
		if _, ok := VerifyTOTP(rfcSecret, in, now, 0); ok {
			t.Errorf("VerifyTOTP(%q) accepted", in)
		}
	}
}

func TestTOTPRefusesEmptySecret(t *testing.T) {
	now := time.Unix(1_111_111_111, 0)
	if _, ok := VerifyTOTP(nil, TOTPCode(nil, now), now, 0); ok {
		t.Fatal("empty secret accepted a code")
	}
}

func TestFormatSecretGroupsBase32ForTyping(t *testing.T) {
	got := FormatSecret(rfcSecret)
	if got != "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ" {
		t.Fatalf("FormatSecret = %q", got)
	}
	back, err := secretEncoding.DecodeString(strings.ReplaceAll(got, " ", ""))
	if err != nil || !bytes.Equal(back, rfcSecret) {
		t.Fatalf("formatted secret does not decode back: %v", err)
	}
}

func TestTOTPURIEscapesPersianNamesAndKeepsTheLabelSplittable(t *testing.T) {
	cases := []struct{ issuer, account string }{
		{"Hesar", "alice@example.com"},
		{"حصار", "علی.رضایی@example.ir"},
		{"Acme: Support & Co", "bob+desk@example.com"},
		{"میز کمک", "نام کاربری با فاصله"},
	}
	for _, c := range cases {
		uri := TOTPURI(rfcSecret, c.issuer, c.account)
		if strings.Contains(uri, "+") || strings.Contains(uri, " ") {
			t.Errorf("%s: URI has a raw '+' or space", uri)
		}
		if !strings.HasSuffix(uri, "&algorithm=SHA1&digits=6&period=30") {
			t.Errorf("%s: parameters missing", uri)
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("%s: scheme/type = %s/%s", uri, u.Scheme, u.Host)
		}
		label := strings.ReplaceAll(c.issuer, ":", " ") + ":" + strings.ReplaceAll(c.account, ":", " ")
		if want := "/" + label; u.Path != want {
			t.Errorf("%s: label = %q, want %q", uri, u.Path, want)
		}
		q := u.Query()
		if q.Get("issuer") != c.issuer || q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
			t.Errorf("%s: query = %v", uri, q)
		}
		// An independent reader of the format agrees.
		key, err := otp.NewKeyFromURL(uri)
		if err != nil {
			t.Fatalf("%s: pquerna/otp cannot read it: %v", uri, err)
		}
		if key.Issuer() != c.issuer || key.AccountName() != c.account || key.Period() != 30 || key.Digits() != otp.DigitsSix {
			t.Errorf("%s: pquerna/otp read issuer %q account %q", uri, key.Issuer(), key.AccountName())
		}
	}
}

func TestQRCodePNGIsAScannablePNGOfTheURI(t *testing.T) {
	uri := TOTPURI(rfcSecret, "حصار", "علی@example.ir")
	data, err := QRCodePNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("not a PNG signature")
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}
	size := img.Bounds().Dx()
	if size != img.Bounds().Dy() || size < 180 || size > 300 {
		t.Fatalf("image is %v, want about 256px square", img.Bounds())
	}
	// No QR decoder is in the module graph, so read the modules back from
	// the pixels and compare them with the symbol for the same URI.
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	bitmap := q.Bitmap()
	perModule := size / len(bitmap)
	if perModule*len(bitmap) != size {
		t.Fatalf("%dpx is not a whole number of pixels for %d modules", size, len(bitmap))
	}
	for y, row := range bitmap {
		for x, dark := range row {
			r, _, _, _ := img.At(x*perModule+perModule/2, y*perModule+perModule/2).RGBA()
			if (r < 0x8000) != dark {
				t.Fatalf("module (%d,%d): dark = %v in the PNG, %v in the symbol", x, y, r < 0x8000, dark)
			}
		}
	}
}
