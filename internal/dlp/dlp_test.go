package dlp

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// fa writes the ASCII digits of s in Persian digits, ar in Arabic-Indic
// ones, so each case can be checked in all three scripts.
func fa(s string) string { return shiftDigits(s, '۰') }
func ar(s string) string { return shiftDigits(s, '٠') }

func shiftDigits(s string, zero rune) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return zero + r - '0'
		}
		return r
	}, s)
}

// value is a finding as a test states it: its kind and the text it covers.
type value struct {
	kind Kind
	text string
}

type scanCase struct {
	name   string
	text   string
	want   []value // in order; nil: nothing may be found
	masked string  // Mask's output; "" for the text unchanged when want is nil
}

// check runs each case through Mask and checks the findings (kind and the
// exact text their offsets cover) and the masked text.
func check(t *testing.T, cases []scanCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			masked, found := Mask(c.text)
			var got []value
			for _, f := range found {
				got = append(got, value{f.Kind, c.text[f.Start:f.End]})
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("Mask(%q) found %q, want %q", c.text, got, c.want)
			}
			want := c.masked
			if want == "" && c.want == nil {
				want = c.text
			}
			if want != "" && masked != want {
				t.Errorf("Mask(%q) =\n %q, want\n %q", c.text, masked, want)
			}
		})
	}
}

func TestCardNumbersAreMaskedToFirstSixAndLastFour(t *testing.T) {
	card := func(s string) []value { return []value{{KindCard, s}} }
	check(t, []scanCase{
		{"plain in Persian text", "کارت 6037991234567893 لطفا", card("6037991234567893"), "کارت 603799••••••7893 لطفا"},
		{"groups of four with spaces", "6037 9912 3456 7893", card("6037 9912 3456 7893"), "6037 99•• •••• 7893"},
		{"groups of four with dashes", "card: 6037-9912-3456-7893.", card("6037-9912-3456-7893"), "card: 6037-99••-••••-7893."},
		{"Persian digits", fa("کارت 6037 9912 3456 7893"), card(fa("6037 9912 3456 7893")), fa("کارت 6037 99") + "•• •••• " + fa("7893")},
		{"Arabic-Indic digits", ar("6037991234567893"), card(ar("6037991234567893")), ar("603799") + "••••••" + ar("7893")},
		{"mixed scripts", "۶۰۳۷ 9912 ۳۴۵۶ 7893", card("۶۰۳۷ 9912 ۳۴۵۶ 7893"), "۶۰۳۷ 99•• •••• 7893"},
		{"any 16-digit prefix", "شماره کارت 1234567812345670", card("1234567812345670"), "شماره کارت 123456••••••5670"},
		{"glued to a Persian word", "کارتم6104331234123413", card("6104331234123413"), "کارتم610433••••••3413"},
		{"after a list number", "2 6219865555444439", card("6219865555444439"), "2 621986••••••4439"},
		{"two cards", "5892101111222234 و 5022297777888897", []value{{KindCard, "5892101111222234"}, {KindCard, "5022297777888897"}},
			"589210••••••2234 و 502229••••••8897"},
		{"Amex 4-6-5 keeps 4 and 4", "Amex 3782 822463 10005", card("3782 822463 10005"), "Amex 3782 •••••• •0005"},
		{"Diners 14 digits", "30569309025904", card("30569309025904"), "3056••••••5904"},
		{"Visa 13 digits", "4222222222222", card("4222222222222"), "4222•••••2222"},
		{"19 digits", "6037991234567890126", card("6037991234567890126"), "603799•••••••••0126"},
		{"in a URL path", "https://pay.example/card/6273539876543210?x=1", card("6273539876543210"), "https://pay.example/card/627353••••••3210?x=1"},
		{"a copy glued to a word is masked too", "ref4111111111111111, card 4111 1111 1111 1111",
			[]value{{KindCard, "4111111111111111"}, {KindCard, "4111 1111 1111 1111"}}, "ref411111••••••1111, card 4111 11•• •••• 1111"},
		{"followed by a 3-digit group", "6393 4624 6824 6826 123", card("6393 4624 6824 6826"), "6393 46•• •••• 6826 123"},
	})
}

func TestLookAlikesAreNotCards(t *testing.T) {
	none := func(name, text string) scanCase { return scanCase{name: name, text: text} }
	check(t, []scanCase{
		none("Luhn-invalid 16 digits", "سفارش 6037991234567890"),
		none("Luhn-invalid order number", "order 1234567812345678 shipped"),
		none("13-digit order number", "order #1234567890123"),
		none("16 digits inside a longer run", "60379912345678931"),
		none("20 digits", "60379912345678931234"),
		none("Post tracking code", "کد رهگیری پست ۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹۰۱۲۳۴"),
		none("20-digit code in groups of four", "6037 9912 3456 7893 1234"),
		none("glued to a Latin word", "TRK6037991234567893"),
		none("decimal", "6037991234567893.5"),
		none("all zeros", "0000 0000 0000 0000"),
		none("mobile number", "09121234567"),
		none("Persian mobile number", "۰۹۱۲۱۲۳۴۵۶۷"),
		none("international mobile number", "+98 912 123 4567"),
		none("dashed mobile number", "0912-123-4567"),
		none("mobile with 0098", "00989121234567"),
		none("Solar Hijri date", "1402/05/12"),
		none("Persian date", "۱۴۰۲/۰۵/۱۲"),
		none("ISO date", "2024-01-15 12:30"),
		none("amount", "12,500,000 ریال"),
		none("IP address", "192.168.100.200"),
		none("UUID", "550e8400-e29b-41d4-a716-446655440000"),
		none("epoch milliseconds", "1705312800000"),
		none("mixed separators", "6037 9912-3456 7893"),
	})
}

func TestCVVIsMaskedEntirely(t *testing.T) {
	cvv := func(s string) []value { return []value{{KindCVV, s}} }
	card := value{KindCard, "6037991234567893"}
	check(t, []scanCase{
		{"cvv2 colon", "cvv2: 123", cvv("123"), "cvv2: •••"},
		{"upper case, 4 digits", "CVV 1234", cvv("1234"), "CVV ••••"},
		{"Persian keyword and digits", "کد امنیتی ۱۲۳", cvv("۱۲۳"), "کد امنیتی •••"},
		{"Persian transliteration", "سی وی وی ۲: ۴۵۶", cvv("۴۵۶"), "سی وی وی ۲: •••"},
		{"cvv with Persian 2", "cvv۲ ٧٨٩", cvv("٧٨٩"), "cvv۲ •••"},
		{"words between", "cvv2 of my card is 321", cvv("321"), "cvv2 of my card is •••"},
		{"cvc", "CVC=987", cvv("987"), "CVC=•••"},
		{"with a card", "6037991234567893 cvv2 321", []value{card, {KindCVV, "321"}}, "603799••••••7893 cvv2 •••"},
		{"after card and expiry, no keyword", "6037991234567893 05/27 123", []value{card, {KindCVV, "123"}}, "603799••••••7893 05/27 •••"},
		{"before a Solar Hijri expiry", fa("6037991234567893 123 1405/03"), []value{{KindCard, fa("6037991234567893")}, {KindCVV, fa("123")}},
			fa("603799") + "••••••" + fa("7893") + " ••• " + fa("1405/03")},
		{"expiry with words", "card 6037991234567893 exp 05/2027 code 4321", []value{card, {KindCVV, "4321"}}, "card 603799••••••7893 exp 05/2027 code ••••"},
		{"cvv then expiry", "cvv2 123 05/27", cvv("123"), "cvv2 ••• 05/27"},
	})
	none := func(name, text string) scanCase { return scanCase{name: name, text: text} }
	check(t, []scanCase{
		none("keyword without digits", "cvv2 را ندارم"),
		none("too short", "cvv 12"),
		none("too long", "cvv 12345"),
		none("a phone number after the keyword", "cvv نمیدونم 0912 123 4567"),
		none("across a sentence end", "cvv ندارم. سفارش 123"),
		none("too far", "cvv2 را پیدا نکردم پشت کارت نیست ولی 123"),
		none("inside a word", "acid 123"),
		{name: "full date is not an expiry", text: "6037991234567893 1402/05/12 123", want: []value{card}},
		{name: "no expiry: a number after a card is not a CVV", text: "6037991234567893 123", want: []value{card}},
	})
}

func TestPINIsMaskedEntirely(t *testing.T) {
	pin := func(s string) []value { return []value{{KindPIN, s}} }
	check(t, []scanCase{
		{"second PIN", "رمز دوم من ۱۲۳۴۵۶۷ هست", pin("۱۲۳۴۵۶۷"), "رمز دوم من ••••••• هست"},
		{"second PIN with 2", "رمز۲: 99887766", pin("99887766"), "رمز۲: ••••••••"},
		{"internet PIN", "رمز اینترنتی کارتم 5544332211", pin("5544332211"), "رمز اینترنتی کارتم ••••••••••"},
		{"ATM PIN", "PIN: 1234", pin("1234"), "PIN: ••••"},
		{"pin2", "pin2 55667788", pin("55667788"), "pin2 ••••••••"},
		{"PIN that passes the national ID checksum", "کد ملی را دادم، رمز دوم 0012345679", pin("0012345679"), "کد ملی را دادم، رمز دوم ••••••••••"},
	})
	none := func(name, text string) scanCase { return scanCase{name: name, text: text} }
	check(t, []scanCase{
		none("part of a word", "spin 1234"),
		none("pinned", "pinned 1234"),
		none("too long", "رمز دوم 1234567890123"),
		none("password is not a PIN", "رمز عبور 123456"),
	})
}

func TestIBANKeepsCountryAndLastFour(t *testing.T) {
	iban := func(s string) []value { return []value{{KindIBAN, s}} }
	check(t, []scanCase{
		{"IR whole", "شبا: IR110170000000123456789001", iban("IR110170000000123456789001"), "شبا: IR••••••••••••••••••••9001"},
		{"IR grouped", "IR11 0170 0000 0012 3456 7890 01", iban("IR11 0170 0000 0012 3456 7890 01"), "IR•• •••• •••• •••• •••• ••90 01"},
		{"ir lower case", "ir680120020000009876543210", iban("ir680120020000009876543210"), "ir••••••••••••••••••••3210"},
		{"Persian digits", fa("IR630560611828005667788990"), iban(fa("IR630560611828005667788990")), "IR" + strings.Repeat("•", 20) + fa("8990")},
		{"space after IR", "IR 11 0170 0000 0012 3456 7890 01", iban("IR 11 0170 0000 0012 3456 7890 01"), "IR •• •••• •••• •••• •••• ••90 01"},
		{"glued to Persian word", "شباIR110170000000123456789001", iban("IR110170000000123456789001"), "شباIR••••••••••••••••••••9001"},
		{"DE", "DE89 3704 0044 0532 0130 00", iban("DE89 3704 0044 0532 0130 00"), "DE•• •••• •••• •••• ••30 00"},
		{"GB letters are masked too", "GB29 NWBK 6016 1331 9268 19", iban("GB29 NWBK 6016 1331 9268 19"), "GB•• •••• •••• •••• ••68 19"},
		{"FR", "FR1420041010050500013M02606", iban("FR1420041010050500013M02606"), "FR•••••••••••••••••••••2606"},
		{"NL", "NL91ABNA0417164300.", iban("NL91ABNA0417164300"), "NL••••••••••••4300."},
		{"AE", "AE070331234567890123456", iban("AE070331234567890123456"), "AE•••••••••••••••••3456"},
		{"TR", "TR33 0006 1005 1978 6457 8413 26", iban("TR33 0006 1005 1978 6457 8413 26"), "TR•• •••• •••• •••• •••• ••13 26"},
		{"SA, generic country table", "SA0380000000608010167519", iban("SA0380000000608010167519"), "SA••••••••••••••••••7519"},
		{"Sheba without IR", "شماره شبا: 110170000000123456789001", iban("110170000000123456789001"), "شماره شبا: ••••••••••••••••••••9001"},
		{"Sheba without IR, grouped Persian", fa("شبا 1101 7000 0000 1234 5678 9001"), iban(fa("1101 7000 0000 1234 5678 9001")),
			"شبا •••• •••• •••• •••• •••• " + fa("9001")},
		{"followed by an amount", "IR11 0170 0000 0012 3456 7890 01 5000000 ریال", iban("IR11 0170 0000 0012 3456 7890 01"),
			"IR•• •••• •••• •••• •••• ••90 01 5000000 ریال"},
	})
	none := func(name, text string) scanCase { return scanCase{name: name, text: text} }
	check(t, []scanCase{
		none("bad check digits", "IR110170000000123456789002"),
		none("bad DE", "DE89 3704 0044 0532 0130 01"),
		none("too long for IR", "IR1101700000001234567890011"),
		none("lower case outside Iran", "de89370400440532013000"),
		none("24 digits without Sheba keyword", "110170000000123456789001"),
		none("glued to a Latin word", "XIR110170000000123456789001"),
	})
}

func TestNationalIDNeedsKeywordOrCardFormat(t *testing.T) {
	id := func(s string) []value { return []value{{KindNationalID, s}} }
	check(t, []scanCase{
		{"keyword before", "کد ملی: 0012345679", id("0012345679"), "کد ملی: •••••••679"},
		{"joined keyword, Persian digits", fa("کدملی 0055189326"), id(fa("0055189326")), "کدملی •••••••" + fa("326")},
		{"Arabic letters in keyword", "كد ملي ٠٠٥٥١٨٩٣٢٦", id("٠٠٥٥١٨٩٣٢٦"), "كد ملي •••••••٣٢٦"},
		{"keyword after", "2748123451 کد ملی منه", id("2748123451"), "•••••••451 کد ملی منه"},
		{"English", "National ID: 4987654326", id("4987654326"), "National ID: •••••••326"},
		{"Finglish", "code melli 0845123092", id("0845123092"), "code melli •••••••092"},
		{"words between", "کد ملی اینجانب علی رضایی 3712965486 است", id("3712965486"), "کد ملی اینجانب علی رضایی •••••••486 است"},
		{"card format, no keyword", "001-234567-9", id("001-234567-9"), "•••-••••67-9"},
	})
	none := func(name, text string) scanCase { return scanCase{name: name, text: text} }
	check(t, []scanCase{
		none("no keyword", "0012345679"),
		none("bad checksum", "کد ملی 0012345678"),
		none("one repeated digit", "کد ملی 1111111111"),
		none("keyword too far", "کد ملی را بعدا می‌فرستم، فعلا شماره سفارش را ببینید 0012345679"),
		none("Bank Melli is a bank", "Bank Melli 0012345679"),
		none("10-digit phone without the 0", "شماره 9121234566"),
		none("dashed but not ID format", "0012-345679"),
	})
}

func TestRedactUsesNeutralPlaceholders(t *testing.T) {
	text := "کارت 6037991234567893 cvv2 123 شبا IR110170000000123456789001 کد ملی 0012345679 رمز دوم 445566"
	got, found := Redact(text)
	want := "کارت [REDACTED:card] cvv2 [REDACTED:cvv] شبا [REDACTED:iban] کد ملی [REDACTED:national_id] رمز دوم [REDACTED:pin]"
	if got != want {
		t.Errorf("Redact =\n %q, want\n %q", got, want)
	}
	kinds := []Kind{KindCard, KindCVV, KindIBAN, KindNationalID, KindPIN}
	if len(found) != len(kinds) {
		t.Fatalf("Redact found %d values, want %d", len(found), len(kinds))
	}
	for i, f := range found {
		if f.Kind != kinds[i] || f.Masked != Placeholder(kinds[i]) {
			t.Errorf("finding %d = %+v, want kind %s with its placeholder", i, f, kinds[i])
		}
	}
}

func TestScanAndMaskAgree(t *testing.T) {
	text := "card ۶۰۳۷ ۹۹۱۲ ۳۴۵۶ ۷۸۹۳, cvv ۱۲۳"
	scanned := Scan(text)
	_, masked := Mask(text)
	if !slices.Equal(scanned, masked) {
		t.Errorf("Scan = %+v, Mask findings = %+v", scanned, masked)
	}
	if got := Scan("no numbers here"); got != nil {
		t.Errorf("Scan of plain text = %+v, want nil", got)
	}
}

func TestMaskingTwiceChangesNothing(t *testing.T) {
	for _, text := range []string{
		"کارت 6037 9912 3456 7893 cvv2 123 exp 05/27",
		"cvv 6037 9912 3456 7893",
		"IR11 0170 0000 0012 3456 7890 01",
		"شبا 1101 7000 0000 1234 5678 9001",
		"کد ملی 0012345679 و رمز دوم 1234567890",
	} {
		once, _ := Mask(text)
		if twice, found := Mask(once); twice != once {
			t.Errorf("Mask(Mask(%q)) = %q, want %q (found %+v)", text, twice, once, found)
		}
	}
}

// The fast character classes run on every byte of a text; they must agree
// with the unicode package they shortcut.
func TestFastCharacterClassesMatchUnicode(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := isLetter(r), unicode.IsLetter(r); got != want {
			t.Fatalf("isLetter(%U) = %v, want %v", r, got, want)
		}
		if got, want := isDigitLike(r), r == maskRune || unicode.IsDigit(r); got != want {
			t.Fatalf("isDigitLike(%U) = %v, want %v", r, got, want)
		}
	}
}
