package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/hesar/hesar/internal/textnorm"
)

func code(err error) string {
	if err == nil {
		return ""
	}
	var r *Rejection
	if !errors.As(err, &r) {
		return "not a *Rejection: " + err.Error()
	}
	return r.Code
}

func TestEachRejectionHasItsCode(t *testing.T) {
	cases := []struct {
		pw, want string
	}{
		{"short one", CodeTooShort},
		{"elevenchars", CodeTooShort},
		{strings.Repeat("x", 12) + randomText(250), CodeTooLong},
		{"valid start \xff\xfe then junk", CodeInvalidUTF8},
		{"password1234", CodeCommon},
		{"qwertyuiop12", CodeCommon},
		{"iloveyou1234", CodeCommon},
		{"password123456!", CodeCommon},
		{"1qaz2wsx3edc", CodeCommon},
		{"P@ssw0rd2024", CodeCommon},
		{"Password8361", CodeCommon},
		{"drowssap1234", CodeCommon},
		{"superman2024!", CodeCommon},
		{"passwordqwerty", CodeCommon},
		{"i love you 1234", CodeCommon},
		{"aaaaaaaaaaaa", CodeRepetitive},
		{"123456789012", CodeRepetitive},
		{"abcdefghijkl", CodeRepetitive},
		{"rfvtgbyhnujm", CodeRepetitive},
		{"!@#$%^&*()_+", CodeRepetitive},
		{"abcabcabcabc", CodeRepetitive},
		{"monkeymonkey!!", CodeRepetitive},
		{"ابپتثجچحخدذر", CodeRepetitive},
		{"۱۲۳۴۵۶۷۸۹۰۱۲", CodeRepetitive},
	}
	for _, c := range cases {
		err := Policy{}.Check(c.pw)
		if got := code(err); got != c.want {
			t.Errorf("Check(%.40q) = %v (code %q); want code %q", c.pw, err, got, c.want)
		}
	}
	err := Policy{}.Check("ali.rezaei.2024!", "ali.rezaei@example.com")
	if got := code(err); got != CodeContainsContext {
		t.Errorf("password with the email's local part: %v; want %q", err, CodeContainsContext)
	}
}

func TestRejectionMessagesAreSpecific(t *testing.T) {
	cases := []struct {
		pw      string
		policy  Policy
		context []string
		want    string
	}{
		{"thirteen char", Policy{MinLength: 14}, nil, "must be at least 14 characters"},
		{"password1234", Policy{}, nil, "is one of the 47,023 most common passwords"},
		{"password12345", Policy{}, nil, "is a common password with a few characters added"},
		{"حشسسصخقی۱۲۳۴", Policy{}, nil, "(typed with the Persian keyboard layout)"},
		{"p@$$w0rd2024", Policy{}, nil, "letters swapped for look-alike"},
		{"zxcvbnmasdfgh", Policy{}, nil, "keyboard pattern"},
		{"my address is ali@example.com", Policy{}, []string{"Ali@Example.com"}, "contains your email address"},
		{"acme corp rocks hard", Policy{}, []string{"Acme Corp"}, "contains your name or the workspace name"},
	}
	for _, c := range cases {
		err := c.policy.Check(c.pw, c.context...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v; want a message with %q", c.pw, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), c.pw) {
			t.Errorf("message %q repeats the password", err)
		}
	}
}

func TestPolicyMinimumIsNeverBelowTwelveNorAboveTheMaximum(t *testing.T) {
	for set, want := range map[int]int{0: 12, 8: 12, -5: 12, 12: 12, 14: 14, 64: 64, 1000: 256} {
		if got := (Policy{MinLength: set}).Min(); got != want {
			t.Errorf("Policy{MinLength: %d}.Min() = %d; want %d", set, got, want)
		}
	}
	if err := (Policy{MinLength: 8}).Check("gray tuba mix"); err != nil { // 13
		t.Errorf("13 characters under a lowered policy: %v", err)
	}
	if err := (Policy{MinLength: 8}).Check("gray tuba 7"); code(err) != CodeTooShort { // 11
		t.Errorf("11 characters under a policy of 8: %v; want too_short (12 is the floor)", err)
	}
}

func TestLongAndUnicodePasswordsAreAccepted(t *testing.T) {
	for name, pw := range map[string]string{
		"12 characters":   "gray tuba 7k",
		"64 characters":   randomText(64),
		"256 characters":  randomText(256),
		"256 Persian":     strings.Repeat("ب", 0) + persianText(256),
		"Persian phrase":  "رمز عبور خیلی امن ۱۲۳",
		"Persian words":   "کتاب باران درخت پنجره",
		"mixed scripts":   "چای سبز with honey ۷",
		"emoji and space": "🐈 sits on the 🎹 keys",
		"all spaces":      "pa ss wo rd ne at and fun",
	} {
		if n := utf8.RuneCountInString(pw); n < 12 || n > 256 {
			t.Fatalf("%s: test password has %d characters", name, n)
		}
		if err := (Policy{}).Check(pw); err != nil {
			t.Errorf("%s (%d chars): %v", name, utf8.RuneCountInString(pw), err)
		}
	}
	if err := (Policy{}).Check(randomText(257)); code(err) != CodeTooLong {
		t.Errorf("257 characters: %v; want too_long", err)
	}
}

func TestPasswordContainingContextIsRejected(t *testing.T) {
	ctx := Context{Email: "Ali.Rezaei@Example.com", Name: "Ali Rezaei", Workspace: []string{"Acme Trading", "acme-trading"}}
	for pw, want := range map[string]string{
		"alirezaei example summer": "your email address",
		"x ALI.REZAEI@EXAMPLE.COM": "your email address",
		"my name is rezaei okay":   "your name",
		"tradingplaces 99 hi":      "the workspace name",
		"ACME rocket sled party":   "the workspace name",
		"acmetrading rocket sled":  "the workspace name",
	} {
		err := Policy{}.CheckContext(pw, ctx)
		if code(err) != CodeContainsContext || !strings.HasSuffix(err.Error(), "contains "+want) {
			t.Errorf("CheckContext(%q) = %v; want contains %s", pw, err, want)
		}
	}
	// Parts shorter than four characters are ignored ("Ali" is in too many
	// words), and the email's domain alone is not the user's.
	for _, pw := range []string{"alibaba caves open", "example gardens grow"} {
		if err := (Policy{}).CheckContext(pw, ctx); err != nil {
			t.Errorf("CheckContext(%q) = %v; want accepted", pw, err)
		}
	}
}

func TestPersianNameMatchesWhateverLetterFormsAreTyped(t *testing.T) {
	// The name is stored with Arabic yeh and kaf; the password uses the
	// Persian letters, a ZWNJ and Persian digits, and the reverse.
	cases := []struct{ name, pw string }{
		{"علي رضايي", "رضایی\u200cخانه ما ۱۴۰۳"},
		{"كامران نيكو", "کامران در باغ گل ۷۷"},
		{"مریم کریمی", "كريمي و باران بهار"},
		{"مُحَمَّد جواد", "محمد در شهر بزرگ ۹"},
	}
	for _, c := range cases {
		if err := (Policy{}).Check(c.pw, c.name); code(err) != CodeContainsContext {
			t.Errorf("Check(%q, name %q) = %v; want contains_context", c.pw, c.name, err)
		}
		if err := (Policy{}).CheckContext(c.pw, Context{Name: c.name}); err == nil || !strings.HasSuffix(err.Error(), "your name") {
			t.Errorf("CheckContext(%q, name %q) = %v; want contains your name", c.pw, c.name, err)
		}
	}
	// A Latin name typed with the Persian layout active.
	if err := (Policy{}).Check("سشقشی در باغ گل ۷", "Sarah Mohseni", "sara"); err != nil {
		t.Logf("(not required) %v", err)
	}
}

func TestFoldAgreesWithTextnorm(t *testing.T) {
	for _, w := range []string{"علي", "مصطفى", "كتاب", "مدرسة", "أحمد", "۱۲۳۴", "٤٥٦", "می\u200cروم",
		"کــتـ\u200dاب", "\u200fسلام\u200e", "مُحَمَّد", "ＨＥＬＬＯ", "ﬁle", "ﺳﻼﻡ", "Straße", "İstanbul"} {
		if got, want := []string{fold(w)}, textnorm.Words(w); !slices.Equal(got, want) {
			t.Errorf("fold(%q) = %q; textnorm.Words = %q", w, got, want)
		}
	}
}

func TestCommonListIsLoaded(t *testing.T) {
	if n := ListSize(); n < 10000 {
		t.Fatalf("common-password list has %d entries; want at least 10,000", n)
	}
	for _, pw := range []string{"password", "123456", "qwerty", "iloveyou", "trustno1", "PASSWORD", "ＰＡＳＳＷＯＲＤ",
		"p@ssw0rd", "ایران", "علي", "password1234", "حشسسصخقی", "drowssap"} {
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false", pw)
		}
	}
	for _, pw := range []string{"correct horse battery staple", "gray tuba mix", "رمز عبور خیلی امن", "aaaaaaaaaaaa"} {
		if IsCommon(pw) {
			t.Errorf("IsCommon(%q) = true", pw)
		}
	}
}

// listEntries reads the embedded list in rank order.
func listEntries(t testing.TB) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// toPersianLayout types s with the Persian layout active.
func toPersianLayout(s string) string {
	inv := map[rune]rune{}
	for p, l := range persianLayout {
		if p == 'ي' || p == 'ك' || p == 'ئ' || p == 'آ' {
			continue // the standard layout's letters only
		}
		inv[l] = p
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '۰' + (r - '0')
		}
		if p, ok := inv[r]; ok {
			return p
		}
		return r
	}, s)
}

// TestCommonPasswordsAreCaughtAsPeopleAlterThem measures how many of the
// 2,000 most common passwords are still caught once stretched to 12
// characters the ways people do; -v prints the rates.
func TestCommonPasswordsAreCaughtAsPeopleAlterThem(t *testing.T) {
	top := listEntries(t)[:2000]
	pad := func(s, with string) string {
		for utf8.RuneCountInString(s) < 12 {
			s += with
		}
		return s
	}
	leetRepl := strings.NewReplacer("a", "@", "o", "0", "e", "3", "s", "$")
	variants := []struct {
		name string
		min  float64
		make func(string) string
	}{
		{"digits appended", 0.99, func(e string) string { return pad(e, "1234567890"[:max(1, 12-len(e))]) }},
		{"capital and symbol", 0.99, func(e string) string { return pad(strings.ToUpper(e[:1])+e[1:]+"!", "1") }},
		{"year and symbol", 0.99, func(e string) string { return pad(e, "2024!") }},
		{"typed on Persian layout", 0.99, func(e string) string { return toPersianLayout(pad(e, "1234567890"[:max(1, 12-len(e))])) }},
		{"look-alikes", 0.95, func(e string) string { return pad(leetRepl.Replace(e), "12") }},
		{"repeated", 0.99, func(e string) string { return pad(e, e) }},
	}
	for _, v := range variants {
		caught, total := 0, 0
		var missed []string
		for _, e := range top {
			pw := v.make(e)
			if utf8.RuneCountInString(pw) > MaxLength {
				continue
			}
			total++
			if err := (Policy{}).Check(pw); err != nil {
				caught++
			} else if len(missed) < 5 {
				missed = append(missed, pw)
			}
		}
		rate := float64(caught) / float64(total)
		t.Logf("%-24s caught %d of %d (%.1f%%); missed e.g. %q", v.name, caught, total, 100*rate, missed)
		if rate < v.min {
			t.Errorf("%s: caught %.1f%%, want at least %.0f%%", v.name, 100*rate, 100*v.min)
		}
	}
}

// TestStrongPassphrasesAndRandomPasswordsPass measures false positives:
// four-word phrases made from the list's own words (each a common password
// alone), and random passwords a manager would generate.
func TestStrongPassphrasesAndRandomPasswordsPass(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var words []string
	for _, e := range listEntries(t) {
		if n := len(e); n >= 4 && n <= 8 && strings.IndexFunc(e, func(r rune) bool { return !unicode.IsLower(r) }) < 0 {
			words = append(words, e)
		}
	}
	const printable = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	sets := []struct {
		name    string
		maxRate float64
		make    func() string
	}{
		{"4 list words, spaces", 0.005, func() string { return phrase(rng, words, 4, " ") }},
		{"4 list words, hyphens", 0.005, func() string { return phrase(rng, words, 4, "-") }},
		{"4 list words, joined", 0.005, func() string { return phrase(rng, words, 4, "") }},
		{"16 random printable", 0.001, func() string { return randomFrom(rng, printable, 16) }},
		{"12 random printable", 0.002, func() string { return randomFrom(rng, printable, 12) }},
		{"20 random lowercase", 0.001, func() string { return randomFrom(rng, "abcdefghijklmnopqrstuvwxyz", 20) }},
	}
	for _, s := range sets {
		const n = 3000
		rejected := 0
		var examples []string
		for range n {
			pw := s.make()
			if err := (Policy{}).Check(pw); err != nil {
				rejected++
				if len(examples) < 3 {
					examples = append(examples, pw+": "+err.Error())
				}
			}
		}
		rate := float64(rejected) / n
		t.Logf("%-24s rejected %d of %d (%.2f%%) %q", s.name, rejected, n, 100*rate, examples)
		if rate > s.maxRate {
			t.Errorf("%s: %.2f%% rejected, want at most %.2f%%", s.name, 100*rate, 100*s.maxRate)
		}
	}
}

func phrase(rng *rand.Rand, words []string, k int, sep string) string {
	parts := make([]string, k)
	for i := range parts {
		parts[i] = words[rng.IntN(len(words))]
	}
	return strings.Join(parts, sep)
}

func randomFrom(rng *rand.Rand, set string, n int) string {
	rs := []rune(set)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[rng.IntN(len(rs))]
	}
	return string(out)
}

// randomText is n characters of lower-case letters and spaces, the same
// for every run.
func randomText(n int) string {
	return randomFrom(rand.New(rand.NewPCG(uint64(n), 1)), "abcdefghijklmnopqrstuvwxyz ", n)
}

func persianText(n int) string {
	return randomFrom(rand.New(rand.NewPCG(uint64(n), 2)), "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی ", n)
}

var knownCodes = map[string]bool{CodeTooShort: true, CodeTooLong: true, CodeInvalidUTF8: true,
	CodeCommon: true, CodeContainsContext: true, CodeRepetitive: true}

func FuzzPolicyCheck(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"password1234", ""}, {"correct horse battery staple", "Ali Rezaei"},
		{"حشسسصخقی۱۲۳۴", "علي"}, {"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4", "x@y"},
		{strings.Repeat("ب", 300), "@"}, {"p@ssw0rd!!!!", "@@@@"}, {"ﷺﷺﷺﷺﷺﷺﷺﷺﷺﷺﷺﷺ", "ﷺ"},
		{"a\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300", "\u0300\u0300\u0300\u0300"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pw, context string) {
		for _, err := range []error{
			Policy{}.Check(pw, context),
			Policy{MinLength: 20}.CheckContext(pw, Context{Email: context, Name: context, Workspace: []string{context}}),
		} {
			if err == nil {
				continue
			}
			var r *Rejection
			if !errors.As(err, &r) || !knownCodes[r.Code] || r.Message == "" {
				t.Fatalf("Check(%q, %q) = %#v; want nil or a *Rejection with a known code", pw, context, err)
			}
		}
		_ = IsCommon(pw)
	})
}

func BenchmarkPolicyCheck(b *testing.B) {
	for name, pw := range map[string]string{
		"passphrase":  "correct horse battery staple",
		"common":      "password1234",
		"Persian":     "رمز عبور خیلی امن ۱۲۳",
		"256 chars":   randomText(256),
		"256 symbols": randomFrom(rand.New(rand.NewPCG(1, 1)), "0123456789!@#$%", 256),
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = Policy{}.Check(pw, "ali.rezaei@example.com", "Ali Rezaei", "Acme Trading", "acme-trading")
			}
		})
	}
}
